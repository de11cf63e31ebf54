#pragma once

// Private to the aggregator's sources (aggregator.cpp, aggregatorstate.cpp): the open state's
// types. Not part of the core's API.

#include "core/aggregate/aggregator.h"
#include "core/aggregate/interner.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
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
};

struct GeoAgg
{
    std::uint64_t events = 0;
    bool used = false;
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
    PageSet pages;
};

} // namespace internal

struct Aggregator::State
{
    explicit State(const AggregatorConfig &c)
        : pageWindows(c.pageWindowMs, internal::PageAgg(c.hllLog2m))
        , funnelWindows(c.funnelWindowMs, internal::FunnelAgg{})
        , geoWindows(c.geoWindowMs, internal::GeoAgg{})
    {
    }

    internal::Interner<1> pages, products;
    internal::Interner<3> geoKeys; // country, browser, device
    std::size_t compactAt = 4096;  // interned names at which unused ones are dropped
    internal::Windows<internal::PageAgg> pageWindows;
    internal::Windows<internal::FunnelAgg> funnelWindows;
    internal::Windows<internal::GeoAgg> geoWindows;
    // Keyed by the user id's 64-bit MurmurHash3 (computed anyway for the sketches): no string
    // hashing or comparing per event; a collision of two ids is a 2^-64 event.
    absl::flat_hash_map<std::uint64_t, internal::OpenSession> sessions;
    // Dedupe: event-id hashes (fastHash) in one set per second of event time. A re-sent event
    // carries its original time, so only its own second is searched, and a second the watermark
    // has passed is dropped whole (no erase per id, no expiry queue).
    std::map<std::int64_t, absl::flat_hash_set<std::uint64_t, internal::PremixedHash>> seen;
    absl::flat_hash_set<std::uint64_t, internal::PremixedHash> *seenLast = nullptr;
    std::int64_t seenLastSecond = INT64_MIN;
    std::int64_t lastSessionSweep = kNoWatermark;
    AggregateCounters counters;
    ParsedEvent event; // the event being ingested

    std::deque<std::vector<PageRow>> recentPages;
    std::deque<std::vector<GeoRow>> recentGeo;
    std::deque<std::vector<FunnelRow>> recentFunnel;
    std::deque<SessionRow> recentSessions;
    std::vector<SessionRow> pendingSessions; // closed by a later event, not yet handed out

    // Names seen once stay interned only while an open window or session uses them, so state
    // grows with the open keys, not with every page or product ever seen.
    void compactNames()
    {
        if (pages.size() + products.size() + geoKeys.size() < compactAt)
            return;
        std::vector<char> keepPages(pages.size(), 0);
        pageWindows.markUsed(keepPages);
        for (const auto &[user, session] : sessions) {
            session.pages.forEach([&](std::uint32_t id) { keepPages[id] = 1; });
        }
        const auto pageMap = pages.compact(keepPages);
        pageWindows.remap(pageMap, pages.size());
        for (auto &[user, session] : sessions)
            session.pages.remap(pageMap);

        std::vector<char> keepProducts(products.size(), 0);
        funnelWindows.markUsed(keepProducts);
        const auto productMap = products.compact(keepProducts);
        funnelWindows.remap(productMap, products.size());

        std::vector<char> keepGeo(geoKeys.size(), 0);
        geoWindows.markUsed(keepGeo);
        const auto geoMap = geoKeys.compact(keepGeo);
        geoWindows.remap(geoMap, geoKeys.size());
        compactAt =
            std::max<std::size_t>(4096, 2 * (pages.size() + products.size() + geoKeys.size()));
    }

    // One lookup for the (country, browser, device) triple instead of one per part.
    std::uint32_t geoId(std::string_view country, std::string_view browser, std::string_view device)
    {
        return geoKeys.id({country, browser, device});
    }
};

} // namespace studio::core
