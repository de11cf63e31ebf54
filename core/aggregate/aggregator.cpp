#include "core/aggregate/aggregator.h"

#include "core/aggregate/aggregatorstate.h"
#include "core/aggregate/interner.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>

namespace studio::core {

namespace {

using internal::fastHash;
using internal::floorDiv;
using internal::FunnelAgg;
using internal::GeoAgg;
using internal::Interner;
using internal::OpenSession;
using internal::PageAgg;
using internal::PageSet;
using internal::PremixedHash;
using internal::windowStart;

SessionRow sessionRow(const OpenSession &o);

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
    return {};
}

Aggregator::Aggregator(AggregatorConfig config, AggregateSink *sink)
    : m_config(std::move(config))
    , m_sink(sink)
    , m_parser(m_config.maxEventBytes)
    , m_state(std::make_unique<State>(m_config))
{
}

Aggregator::~Aggregator() = default;

IngestResult Aggregator::ingest(std::string_view payload)
{
    FinalResults final;
    IngestResult result;
    {
        std::lock_guard lock(m_mutex);
        result = ingestLocked(payload);
        collectFinal(final, false);
    }
    emit(std::move(final));
    return result;
}

void Aggregator::ingestBatch(const RecordBatch &batch, std::vector<IngestResult> *outcomes)
{
    FinalResults final;
    {
        std::lock_guard lock(m_mutex);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const IngestResult r = ingestLocked(batch.value(i), batch.bytesAfterValue(i));
            if (outcomes)
                outcomes->push_back(r);
        }
        collectFinal(final, false);
    }
    emit(std::move(final));
}

void Aggregator::flush()
{
    FinalResults final;
    {
        std::lock_guard lock(m_mutex);
        collectFinal(final, true);
    }
    emit(std::move(final));
}

void Aggregator::emit(FinalResults &&results)
{
    if (m_sink && !results.empty())
        m_sink->onFinal(std::move(results));
}

IngestResult Aggregator::ingestLocked(std::string_view payload, std::size_t readableAfter)
{
    State &s = *m_state;
    AggregateCounters &c = s.counters;
    ++c.read;
    ParsedEvent &e = s.event; // reused: a fresh one per event costs a 180-byte clear
    if (const auto reason = m_parser.parse(payload, e, readableAfter)) {
        ++c.invalid;
        ++c.invalidByReason[static_cast<std::size_t>(*reason)];
        return {Outcome::Invalid, *reason};
    }
    if (c.watermarkMs != kNoWatermark && e.timestampMs < c.watermarkMs) {
        ++c.late;
        return {Outcome::Late, {}};
    }
    const std::int64_t second = floorDiv(e.timestampMs, 1000);
    if (!s.seenLast || second != s.seenLastSecond) [[unlikely]] {
        // A new second is sized like the one before: growing a set of 100,000 ids step by step
        // rehashes them all about twice.
        const std::size_t expected = s.seenLast ? s.seenLast->size() : 0;
        const auto [it, added] = s.seen.try_emplace(second);
        if (added)
            it->second.reserve(expected);
        s.seenLast = &it->second;
        s.seenLastSecond = second;
    }
    // The dedupe set and the sessions are large and touched at random: their memory is asked
    // for now and used after the hashing, so the cache misses overlap with it.
    const std::uint64_t idHash = fastHash(e.eventId);
    s.seenLast->prefetch(idHash);
    const std::uint64_t userHash = murmurHash64(e.userId);
    s.sessions.prefetch(userHash);
    const std::uint64_t sessionHash = murmurHash64(e.sessionId);
    if (!s.seenLast->insert(idHash).second) {
        ++c.duplicates;
        return {Outcome::Duplicate, {}};
    }
    ++c.valid;
    if (e.timestampMs > c.maxEventTimeMs) {
        c.maxEventTimeMs = e.timestampMs;
        c.watermarkMs = e.timestampMs - m_config.watermarkDelayMs;
    }

    const std::int64_t ts = e.timestampMs;
    const std::uint32_t pageId = s.pages.id(e.page);
    const std::int64_t revenue = e.type == EventType::Purchase ? e.priceCents : 0;

    PageAgg &page = s.pageWindows.at(ts, pageId);
    page.used = true;
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
    // The sketches' slots are random places in kilobytes of memory: asked for here, written last.
    page.users.prefetch(userHash);
    page.sessions.prefetch(sessionHash);

    const std::uint32_t geo = s.geoId(e.country, e.browser, e.deviceType);
    GeoAgg &g = s.geoWindows.at(ts, geo);
    g.used = true;
    ++g.events;

    if (e.hasProduct) {
        FunnelAgg &f = s.funnelWindows.at(ts, s.products.id(e.productId));
        f.used = true;
        f.views += e.type == EventType::PageView;
        f.carts += e.type == EventType::AddToCart;
        f.purchases += e.type == EventType::Purchase;
    }

    // Sessions: the same session while the gap to its last event is under sessionGapMs.
    auto it = s.sessions.find(userHash);
    if (it == s.sessions.end()) {
        it = s.sessions.try_emplace(userHash).first;
        it->second.user.assign(e.userId);
        it->second.start = it->second.end = ts;
    } else if (ts - it->second.end >= m_config.sessionGapMs ||
               it->second.start - ts >= m_config.sessionGapMs) {
        // The gap passed before the watermark did (or time ran backwards past it): close it here.
        const OpenSession &old = it->second;
        SessionRow row = sessionRow(old);
        s.recentSessions.push_front(row);
        s.pendingSessions.push_back(std::move(row));
        std::string user = std::move(it->second.user);
        it->second = OpenSession{};
        it->second.user = std::move(user);
        it->second.start = it->second.end = ts;
    }
    OpenSession &session = it->second;
    ++session.events;
    session.start = std::min(session.start, ts);
    session.end = std::max(session.end, ts);
    session.revenue += revenue;
    session.converted = session.converted || e.type == EventType::Purchase;
    session.pages.insert(pageId);

    page.users.addHash(userHash);
    page.sessions.addHash(sessionHash);
    return {Outcome::Accepted, {}};
}

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

void funnelRows(const Interner<1> &products, std::int64_t start, std::int64_t size,
                const std::vector<FunnelAgg> &aggs, const AggregatorConfig &config, bool final,
                std::vector<FunnelRow> &out)
{
    std::uint64_t totalViews = 0;
    for (const FunnelAgg &a : aggs)
        totalViews += a.views;
    for (std::uint32_t id = 0; id < aggs.size(); ++id) {
        const FunnelAgg &a = aggs[id];
        if (!a.used)
            continue;
        const double share = totalViews ? double(a.views) / double(totalViews) : 0.0;
        const double conversion = a.views ? double(a.purchases) / double(a.views) : 0.0;
        const bool flagged =
            a.views > 0 && share >= config.hotViewShare && conversion <= config.hotMaxConversion;
        out.push_back({start, start + size, products.name(id), a.views, a.carts, a.purchases,
                       flagged, final});
    }
}

GeoRow geoRow(const std::array<std::string, 3> &key, std::int64_t start, std::int64_t size,
              const GeoAgg &a, bool final)
{
    return {start, start + size, key[0], key[1], key[2], a.events, final};
}

SessionRow sessionRow(const OpenSession &o)
{
    return {o.user,    o.start,    o.end, o.events, static_cast<std::uint32_t>(o.pages.size()),
            o.revenue, o.converted};
}

template <class T> void keepLast(std::deque<T> &d, std::size_t n)
{
    while (d.size() > n)
        d.pop_front();
}

} // namespace

void Aggregator::collectFinal(FinalResults &out, bool everything)
{
    State &s = *m_state;
    AggregateCounters &c = s.counters;
    const std::int64_t until = everything ? INT64_MAX : c.watermarkMs;

    if (until != kNoWatermark) {
        s.pageWindows.takeFinal(until, [&](std::int64_t start, std::vector<PageAgg> &aggs) {
            std::vector<PageRow> rows;
            for (std::uint32_t id = 0; id < aggs.size(); ++id) {
                PageAgg &a = aggs[id];
                if (!a.used)
                    continue;
                PageFinal f{pageRow(s.pages.name(id), start, m_config.pageWindowMs, a, true),
                            std::move(a.users), std::move(a.sessions)};
                rows.push_back(f.row);
                out.pages.push_back(std::move(f));
            }
            s.recentPages.push_back(std::move(rows));
            keepLast(s.recentPages, m_config.recentWindowsKept);
            ++c.windowsFinalized;
        });
        s.geoWindows.takeFinal(until, [&](std::int64_t start, std::vector<GeoAgg> &aggs) {
            std::vector<GeoRow> rows;
            for (std::uint32_t id = 0; id < aggs.size(); ++id) {
                if (aggs[id].used)
                    rows.push_back(
                        geoRow(s.geoKeys.key(id), start, m_config.geoWindowMs, aggs[id], true));
            }
            out.geo.insert(out.geo.end(), rows.begin(), rows.end());
            s.recentGeo.push_back(std::move(rows));
            keepLast(s.recentGeo, m_config.recentWindowsKept);
            ++c.windowsFinalized;
        });
        s.funnelWindows.takeFinal(until, [&](std::int64_t start, std::vector<FunnelAgg> &aggs) {
            std::vector<FunnelRow> rows;
            funnelRows(s.products, start, m_config.funnelWindowMs, aggs, m_config, true, rows);
            out.funnel.insert(out.funnel.end(), rows.begin(), rows.end());
            s.recentFunnel.push_back(std::move(rows));
            keepLast(s.recentFunnel, m_config.recentWindowsKept);
            ++c.windowsFinalized;
        });

        // Sessions whose gap the watermark has passed can take no more events. Sweeping costs a
        // pass over the open sessions, so it runs once per second of event time at most.
        if (everything || s.lastSessionSweep == kNoWatermark ||
            until - s.lastSessionSweep >= 1000) {
            s.lastSessionSweep = until;
            for (auto it = s.sessions.begin(); it != s.sessions.end();) {
                if (everything || it->second.end + m_config.sessionGapMs <= until) {
                    s.pendingSessions.push_back(sessionRow(it->second));
                    s.recentSessions.push_front(s.pendingSessions.back());
                    s.sessions.erase(it++);
                } else {
                    ++it;
                }
            }
        }
        s.compactNames();
        // Anything older than the watermark is late anyway: its id need not be remembered.
        while (!s.seen.empty() && (s.seen.begin()->first + 1) * 1000 <= c.watermarkMs) {
            if (&s.seen.begin()->second == s.seenLast)
                s.seenLast = nullptr;
            s.seen.erase(s.seen.begin());
        }
    }
    c.sessionsClosed += s.pendingSessions.size();
    out.sessions.insert(out.sessions.end(), std::make_move_iterator(s.pendingSessions.begin()),
                        std::make_move_iterator(s.pendingSessions.end()));
    s.pendingSessions.clear();
    while (s.recentSessions.size() > m_config.recentSessionsKept)
        s.recentSessions.pop_back();

    c.openWindows =
        s.pageWindows.open().size() + s.geoWindows.open().size() + s.funnelWindows.open().size();
    c.openSessions = s.sessions.size();
    c.internedNames = s.pages.size() + s.products.size() + s.geoKeys.size();
    std::uint64_t dedupeEntries = 0, dedupeSlots = 0;
    for (const auto &[second, ids] : s.seen) {
        dedupeEntries += ids.size();
        dedupeSlots += ids.capacity();
    }
    c.dedupeEntries = dedupeEntries;
    std::uint64_t bytes = dedupeSlots * 9
                          // slot (hash key, session, control byte); each session's page list is
                          // left out: counting it would walk every open session per batch
                          +
                          s.sessions.capacity() * (sizeof(std::uint64_t) + sizeof(OpenSession) + 1);
    for (const auto &[start, aggs] : s.pageWindows.open()) {
        for (const PageAgg &a : aggs)
            bytes += sizeof(PageAgg) + a.users.memoryBytes() + a.sessions.memoryBytes();
    }
    for (const auto &[start, aggs] : s.funnelWindows.open())
        bytes += aggs.size() * sizeof(FunnelAgg);
    for (const auto &[start, aggs] : s.geoWindows.open())
        bytes += aggs.size() * sizeof(GeoAgg);
    c.stateBytes = bytes;
}

AggregateCounters Aggregator::counters() const
{
    std::lock_guard lock(m_mutex);
    return m_state->counters;
}

AggregatorSnapshot Aggregator::snapshot() const
{
    std::lock_guard lock(m_mutex);
    const State &s = *m_state;
    AggregatorSnapshot snap;
    snap.counters = s.counters;
    for (const auto &rows : s.recentPages)
        snap.pages.insert(snap.pages.end(), rows.begin(), rows.end());
    for (const auto &[start, aggs] : s.pageWindows.open()) {
        for (std::uint32_t id = 0; id < aggs.size(); ++id) {
            if (aggs[id].used)
                snap.pages.push_back(
                    pageRow(s.pages.name(id), start, m_config.pageWindowMs, aggs[id], false));
        }
    }
    for (const auto &rows : s.recentGeo)
        snap.geo.insert(snap.geo.end(), rows.begin(), rows.end());
    for (const auto &[start, aggs] : s.geoWindows.open()) {
        for (std::uint32_t id = 0; id < aggs.size(); ++id) {
            if (aggs[id].used)
                snap.geo.push_back(
                    geoRow(s.geoKeys.key(id), start, m_config.geoWindowMs, aggs[id], false));
        }
    }
    for (const auto &rows : s.recentFunnel)
        snap.funnel.insert(snap.funnel.end(), rows.begin(), rows.end());
    for (const auto &[start, aggs] : s.funnelWindows.open())
        funnelRows(s.products, start, m_config.funnelWindowMs, aggs, m_config, false, snap.funnel);
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
        std::sort(snap.topPages.begin(), snap.topPages.end(),
                  [](const PageRow &a, const PageRow &b) {
                      return a.views != b.views ? a.views > b.views : a.page < b.page;
                  });
        if (snap.topPages.size() > m_config.topPages)
            snap.topPages.resize(m_config.topPages);
    }
    return snap;
}

} // namespace studio::core
