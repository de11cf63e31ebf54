#pragma once

#include "core/aggregate/eventparser.h"
#include "core/aggregate/hyperloglog.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

inline constexpr std::int64_t kNoWatermark = INT64_MIN;

/// The key of a window's row that holds the keys beyond the per-window key cap
/// (AggregatorConfig::maxKeysPerWindow): the page "(other)" (normalised pages start with '/', so
/// no real page is it), the product "(other)", the geo combination ("(other)", "(other)",
/// "(other)").
inline constexpr std::string_view kOtherKey = "(other)";

/// Keys of one final window counted into its (other) row, beyond the cap.
struct KeyOverflow
{
    enum class Kind : std::uint8_t { Pages, Geo, Funnel } kind = Kind::Pages;
    std::int64_t windowStart = 0;
    std::uint64_t keysFolded = 0; ///< distinct keys counted into (other)
};

/// Page metrics of one (window, page). Unique counts are HyperLogLog estimates.
struct PageRow
{
    std::int64_t windowStart = 0;
    std::int64_t windowEnd = 0;
    std::string page;
    std::uint64_t views = 0;
    std::uint64_t clicks = 0;
    std::uint64_t addToCart = 0;
    std::uint64_t purchases = 0;
    std::int64_t revenueCents = 0;
    double uniqueUsers = 0;
    double uniqueSessions = 0;
    bool final = false;
};

/// A finalized page row with its sketches, so partial aggregates can be merged downstream.
struct PageFinal
{
    PageRow row;
    HyperLogLog users;
    HyperLogLog sessions;
};

/// Events of one (window, country, browser, device type).
struct GeoRow
{
    std::int64_t windowStart = 0;
    std::int64_t windowEnd = 0;
    std::string country;
    std::string browser;
    std::string deviceType;
    std::uint64_t events = 0;
    bool final = false;
};

/// One user session, closed by the inactivity gap (or open, in snapshots).
struct SessionRow
{
    std::string userId;
    std::int64_t start = 0;
    std::int64_t end = 0; ///< time of the last event
    std::uint64_t events = 0;
    std::uint32_t distinctPages = 0;
    std::int64_t revenueCents = 0;
    bool converted = false;
};

/// The product funnel of one (window, product).
struct FunnelRow
{
    std::int64_t windowStart = 0;
    std::int64_t windowEnd = 0;
    std::string productId;
    std::uint64_t views = 0;
    std::uint64_t addToCart = 0;
    std::uint64_t purchases = 0;
    bool hotLowConversion = false;
    bool final = false;
};

/// What became final together: one watermark step, or the flush at end of input.
struct FinalResults
{
    std::vector<PageFinal> pages;
    std::vector<GeoRow> geo;
    std::vector<SessionRow> sessions;
    std::vector<FunnelRow> funnel;
    std::vector<KeyOverflow> overflow; ///< the windows among these that were capped
    bool empty() const
    {
        return pages.empty() && geo.empty() && sessions.empty() && funnel.empty();
    }
};

/// Receives final results, on the aggregator's ingest thread, outside its lock.
class AggregateSink
{
public:
    virtual ~AggregateSink() = default;
    virtual void onFinal(FinalResults &&results) = 0;
};

/// One partition's event counters (AggregateCounters sums them).
struct PartitionCounters
{
    std::uint64_t read = 0;
    std::uint64_t valid = 0;
    std::uint64_t invalid = 0;
    std::array<std::uint64_t, kInvalidReasonCount> invalidByReason{};
    std::uint64_t duplicates = 0;
    std::uint64_t late = 0;
    std::uint64_t sessionsClosed = 0;
};

/// One partition as the status, the GUI and /metrics show it.
/// One partition's piece of an incremental checkpoint (issue 19): its whole open state (a base)
/// or what changed since its previous piece (an increment). A partition's chain is a base and
/// the increments after it, in sequence order; the next offset is where its reading resumes.
struct PartitionPiece
{
    std::int32_t partition = 0;
    std::uint64_t seq = 0; ///< 1, 2, ... along the partition's chain
    bool base = false;
    std::int64_t nextOffset = -1;
    std::string bytes;
};

struct PartitionStatus
{
    std::int32_t partition = 0;
    int worker = -1;      ///< aggregation worker that owns it
    bool assigned = true; ///< false: revoked, open windows kept until they close
    bool idle = false;    ///< not holding the aggregator's watermark back
    std::int64_t watermarkMs = kNoWatermark;
    std::int64_t maxEventTimeMs = kNoWatermark;
    std::uint64_t held = 0; ///< suspects (or first events) waiting for a decision
    std::uint64_t read = 0;
    std::uint64_t valid = 0;
    std::uint64_t late = 0;
    std::uint64_t invalid = 0;
    std::uint64_t openSessions = 0;
    std::uint64_t stateBytes = 0;
    std::int64_t nextOffset = -1;
    std::uint64_t checkpointSeq = 0;      ///< increments stored for it (issue 19)
    std::uint64_t lastIncrementBytes = 0; ///< size of its last checkpoint increment
};

struct AggregateCounters
{
    std::uint64_t read = 0;
    std::uint64_t valid = 0; ///< accepted into the aggregates (not duplicate, not late)
    std::uint64_t invalid = 0;
    std::array<std::uint64_t, kInvalidReasonCount> invalidByReason{};
    std::uint64_t duplicates = 0;
    std::uint64_t late = 0;
    std::int64_t maxEventTimeMs = kNoWatermark;
    std::int64_t watermarkMs = kNoWatermark;
    std::uint64_t openWindows = 0;
    std::uint64_t openSessions = 0;
    std::uint64_t dedupeEntries = 0;
    std::uint64_t internedNames = 0; ///< pages, products and geo keys held for open state
    std::uint64_t stateBytes = 0;    ///< estimate of the memory the open state holds
    /// Keys counted into a window's (other) row beyond the key cap, summed over the windows
    /// (page, geo and funnel; final and open; see KeyOverflow).
    std::uint64_t keysFolded = 0;
    std::uint64_t windowsCapped = 0;    ///< final windows that folded keys
    std::uint64_t lastWindowFolded = 0; ///< keys folded in the latest capped final window
    std::uint64_t windowsFinalized = 0;
    std::uint64_t sessionsClosed = 0;
    std::uint64_t held = 0;                  ///< read, not yet decided (see Outcome::Held)
    std::uint64_t idlePartitions = 0;        ///< not holding the watermark back
    std::vector<PartitionStatus> partitions; ///< by partition number
};

} // namespace studio::core
