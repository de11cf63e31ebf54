#pragma once

// Private to the aggregator's sources (aggregator.cpp, partitionstate.cpp,
// aggregatorcheckpoint.cpp): the open state's types. Not part of the core's API.
//
// The open state is kept per Kafka partition (PartitionState): that partition's windows,
// sessions, dedupe horizon, event-time watermark, held suspects and counters, with names
// interned per partition, so a partition's state never needs another's (sessions are per user
// and the user is the Kafka key). Workers own sets of partitions; the aggregator's watermark is
// the minimum over the active partitions, and windows become final for all partitions at once
// when it passes their end, their rows merged over the partitions.

#include "core/aggregate/aggregator.h"
#include "core/aggregate/interner.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>

namespace studio::core {

namespace internal {

inline std::int64_t floorDiv(std::int64_t a, std::int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

inline std::int64_t windowStart(std::int64_t ts, std::int64_t size)
{
    return floorDiv(ts, size) * size;
}

struct PageAgg
{
    std::uint64_t views = 0, clicks = 0, carts = 0, purchases = 0;
    std::int64_t revenue = 0;
    HyperLogLog users, sessions;
    bool used = false;
    bool dirty = false; ///< changed since the last checkpoint increment
    explicit PageAgg(int log2m = HyperLogLog::kDefaultLog2m)
        : users(log2m)
        , sessions(log2m)
    {
    }
};

struct FunnelAgg
{
    std::uint64_t views = 0, carts = 0, purchases = 0;
    bool used = false;
    bool dirty = false;
};

struct GeoAgg
{
    std::uint64_t events = 0;
    bool used = false;
    bool dirty = false;
};

/// Open tumbling windows of one kind: start -> per-key aggregates indexed by interned id.
template <class Agg> class Windows
{
public:
    Windows(std::int64_t size, Agg prototype)
        : m_size(size)
        , m_prototype(std::move(prototype))
    {
    }

    Agg &at(std::int64_t ts, std::uint32_t id)
    {
        // Events mostly fall into the window of the one before: no division, no map search.
        if (!m_last || ts < m_lastStart || ts - m_lastStart >= m_size) [[unlikely]] {
            m_lastStart = windowStart(ts, m_size);
            m_last = &m_open[m_lastStart];
        }
        if (id >= m_last->size())
            m_last->resize(id + 1, m_prototype);
        return (*m_last)[id];
    }

    std::int64_t size() const { return m_size; }

    /// Flags every id some open window uses.
    void markUsed(std::vector<char> &keep) const
    {
        for (const auto &[start, aggs] : m_open) {
            if (keep.size() < aggs.size())
                keep.resize(aggs.size(), 0);
            for (std::size_t id = 0; id < aggs.size(); ++id)
                keep[id] = keep[id] || aggs[id].used;
        }
    }

    /// Renumbers the per-window vectors after an Interner::compact that kept every used id.
    void remap(const std::vector<std::uint32_t> &map, std::size_t newCount)
    {
        for (auto &[start, aggs] : m_open) {
            std::vector<Agg> moved(newCount, m_prototype);
            for (std::size_t old = 0; old < aggs.size(); ++old) {
                if (aggs[old].used)
                    moved[map[old]] = std::move(aggs[old]);
            }
            aggs.swap(moved);
        }
        m_last = nullptr;
    }

    std::map<std::int64_t, std::vector<Agg>> &open() { return m_open; }
    const std::map<std::int64_t, std::vector<Agg>> &open() const { return m_open; }
    void forget() { m_last = nullptr; } ///< after open() was changed from outside

    /// Removes and returns (start, aggregates) of every window whose end is at or before `until`.
    template <class Fn> void takeFinal(std::int64_t until, Fn &&fn)
    {
        while (!m_open.empty() && m_open.begin()->first + m_size <= until) {
            auto node = m_open.extract(m_open.begin());
            if (m_last == &node.mapped())
                m_last = nullptr;
            fn(node.key(), node.mapped());
        }
    }

private:
    std::int64_t m_size;
    Agg m_prototype;
    std::map<std::int64_t, std::vector<Agg>> m_open;
    std::vector<Agg> *m_last = nullptr;
    std::int64_t m_lastStart = 0;
};

struct OpenSession
{
    std::string user;
    std::int64_t start = 0, end = 0;
    std::uint64_t events = 0;
    std::int64_t revenue = 0;
    bool converted = false;
    bool dirty = false;   ///< in PartitionState::dirtySessions
    bool fullNext = true; ///< the next increment writes it whole (else fields + pages added)
    std::uint32_t highCheckpointed = 0; ///< pages.highCount() when last written
    PageSet pages;
};

/// An event held back: more than maxFuture ahead of its partition's time, not yet confirmed by
/// the events after it, or (the first events of a partition) waiting for the batch's end.
struct HeldEvent
{
    std::string payload;
    std::string key;
    std::int64_t offset = -1;
    std::int64_t timestampMs = 0;
    std::int64_t heldAtMs = 0; ///< wall clock
};

/// One second of the dedupe horizon: the event-id hashes (fastHash) seen in it.
struct DedupeSecond
{
    absl::flat_hash_set<std::uint64_t, PremixedHash> ids;
    bool dirty = false; ///< changed since the last checkpoint increment
};

/// Everything one partition holds; one worker at a time touches it (under that worker's lock).
struct PartitionState
{
    PartitionState(std::int32_t partition, const AggregatorConfig &c)
        : partition(partition)
        , pageWindows(c.pageWindowMs, PageAgg(c.hllLog2m))
        , funnelWindows(c.funnelWindowMs, FunnelAgg{})
        , geoWindows(c.geoWindowMs, GeoAgg{})
    {
    }

    std::int32_t partition;
    bool assigned = true; ///< false: revoked, kept only until its windows close (no checkpoints)

    Interner<1> pages, products;
    Interner<3> geoKeys;          // country, browser, device
    std::size_t compactAt = 4096; // interned names at which unused ones are dropped
    Windows<PageAgg> pageWindows;
    Windows<FunnelAgg> funnelWindows;
    Windows<GeoAgg> geoWindows;
    // Keyed by the user id's 64-bit MurmurHash3 (computed anyway for the sketches): no string
    // hashing or comparing per event; a collision of two ids is a 2^-64 event.
    absl::flat_hash_map<std::uint64_t, OpenSession> sessions;
    std::vector<std::uint64_t> dirtySessions; // changed or closed since the last increment
    // Dedupe: event-id hashes in one set per second of event time. A re-sent event carries its
    // original time, so only its own second is searched, and a second the watermark has passed
    // is dropped whole (no erase per id, no expiry queue).
    std::map<std::int64_t, DedupeSecond> seen;
    DedupeSecond *seenLast = nullptr;
    std::int64_t seenLastSecond = INT64_MIN;
    std::int64_t lastSessionSweep = kNoWatermark;
    std::vector<SessionRow> pendingSessions; // closed by a later event, not yet handed out

    // Event time. `maxEventTimeMs` is the newest event time accepted (held suspects excluded);
    // this partition's watermark is that minus the delay.
    std::int64_t maxEventTimeMs = kNoWatermark;
    /// When it last had a valid event (or was assigned): the wall clock (live), else the
    /// stream's newest event time then
    std::int64_t lastDataWallMs = kNoWatermark;
    std::atomic<bool> backlog{false};        ///< set by the pipeline: unread messages wait
    bool idle = false;                       ///< set by advance()
    std::vector<HeldEvent> suspects;         ///< in arrival order
    std::uint32_t normalsSinceSuspect = 0;   ///< events at the partition's time since then
    std::vector<std::uint32_t> startPending; ///< no time yet: batch records decided at its end

    PartitionCounters counters;
    std::int64_t nextOffset = -1; ///< after the last record applied, -1 none
    std::uint64_t checkpointSeq = 0;
    std::uint64_t lastIncrementBytes = 0;

    std::int64_t watermarkMs(std::int64_t delay) const
    {
        return maxEventTimeMs == kNoWatermark ? kNoWatermark : maxEventTimeMs - delay;
    }

    /// Names seen once stay interned only while an open window or session uses them, so state
    /// grows with the open keys, not with every page or product ever seen. True when names
    /// were renumbered (the sessions' page order then changed: their next increment is whole).
    bool compactNames();
    std::uint32_t geoId(std::string_view country, std::string_view browser, std::string_view device)
    {
        return geoKeys.id({country, browser, device});
    }
    /// Estimated memory of the open state.
    std::uint64_t stateBytes() const;
    void markSessionDirty(std::uint64_t hash, OpenSession &s)
    {
        if (!s.dirty) {
            s.dirty = true;
            dirtySessions.push_back(hash);
        }
    }
};

/// What applyPartition() read besides the state.
struct PartitionBlobInfo
{
    std::int32_t partition = 0;
    bool base = false;
    std::int64_t globalWatermarkMs = kNoWatermark;
};

/// `p` as bytes: everything (a base; `p` unchanged), or what changed since the last increment
/// (clears the change marks). `globalWatermark`: the aggregator's, at the time.
std::string savePartition(const AggregatorConfig &config, PartitionState &p,
                          std::int64_t globalWatermark, bool full);
/// Applies a base (replacing `p`'s state) or an increment (onto it). False with a message for
/// other settings or damaged bytes; `p` is then unusable (apply into a fresh or scratch state).
bool applyPartition(const AggregatorConfig &config, PartitionState &p, std::string_view bytes,
                    std::string &error, PartitionBlobInfo *info = nullptr);

} // namespace internal

/// Every worker's lock, taken in worker order (the one order every caller uses).
class AllWorkers
{
public:
    template <class Workers> explicit AllWorkers(Workers &workers)
    {
        m_locks.reserve(workers.size());
        for (auto &w : workers)
            m_locks.emplace_back(w->mutex);
    }

private:
    std::vector<std::unique_lock<std::mutex>> m_locks;
};

struct Aggregator::Worker
{
    explicit Worker(std::size_t maxEventBytes)
        : parser(maxEventBytes)
    {
    }
    std::mutex mutex; // the partitions' state, against snapshot() and counters()
    EventParser parser;
    ParsedEvent event; // the event being ingested
    std::vector<internal::PartitionState *> partitions;
    internal::PartitionState *last = nullptr; // the partition of the record before
    std::vector<DeferredDeadLetter> deferred;
    std::uint64_t events = 0; ///< records ingested (under mutex)
};

struct Aggregator::State
{
    std::map<std::int32_t, std::unique_ptr<internal::PartitionState>> partitions;
    std::vector<std::unique_ptr<Worker>> workers;
    std::int64_t watermarkMs = kNoWatermark;    ///< min over active partitions, never backwards
    std::int64_t maxEventTimeMs = kNoWatermark; ///< over every partition
    std::uint64_t windowsFinalized = 0;
    std::size_t nextWorker = 0; // round robin for partitions first seen in a batch

    // Recently final rows (merged over partitions), for snapshots.
    std::deque<std::vector<PageRow>> recentPages;
    std::deque<std::vector<GeoRow>> recentGeo;
    std::deque<std::vector<FunnelRow>> recentFunnel;
    std::deque<SessionRow> recentSessions;
};

} // namespace studio::core
