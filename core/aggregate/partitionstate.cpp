// The aggregator's hot path: one record into its partition's state (parse, the event-time rules,
// dedupe, windows, sessions), and the partition state's own housekeeping.
#include "core/aggregate/aggregatorstate.h"

#include <algorithm>

namespace studio::core {

using internal::fastHash;
using internal::floorDiv;
using internal::FunnelAgg;
using internal::GeoAgg;
using internal::HeldEvent;
using internal::OpenSession;
using internal::PageAgg;
using internal::PartitionState;

namespace internal {

SessionRow sessionRow(const OpenSession &o)
{
    return {o.user,    o.start,    o.end, o.events, static_cast<std::uint32_t>(o.pages.size()),
            o.revenue, o.converted};
}

bool PartitionState::compactNames()
{
    if (pages.size() + products.size() + geoKeys.size() < compactAt)
        return false;
    std::vector<char> keepPages(pages.size(), 0);
    pageWindows.markUsed(keepPages);
    for (const auto &[user, session] : sessions)
        session.pages.forEach([&](std::uint32_t id) { keepPages[id] = 1; });
    const auto pageMap = pages.compact(keepPages);
    pageWindows.remap(pageMap, pages.size());
    for (auto &[hash, session] : sessions) {
        session.pages.remap(pageMap);
        // Renumbered ids change which pages are "high" and their order: written whole next.
        session.fullNext = true;
        markSessionDirty(hash, session);
    }

    std::vector<char> keepProducts(products.size(), 0);
    funnelWindows.markUsed(keepProducts);
    const auto productMap = products.compact(keepProducts);
    funnelWindows.remap(productMap, products.size());

    std::vector<char> keepGeo(geoKeys.size(), 0);
    geoWindows.markUsed(keepGeo);
    const auto geoMap = geoKeys.compact(keepGeo);
    geoWindows.remap(geoMap, geoKeys.size());
    compactAt = std::max<std::size_t>(4096, 2 * (pages.size() + products.size() + geoKeys.size()));
    return true;
}

void PartitionState::recountKeys()
{
    const auto otherOf = [](const auto &names, const auto &key) {
        return names.find(key, std::decay_t<decltype(names)>::hashOf(key));
    };
    const std::array<std::string_view, 1> other{kOtherKey};
    const std::array<std::string_view, 3> otherGeo{kOtherKey, kOtherKey, kOtherKey};
    pageWindows.recount(otherOf(pages, other));
    funnelWindows.recount(otherOf(products, other));
    geoWindows.recount(otherOf(geoKeys, otherGeo));
}

std::uint64_t PartitionState::stateBytes() const
{
    std::uint64_t slots = 0;
    for (const auto &[second, d] : seen)
        slots += d.ids.capacity();
    // slot (hash key, session, control byte); each session's list of high page ids is left out:
    // counting it would walk every open session
    std::uint64_t bytes =
        slots * 9 + sessions.capacity() * (sizeof(std::uint64_t) + sizeof(OpenSession) + 1);
    for (const auto &[start, aggs] : pageWindows.open()) {
        for (const PageAgg &a : aggs)
            bytes += sizeof(PageAgg) + a.users.memoryBytes() + a.sessions.memoryBytes();
    }
    for (const auto &[start, aggs] : funnelWindows.open())
        bytes += aggs.size() * sizeof(FunnelAgg);
    for (const auto &[start, aggs] : geoWindows.open())
        bytes += aggs.size() * sizeof(GeoAgg);
    for (const HeldEvent &h : suspects)
        bytes += sizeof(HeldEvent) + h.payload.capacity() + h.key.capacity();
    // the keys themselves (interned names) and the key cap's bookkeeping
    bytes += pages.memoryBytes() + products.memoryBytes() + geoKeys.memoryBytes();
    bytes += pageWindows.capBytes() + funnelWindows.capBytes() + geoWindows.capBytes();
    return bytes;
}

} // namespace internal

/// One batch on one worker: the records, the event-time rules, and at the end the partitions
/// whose first events waited for it.
struct Aggregator::Ingest
{
    const AggregatorConfig &config;
    Aggregator::Worker &worker;
    std::int64_t now;    ///< wall clock (live)
    std::int64_t global; ///< the aggregator's watermark, fixed for the batch
    std::vector<IngestResult> *outcomes;
    std::vector<PartitionState *> started; ///< partitions with startPending records

    /// The normal path: lateness, dedupe, windows, sessions.
    IngestResult apply(PartitionState &p, const ParsedEvent &e)
    {
        PartitionCounters &c = p.counters;
        const std::int64_t own = p.watermarkMs(config.watermarkDelayMs);
        const std::int64_t lateBefore = std::max(global, own);
        if (lateBefore != kNoWatermark && e.timestampMs < lateBefore) {
            ++c.late;
            return {Outcome::Late, {}};
        }
        const std::int64_t second = floorDiv(e.timestampMs, 1000);
        if (!p.seenLast || second != p.seenLastSecond) [[unlikely]] {
            // A new second is sized like the one before: growing a set of 100,000 ids step by
            // step rehashes them all about twice.
            const std::size_t expected = p.seenLast ? p.seenLast->ids.size() : 0;
            const auto [it, added] = p.seen.try_emplace(second);
            if (added)
                it->second.ids.reserve(expected);
            it->second.dirty = true;
            p.seenLast = &it->second;
            p.seenLastSecond = second;
        }
        // The dedupe set and the sessions are large and touched at random: their memory is
        // asked for now and used after the hashing, so the cache misses overlap with it.
        const std::uint64_t idHash = fastHash(e.eventId);
        p.seenLast->ids.prefetch(idHash);
        const std::uint64_t userHash = murmurHash64(e.userId);
        p.sessions.prefetch(userHash);
        const std::uint64_t sessionHash = murmurHash64(e.sessionId);
        if (!p.seenLast->ids.insert(idHash).second) {
            ++c.duplicates;
            return {Outcome::Duplicate, {}};
        }
        ++c.valid;
        const std::int64_t ts = e.timestampMs;
        if (ts > p.maxEventTimeMs)
            p.maxEventTimeMs = ts;
        const std::int64_t revenue = e.type == EventType::Purchase ? e.priceCents : 0;
        // The key cap: a key beyond it lands in the window's (other) row (Windows::keyed).
        static constexpr std::array<std::string_view, 1> kOther{kOtherKey};
        static constexpr std::array<std::string_view, 3> kOtherGeo{kOtherKey, kOtherKey, kOtherKey};
        std::uint32_t pageId = 0;
        PageAgg &page =
            p.pageWindows.keyed(ts, p.pages, {worker.normalizer.normalize(e.page)}, kOther, pageId);
        page.dirty = true;
        switch (e.type) {
        case EventType::PageView:
            ++page.views;
            break;
        case EventType::Click:
            ++page.clicks;
            break;
        case EventType::AddToCart:
            ++page.carts;
            break;
        case EventType::Purchase:
            ++page.purchases;
            page.revenue += revenue;
            break;
        }
        // The sketches' slots are random places in kilobytes of memory: asked for here, written
        // last.
        page.users.prefetch(userHash);
        page.sessions.prefetch(sessionHash);

        std::uint32_t keyId = 0;
        GeoAgg &g = p.geoWindows.keyed(ts, p.geoKeys, {e.country, e.browser, e.deviceType},
                                       kOtherGeo, keyId);
        g.dirty = true;
        ++g.events;

        if (e.hasProduct) {
            FunnelAgg &f = p.funnelWindows.keyed(ts, p.products, {e.productId}, kOther, keyId);
            f.dirty = true;
            f.views += e.type == EventType::PageView;
            f.carts += e.type == EventType::AddToCart;
            f.purchases += e.type == EventType::Purchase;
        }

        // Sessions: the same session while the gap to its last event is under sessionGapMs.
        auto it = p.sessions.find(userHash);
        if (it == p.sessions.end()) {
            it = p.sessions.try_emplace(userHash).first;
            it->second.user.assign(e.userId);
            it->second.start = it->second.end = ts;
        } else if (ts - it->second.end >= config.sessionGapMs ||
                   it->second.start - ts >= config.sessionGapMs) {
            // The gap passed before the watermark did (or time ran backwards past it): close it.
            p.pendingSessions.push_back(internal::sessionRow(it->second));
            std::string user = std::move(it->second.user);
            const bool dirty = it->second.dirty;
            it->second = OpenSession{};
            it->second.user = std::move(user);
            it->second.dirty = dirty;
            it->second.start = it->second.end = ts;
        }
        OpenSession &session = it->second;
        p.markSessionDirty(userHash, session);
        ++session.events;
        session.start = std::min(session.start, ts);
        session.end = std::max(session.end, ts);
        session.revenue += revenue;
        session.converted = session.converted || e.type == EventType::Purchase;
        if (session.pages.size() < kMaxSessionPages) // the page set's bound
            session.pages.insert(pageId);

        page.users.addHash(userHash);
        page.sessions.addHash(sessionHash);
        return {Outcome::Accepted, {}};
    }

    /// A held event's decision came after its batch: a dead letter if it was refused or late.
    void deferLetter(PartitionState &p, HeldEvent &&h, std::string reason)
    {
        worker.deferred.push_back(
            {p.partition, h.offset, std::move(h.key), std::move(h.payload), std::move(reason)});
    }

    void refuse(PartitionState &p, HeldEvent &&h)
    {
        ++p.counters.invalid;
        ++p.counters.invalidByReason[static_cast<std::size_t>(InvalidReason::FutureTimestamp)];
        deferLetter(p, std::move(h), std::string(toString(InvalidReason::FutureTimestamp)));
    }

    /// Applies a held event (parsed again from its own copy); late ones get their dead letter.
    IngestResult applyHeld(PartitionState &p, HeldEvent &&h, bool deferIfLate)
    {
        ParsedEvent &e = worker.event;
        if (worker.parser.parse(h.payload, e)) { // parsed before: cannot happen
            ++p.counters.invalid;
            ++p.counters.invalidByReason[static_cast<std::size_t>(InvalidReason::BadJson)];
            return {Outcome::Invalid, InvalidReason::BadJson};
        }
        const IngestResult r = apply(p, e);
        if (r.outcome == Outcome::Late && deferIfLate)
            deferLetter(p, std::move(h), "late");
        return r;
    }

    /// The suspects within maxFuture of `around` are confirmed: applied in arrival order. The
    /// others stay held, unless the partition's time has caught up with them.
    void confirm(PartitionState &p, std::int64_t around)
    {
        std::vector<HeldEvent> agreeing, others;
        for (HeldEvent &h : p.suspects) {
            if (std::abs(h.timestampMs - around) <= config.maxFutureMs)
                agreeing.push_back(std::move(h));
            else
                others.push_back(std::move(h));
        }
        p.suspects.clear();
        p.normalsSinceSuspect = 0;
        for (HeldEvent &h : agreeing)
            applyHeld(p, std::move(h), true);
        for (HeldEvent &h : others) {
            if (h.timestampMs <= p.maxEventTimeMs + config.maxFutureMs)
                applyHeld(p, std::move(h), true);
            else
                p.suspects.push_back(std::move(h));
        }
    }

    /// An event too far ahead of its partition's time: held until confirmed or refuted.
    IngestResult suspect(PartitionState &p, const ParsedEvent &e, std::string_view payload,
                         std::string_view key, std::int64_t offset)
    {
        if (p.suspects.size() >= kMaxHeldSuspects) {
            HeldEvent oldest = std::move(p.suspects.front());
            p.suspects.erase(p.suspects.begin());
            refuse(p, std::move(oldest));
        }
        const std::int64_t ts = e.timestampMs;
        p.suspects.push_back({std::string(payload), std::string(key), offset, ts, now});
        std::uint32_t agree = 0;
        for (const HeldEvent &h : p.suspects)
            agree += std::abs(h.timestampMs - ts) <= config.maxFutureMs;
        if (agree < kSuspectConfirmations)
            return {Outcome::Held, {}};
        // Confirmed: this event is the last of those applied now; report its own outcome.
        std::vector<HeldEvent> agreeing, others;
        for (HeldEvent &h : p.suspects) {
            if (std::abs(h.timestampMs - ts) <= config.maxFutureMs)
                agreeing.push_back(std::move(h));
            else
                others.push_back(std::move(h));
        }
        p.suspects = std::move(others);
        p.normalsSinceSuspect = 0;
        IngestResult mine{Outcome::Held, {}};
        for (std::size_t i = 0; i < agreeing.size(); ++i) {
            const bool last = i + 1 == agreeing.size();
            const IngestResult r = applyHeld(p, std::move(agreeing[i]), !last);
            if (last)
                mine = r;
        }
        std::vector<HeldEvent> still = std::move(p.suspects);
        p.suspects.clear();
        for (HeldEvent &h : still) {
            if (h.timestampMs <= p.maxEventTimeMs + config.maxFutureMs)
                applyHeld(p, std::move(h), true);
            else
                p.suspects.push_back(std::move(h));
        }
        return mine;
    }

    /// A parsed event of a partition that has a time: the future rules, then the normal path.
    IngestResult decide(PartitionState &p, const ParsedEvent &e, std::string_view payload,
                        std::string_view key, std::int64_t offset)
    {
        if (e.timestampMs > p.maxEventTimeMs + config.maxFutureMs) [[unlikely]]
            return suspect(p, e, payload, key, offset);
        const IngestResult r = apply(p, e);
        if (!p.suspects.empty() && ++p.normalsSinceSuspect >= kSuspectRefutations) {
            // The partition's own time goes on: what jumped ahead was a wrong clock.
            for (HeldEvent &h : p.suspects)
                refuse(p, std::move(h));
            p.suspects.clear();
            p.normalsSinceSuspect = 0;
        }
        return r;
    }

    /// A partition's first events (it had no time): they are grouped by time (events within
    /// maxFuture of each other), and the partition's time starts at the first event, in arrival
    /// order, of the biggest group (the earliest group on a tie), so one event from far in the
    /// future placed first cannot set it; then each is decided as usual, in arrival order.
    void resolveStart(PartitionState &p, const RecordBatch &batch)
    {
        std::vector<std::int64_t> times;
        times.reserve(p.startPending.size());
        ParsedEvent &e = worker.event;
        for (const std::uint32_t i : p.startPending) {
            worker.parser.parse(batch.value(i), e, batch.bytesAfterValue(i));
            times.push_back(e.timestampMs);
        }
        std::vector<std::int64_t> sorted = times;
        std::sort(sorted.begin(), sorted.end());
        std::size_t bestFrom = 0, bestCount = 0;
        for (std::size_t from = 0; from < sorted.size();) {
            std::size_t to = from + 1;
            while (to < sorted.size() && sorted[to] - sorted[to - 1] <= config.maxFutureMs)
                ++to;
            if (to - from > bestCount) {
                bestFrom = from;
                bestCount = to - from;
            }
            from = to;
        }
        const std::int64_t low = sorted[bestFrom], high = sorted[bestFrom + bestCount - 1];
        for (const std::int64_t t : times) {
            if (t >= low && t <= high) {
                p.maxEventTimeMs = t;
                break;
            }
        }
        const std::vector<std::uint32_t> pending = std::move(p.startPending);
        p.startPending.clear();
        for (const std::uint32_t i : pending) {
            worker.parser.parse(batch.value(i), e, batch.bytesAfterValue(i));
            const IngestResult r = decide(p, e, batch.value(i), batch.key(i), batch.offset(i));
            if (outcomes)
                (*outcomes)[i] = r;
        }
    }
};

PartitionState &Aggregator::partitionFor(Worker &w, std::int32_t partition, std::int64_t nowMs,
                                         bool anyWorker)
{
    if (w.last && w.last->partition == partition) [[likely]]
        return *w.last;
    State &s = *m_state;
    if (anyWorker) {
        // The one ingest thread: any worker's partition, or a new one for the next worker.
        auto &slot = s.partitions[partition];
        if (!slot) {
            std::lock_guard lock(m_resultsMutex);
            slot = std::make_unique<PartitionState>(partition, m_config);
            slot->lastDataWallMs = nowMs;
            s.workers[s.nextWorker++ % s.workers.size()]->partitions.push_back(slot.get());
        }
        slot->assigned = true;
        w.last = slot.get();
        return *slot;
    }
    for (PartitionState *p : w.partitions) {
        if (p->partition == partition) {
            p->assigned = true;
            w.last = p;
            return *p;
        }
    }
    // A record ahead of assign(): the partition joins this worker.
    std::lock_guard lock(m_resultsMutex);
    auto &slot = s.partitions[partition];
    if (!slot) {
        slot = std::make_unique<PartitionState>(partition, m_config);
        slot->lastDataWallMs = nowMs;
    }
    slot->assigned = true;
    w.partitions.push_back(slot.get());
    w.last = slot.get();
    return *slot;
}

void Aggregator::ingestRecords(Worker &w, const RecordBatch &batch,
                               std::vector<IngestResult> *outcomes, std::int64_t nowMs,
                               bool anyWorker)
{
    Ingest in{m_config, w, nowMs, m_state->watermarkMs, outcomes, {}};
    ParsedEvent &e = w.event; // reused: a fresh one per event costs a 180-byte clear
    const bool live = m_config.liveClock;
    // When a partition last had data, for its idleness: the wall clock (live), else the stream's
    // own clock, its newest event time so far (a partition behind in event time that still
    // sends is not idle; one that stopped while the others went on is).
    const std::int64_t stamp = live ? nowMs : m_state->maxEventTimeMs;
    const std::size_t first = outcomes ? outcomes->size() : 0;
    if (outcomes)
        outcomes->resize(first + batch.size());
    // Indices in startPending are of this batch; outcomes are offset by `first`.
    std::vector<IngestResult> *own = outcomes;
    std::vector<IngestResult> local;
    if (outcomes && first != 0) {
        local.resize(batch.size());
        own = &local;
    }
    in.outcomes = own;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const std::string_view payload = batch.value(i);
        const auto reason = w.parser.parse(payload, e, batch.bytesAfterValue(i));
        std::int32_t part = batch.partition(i);
        if (part < 0)
            part = !reason && e.partition >= 0 ? e.partition : 0;
        PartitionState &p = partitionFor(w, part, stamp, anyWorker);
        ++p.counters.read;
        if (const std::int64_t offset = batch.offset(i); offset >= 0)
            p.nextOffset = std::max(p.nextOffset, offset + 1);
        IngestResult r;
        if (reason) {
            ++p.counters.invalid;
            ++p.counters.invalidByReason[static_cast<std::size_t>(*reason)];
            r = {Outcome::Invalid, *reason};
        } else if (live && e.timestampMs > nowMs + m_config.maxFutureMs) [[unlikely]] {
            ++p.counters.invalid;
            ++p.counters.invalidByReason[static_cast<std::size_t>(InvalidReason::FutureTimestamp)];
            r = {Outcome::Invalid, InvalidReason::FutureTimestamp};
        } else {
            p.lastDataWallMs = stamp;
            if (p.maxEventTimeMs == kNoWatermark) [[unlikely]] {
                if (p.startPending.empty())
                    in.started.push_back(&p);
                p.startPending.push_back(static_cast<std::uint32_t>(i));
                r = {Outcome::Held, {}};
            } else {
                r = in.decide(p, e, payload, batch.key(i), batch.offset(i));
            }
        }
        if (own)
            (*own)[i] = r;
    }
    for (PartitionState *p : in.started)
        in.resolveStart(*p, batch);
    if (own == &local)
        std::copy(local.begin(), local.end(), outcomes->begin() + first);
    w.events += batch.size();
}

void Aggregator::settleHeld(Worker &w, PartitionState &p, std::int64_t nowMs, bool refuseAll)
{
    if (p.suspects.empty())
        return;
    Ingest in{m_config, w, nowMs, m_state->watermarkMs, nullptr, {}};
    if (refuseAll) {
        for (HeldEvent &h : p.suspects)
            in.refuse(p, std::move(h));
        p.suspects.clear();
        p.normalsSinceSuspect = 0;
        return;
    }
    // Live: a suspect nothing contradicted for the idle timeout is a real jump of a sparse
    // partition (wrong clocks are refused by the wall-clock bound already).
    if (m_config.liveClock && p.normalsSinceSuspect == 0 &&
        nowMs - p.suspects.front().heldAtMs >= m_config.idleTimeoutMs)
        in.confirm(p, p.suspects.back().timestampMs);
}

} // namespace studio::core
