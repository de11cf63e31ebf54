// Aggregator::saveState / restoreState: the open state as bytes for checkpoints.
//
// Format (little-endian, version 1): magic "CSAGG1", the settings that shape the state (window
// sizes, session gap, watermark delay, sketch precision), the counters, then every open window by
// name (not by interned id, which is local to a process), the sessions, the sessions closed but
// not yet handed out, and the dedupe horizon. Names travel as length-prefixed bytes; sketches in
// postgresql-hll's storage format. A hand-written format because it is a private, versioned
// snapshot of in-memory structures; no Debian serialisation library maps onto them more simply.
#include "core/aggregate/aggregatorstate.h"

#include <cstring>

namespace studio::core {

namespace {

constexpr char kMagic[] = "CSAGG1";

class Writer
{
public:
    void u64(std::uint64_t v)
    {
        char b[8];
        for (int i = 0; i < 8; ++i)
            b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
        m_out.append(b, 8);
    }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void f64(double v)
    {
        std::uint64_t bits;
        std::memcpy(&bits, &v, 8);
        u64(bits);
    }
    void str(std::string_view s)
    {
        u64(s.size());
        m_out.append(s);
    }
    std::string take() { return std::move(m_out); }

private:
    std::string m_out;
};

class Reader
{
public:
    explicit Reader(std::string_view in)
        : m_in(in)
    {
    }
    bool u64(std::uint64_t &v)
    {
        if (m_in.size() - m_pos < 8)
            return fail();
        v = 0;
        for (int i = 0; i < 8; ++i)
            v |= std::uint64_t(static_cast<unsigned char>(m_in[m_pos + i])) << (8 * i);
        m_pos += 8;
        return true;
    }
    bool i64(std::int64_t &v)
    {
        std::uint64_t u;
        if (!u64(u))
            return false;
        v = static_cast<std::int64_t>(u);
        return true;
    }
    bool f64(double &v)
    {
        std::uint64_t bits;
        if (!u64(bits))
            return false;
        std::memcpy(&v, &bits, 8);
        return true;
    }
    bool str(std::string_view &s)
    {
        std::uint64_t n;
        if (!u64(n) || n > m_in.size() - m_pos)
            return fail();
        s = m_in.substr(m_pos, n);
        m_pos += n;
        return true;
    }
    /// A count that cannot exceed what is left (each item takes at least `minBytes`).
    bool count(std::uint64_t &n, std::size_t minBytes)
    {
        return u64(n) &&
               (n <= (m_in.size() - m_pos) / std::max<std::size_t>(minBytes, 1) || fail());
    }
    bool atEnd() const { return m_pos == m_in.size(); }
    bool failed() const { return m_failed; }

private:
    bool fail()
    {
        m_failed = true;
        return false;
    }
    std::string_view m_in;
    std::size_t m_pos = 0;
    bool m_failed = false;
};

void writeSettings(Writer &w, const AggregatorConfig &c)
{
    for (const std::int64_t v : {c.pageWindowMs, c.geoWindowMs, c.funnelWindowMs, c.sessionGapMs,
                                 c.watermarkDelayMs, std::int64_t(c.hllLog2m)})
        w.i64(v);
}

void writeSketch(Writer &w, const HyperLogLog &h)
{
    w.str(h.toHllBytes());
}

bool readSketch(Reader &r, HyperLogLog &into, std::string *error)
{
    std::string_view bytes;
    if (!r.str(bytes))
        return false;
    auto h = HyperLogLog::fromHllBytes(bytes, error);
    if (!h)
        return false;
    into = std::move(*h);
    return true;
}

// Open windows of one kind: start, the number of keys in use, then writeRow(id, agg) for each.
template <class Agg, class WriteRow>
void writeWindows(Writer &w, const internal::Windows<Agg> &windows, WriteRow &&writeRow)
{
    w.u64(windows.open().size());
    for (const auto &[start, aggs] : windows.open()) {
        w.i64(start);
        std::uint64_t used = 0;
        for (const auto &a : aggs)
            used += a.used;
        w.u64(used);
        for (std::uint32_t id = 0; id < aggs.size(); ++id) {
            if (aggs[id].used)
                writeRow(id, aggs[id]);
        }
    }
}

// The reverse of writeWindows: readRow(start) reads one row into that window; false (with the
// kind named in `error`) on damaged input.
template <class ReadRow>
bool readWindows(Reader &r, std::size_t minRowBytes, const char *kind, ReadRow &&readRow,
                 std::string &error)
{
    std::uint64_t windows = 0, n = 0;
    if (!r.count(windows, 16)) {
        error = std::string("truncated ") + kind + " windows";
        return false;
    }
    for (std::uint64_t w = 0; w < windows; ++w) {
        std::int64_t start = 0;
        if (!r.i64(start) || !r.count(n, minRowBytes)) {
            error = std::string("truncated ") + kind + " window";
            return false;
        }
        for (std::uint64_t i = 0; i < n; ++i) {
            if (!readRow(start)) {
                if (error.empty())
                    error = std::string("truncated ") + kind + " row";
                return false;
            }
        }
    }
    return true;
}

} // namespace

std::string Aggregator::saveState() const
{
    std::lock_guard lock(m_mutex);
    const State &s = *m_state;
    Writer w;
    w.str(kMagic);
    writeSettings(w, m_config);

    const AggregateCounters &c = s.counters;
    for (const std::uint64_t v :
         {c.read, c.valid, c.invalid, c.duplicates, c.late, c.windowsFinalized, c.sessionsClosed})
        w.u64(v);
    w.u64(c.invalidByReason.size());
    for (const std::uint64_t v : c.invalidByReason)
        w.u64(v);
    w.i64(c.maxEventTimeMs);
    w.i64(c.watermarkMs);
    w.i64(s.lastSessionSweep);

    writeWindows(w, s.pageWindows, [&](std::uint32_t id, const internal::PageAgg &a) {
        w.str(s.pages.name(id));
        for (const std::uint64_t v : {a.views, a.clicks, a.carts, a.purchases})
            w.u64(v);
        w.i64(a.revenue);
        writeSketch(w, a.users);
        writeSketch(w, a.sessions);
    });
    writeWindows(w, s.funnelWindows, [&](std::uint32_t id, const internal::FunnelAgg &a) {
        w.str(s.products.name(id));
        w.u64(a.views);
        w.u64(a.carts);
        w.u64(a.purchases);
    });
    writeWindows(w, s.geoWindows, [&](std::uint32_t id, const internal::GeoAgg &a) {
        for (const std::string &part : s.geoKeys.key(id))
            w.str(part);
        w.u64(a.events);
    });

    w.u64(s.sessions.size());
    for (const auto &[hash, o] : s.sessions) {
        w.u64(hash);
        w.str(o.user);
        w.i64(o.start);
        w.i64(o.end);
        w.u64(o.events);
        w.i64(o.revenue);
        w.u64(o.converted);
        w.u64(o.pages.size());
        o.pages.forEach([&](std::uint32_t id) { w.str(s.pages.name(id)); });
    }
    w.u64(s.pendingSessions.size());
    for (const SessionRow &row : s.pendingSessions) {
        w.str(row.userId);
        w.i64(row.start);
        w.i64(row.end);
        w.u64(row.events);
        w.u64(row.distinctPages);
        w.i64(row.revenueCents);
        w.u64(row.converted);
    }

    w.u64(s.seen.size());
    for (const auto &[second, hashes] : s.seen) {
        w.i64(second);
        w.u64(hashes.size());
        for (const std::uint64_t h : hashes)
            w.u64(h);
    }
    return w.take();
}

bool Aggregator::restoreState(std::string_view bytes, std::string *error)
{
    auto fail = [&](const std::string &why) {
        if (error)
            *error = "aggregator checkpoint: " + why;
        return false;
    };
    Reader r(bytes);
    std::string_view magic;
    if (!r.str(magic) || magic != kMagic)
        return fail("not a checkpoint of this format (version 1)");
    {
        Writer mine;
        writeSettings(mine, m_config);
        const std::string expected = mine.take();
        for (std::size_t i = 0; i < expected.size() / 8; ++i) {
            std::int64_t v = 0;
            std::int64_t want = 0;
            if (!r.i64(v))
                return fail("truncated");
            std::memcpy(&want, expected.data() + 8 * i, 8);
            if (v != want)
                return fail("made with other window, session-gap, watermark or sketch settings; "
                            "start with the same settings (or a new consumer group)");
        }
    }

    auto state = std::make_unique<State>(m_config);
    State &s = *state;
    AggregateCounters &c = s.counters;
    bool ok = true;
    for (std::uint64_t *v : {&c.read, &c.valid, &c.invalid, &c.duplicates, &c.late,
                             &c.windowsFinalized, &c.sessionsClosed})
        ok = ok && r.u64(*v);
    std::uint64_t reasons = 0;
    ok = ok && r.u64(reasons) && reasons == c.invalidByReason.size();
    for (std::uint64_t &v : c.invalidByReason)
        ok = ok && r.u64(v);
    ok = ok && r.i64(c.maxEventTimeMs) && r.i64(c.watermarkMs) && r.i64(s.lastSessionSweep);
    if (!ok)
        return fail("truncated counters");

    std::string why;
    const bool windowsOk =
        readWindows(
            r, 56, "page",
            [&](std::int64_t start) {
                std::string_view name;
                if (!r.str(name))
                    return false;
                internal::PageAgg &a = s.pageWindows.at(start, s.pages.id(name));
                a.used = true;
                return r.u64(a.views) && r.u64(a.clicks) && r.u64(a.carts) && r.u64(a.purchases) &&
                       r.i64(a.revenue) && readSketch(r, a.users, &why) &&
                       readSketch(r, a.sessions, &why);
            },
            why) &&
        readWindows(
            r, 32, "funnel",
            [&](std::int64_t start) {
                std::string_view name;
                if (!r.str(name))
                    return false;
                internal::FunnelAgg &a = s.funnelWindows.at(start, s.products.id(name));
                a.used = true;
                return r.u64(a.views) && r.u64(a.carts) && r.u64(a.purchases);
            },
            why) &&
        readWindows(
            r, 32, "geo",
            [&](std::int64_t start) {
                std::array<std::string_view, 3> parts;
                if (!r.str(parts[0]) || !r.str(parts[1]) || !r.str(parts[2]))
                    return false;
                internal::GeoAgg &a = s.geoWindows.at(start, s.geoKeys.id(parts));
                a.used = true;
                return r.u64(a.events);
            },
            why);
    if (!windowsOk)
        return fail(why);

    std::uint64_t sessions = 0;
    if (!r.count(sessions, 64))
        return fail("truncated sessions");
    s.sessions.reserve(sessions);
    for (std::uint64_t i = 0; i < sessions; ++i) {
        std::uint64_t hash = 0, converted = 0, pages = 0;
        std::string_view user;
        internal::OpenSession o;
        if (!r.u64(hash) || !r.str(user) || !r.i64(o.start) || !r.i64(o.end) || !r.u64(o.events) ||
            !r.i64(o.revenue) || !r.u64(converted) || !r.count(pages, 8))
            return fail("truncated session");
        o.user.assign(user);
        o.converted = converted != 0;
        for (std::uint64_t p = 0; p < pages; ++p) {
            std::string_view page;
            if (!r.str(page))
                return fail("truncated session pages");
            o.pages.insert(s.pages.id(page));
        }
        s.sessions.emplace(hash, std::move(o));
    }
    std::uint64_t pending = 0;
    if (!r.count(pending, 56))
        return fail("truncated closed sessions");
    for (std::uint64_t i = 0; i < pending; ++i) {
        SessionRow row;
        std::string_view user;
        std::uint64_t distinct = 0, converted = 0;
        if (!r.str(user) || !r.i64(row.start) || !r.i64(row.end) || !r.u64(row.events) ||
            !r.u64(distinct) || !r.i64(row.revenueCents) || !r.u64(converted))
            return fail("truncated closed session");
        row.userId.assign(user);
        row.distinctPages = static_cast<std::uint32_t>(distinct);
        row.converted = converted != 0;
        s.pendingSessions.push_back(std::move(row));
    }
    std::uint64_t seconds = 0;
    if (!r.count(seconds, 16))
        return fail("truncated dedupe horizon");
    for (std::uint64_t i = 0; i < seconds; ++i) {
        std::int64_t second = 0;
        std::uint64_t hashes = 0;
        if (!r.i64(second) || !r.count(hashes, 8))
            return fail("truncated dedupe second");
        auto &set = s.seen[second];
        set.reserve(hashes);
        for (std::uint64_t h = 0; h < hashes; ++h) {
            std::uint64_t v = 0;
            if (!r.u64(v))
                return fail("truncated dedupe second");
            set.insert(v);
        }
    }
    if (!r.atEnd())
        return fail("unexpected bytes after the end");

    std::lock_guard lock(m_mutex);
    m_state = std::move(state);
    return true;
}

} // namespace studio::core
