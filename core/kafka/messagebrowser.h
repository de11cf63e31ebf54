#pragma once

#include "core/kafka/clusterconfig.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace studio::core {

struct BrowsedMessage
{
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestampMs = -1; ///< -1 when the message has none
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers; ///< name, value; in order
};

/// What a one-shot read returned. ok is false only when nothing could be read (bad topic, no
/// metadata); timedOut says the deadline cut the read short (messages then holds what came).
struct BrowseResult
{
    bool ok = false;
    bool timedOut = false;
    std::string error;
    std::vector<BrowsedMessage> messages; ///< by partition, then offset
    /// readFromOffset: per partition, the offset the read went up to (exclusive) and the high
    /// watermark then. Fewer messages than offsets read are not the end of a partition:
    /// transaction markers and aborted records take offsets and are never read.
    std::map<std::int32_t, std::int64_t> readUpTo;
    std::map<std::int32_t, std::int64_t> highWatermarks;
};

struct SearchOptions
{
    std::string needle;
    bool caseSensitive = false;
    std::int32_t partition = -1;          ///< -1: every partition
    std::int64_t fromOffset = -1;         ///< -1: the newest maxPerPartition of each partition
    std::size_t maxPerPartition = 10'000; ///< the bound on the scan
    std::size_t maxMatches = 1'000;
};

struct SearchMatch
{
    BrowsedMessage message;
    std::string where;        ///< "key", "value", "header name", or "header value"
    std::size_t position = 0; ///< byte offset of the match in that field
    std::string headerName;   ///< the header's name when the match is in a header
};

struct SearchResult
{
    bool ok = false;
    bool timedOut = false;
    std::string error;
    std::vector<SearchMatch> matches; ///< newest first (by timestamp, then offset)
    std::uint64_t scanned = 0;        ///< messages looked at
    bool boundHit = false;            ///< some partition had more than the bound let us scan
    bool matchesCapped = false;       ///< maxMatches was reached
};

struct TailRead
{
    std::vector<BrowsedMessage> messages; ///< with sequence numbers firstSeq, firstSeq + 1, ...
    std::uint64_t firstSeq = 0;
    std::uint64_t lastSeq = 0; ///< highest sequence number handed out so far (0 = none yet)
    std::uint64_t missed = 0;  ///< messages after `afterSeq` already dropped from the ring
};

struct TailStatus
{
    bool running = false;
    bool positioned = false; ///< start offsets are resolved: later messages will all be seen
    std::string topic;
    std::string error;
    std::uint64_t received = 0;
};

/// Reads messages without disturbing any consumer group: every read uses its own consumer with
/// no group.id, assign() only, no subscription and no commits. One-shot reads block for up to
/// their timeout (run them on a worker thread) and may run concurrently. The live tail runs on
/// its own thread into a bounded ring that readers query by sequence number under a short lock.
/// Thread-safety: all public methods may be called from any thread.
class MessageBrowser
{
public:
    explicit MessageBrowser(ClusterConfig cluster, std::size_t tailCapacity = 10'000);
    ~MessageBrowser();
    MessageBrowser(const MessageBrowser &) = delete;
    MessageBrowser &operator=(const MessageBrowser &) = delete;

    using Timeout = std::chrono::milliseconds;
    static constexpr Timeout kDefaultTimeout{10'000};

    /// Up to maxPerPartition messages from `offset` (clamped to the low watermark) of one
    /// partition, or of every partition when partition is -1, up to the high watermark at start.
    BrowseResult readFromOffset(const std::string &topic, std::int32_t partition,
                                std::int64_t offset, std::size_t maxPerPartition,
                                Timeout timeout = kDefaultTimeout);
    /// The last n messages of one partition, or of each partition when partition is -1.
    BrowseResult readLast(const std::string &topic, std::int32_t partition, std::size_t n,
                          Timeout timeout = kDefaultTimeout);
    /// Up to maxPerPartition messages from the first one with timestamp >= timestampMs.
    BrowseResult readFromTimestamp(const std::string &topic, std::int32_t partition,
                                   std::int64_t timestampMs, std::size_t maxPerPartition,
                                   Timeout timeout = kDefaultTimeout);
    /// The first offset whose message has timestamp >= timestampMs (the high watermark if none).
    /// Uses the broker's ListOffsets answer when it gives one; otherwise (the embedded broker
    /// answers -1) a binary search over offsets, fetching one message per step. Timestamps are
    /// producer create times, nearly monotonic per partition, so the answer is the boundary of a
    /// nearly sorted sequence. nullopt with a message on failure or timeout.
    std::optional<std::int64_t> offsetForTimestamp(const std::string &topic, std::int32_t partition,
                                                   std::int64_t timestampMs, std::string *error,
                                                   Timeout timeout = kDefaultTimeout);

    /// Substring search in key, value, header names and values over a bounded range.
    SearchResult search(const std::string &topic, const SearchOptions &options,
                        Timeout timeout = kDefaultTimeout);

    /// Starts tailing `topic` (replacing a running tail): every partition from its end, or from
    /// `fromOffsets` (partition -> offset; only those partitions). Returns at once; offsets are
    /// resolved on the tail's thread (tailStatus().positioned); partitions added later are not
    /// followed. False only for bad arguments; trouble later shows in tailStatus().error.
    bool startTail(const std::string &topic,
                   const std::map<std::int32_t, std::int64_t> &fromOffsets, std::string *error);
    void stopTail();
    /// Messages with sequence number > afterSeq still in the ring, at most `max` of them.
    TailRead tailAfter(std::uint64_t afterSeq, std::size_t max = 1000) const;
    TailStatus tailStatus() const;

private:
    struct Tail;

    const ClusterConfig m_cluster;
    const std::size_t m_tailCapacity;
    std::mutex m_tailControl;     // serialises startTail/stopTail
    std::shared_ptr<Tail> m_tail; // guarded by m_tailControl for writes, m_tailPtrMutex for reads
    mutable std::mutex m_tailPtrMutex;
};

/// `text` pretty-printed with two-space indents if it is JSON, else unchanged.
std::string prettyJson(std::string_view text);

} // namespace studio::core
