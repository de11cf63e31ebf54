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
#include <type_traits>

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

/// The key cap's bookkeeping of one open window (see Windows).
struct WindowKeys
{
    std::uint32_t keys = 0;      ///< distinct keys held, (other) not counted
    std::uint64_t folded = 0;    ///< distinct keys counted into (other) (see kMaxFoldedTracked)
    std::uint64_t untracked = 0; ///< folds beyond kMaxFoldedTracked (each counted as a key)
    absl::flat_hash_set<std::uint64_t, PremixedHash> foldedHashes; ///< Interner::hashOf of each
};

/// Folded keys a window remembers (16 bytes each at most) to count them exactly; beyond, each
/// fold of a key not remembered counts as one more key (an upper bound). 16 MiB per window.
inline constexpr std::size_t kMaxFoldedTracked = std::size_t{1} << 20;

/// Open tumbling windows of one kind: start -> per-key aggregates indexed by interned id.
///
/// The key cap (issue 24; README "Bounded memory"): a window holds at most `cap` distinct keys
/// (0: no cap); keyed() counts an event of any further key into that window's (other) key, an
/// ordinary interned key (`otherKey`), so every total still adds up, the sketches of (other)
/// take the folded keys' users, and a folded key is never interned (state stays bounded by the
/// cap, whatever the keys). The cap and its counters live here, per window, so the container
/// can move between owners (per partition today) as it is; what an owner must keep: (1) every
/// key goes through keyed() (at() is only for restoring a checkpoint, followed by recount()),
/// (2) takeFinal() hands out each window's WindowKeys with its aggregates (the fold counters
/// of a window merged from several owners are the union of their foldedHashes, see
/// Aggregator::collectFinal), (3) remap() after Interner::compact.
template <class Agg> class Windows
{
public:
    Windows(std::int64_t size, Agg prototype, std::size_t cap = 0)
        : m_size(size)
        , m_prototype(std::move(prototype))
        , m_cap(cap)
    {
    }

    /// The aggregate of `key` in the window of `ts`: the key's own, or the window's (other)
    /// (`otherKey`) when the window holds `cap` keys and `key` is not one of them. `id` is set
    /// to the id of the aggregate returned. Marks it used.
    template <class Names>
    Agg &keyed(std::int64_t ts, Names &names, const typename Names::KeyView &key,
               const typename Names::KeyView &otherKey, std::uint32_t &id)
    {
        select(ts);
        const std::uint64_t h = Names::hashOf(key);
        id = names.find(key, h);
        if (id != kDroppedId && id < m_last->size() && (*m_last)[id].used) [[likely]]
            return (*m_last)[id];
        if (m_cap == 0 || m_lastKeys->keys < m_cap) {
            if (id == kDroppedId)
                id = names.id(key, h);
            Agg &a = slot(id);
            a.used = true;
            ++m_lastKeys->keys;
            return a;
        }
        WindowKeys &k = *m_lastKeys;
        if (k.foldedHashes.size() < kMaxFoldedTracked) {
            if (k.foldedHashes.insert(h).second)
                ++k.folded;
        } else if (!k.foldedHashes.contains(h)) {
            ++k.folded;
            ++k.untracked;
        }
        id = names.id(otherKey);
        Agg &other = slot(id);
        other.used = true;
        return other;
    }

    /// The aggregate of `id` in the window of `ts`, without the cap: for restoring a
    /// checkpoint only (recount() after).
    Agg &at(std::int64_t ts, std::uint32_t id)
    {
        select(ts);
        return slot(id);
    }

    /// Counts every window's keys again from the used flags (after at() or open() changed them
    /// from outside); `otherId` (kDroppedId: none) is not a key.
    void recount(std::uint32_t otherId)
    {
        m_last = nullptr;
        for (auto &[start, aggs] : m_open) {
            WindowKeys &k = m_keys[start];
            k.keys = 0;
            for (std::uint32_t id = 0; id < aggs.size(); ++id)
                k.keys += aggs[id].used && id != otherId;
        }
        std::erase_if(m_keys, [&](const auto &kv) { return !m_open.contains(kv.first); });
    }

    std::int64_t size() const { return m_size; }
    std::size_t cap() const { return m_cap; }

    /// Keys folded in the open windows, and the bytes their bookkeeping holds.
    std::uint64_t foldedOpen() const
    {
        std::uint64_t n = 0;
        for (const auto &[start, k] : m_keys)
            n += k.folded;
        return n;
    }
    std::uint64_t capBytes() const
    {
        std::uint64_t bytes = 0;
        for (const auto &[start, k] : m_keys)
            bytes += sizeof(WindowKeys) + k.foldedHashes.capacity() * (sizeof(std::uint64_t) + 1);
        return bytes;
    }

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

    /// The key cap's bookkeeping of every open window (for saveState).
    const std::map<std::int64_t, WindowKeys> &keys() const { return m_keys; }
    /// Puts back a saved window's fold counters (restoreState, after recount()); false when no
    /// such window is open (nothing changed).
    bool restoreFolds(std::int64_t start, std::uint64_t folded, std::uint64_t untracked,
                      absl::flat_hash_set<std::uint64_t, PremixedHash> hashes)
    {
        const auto it = m_keys.find(start);
        if (it == m_keys.end() || !m_open.contains(start))
            return false;
        it->second.folded = folded;
        it->second.untracked = untracked;
        it->second.foldedHashes = std::move(hashes);
        return true;
    }

    std::map<std::int64_t, std::vector<Agg>> &open() { return m_open; }
    const std::map<std::int64_t, std::vector<Agg>> &open() const { return m_open; }
    void forget() { m_last = nullptr; } ///< after open() was changed from outside

    /// Removes and hands out (start, aggregates[, WindowKeys]) of every window whose end is at
    /// or before `until`.
    template <class Fn> void takeFinal(std::int64_t until, Fn &&fn)
    {
        while (!m_open.empty() && m_open.begin()->first + m_size <= until) {
            auto node = m_open.extract(m_open.begin());
            if (m_last == &node.mapped())
                m_last = nullptr;
            auto keys = m_keys.extract(node.key());
            WindowKeys none;
            WindowKeys &k = keys ? keys.mapped() : none;
            if constexpr (std::is_invocable_v<Fn, std::int64_t, std::vector<Agg> &, WindowKeys &>)
                fn(node.key(), node.mapped(), k);
            else
                fn(node.key(), node.mapped());
        }
    }

private:
    void select(std::int64_t ts)
    {
        // Events mostly fall into the window of the one before: no division, no map search.
        if (!m_last || ts < m_lastStart || ts - m_lastStart >= m_size) [[unlikely]] {
            m_lastStart = windowStart(ts, m_size);
            m_last = &m_open[m_lastStart];
            m_lastKeys = &m_keys[m_lastStart];
        }
    }
    Agg &slot(std::uint32_t id)
    {
        if (id >= m_last->size())
            m_last->resize(id + 1, m_prototype);
        return (*m_last)[id];
    }

    std::int64_t m_size;
    Agg m_prototype;
    std::size_t m_cap;
    std::map<std::int64_t, std::vector<Agg>> m_open;
    std::map<std::int64_t, WindowKeys> m_keys; // the same starts as m_open
    std::vector<Agg> *m_last = nullptr;
    WindowKeys *m_lastKeys = nullptr;
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
        , pageWindows(c.pageWindowMs, PageAgg(c.hllLog2m), c.maxKeysPerWindow)
        , funnelWindows(c.funnelWindowMs, FunnelAgg{}, c.maxKeysPerWindow)
        , geoWindows(c.geoWindowMs, GeoAgg{}, c.maxKeysPerWindow)
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
    std::int64_t nextOffset = -1;         ///< after the last record applied, -1 none
    std::uint64_t checkpointSeq = 0;      ///< the sequence of its last piece
    std::uint64_t lastIncrementBytes = 0; ///< the size of its last piece
    /// Its stored chain has a base (it was restored from one, or a base was handed out): its
    /// next piece may be an increment.
    bool hasBase = false;

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
    /// The windows' key counts again, after a checkpoint was applied (Windows::recount).
    void recountKeys();
    void markSessionDirty(std::uint64_t hash, OpenSession &s)
    {
        // Before its first piece (never, without checkpoints) nothing needs tracking: that
        // piece is a base. (Tracked always, the list grew by every session ever opened.)
        if (!hasBase)
            return;
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
    std::uint64_t seq = 0;
    std::int64_t globalWatermarkMs = kNoWatermark;
};

/// `p` as bytes: everything (a base; `p` unchanged), or what changed since the last increment
/// (clears the change marks). `globalWatermark`: the aggregator's, at the time.
std::string savePartition(const AggregatorConfig &config, PartitionState &p,
                          std::int64_t globalWatermark, bool full);
/// A checkpoint piece of `p` (savePartition, then the key cap's fold counters of its open
/// windows, written whole); after a base the change marks are cleared as after an increment.
std::string savePiece(const AggregatorConfig &config, PartitionState &p,
                      std::int64_t globalWatermark, bool full);
/// What a piece written by savePiece() is (partition, base or increment, sequence, the
/// aggregator's watermark when written), read from its header after its checksum is checked,
/// without applying it. False with a message for a damaged piece or other settings.
bool pieceInfo(const AggregatorConfig &config, std::string_view bytes, PartitionBlobInfo &info,
               std::string &error);
/// Applies a piece written by savePiece() (see applyPartition()).
bool applyPiece(const AggregatorConfig &config, PartitionState &p, std::string_view bytes,
                std::string &error, PartitionBlobInfo *info = nullptr);
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
    Worker(std::size_t maxEventBytes, const PageNormalization &pages)
        : parser(maxEventBytes)
        , normalizer(pages)
    {
    }
    std::mutex mutex; // the partitions' state, against snapshot() and counters()
    EventParser parser;
    PageNormalizer normalizer;
    ParsedEvent event; // the event being ingested
    std::vector<internal::PartitionState *> partitions;
    internal::PartitionState *last = nullptr; // the partition of the record before
    std::vector<DeferredDeadLetter> deferred;
    std::uint64_t events = 0; ///< records ingested (under mutex)
};

struct Aggregator::State
{
    std::map<std::int32_t, std::unique_ptr<internal::PartitionState>> partitions;
    std::map<std::int32_t, std::unique_ptr<internal::PartitionState>> parked; // see park()
    std::vector<std::unique_ptr<Worker>> workers;
    std::int64_t watermarkMs = kNoWatermark;    ///< min over active partitions, never backwards
    std::int64_t maxEventTimeMs = kNoWatermark; ///< over every partition
    std::uint64_t windowsFinalized = 0;
    std::uint64_t keysFolded = 0;    ///< over the final windows
    std::uint64_t windowsCapped = 0; ///< final windows that folded keys
    std::uint64_t lastWindowFolded = 0;
    std::size_t nextWorker = 0; // round robin for partitions first seen in a batch

    // Recently final rows (merged over partitions), for snapshots.
    std::deque<std::vector<PageRow>> recentPages;
    std::deque<std::vector<GeoRow>> recentGeo;
    std::deque<std::vector<FunnelRow>> recentFunnel;
    std::deque<SessionRow> recentSessions;
};

} // namespace studio::core
