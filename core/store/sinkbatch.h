#pragma once

#include "core/aggregate/aggregates.h"
#include "core/aggregate/eventparser.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace studio::core {

/// A Kafka position: the next offset to read in one partition of a topic.
struct KafkaOffset
{
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t nextOffset = 0;
    bool operator==(const KafkaOffset &) const = default;
};

/// One valid event as archived in raw_events (seed 000's raw table). Owns its text, unlike
/// ParsedEvent; the Kafka coordinates are optional (-1: unknown).
struct RawEvent
{
    std::string eventId;
    std::string eventType;
    std::int64_t timestampMs = 0;
    std::string userId;
    std::string sessionId;
    std::string page;
    std::string productId;       ///< empty: none
    std::string productCategory; ///< empty: none
    std::int64_t priceCents = 0;
    bool hasPrice = false;
    std::string referrer;
    std::string country;
    std::string deviceType;
    std::string browser;
    std::string topic; ///< empty: unknown
    std::int32_t partition = -1;
    std::int64_t offset = -1;

    static RawEvent from(const ParsedEvent &e)
    {
        RawEvent r;
        r.eventId = e.eventId;
        r.eventType = toString(e.type);
        r.timestampMs = e.timestampMs;
        r.userId = e.userId;
        r.sessionId = e.sessionId;
        r.page = e.page;
        r.productId = e.productId;
        r.productCategory = e.productCategory;
        r.priceCents = e.priceCents;
        r.hasPrice = e.hasPrice;
        r.referrer = e.referrer;
        r.country = e.country;
        r.deviceType = e.deviceType;
        r.browser = e.browser;
        return r;
    }
};

/// What a sink writes atomically: final results, the Kafka offsets they cover and, optionally,
/// the aggregator's checkpoint and the raw events. Either all of it is stored or none of it.
struct SinkBatch
{
    /// Whose partial aggregates these are (an instance or partition id, stable across restarts):
    /// rows are keyed by it, so several shards' rows of one window sit side by side and merge.
    std::string shard;
    FinalResults results;
    /// The consumer group the offsets (and the checkpoint) belong to; required with either.
    std::string groupId;
    std::vector<KafkaOffset> offsets;
    /// The aggregator's open state as opaque bytes, stored under (groupId, shard) with `offsets`
    /// (the whole state, or since issue 19 the small head beside `pieces`).
    std::optional<std::string> checkpoint;
    /// Checkpoint pieces per partition of `piecesTopic`, stored under (groupId, topic,
    /// partition) in order: each base replaces that partition's chain, each increment extends
    /// it (issue 19).
    std::string piecesTopic;
    std::vector<PartitionPiece> pieces;
    /// Archived only when the sink's raw archive is switched on.
    std::vector<RawEvent> rawEvents;

    std::size_t rowCount() const
    {
        return results.pages.size() + results.geo.size() + results.sessions.size() +
               results.funnel.size();
    }
};

/// One partition's stored chain: its base and the increments after it, in order.
struct StoredChain
{
    std::vector<std::string> pieces;
    std::uint64_t lastSeq = 0;
    std::int64_t nextOffset = -1; ///< of the last piece: where reading resumes
    std::uint64_t bytes = 0;      ///< every piece's
};

/// A stored checkpoint: the state bytes and the offsets written with them.
struct Checkpoint
{
    std::string state;
    std::vector<KafkaOffset> offsets;
    std::int64_t updatedAtMs = 0;
};

} // namespace studio::core
