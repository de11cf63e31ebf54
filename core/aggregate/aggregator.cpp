#include "core/aggregate/aggregator.h"

#include "core/aggregate/aggregatorstate.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

namespace studio::core {

namespace internal {
SessionRow sessionRow(const OpenSession &o); // partitionstate.cpp
} // namespace internal

using internal::FunnelAgg;
using internal::GeoAgg;
using internal::OpenSession;
using internal::PageAgg;
using internal::PartitionState;

namespace {

PageRow pageRow(const std::string &name, std::int64_t start, std::int64_t size, const PageAgg &a,
                bool final)
{
    return {start,
            start + size,
            name,
            a.views,
            a.clicks,
            a.carts,
            a.purchases,
            a.revenue,
            a.users.estimate(),
            a.sessions.estimate(),
            final};
}

/// A window's funnel rows, flagged against the window's total views (over every product).
void funnelRows(std::int64_t start, std::int64_t size, const std::map<std::string, FunnelAgg> &aggs,
                const AggregatorConfig &config, bool final, std::vector<FunnelRow> &out)
{
    std::uint64_t totalViews = 0;
    for (const auto &[name, a] : aggs)
        totalViews += a.views;
    for (const auto &[name, a] : aggs) {
        const double share = totalViews ? double(a.views) / double(totalViews) : 0.0;
        const double conversion = a.views ? double(a.purchases) / double(a.views) : 0.0;
        const bool flagged =
            a.views > 0 && share >= config.hotViewShare && conversion <= config.hotMaxConversion;
        out.push_back({start, start + size, name, a.views, a.carts, a.purchases, flagged, final});
    }
}

/// The keys folded into one final window's (other) row, over the partitions.
struct Folds
{
    absl::flat_hash_set<std::uint64_t, internal::PremixedHash> hashes;
    std::uint64_t untracked = 0;
    void add(internal::WindowKeys &k)
    {
        if (hashes.empty())
            hashes.swap(k.foldedHashes);
        else
            hashes.insert(k.foldedHashes.begin(), k.foldedHashes.end());
        untracked += k.untracked;
    }
    std::uint64_t count() const { return hashes.size() + untracked; }
};

std::uint64_t keyHash(const std::string &name)
{
    return internal::Interner<1>::hashOf({name});
}
std::uint64_t keyHash(const std::array<std::string, 3> &key)
{
    return internal::Interner<3>::hashOf({key[0], key[1], key[2]});
}

/// The newest `windows` windows of rows, fewer when they hold more than `rows` rows (the newest
/// one always kept).
template <class T>
void keepLast(std::deque<std::vector<T>> &d, std::size_t windows, std::size_t rows)
{
    std::size_t held = 0;
    for (const auto &w : d)
        held += w.size();
    while (d.size() > std::max<std::size_t>(windows, 1) || (d.size() > 1 && held > rows)) {
        held -= d.front().size();
        d.pop_front();
    }
}

/// The keys of one merged window beyond `cap` (besides `other`): those with the fewest events
/// (`weight`; ties: the later key), the same choice for final rows and snapshots.
template <class Map, class Key = typename Map::key_type, class Weight>
std::vector<Key> keysBeyondCap(const Map &rows, const Key &other, std::size_t cap, Weight &&weight)
{
    const std::size_t keys = rows.size() - rows.count(other);
    if (cap == 0 || keys <= cap)
        return {};
    std::vector<std::pair<std::uint64_t, const Key *>> order;
    order.reserve(keys);
    for (const auto &[key, value] : rows) {
        if (key != other)
            order.emplace_back(weight(value), &key);
    }
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(cap), order.end(),
                     [](const auto &a, const auto &b) {
                         return a.first != b.first ? a.first > b.first : *a.second < *b.second;
                     });
    std::vector<Key> dropped;
    dropped.reserve(order.size() - cap);
    for (std::size_t i = cap; i < order.size(); ++i)
        dropped.push_back(*order[i].second);
    return dropped;
}

/// Folds `keysBeyondCap` into `other` (`fold(into, from, added)`); `onFolded(key)` after each.
template <class Map, class Key = typename Map::key_type, class Weight, class Fold,
          class OnFolded = void (*)(const Key &)>
void capRows(
    Map &rows, const Key &other, std::size_t cap, Weight &&weight, Fold &&fold,
    OnFolded &&onFolded = [](const Key &) {})
{
    for (const Key &key : keysBeyondCap(rows, other, cap, weight)) {
        auto node = rows.extract(key);
        auto [it, added] = rows.try_emplace(other);
        fold(it->second, std::move(node.mapped()), added);
        onFolded(key);
    }
}

/// One merged final window's rows under the key cap: when more than `cap` keys (besides
/// `other`) remain, those with the fewest events (`weight`; ties: the later name) are folded
/// into `other` (`fold(into, from, added)`) and remembered in `folds`.
template <class Key, class Value, class Weight, class Fold>
void capMerged(std::map<Key, Value> &rows, const Key &other, std::size_t cap, Folds &folds,
               Weight &&weight, Fold &&fold)
{
    capRows(rows, other, cap, weight, fold, [&folds](const Key &key) {
        if (folds.hashes.size() < internal::kMaxFoldedTracked)
            folds.hashes.insert(keyHash(key));
        else if (!folds.hashes.contains(keyHash(key)))
            ++folds.untracked;
    });
}

/// A page row's events (the key cap's weight) and the counts of one row or aggregate added to
/// another; the sketches are each caller's own.
std::uint64_t pageEvents(const PageRow &r)
{
    return r.views + r.clicks + r.addToCart + r.purchases;
}
void addCounts(PageRow &into, const PageRow &from)
{
    into.views += from.views;
    into.clicks += from.clicks;
    into.addToCart += from.addToCart;
    into.purchases += from.purchases;
    into.revenueCents += from.revenueCents;
}
void addCounts(PageRow &into, const internal::PageAgg &from)
{
    into.views += from.views;
    into.clicks += from.clicks;
    into.addToCart += from.carts;
    into.purchases += from.purchases;
    into.revenueCents += from.revenue;
}
std::uint64_t funnelEvents(const internal::FunnelAgg &f)
{
    return f.views + f.carts + f.purchases;
}
void addCounts(internal::FunnelAgg &into, const internal::FunnelAgg &from)
{
    into.views += from.views;
    into.carts += from.carts;
    into.purchases += from.purchases;
}

std::int64_t systemNowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

std::string AggregatorConfig::validate() const
{
    if (pageWindowMs < 1000 || geoWindowMs < 1000 || funnelWindowMs < 1000)
        return "windows must be at least 1 s long";
    if (sessionGapMs < 1000)
        return "the session gap must be at least 1 s";
    if (watermarkDelayMs < 0)
        return "the watermark delay must not be negative";
    if (hotViewShare < 0 || hotViewShare > 1 || hotMaxConversion < 0 || hotMaxConversion > 1)
        return "hot-product thresholds must be between 0 and 1";
    if (maxEventBytes < 64)
        return "the event size limit must be at least 64 bytes";
    if (maxFutureMs < 1000)
        return "the future bound (--max-future) must be at least 1 s";
    if (idleTimeoutMs < 0)
        return "the idle timeout must not be negative";
    if (workers < 0 || workers > 256)
        return "workers must be between 0 (one per hardware thread) and 256";
    if (maxKeysPerWindow > 100'000'000)
        return "the key cap (--max-keys-per-window) must be at most 100,000,000 (0: no cap)";
    return {};
}

int AggregatorConfig::workerCount() const
{
    if (workers > 0)
        return workers;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

Aggregator::Aggregator(AggregatorConfig config, AggregateSink *sink)
    : m_config(std::move(config))
    , m_sink(sink)
    , m_state(std::make_unique<State>())
{
    const int n = m_config.workerCount();
    for (int i = 0; i < n; ++i)
        m_state->workers.push_back(
            std::make_unique<Worker>(m_config.maxEventBytes, m_config.pageNormalization));
}

Aggregator::~Aggregator() = default;

std::int64_t Aggregator::wallNow(std::int64_t nowMs) const
{
    return nowMs != kNoWatermark ? nowMs : systemNowMs();
}

int Aggregator::workerCount() const
{
    return static_cast<int>(m_state->workers.size());
}

IngestResult Aggregator::ingest(std::string_view payload, std::int32_t partition)
{
    RecordBatch batch;
    batch.addFrom(partition, -1, {}, payload);
    std::vector<IngestResult> out;
    ingestBatch(batch, &out);
    return out.empty() ? IngestResult{} : out.front();
}

void Aggregator::ingestBatch(const RecordBatch &batch, std::vector<IngestResult> *outcomes,
                             std::int64_t nowMs)
{
    const std::int64_t now = wallNow(nowMs);
    FinalResults final;
    {
        AllWorkers lock(m_state->workers);
        // One ingest thread: every partition is reachable, through worker 0's parser.
        ingestRecords(*m_state->workers.front(), batch, outcomes, now, true);
        advanceLocked(now, final);
    }
    emit(std::move(final));
}

void Aggregator::ingestWorker(int worker, const RecordBatch &batch,
                              std::vector<IngestResult> *outcomes, std::int64_t nowMs)
{
    Worker &w = *m_state->workers.at(static_cast<std::size_t>(worker));
    std::lock_guard lock(w.mutex);
    ingestRecords(w, batch, outcomes, nowMs, false);
}

void Aggregator::advance(std::int64_t nowMs)
{
    FinalResults final;
    {
        AllWorkers lock(m_state->workers);
        advanceLocked(wallNow(nowMs), final);
    }
    emit(std::move(final));
}

void Aggregator::flush()
{
    FinalResults final;
    {
        AllWorkers lock(m_state->workers);
        for (auto &w : m_state->workers) {
            for (PartitionState *p : w->partitions)
                settleHeld(*w, *p, systemNowMs(), true);
        }
        collectFinal(final, true);
    }
    emit(std::move(final));
}

void Aggregator::emit(FinalResults &&results)
{
    if (m_sink && !results.empty())
        m_sink->onFinal(std::move(results));
}

void Aggregator::advanceLocked(std::int64_t now, FinalResults &out)
{
    State &s = *m_state;
    for (auto &w : s.workers) {
        for (PartitionState *p : w->partitions)
            settleHeld(*w, *p, now, false);
    }
    // The aggregator's watermark: the minimum over the partitions that are not idle.
    std::int64_t newest = kNoWatermark;
    for (const auto &[id, p] : s.partitions)
        newest = std::max(newest, p->maxEventTimeMs);
    s.maxEventTimeMs = std::max(s.maxEventTimeMs, newest);
    // Idleness is measured on the wall clock (live), else on the stream's own (its newest
    // event time): see ingestRecords().
    const std::int64_t clock = m_config.liveClock ? now : s.maxEventTimeMs;
    bool hold = false, anyActive = false, anyTime = false;
    std::int64_t activeMin = INT64_MAX, allMin = INT64_MAX;
    for (auto &[id, p] : s.partitions) {
        if (!p->assigned) {
            p->idle = false;
            continue;
        }
        const std::int64_t wm = p->watermarkMs(m_config.watermarkDelayMs);
        if (p->lastDataWallMs == kNoWatermark)
            p->lastDataWallMs = clock; // stamped before the stream had a clock: count from now
        p->idle = clock != kNoWatermark && p->lastDataWallMs != kNoWatermark &&
                  !p->backlog.load(std::memory_order_relaxed) &&
                  clock - p->lastDataWallMs >= m_config.idleTimeoutMs;
        if (wm != kNoWatermark) {
            anyTime = true;
            allMin = std::min(allMin, wm);
        }
        if (p->idle)
            continue;
        anyActive = true;
        if (wm == kNoWatermark)
            hold = true; // assigned, not idle yet, no time: it holds everything back
        else
            activeMin = std::min(activeMin, wm);
    }
    std::int64_t next = kNoWatermark;
    if (anyActive) {
        if (!hold)
            next = activeMin;
    } else if (anyTime) {
        next = allMin; // everyone is idle: the slowest decides
    }
    if (next != kNoWatermark && next > s.watermarkMs)
        s.watermarkMs = next;
    collectFinal(out, false);

    // Revoked partitions whose state is gone by now are forgotten.
    for (auto it = s.partitions.begin(); it != s.partitions.end();) {
        PartitionState &p = *it->second;
        if (!p.assigned && p.sessions.empty() && p.suspects.empty() &&
            p.pageWindows.open().empty() && p.geoWindows.open().empty() &&
            p.funnelWindows.open().empty()) {
            for (auto &w : s.workers) {
                std::erase(w->partitions, &p);
                if (w->last == &p)
                    w->last = nullptr;
            }
            it = s.partitions.erase(it);
        } else {
            ++it;
        }
    }
}

void Aggregator::collectFinal(FinalResults &out, bool everything)
{
    State &s = *m_state;
    const std::int64_t until = everything ? INT64_MAX : s.watermarkMs;
    if (until != kNoWatermark) {
        // Windows the watermark passed, merged over the partitions by name, with the keys
        // each partition folded into (other) (their union: a key folded in two partitions is
        // one key).
        std::map<std::int64_t, std::map<std::string, PageFinal>> pages;
        std::map<std::int64_t, std::map<std::array<std::string, 3>, std::uint64_t>> geo;
        std::map<std::int64_t, std::map<std::string, FunnelAgg>> funnel;
        std::map<std::int64_t, Folds> pageFolds, geoFolds, funnelFolds;
        for (auto &[id, up] : s.partitions) {
            PartitionState &p = *up;
            p.pageWindows.takeFinal(until, [&](std::int64_t start, std::vector<PageAgg> &aggs,
                                               internal::WindowKeys &keys) {
                auto &byName = pages[start];
                pageFolds[start].add(keys);
                for (std::uint32_t i = 0; i < aggs.size(); ++i) {
                    PageAgg &a = aggs[i];
                    if (!a.used)
                        continue;
                    const std::string &name = p.pages.name(i);
                    auto [it, added] = byName.try_emplace(name);
                    PageFinal &f = it->second;
                    if (added) {
                        f.row = pageRow(name, start, m_config.pageWindowMs, a, true);
                        f.users = std::move(a.users);
                        f.sessions = std::move(a.sessions);
                        // Final rows are kept for snapshots: without the sketches' change logs
                        // (the soak's resident memory grew 2.7 MiB a minute with them).
                        f.users.dropChangeLog();
                        f.sessions.dropChangeLog();
                        continue;
                    }
                    addCounts(f.row, a);
                    f.users.merge(a.users);
                    f.sessions.merge(a.sessions);
                }
            });
            p.geoWindows.takeFinal(until, [&](std::int64_t start, std::vector<GeoAgg> &aggs,
                                              internal::WindowKeys &keys) {
                auto &byKey = geo[start];
                geoFolds[start].add(keys);
                for (std::uint32_t i = 0; i < aggs.size(); ++i) {
                    if (aggs[i].used)
                        byKey[p.geoKeys.key(i)] += aggs[i].events;
                }
            });
            p.funnelWindows.takeFinal(until, [&](std::int64_t start, std::vector<FunnelAgg> &aggs,
                                                 internal::WindowKeys &keys) {
                auto &byName = funnel[start];
                funnelFolds[start].add(keys);
                for (std::uint32_t i = 0; i < aggs.size(); ++i) {
                    if (!aggs[i].used)
                        continue;
                    addCounts(byName[p.products.name(i)], aggs[i]);
                }
            });
        }
        // The cap again over the merged rows: several partitions may each hold `cap` keys.
        const std::size_t cap = m_config.maxKeysPerWindow;
        const std::string other(kOtherKey);
        const std::array<std::string, 3> otherGeo{other, other, other};
        for (auto &[start, byName] : pages) {
            capMerged(
                byName, other, cap, pageFolds[start],
                [](const PageFinal &f) { return pageEvents(f.row); },
                [&](PageFinal &into, PageFinal &&from, bool added) {
                    if (added) {
                        into = std::move(from);
                        into.row.page = other;
                        return;
                    }
                    addCounts(into.row, from.row);
                    into.users.merge(from.users);
                    into.sessions.merge(from.sessions);
                });
        }
        for (auto &[start, byKey] : geo) {
            capMerged(
                byKey, otherGeo, cap, geoFolds[start], [](std::uint64_t n) { return n; },
                [](std::uint64_t &into, std::uint64_t &&from, bool) { into += from; });
        }
        for (auto &[start, byName] : funnel) {
            capMerged(byName, other, cap, funnelFolds[start], funnelEvents,
                      [](FunnelAgg &into, FunnelAgg &&from, bool) { addCounts(into, from); });
        }
        const auto noteFolds = [&](std::map<std::int64_t, Folds> &folds, KeyOverflow::Kind kind) {
            for (const auto &[start, f] : folds) {
                const std::uint64_t n = f.count();
                if (n == 0)
                    continue;
                out.overflow.push_back({kind, start, n});
                s.keysFolded += n;
                ++s.windowsCapped;
                s.lastWindowFolded = n;
            }
        };
        noteFolds(pageFolds, KeyOverflow::Kind::Pages);
        noteFolds(geoFolds, KeyOverflow::Kind::Geo);
        noteFolds(funnelFolds, KeyOverflow::Kind::Funnel);
        std::lock_guard lock(m_resultsMutex);
        for (auto &[start, byName] : pages) {
            std::vector<PageRow> rows;
            rows.reserve(byName.size());
            for (auto &[name, f] : byName) {
                f.row.uniqueUsers = f.users.estimate();
                f.row.uniqueSessions = f.sessions.estimate();
                rows.push_back(f.row);
                out.pages.push_back(std::move(f));
            }
            s.recentPages.push_back(std::move(rows));
            keepLast(s.recentPages, m_config.recentWindowsKept, m_config.recentRowsKept);
            ++s.windowsFinalized;
        }
        for (const auto &[start, byKey] : geo) {
            std::vector<GeoRow> rows;
            for (const auto &[key, events] : byKey)
                rows.push_back(
                    {start, start + m_config.geoWindowMs, key[0], key[1], key[2], events, true});
            out.geo.insert(out.geo.end(), rows.begin(), rows.end());
            s.recentGeo.push_back(std::move(rows));
            keepLast(s.recentGeo, m_config.recentWindowsKept, m_config.recentRowsKept);
            ++s.windowsFinalized;
        }
        for (const auto &[start, byName] : funnel) {
            std::vector<FunnelRow> rows;
            funnelRows(start, m_config.funnelWindowMs, byName, m_config, true, rows);
            out.funnel.insert(out.funnel.end(), rows.begin(), rows.end());
            s.recentFunnel.push_back(std::move(rows));
            keepLast(s.recentFunnel, m_config.recentWindowsKept, m_config.recentRowsKept);
            ++s.windowsFinalized;
        }
    }

    for (auto &[id, up] : s.partitions) {
        PartitionState &p = *up;
        // Behind both watermarks an event is late: sessions it could extend are closed, event
        // ids it could repeat are forgotten.
        const std::int64_t lateBefore =
            everything ? INT64_MAX : std::max(until, p.watermarkMs(m_config.watermarkDelayMs));
        if (lateBefore != kNoWatermark) {
            // Sweeping costs a pass over the open sessions: once per second of event time.
            if (everything || p.lastSessionSweep == kNoWatermark ||
                lateBefore - p.lastSessionSweep >= 1000) {
                p.lastSessionSweep = lateBefore;
                for (auto it = p.sessions.begin(); it != p.sessions.end();) {
                    if (everything || it->second.end + m_config.sessionGapMs <= lateBefore) {
                        p.pendingSessions.push_back(internal::sessionRow(it->second));
                        if (!it->second.dirty && p.hasBase)
                            p.dirtySessions.push_back(it->first); // gone, for the increment
                        p.sessions.erase(it++);
                    } else {
                        ++it;
                    }
                }
            }
            p.compactNames();
            while (!p.seen.empty() && (p.seen.begin()->first + 1) * 1000 <= lateBefore) {
                if (&p.seen.begin()->second == p.seenLast)
                    p.seenLast = nullptr;
                p.seen.erase(p.seen.begin());
            }
        }
        if (!p.pendingSessions.empty()) {
            p.counters.sessionsClosed += p.pendingSessions.size();
            std::lock_guard lock(m_resultsMutex);
            for (const SessionRow &row : p.pendingSessions)
                s.recentSessions.push_front(row);
            while (s.recentSessions.size() > m_config.recentSessionsKept)
                s.recentSessions.pop_back();
            out.sessions.insert(out.sessions.end(),
                                std::make_move_iterator(p.pendingSessions.begin()),
                                std::make_move_iterator(p.pendingSessions.end()));
            p.pendingSessions.clear();
        }
    }
}

std::vector<DeferredDeadLetter> Aggregator::takeDeferred(int worker)
{
    std::vector<DeferredDeadLetter> out;
    auto drain = [&](Worker &w) {
        if (out.empty())
            out.swap(w.deferred);
        else
            out.insert(out.end(), std::make_move_iterator(w.deferred.begin()),
                       std::make_move_iterator(w.deferred.end()));
        w.deferred.clear();
    };
    if (worker >= 0) {
        Worker &w = *m_state->workers.at(static_cast<std::size_t>(worker));
        std::lock_guard lock(w.mutex);
        drain(w);
        return out;
    }
    AllWorkers lock(m_state->workers);
    for (auto &w : m_state->workers)
        drain(*w);
    return out;
}

void Aggregator::setBacklog(std::int32_t partition, bool backlog)
{
    std::lock_guard lock(m_resultsMutex); // partitions may be added by a worker meanwhile
    const auto it = m_state->partitions.find(partition);
    if (it != m_state->partitions.end())
        it->second->backlog.store(backlog, std::memory_order_relaxed);
}

void Aggregator::assign(const std::vector<std::int32_t> &partitions, std::int64_t nowMs)
{
    const std::int64_t now = wallNow(nowMs);
    State &s = *m_state;
    AllWorkers lock(s.workers);
    std::lock_guard results(m_resultsMutex);
    for (const std::int32_t id : partitions) {
        auto &slot = s.partitions[id];
        if (!slot)
            slot = std::make_unique<PartitionState>(id, m_config);
        slot->assigned = true;
        slot->idle = false;
        slot->lastDataWallMs = now; // the idle timeout counts from here
    }
    rebalanceWorkers();
}

void Aggregator::revoke(const std::vector<std::int32_t> &partitions, bool drop)
{
    State &s = *m_state;
    AllWorkers lock(s.workers);
    std::lock_guard results(m_resultsMutex);
    for (const std::int32_t id : partitions) {
        const auto it = s.partitions.find(id);
        if (it == s.partitions.end())
            continue;
        it->second->assigned = false;
        it->second->backlog = false;
        if (drop)
            s.partitions.erase(it);
    }
    rebalanceWorkers();
}

void Aggregator::park(const std::vector<std::int32_t> &partitions)
{
    State &s = *m_state;
    AllWorkers lock(s.workers);
    std::lock_guard results(m_resultsMutex);
    for (const std::int32_t id : partitions) {
        auto node = s.partitions.extract(id);
        if (node.empty())
            continue;
        node.mapped()->assigned = false;
        node.mapped()->backlog = false;
        s.parked.insert_or_assign(id, std::move(node.mapped()));
    }
    rebalanceWorkers();
}

std::map<std::int32_t, std::uint64_t> Aggregator::parked() const
{
    AllWorkers lock(m_state->workers);
    std::map<std::int32_t, std::uint64_t> out;
    for (const auto &[id, p] : m_state->parked)
        out[id] = p->checkpointSeq;
    return out;
}

void Aggregator::unpark(const std::vector<std::int32_t> &partitions, std::int64_t nowMs)
{
    const std::int64_t now = wallNow(nowMs);
    State &s = *m_state;
    AllWorkers lock(s.workers);
    std::lock_guard results(m_resultsMutex);
    for (const std::int32_t id : partitions) {
        auto node = s.parked.extract(id);
        if (node.empty())
            continue;
        internal::PartitionState &p = *node.mapped();
        p.assigned = true;
        p.idle = false;
        p.lastDataWallMs = now;
        s.partitions.insert_or_assign(id, std::move(node.mapped()));
    }
    rebalanceWorkers();
}

std::map<std::int32_t, std::int64_t> Aggregator::nextOffsets() const
{
    AllWorkers lock(m_state->workers);
    std::map<std::int32_t, std::int64_t> out;
    for (const auto &[id, p] : m_state->partitions) {
        if (p->nextOffset >= 0)
            out[id] = p->nextOffset;
    }
    return out;
}

void Aggregator::dropParked()
{
    State &s = *m_state;
    AllWorkers lock(s.workers);
    s.parked.clear();
}

void Aggregator::rebalanceWorkers()
{
    // Assigned partitions round robin in partition order, so each worker gets an even share of
    // whatever Kafka assigned; revoked ones still closing their windows go along.
    State &s = *m_state;
    for (auto &w : s.workers) {
        w->partitions.clear();
        w->last = nullptr;
    }
    std::size_t next = 0;
    for (const bool assigned : {true, false}) {
        for (auto &[id, p] : s.partitions) {
            if (p->assigned == assigned)
                s.workers[next++ % s.workers.size()]->partitions.push_back(p.get());
        }
    }
}

std::vector<std::pair<std::int32_t, int>> Aggregator::assignment(bool withRevoked) const
{
    std::vector<std::pair<std::int32_t, int>> out;
    AllWorkers lock(m_state->workers);
    for (std::size_t w = 0; w < m_state->workers.size(); ++w) {
        for (const PartitionState *p : m_state->workers[w]->partitions) {
            if (p->assigned || withRevoked)
                out.emplace_back(p->partition, static_cast<int>(w));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

AggregateCounters Aggregator::counters() const
{
    AllWorkers lock(m_state->workers);
    return countersLocked();
}

AggregateCounters Aggregator::countersLocked() const
{
    const State &s = *m_state;
    AggregateCounters c;
    std::map<std::int64_t, char> pageStarts, geoStarts, funnelStarts;
    for (std::size_t w = 0; w < s.workers.size(); ++w) {
        for (const PartitionState *p : s.workers[w]->partitions) {
            const PartitionCounters &pc = p->counters;
            c.read += pc.read;
            c.valid += pc.valid;
            c.invalid += pc.invalid;
            for (std::size_t r = 0; r < kInvalidReasonCount; ++r)
                c.invalidByReason[r] += pc.invalidByReason[r];
            c.duplicates += pc.duplicates;
            c.late += pc.late;
            c.sessionsClosed += pc.sessionsClosed;
            const std::uint64_t held = p->suspects.size() + p->startPending.size();
            c.held += held;
            c.maxEventTimeMs = std::max(c.maxEventTimeMs, p->maxEventTimeMs);
            for (const auto &[start, aggs] : p->pageWindows.open())
                pageStarts[start];
            for (const auto &[start, aggs] : p->geoWindows.open())
                geoStarts[start];
            for (const auto &[start, aggs] : p->funnelWindows.open())
                funnelStarts[start];
            c.openSessions += p->sessions.size();
            c.keysFolded += p->pageWindows.foldedOpen() + p->geoWindows.foldedOpen() +
                            p->funnelWindows.foldedOpen();
            c.internedNames += p->pages.size() + p->products.size() + p->geoKeys.size();
            std::uint64_t dedupe = 0;
            for (const auto &[second, d] : p->seen)
                dedupe += d.ids.size();
            c.dedupeEntries += dedupe;
            const std::uint64_t bytes = p->stateBytes();
            c.stateBytes += bytes;
            if (p->assigned && p->idle)
                ++c.idlePartitions;
            PartitionStatus st;
            st.partition = p->partition;
            st.worker = static_cast<int>(w);
            st.assigned = p->assigned;
            st.idle = p->assigned && p->idle;
            st.watermarkMs = p->watermarkMs(m_config.watermarkDelayMs);
            st.maxEventTimeMs = p->maxEventTimeMs;
            st.held = held;
            st.read = pc.read;
            st.valid = pc.valid;
            st.late = pc.late;
            st.invalid = pc.invalid;
            st.openSessions = p->sessions.size();
            st.stateBytes = bytes;
            st.nextOffset = p->nextOffset;
            st.checkpointSeq = p->checkpointSeq;
            st.lastIncrementBytes = p->lastIncrementBytes;
            c.partitions.push_back(st);
        }
    }
    std::sort(c.partitions.begin(), c.partitions.end(),
              [](const PartitionStatus &a, const PartitionStatus &b) {
                  return a.partition < b.partition;
              });
    c.openWindows = pageStarts.size() + geoStarts.size() + funnelStarts.size();
    c.maxEventTimeMs = std::max(c.maxEventTimeMs, s.maxEventTimeMs);
    c.watermarkMs = s.watermarkMs;
    c.windowsFinalized = s.windowsFinalized;
    c.keysFolded += s.keysFolded;
    c.windowsCapped = s.windowsCapped;
    c.lastWindowFolded = s.lastWindowFolded;
    return c;
}

AggregatorSnapshot Aggregator::snapshot() const
{
    const State &s = *m_state;
    AggregatorSnapshot snap;
    std::vector<PageRow> openPageRows;
    std::vector<GeoRow> openGeoRows;
    std::map<std::int64_t, std::map<std::string, FunnelAgg>> openFunnel;
    // Every worker stopped until the recent final rows are copied too: a window finalized in
    // between would otherwise be in both (every accepted event in exactly one row).
    AllWorkers lock(m_state->workers);
    snap.counters = countersLocked();
    collectOpen(openPageRows, openGeoRows, openFunnel, snap.openSessions);
    std::lock_guard results(m_resultsMutex);
    std::size_t recentPages = 0, recentGeo = 0;
    for (const auto &rows : s.recentPages)
        recentPages += rows.size();
    for (const auto &rows : s.recentGeo)
        recentGeo += rows.size();
    snap.pages.reserve(recentPages + openPageRows.size());
    for (const auto &rows : s.recentPages)
        snap.pages.insert(snap.pages.end(), rows.begin(), rows.end());
    std::move(openPageRows.begin(), openPageRows.end(), std::back_inserter(snap.pages));
    snap.geo.reserve(recentGeo + openGeoRows.size());
    for (const auto &rows : s.recentGeo)
        snap.geo.insert(snap.geo.end(), rows.begin(), rows.end());
    std::move(openGeoRows.begin(), openGeoRows.end(), std::back_inserter(snap.geo));
    for (const auto &rows : s.recentFunnel)
        snap.funnel.insert(snap.funnel.end(), rows.begin(), rows.end());
    for (const auto &[start, byName] : openFunnel)
        funnelRows(start, m_config.funnelWindowMs, byName, m_config, false, snap.funnel);
    snap.recentSessions.assign(s.recentSessions.begin(), s.recentSessions.end());

    // Top pages of the latest page window.
    if (!snap.pages.empty()) {
        const std::int64_t latest = std::max_element(snap.pages.begin(), snap.pages.end(),
                                                     [](const PageRow &a, const PageRow &b) {
                                                         return a.windowStart < b.windowStart;
                                                     })
                                        ->windowStart;
        for (const PageRow &r : snap.pages) {
            if (r.windowStart == latest)
                snap.topPages.push_back(r);
        }
        const auto order = [](const PageRow &a, const PageRow &b) {
            return a.views != b.views ? a.views > b.views : a.page < b.page;
        };
        const std::size_t n = std::min(snap.topPages.size(), m_config.topPages);
        std::partial_sort(snap.topPages.begin(),
                          snap.topPages.begin() + static_cast<std::ptrdiff_t>(n),
                          snap.topPages.end(), order);
        snap.topPages.resize(n);
    }
    return snap;
}

void Aggregator::collectOpen(std::vector<PageRow> &pagesOut, std::vector<GeoRow> &geoOut,
                             std::map<std::int64_t, std::map<std::string, FunnelAgg>> &openFunnel,
                             OpenSessionSummary &openSessions) const
{
    const State &s = *m_state;
    // Open windows merged over the partitions. Unique users and sessions add up: a user (the
    // Kafka key) and their sessions belong to one partition. Each merged page row remembers its
    // partitions' aggregates (a chain through `pageParts`), so (other)'s distinct users can be
    // merged from their sketches when the cap folds rows.
    struct OpenPage
    {
        PageRow row;
        std::int32_t parts = -1; ///< the last of its aggregates in pageParts
    };
    std::map<std::int64_t, absl::flat_hash_map<std::string_view, OpenPage>> openPages;
    std::vector<std::pair<const PageAgg *, std::int32_t>> pageParts; // (aggregate, the one before)
    std::map<std::int64_t, std::map<std::array<std::string_view, 3>, GeoRow>> openGeo;
    // A walk over every open session is about 30 ns each with the workers stopped: 10 ms for
    // 300,000 sessions, ten snapshots a second held ingest back by a tenth (bench_gui consumed
    // 137-172k events/s against 207k without it). The summary is refreshed once a second.
    const auto now = std::chrono::steady_clock::now();
    const bool countOpen = m_openSessionsAt == std::chrono::steady_clock::time_point{} ||
                           now - m_openSessionsAt >= kOpenSessionsRefresh;
    OpenSessionSummary open;
    for (const auto &w : s.workers) {
        for (const PartitionState *p : w->partitions) {
            for (const auto &[start, aggs] : p->pageWindows.open()) {
                auto &byName = openPages[start];
                for (std::uint32_t id = 0; id < aggs.size(); ++id) {
                    const PageAgg &a = aggs[id];
                    if (!a.used)
                        continue;
                    const std::string &name = p->pages.name(id);
                    auto [it, added] = byName.try_emplace(name);
                    pageParts.emplace_back(&a, it->second.parts);
                    it->second.parts = static_cast<std::int32_t>(pageParts.size() - 1);
                    if (added) {
                        it->second.row = pageRow(name, start, m_config.pageWindowMs, a, false);
                        continue;
                    }
                    PageRow &r = it->second.row;
                    addCounts(r, a);
                    r.uniqueUsers += a.users.estimate();
                    r.uniqueSessions += a.sessions.estimate();
                }
            }
            for (const auto &[start, aggs] : p->geoWindows.open()) {
                for (std::uint32_t id = 0; id < aggs.size(); ++id) {
                    if (!aggs[id].used)
                        continue;
                    const auto &key = p->geoKeys.key(id);
                    auto [it, added] = openGeo[start].try_emplace({key[0], key[1], key[2]});
                    if (added)
                        it->second = {
                            start, start + m_config.geoWindowMs, key[0], key[1], key[2], 0, false};
                    it->second.events += aggs[id].events;
                }
            }
            // Open sessions: one pass, a few compares each (issue 21), at most once a second.
            if (countOpen) {
                for (const auto &[hash, session] : p->sessions) {
                    ++open.count;
                    open.converted += session.converted ? 1 : 0;
                    const double minutes =
                        static_cast<double>(session.end - session.start) / 60'000.0;
                    std::size_t l = 0;
                    while (l < OpenSessionSummary::kLengthBoundsMinutes.size() &&
                           minutes >= OpenSessionSummary::kLengthBoundsMinutes[l])
                        ++l;
                    ++open.byLength[l];
                    std::size_t e = 0;
                    while (e < OpenSessionSummary::kEventBounds.size() &&
                           session.events > OpenSessionSummary::kEventBounds[e])
                        ++e;
                    ++open.byEvents[e];
                }
            }
            for (const auto &[start, aggs] : p->funnelWindows.open()) {
                for (std::uint32_t id = 0; id < aggs.size(); ++id) {
                    if (!aggs[id].used)
                        continue;
                    addCounts(openFunnel[start][p->products.name(id)], aggs[id]);
                }
            }
        }
    }
    if (countOpen) {
        m_openSessions = open;
        m_openSessionsAt = now;
    }
    openSessions = m_openSessions;

    // The cap again over the merged open windows (as collectFinal() does for final ones):
    // every partition may hold `cap` keys of a window. Totals stay exact; (other)'s distinct
    // users and sessions are its aggregates' sketches merged.
    const std::size_t cap = m_config.maxKeysPerWindow;
    const std::string_view other = kOtherKey;
    for (auto &[start, byName] : openPages) {
        std::vector<std::int32_t> chains; // of the rows (other) now stands for
        if (const auto it = byName.find(other); it != byName.end())
            chains.push_back(it->second.parts);
        bool folded = false;
        capRows(
            byName, other, cap, [](const OpenPage &o) { return pageEvents(o.row); },
            [&](OpenPage &into, OpenPage &&from, bool added) {
                folded = true;
                chains.push_back(from.parts);
                if (added) {
                    into = std::move(from);
                    into.row.page = other;
                    return;
                }
                addCounts(into.row, from.row);
            });
        if (folded) {
            HyperLogLog users(m_config.hllLog2m), sessions(m_config.hllLog2m);
            for (std::int32_t i : chains) {
                for (; i >= 0; i = pageParts[static_cast<std::size_t>(i)].second) {
                    const PageAgg &a = *pageParts[static_cast<std::size_t>(i)].first;
                    users.merge(a.users);
                    sessions.merge(a.sessions);
                }
            }
            PageRow &o = byName.at(other).row;
            o.uniqueUsers = users.estimate();
            o.uniqueSessions = sessions.estimate();
        }
        // By window, then page (the order of final rows).
        const std::size_t first = pagesOut.size();
        for (auto &[name, o] : byName)
            pagesOut.push_back(std::move(o.row));
        std::sort(pagesOut.begin() + static_cast<std::ptrdiff_t>(first), pagesOut.end(),
                  [](const PageRow &a, const PageRow &b) { return a.page < b.page; });
    }
    const std::array<std::string_view, 3> otherGeo{other, other, other};
    for (auto &[start, byKey] : openGeo) {
        capRows(
            byKey, otherGeo, cap, [](const GeoRow &g) { return g.events; },
            [&](GeoRow &into, GeoRow &&from, bool added) {
                if (added) {
                    into = std::move(from);
                    into.country = into.browser = into.deviceType = other;
                    return;
                }
                into.events += from.events;
            });
        for (auto &[key, row] : byKey)
            geoOut.push_back(std::move(row));
    }
    const std::string otherName(other);
    for (auto &[start, byName] : openFunnel) {
        capRows(byName, otherName, cap, funnelEvents,
                [](FunnelAgg &into, FunnelAgg &&from, bool) { addCounts(into, from); });
    }
}

} // namespace studio::core
