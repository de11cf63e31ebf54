// The open state as bytes, for checkpoints: per partition, whole (a base) or only what changed
// since the last increment; and the whole aggregator (saveState / restoreState) as every
// partition's base in one container.
//
// Partition format (little-endian varints, zigzag for signed values, version 2): magic "CSPRT2",
// whether it is a base or an increment, the settings that shape the state (window sizes, session
// gap, watermark delay, sketch precision), the partition, its increment sequence and next offset,
// its event time, the aggregator's watermark when written (windows ending at or before it were
// final then: dropped when applied), counters, held suspects (payload, key and offset, so a
// restart still decides them), then a dictionary of the names used below, the windows (rows by
// dictionary index; sketches in postgresql-hll's storage format), sessions (whole, or the fields
// and the pages added since the last increment), sessions gone, closed sessions not yet handed
// out, and the dedupe horizon (whole seconds of event-id hashes). A session's pages are
// dictionary indexes: most of the state at high cardinality, a byte or two each. A hand-written
// format because it is a private, versioned snapshot of in-memory structures; no Debian
// serialisation library maps onto them more simply.
//
// Aggregator format (version 3): magic "CSAGG3", the settings, the watermark, the newest event
// time, windows finalized, the key cap's counters over final windows (keys folded, windows
// capped, the last window's folds), then per partition its base blob, whether it is assigned,
// and the fold counters of its open page, funnel and geo windows (start, keys folded, how many
// untracked, the folded keys' hashes, 8 bytes each: a key folded again after a restore is not
// counted twice). Version 2 ("CSAGG2", without the fold counters) is still read.
#include "core/aggregate/aggregatorstate.h"

#include <algorithm>
#include <cstring>

namespace studio::core {

using internal::DedupeSecond;
using internal::FunnelAgg;
using internal::GeoAgg;
using internal::HeldEvent;
using internal::OpenSession;
using internal::PageAgg;
using internal::PartitionState;

namespace internal {

namespace {

constexpr char kPartitionMagic[] = "CSPRT2";
// Version 3 adds the key cap's fold counters (issue 24): the aggregator's over final windows,
// and per partition each open window's; version 2 (without them) is still read, its counters
// then starting from 0.
constexpr char kAggregatorMagic[] = "CSAGG3";
constexpr char kAggregatorMagicV2[] = "CSAGG2";
constexpr std::uint8_t kBase = 0, kIncrement = 1;
constexpr std::uint8_t kSessionWhole = 0, kSessionDelta = 1;
constexpr std::uint32_t kPieceChecksumSeed = 0x43535043; // "CSPC"

class Writer
{
public:
    void u8(std::uint8_t v) { m_out.push_back(static_cast<char>(v)); }
    void var(std::uint64_t v)
    {
        while (v >= 0x80) {
            m_out.push_back(static_cast<char>((v & 0x7f) | 0x80));
            v >>= 7;
        }
        m_out.push_back(static_cast<char>(v));
    }
    void svar(std::int64_t v)
    {
        var((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
    }
    void fixed(std::uint64_t v)
    {
        char b[8];
        for (int i = 0; i < 8; ++i)
            b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
        m_out.append(b, 8);
    }
    void str(std::string_view s)
    {
        var(s.size());
        m_out.append(s);
    }
    std::size_t size() const { return m_out.size(); }
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
    bool u8(std::uint8_t &v)
    {
        if (m_pos >= m_in.size())
            return fail();
        v = static_cast<std::uint8_t>(m_in[m_pos++]);
        return true;
    }
    bool var(std::uint64_t &v)
    {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_pos >= m_in.size())
                return fail();
            const auto b = static_cast<std::uint8_t>(m_in[m_pos++]);
            v |= std::uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80))
                return true;
        }
        return fail();
    }
    bool svar(std::int64_t &v)
    {
        std::uint64_t u = 0;
        if (!var(u))
            return false;
        v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
        return true;
    }
    bool fixed(std::uint64_t &v)
    {
        if (m_in.size() - m_pos < 8)
            return fail();
        v = 0;
        for (int i = 0; i < 8; ++i)
            v |= std::uint64_t(static_cast<unsigned char>(m_in[m_pos + i])) << (8 * i);
        m_pos += 8;
        return true;
    }
    bool str(std::string_view &s)
    {
        std::uint64_t n = 0;
        if (!var(n) || n > m_in.size() - m_pos)
            return fail();
        s = m_in.substr(m_pos, n);
        m_pos += n;
        return true;
    }
    /// A count that cannot exceed what is left (each item takes at least `minBytes`).
    bool count(std::uint64_t &n, std::size_t minBytes)
    {
        return var(n) &&
               (n <= (m_in.size() - m_pos) / std::max<std::size_t>(minBytes, 1) || fail());
    }
    bool atEnd() const { return m_pos == m_in.size(); }

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

std::array<std::int64_t, 6> settingsOf(const AggregatorConfig &c)
{
    return {c.pageWindowMs, c.geoWindowMs,      c.funnelWindowMs,
            c.sessionGapMs, c.watermarkDelayMs, std::int64_t(c.hllLog2m)};
}

void writeSettings(Writer &w, const AggregatorConfig &c)
{
    for (const std::int64_t v : settingsOf(c))
        w.svar(v);
}

bool readSettings(Reader &r, const AggregatorConfig &c, std::string &error)
{
    for (const std::int64_t want : settingsOf(c)) {
        std::int64_t v = 0;
        if (!r.svar(v)) {
            error = "truncated";
            return false;
        }
        if (v != want) {
            error = "made with other window, session-gap, watermark or sketch settings; start "
                    "with the same settings (or a new consumer group)";
            return false;
        }
    }
    return true;
}

/// Names by first use, for the dictionary written ahead of the rows.
class Dictionary
{
public:
    std::uint32_t index(std::string_view name)
    {
        const auto [it, added] =
            m_index.try_emplace(name, static_cast<std::uint32_t>(m_names.size()));
        if (added)
            m_names.push_back(name);
        return it->second;
    }
    const std::vector<std::string_view> &names() const { return m_names; }

private:
    absl::flat_hash_map<std::string_view, std::uint32_t> m_index;
    std::vector<std::string_view> m_names;
};

/// What changed in a sketch since its last piece (HyperLogLog::changeLog): 0 and the whole
/// sketch, 1 and the hashes added (explicit at the last piece: replayed with addHash, they turn
/// the copy dense where the original turned), or 2 and the registers raised (index deltas and
/// values, ascending).
void writeSketchChange(Writer &b, const HyperLogLog &h)
{
    if (h.changedWhole()) {
        b.u8(0);
        b.str(h.toHllBytes());
        return;
    }
    const std::vector<std::uint64_t> &log = h.changeLog();
    if (h.changeLogHashes()) {
        b.u8(1);
        b.var(log.size());
        for (const std::uint64_t hash : log)
            b.fixed(hash);
        return;
    }
    std::vector<std::uint64_t> indices(log);
    std::sort(indices.begin(), indices.end());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
    b.u8(2);
    b.var(indices.size());
    std::uint64_t previous = 0;
    for (const std::uint64_t index : indices) {
        b.var(index - previous);
        b.u8(h.registerAt(index));
        previous = index;
    }
}

/// The body (everything after the dictionary) goes to its own buffer first: the dictionary it
/// fills is written ahead of it.
struct PartitionWriter
{
    const AggregatorConfig &config;
    const PartitionState &p;
    bool full;
    Dictionary dict;
    Writer body;

    template <class Agg, class Row> void windows(const Windows<Agg> &windows, Row &&row, bool clear)
    {
        std::vector<std::pair<std::int64_t, std::vector<std::uint32_t>>> chosen;
        for (const auto &[start, aggs] : windows.open()) {
            std::vector<std::uint32_t> ids;
            for (std::uint32_t id = 0; id < aggs.size(); ++id) {
                if (aggs[id].used && (full || aggs[id].dirty))
                    ids.push_back(id);
            }
            if (!ids.empty())
                chosen.emplace_back(start, std::move(ids));
        }
        body.var(chosen.size());
        for (const auto &[start, ids] : chosen) {
            body.svar(start);
            body.var(ids.size());
            const auto &aggs = windows.open().at(start);
            for (const std::uint32_t id : ids)
                row(id, aggs[id]);
        }
        if (clear) {
            for (auto &[start, aggs] : const_cast<Windows<Agg> &>(windows).open()) {
                for (Agg &a : aggs)
                    a.dirty = false;
            }
        }
    }

    void session(const OpenSession &o, bool whole)
    {
        body.u8(whole ? kSessionWhole : kSessionDelta);
        body.str(o.user);
        body.svar(o.start);
        body.svar(o.end - o.start);
        body.var(o.events);
        body.svar(o.revenue);
        body.u8(o.converted ? 1 : 0);
        if (whole) {
            body.var(o.pages.size());
            o.pages.forEach([&](std::uint32_t id) { body.var(dict.index(p.pages.name(id))); });
            return;
        }
        std::uint32_t low = 0;
        o.pages.forEachLow([&](std::uint32_t) { ++low; });
        body.var(low);
        o.pages.forEachLow([&](std::uint32_t id) { body.var(dict.index(p.pages.name(id))); });
        const std::uint32_t from = std::min(o.highCheckpointed, o.pages.highCount());
        body.var(o.pages.highCount() - from);
        o.pages.forEachHighFrom(from,
                                [&](std::uint32_t id) { body.var(dict.index(p.pages.name(id))); });
    }

    void pendingSession(const SessionRow &row)
    {
        body.str(row.userId);
        body.svar(row.start);
        body.svar(row.end - row.start);
        body.var(row.events);
        body.var(row.distinctPages);
        body.svar(row.revenueCents);
        body.u8(row.converted ? 1 : 0);
    }
};

} // namespace

std::string savePartition(const AggregatorConfig &config, PartitionState &p,
                          std::int64_t globalWatermark, bool full)
{
    PartitionWriter pw{config, p, full, {}, {}};
    Writer &b = pw.body;
    const bool clear = !full;
    pw.windows(
        p.pageWindows,
        [&](std::uint32_t id, const PageAgg &a) {
            b.var(pw.dict.index(p.pages.name(id)));
            for (const std::uint64_t v : {a.views, a.clicks, a.carts, a.purchases})
                b.var(v);
            b.svar(a.revenue);
            for (const HyperLogLog *h : {&a.users, &a.sessions}) {
                if (full) {
                    b.str(h->toHllBytes());
                } else {
                    writeSketchChange(b, *h);
                    const_cast<HyperLogLog *>(h)->markSaved();
                }
            }
        },
        clear);
    pw.windows(
        p.funnelWindows,
        [&](std::uint32_t id, const FunnelAgg &a) {
            b.var(pw.dict.index(p.products.name(id)));
            b.var(a.views);
            b.var(a.carts);
            b.var(a.purchases);
        },
        clear);
    pw.windows(
        p.geoWindows,
        [&](std::uint32_t id, const GeoAgg &a) {
            for (const std::string &part : p.geoKeys.key(id))
                b.var(pw.dict.index(part));
            b.var(a.events);
        },
        clear);

    std::vector<std::uint64_t> gone;
    if (full) {
        b.var(p.sessions.size());
        for (const auto &[hash, o] : p.sessions)
            pw.session(o, true);
    } else {
        std::vector<std::pair<std::uint64_t, OpenSession *>> changed;
        for (const std::uint64_t hash : p.dirtySessions) {
            const auto it = p.sessions.find(hash);
            if (it == p.sessions.end())
                gone.push_back(hash);
            else if (it->second.dirty) // listed twice once closed and reopened
                changed.emplace_back(hash, &it->second);
            if (it != p.sessions.end())
                it->second.dirty = false;
        }
        b.var(changed.size());
        for (auto &[hash, o] : changed) {
            pw.session(*o, o->fullNext);
            o->fullNext = false;
            o->highCheckpointed = o->pages.highCount();
        }
        p.dirtySessions.clear();
    }
    b.var(gone.size());
    for (const std::uint64_t hash : gone)
        b.fixed(hash);
    b.var(p.pendingSessions.size());
    for (const SessionRow &row : p.pendingSessions)
        pw.pendingSession(row);

    std::uint64_t seconds = 0;
    for (const auto &[second, d] : p.seen)
        seconds += full || d.dirty;
    b.var(seconds);
    for (auto &[second, d] : p.seen) {
        if (!full && !d.dirty)
            continue;
        b.svar(second);
        b.var(d.ids.size());
        for (const std::uint64_t h : d.ids)
            b.fixed(h);
    }
    if (clear) {
        for (auto &[second, d] : p.seen)
            d.dirty = false;
        p.seenLast = nullptr; // its next insert marks it again
    }

    Writer w;
    w.str(kPartitionMagic);
    w.u8(full ? kBase : kIncrement);
    writeSettings(w, config);
    w.svar(p.partition);
    w.var(p.checkpointSeq);
    w.svar(p.nextOffset);
    w.svar(p.maxEventTimeMs);
    w.svar(globalWatermark);
    w.svar(p.lastSessionSweep);
    const PartitionCounters &c = p.counters;
    for (const std::uint64_t v :
         {c.read, c.valid, c.invalid, c.duplicates, c.late, c.sessionsClosed})
        w.var(v);
    w.var(c.invalidByReason.size());
    for (const std::uint64_t v : c.invalidByReason)
        w.var(v);
    w.var(p.suspects.size());
    for (const HeldEvent &h : p.suspects) {
        w.svar(h.timestampMs);
        w.svar(h.offset);
        w.svar(h.heldAtMs);
        w.str(h.key);
        w.str(h.payload);
    }
    w.var(p.normalsSinceSuspect);
    w.var(pw.dict.names().size());
    for (const std::string_view name : pw.dict.names())
        w.str(name);
    std::string out = w.take();
    out += b.take();
    return out;
}

namespace {

template <class ReadRow>
bool readWindows(Reader &r, std::size_t minRowBytes, const char *kind, ReadRow &&readRow,
                 std::string &error)
{
    std::uint64_t windows = 0, n = 0;
    if (!r.count(windows, 2)) {
        error = std::string("truncated ") + kind + " windows";
        return false;
    }
    for (std::uint64_t w = 0; w < windows; ++w) {
        std::int64_t start = 0;
        if (!r.svar(start) || !r.count(n, minRowBytes)) {
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

/// Reads what writeSketchChange() wrote onto `into` (the sketch as of the previous piece).
bool readSketchChange(Reader &r, HyperLogLog &into, std::string *error)
{
    std::uint8_t form = 0;
    std::uint64_t n = 0;
    if (!r.u8(form))
        return false;
    if (form == 0)
        return readSketch(r, into, error);
    if (form == 1) {
        if (!r.count(n, 8))
            return false;
        for (std::uint64_t i = 0; i < n; ++i) {
            std::uint64_t hash = 0;
            if (!r.fixed(hash))
                return false;
            into.addHash(hash);
        }
        return true;
    }
    if (form != 2 || !r.count(n, 2))
        return false;
    if (n > 0 && into.isExplicit()) {
        if (error)
            *error = "register changes for a sketch that has no registers";
        return false;
    }
    std::uint64_t index = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t delta = 0;
        std::uint8_t value = 0;
        if (!r.var(delta) || !r.u8(value))
            return false;
        index += delta;
        if (index >= (std::uint64_t{1} << into.log2m()) || value > 64) {
            if (error)
                *error = "a register change out of range";
            return false;
        }
        into.raiseRegister(index, value);
    }
    return true;
}

/// A partition blob's magic, kind (base or increment) and the settings it was made with, which
/// must be this aggregator's.
bool readPartitionHeader(Reader &r, const AggregatorConfig &config, std::uint8_t &kind,
                         std::string &error)
{
    std::string_view magic;
    if (!r.str(magic) || magic != kPartitionMagic || !r.u8(kind) || kind > kIncrement) {
        error = "not a partition checkpoint of this format (version 2)";
        return false;
    }
    return readSettings(r, config, error);
}

/// Every open window row (and its sketches) as saved: nothing in them differs from what the
/// chain holds.
void markWindowsClean(PartitionState &p)
{
    for (auto &[start, aggs] : p.pageWindows.open()) {
        for (PageAgg &a : aggs) {
            a.dirty = false;
            a.users.markSaved();
            a.sessions.markSaved();
        }
    }
    for (auto &[start, aggs] : p.funnelWindows.open()) {
        for (FunnelAgg &a : aggs)
            a.dirty = false;
    }
    for (auto &[start, aggs] : p.geoWindows.open()) {
        for (GeoAgg &a : aggs)
            a.dirty = false;
    }
}

} // namespace

bool applyPartition(const AggregatorConfig &config, PartitionState &p, std::string_view bytes,
                    std::string &error, PartitionBlobInfo *info)
{
    Reader r(bytes);
    std::uint8_t kind = 0;
    if (!readPartitionHeader(r, config, kind, error))
        return false;
    std::int64_t partition = 0, nextOffset = 0, maxTime = 0, global = 0, sweep = 0;
    std::uint64_t seq = 0;
    PartitionCounters c;
    std::uint64_t reasons = 0;
    bool ok = r.svar(partition) && r.var(seq) && r.svar(nextOffset) && r.svar(maxTime) &&
              r.svar(global) && r.svar(sweep);
    for (std::uint64_t *v :
         {&c.read, &c.valid, &c.invalid, &c.duplicates, &c.late, &c.sessionsClosed})
        ok = ok && r.var(*v);
    ok = ok && r.var(reasons) && reasons <= 64;
    for (std::uint64_t i = 0; ok && i < reasons; ++i) {
        std::uint64_t v = 0;
        ok = r.var(v);
        if (i < c.invalidByReason.size())
            c.invalidByReason[i] = v; // reasons added later are read as zero; none dropped yet
    }
    if (!ok) {
        error = "truncated counters";
        return false;
    }
    if (kind == kBase && partition != p.partition && p.partition >= 0) {
        // (a state moved between partition numbers cannot happen: keyed by them)
    }
    std::uint64_t held = 0;
    if (!r.count(held, 5)) {
        error = "truncated held events";
        return false;
    }
    std::vector<HeldEvent> suspects;
    for (std::uint64_t i = 0; i < held; ++i) {
        HeldEvent h;
        std::string_view key, payload;
        if (!r.svar(h.timestampMs) || !r.svar(h.offset) || !r.svar(h.heldAtMs) || !r.str(key) ||
            !r.str(payload)) {
            error = "truncated held event";
            return false;
        }
        h.key.assign(key);
        h.payload.assign(payload);
        suspects.push_back(std::move(h));
    }
    std::uint64_t normals = 0, names = 0;
    if (!r.var(normals) || !r.count(names, 1)) {
        error = "truncated dictionary";
        return false;
    }
    std::vector<std::string_view> dict(names);
    for (auto &name : dict) {
        if (!r.str(name)) {
            error = "truncated dictionary";
            return false;
        }
    }
    auto name = [&](std::uint64_t i, std::string_view &out) {
        if (i >= dict.size()) {
            error = "a name outside the dictionary";
            return false;
        }
        out = dict[i];
        return true;
    };

    // A base starts from nothing; an increment first drops what became final since.
    if (kind == kBase) {
        PartitionState fresh(p.partition, config);
        p.pages = std::move(fresh.pages);
        p.products = std::move(fresh.products);
        p.geoKeys = std::move(fresh.geoKeys);
        p.pageWindows = std::move(fresh.pageWindows);
        p.funnelWindows = std::move(fresh.funnelWindows);
        p.geoWindows = std::move(fresh.geoWindows);
        p.sessions.clear();
        p.seen.clear();
        p.pendingSessions.clear();
    }
    p.seenLast = nullptr;
    p.pageWindows.forget();
    p.funnelWindows.forget();
    p.geoWindows.forget();
    if (global != kNoWatermark) {
        p.pageWindows.takeFinal(global, [](std::int64_t, auto &) {});
        p.funnelWindows.takeFinal(global, [](std::int64_t, auto &) {});
        p.geoWindows.takeFinal(global, [](std::int64_t, auto &) {});
    }

    std::string why;
    const bool windowsOk = readWindows(
                               r, 8, "page",
                               [&](std::int64_t start) {
                                   std::uint64_t idx = 0;
                                   std::string_view page;
                                   if (!r.var(idx) || !name(idx, page))
                                       return false;
                                   PageAgg &a = p.pageWindows.at(start, p.pages.id(page));
                                   // An increment changes the sketches as of the last piece
                                   // (a new key's start from empty); a base replaces them.
                                   if (kind == kBase || !a.used)
                                       a = PageAgg(config.hllLog2m);
                                   a.used = true;
                                   const bool counts = r.var(a.views) && r.var(a.clicks) &&
                                                       r.var(a.carts) && r.var(a.purchases) &&
                                                       r.svar(a.revenue);
                                   if (kind == kBase)
                                       return counts && readSketch(r, a.users, &why) &&
                                              readSketch(r, a.sessions, &why);
                                   return counts && readSketchChange(r, a.users, &why) &&
                                          readSketchChange(r, a.sessions, &why);
                               },
                               error) &&
                           readWindows(
                               r, 4, "funnel",
                               [&](std::int64_t start) {
                                   std::uint64_t idx = 0;
                                   std::string_view product;
                                   if (!r.var(idx) || !name(idx, product))
                                       return false;
                                   FunnelAgg &a = p.funnelWindows.at(start, p.products.id(product));
                                   a = FunnelAgg{};
                                   a.used = true;
                                   return r.var(a.views) && r.var(a.carts) && r.var(a.purchases);
                               },
                               error) &&
                           readWindows(
                               r, 4, "geo",
                               [&](std::int64_t start) {
                                   std::array<std::string_view, 3> parts;
                                   for (auto &part : parts) {
                                       std::uint64_t idx = 0;
                                       if (!r.var(idx) || !name(idx, part))
                                           return false;
                                   }
                                   GeoAgg &a = p.geoWindows.at(start, p.geoKeys.id(parts));
                                   a = GeoAgg{};
                                   a.used = true;
                                   return r.var(a.events);
                               },
                               error);
    if (!windowsOk) {
        if (!why.empty())
            error = why;
        return false;
    }

    std::uint64_t sessions = 0;
    if (!r.count(sessions, 8)) {
        error = "truncated sessions";
        return false;
    }
    p.sessions.reserve(p.sessions.size() + sessions);
    for (std::uint64_t i = 0; i < sessions; ++i) {
        std::uint8_t form = 0, converted = 0;
        std::string_view user;
        std::int64_t start = 0, length = 0, revenue = 0;
        std::uint64_t events = 0;
        if (!r.u8(form) || form > kSessionDelta || !r.str(user) || !r.svar(start) ||
            !r.svar(length) || !r.var(events) || !r.svar(revenue) || !r.u8(converted)) {
            error = "truncated session";
            return false;
        }
        const std::uint64_t hash = murmurHash64(user);
        OpenSession *o = nullptr;
        if (form == kSessionWhole) {
            o = &(p.sessions[hash] = OpenSession{});
            o->user.assign(user);
        } else {
            const auto it = p.sessions.find(hash);
            if (it == p.sessions.end()) {
                error = "an increment changes a session its base does not have";
                return false;
            }
            o = &it->second;
        }
        o->start = start;
        o->end = start + length;
        o->events = events;
        o->revenue = revenue;
        o->converted = converted != 0;
        o->dirty = false;
        o->fullNext = false;
        for (int part = 0; part < (form == kSessionWhole ? 1 : 2); ++part) {
            std::uint64_t n = 0;
            if (!r.count(n, 1)) {
                error = "truncated session pages";
                return false;
            }
            for (std::uint64_t k = 0; k < n; ++k) {
                std::uint64_t idx = 0;
                std::string_view page;
                if (!r.var(idx) || !name(idx, page))
                    return false;
                o->pages.insert(p.pages.id(page));
            }
        }
        o->highCheckpointed = o->pages.highCount();
    }
    std::uint64_t gone = 0;
    if (!r.count(gone, 8)) {
        error = "truncated closed sessions";
        return false;
    }
    for (std::uint64_t i = 0; i < gone; ++i) {
        std::uint64_t hash = 0;
        if (!r.fixed(hash)) {
            error = "truncated closed sessions";
            return false;
        }
        p.sessions.erase(hash);
    }
    std::uint64_t pending = 0;
    if (!r.count(pending, 7)) {
        error = "truncated closed sessions";
        return false;
    }
    p.pendingSessions.clear();
    for (std::uint64_t i = 0; i < pending; ++i) {
        SessionRow row;
        std::string_view user;
        std::int64_t length = 0;
        std::uint64_t distinct = 0;
        std::uint8_t converted = 0;
        if (!r.str(user) || !r.svar(row.start) || !r.svar(length) || !r.var(row.events) ||
            !r.var(distinct) || !r.svar(row.revenueCents) || !r.u8(converted)) {
            error = "truncated closed session";
            return false;
        }
        row.userId.assign(user);
        row.end = row.start + length;
        row.distinctPages = static_cast<std::uint32_t>(distinct);
        row.converted = converted != 0;
        p.pendingSessions.push_back(std::move(row));
    }
    std::uint64_t seconds = 0;
    if (!r.count(seconds, 2)) {
        error = "truncated dedupe horizon";
        return false;
    }
    for (std::uint64_t i = 0; i < seconds; ++i) {
        std::int64_t second = 0;
        std::uint64_t n = 0;
        if (!r.svar(second) || !r.count(n, 8)) {
            error = "truncated dedupe second";
            return false;
        }
        DedupeSecond &d = p.seen[second];
        d.ids.clear();
        d.ids.reserve(n);
        d.dirty = false;
        for (std::uint64_t k = 0; k < n; ++k) {
            std::uint64_t h = 0;
            if (!r.fixed(h)) {
                error = "truncated dedupe second";
                return false;
            }
            d.ids.insert(h);
        }
    }
    if (!r.atEnd()) {
        error = "unexpected bytes after the end";
        return false;
    }
    const std::int64_t lateBefore = std::max(
        global, maxTime == kNoWatermark ? kNoWatermark : maxTime - config.watermarkDelayMs);
    while (!p.seen.empty() && lateBefore != kNoWatermark &&
           (p.seen.begin()->first + 1) * 1000 <= lateBefore)
        p.seen.erase(p.seen.begin());

    p.checkpointSeq = seq;
    p.nextOffset = nextOffset;
    p.maxEventTimeMs = maxTime;
    p.lastSessionSweep = sweep;
    p.counters = c;
    p.suspects = std::move(suspects);
    p.normalsSinceSuspect = static_cast<std::uint32_t>(normals);
    p.dirtySessions.clear();
    p.recountKeys();
    markWindowsClean(p); // what was applied is what the chain holds
    if (info) {
        info->partition = static_cast<std::int32_t>(partition);
        info->base = kind == kBase;
        info->seq = seq;
        info->globalWatermarkMs = global;
    }
    return true;
}

namespace {

/// The fold counters of one kind's open windows that folded keys: start, keys folded, how many
/// of them untracked, and the remembered key hashes.
template <class Agg> void writeFolds(Writer &w, const Windows<Agg> &windows)
{
    std::uint64_t n = 0;
    for (const auto &[start, k] : windows.keys())
        n += k.folded > 0;
    w.var(n);
    for (const auto &[start, k] : windows.keys()) {
        if (k.folded == 0)
            continue;
        w.svar(start);
        w.var(k.folded);
        w.var(k.untracked);
        w.var(k.foldedHashes.size());
        for (const std::uint64_t h : k.foldedHashes)
            w.fixed(h);
    }
}

template <class Agg> bool readFolds(Reader &r, Windows<Agg> &windows)
{
    std::uint64_t n = 0;
    if (!r.count(n, 4))
        return false;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::int64_t start = 0;
        std::uint64_t folded = 0, untracked = 0, count = 0;
        if (!r.svar(start) || !r.var(folded) || !r.var(untracked) || !r.count(count, 8) ||
            count > folded || untracked > folded)
            return false;
        absl::flat_hash_set<std::uint64_t, PremixedHash> hashes;
        hashes.reserve(count);
        for (std::uint64_t k = 0; k < count; ++k) {
            std::uint64_t h = 0;
            if (!r.fixed(h))
                return false;
            hashes.insert(h);
        }
        windows.restoreFolds(start, folded, untracked, std::move(hashes));
    }
    return true;
}

/// After a base was handed out: nothing is changed relative to it.
void clearChangeMarks(PartitionState &p)
{
    for (auto &[hash, o] : p.sessions) {
        o.dirty = false;
        o.fullNext = false;
        o.highCheckpointed = o.pages.highCount();
    }
    p.dirtySessions.clear();
    for (auto &[second, d] : p.seen)
        d.dirty = false;
    p.seenLast = nullptr; // its next insert marks it again
    markWindowsClean(p);
    p.pageWindows.forget();
    p.funnelWindows.forget();
    p.geoWindows.forget();
}

} // namespace

// A piece is the partition blob, then the fold counters of its page, funnel and geo windows,
// then the folds' length as 8 bytes, then a checksum (murmurHash64, 8 bytes) of everything
// before it: the (large) blob is never copied to frame it, and a damaged piece (a flipped byte
// in a sketch, a session or the dedupe horizon reads as well as a good one) is refused rather
// than restored into a wrong state.
std::string savePiece(const AggregatorConfig &config, PartitionState &p,
                      std::int64_t globalWatermark, bool full)
{
    std::string out = savePartition(config, p, globalWatermark, full);
    if (full)
        clearChangeMarks(p);
    Writer folds;
    writeFolds(folds, p.pageWindows);
    writeFolds(folds, p.funnelWindows);
    writeFolds(folds, p.geoWindows);
    const std::size_t n = folds.size();
    out += folds.take();
    Writer trailer;
    trailer.fixed(n);
    out += trailer.take();
    trailer.fixed(murmurHash64(out, kPieceChecksumSeed));
    out += trailer.take();
    return out;
}

namespace {

/// A piece's partition blob and its key folds, when its checksum holds.
bool splitPiece(std::string_view bytes, std::string_view &blob, std::string_view &folds,
                std::string &error)
{
    std::uint64_t n = 0, sum = 0;
    if (bytes.size() < 16 || !Reader(bytes.substr(bytes.size() - 16, 8)).fixed(n) ||
        !Reader(bytes.substr(bytes.size() - 8)).fixed(sum) || n > bytes.size() - 16) {
        error = "not a checkpoint piece (too short)";
        return false;
    }
    if (murmurHash64(bytes.substr(0, bytes.size() - 8), kPieceChecksumSeed) != sum) {
        error = "damaged (its checksum does not match)";
        return false;
    }
    blob = bytes.substr(0, bytes.size() - 16 - n);
    folds = bytes.substr(blob.size(), n);
    return true;
}

} // namespace

bool pieceInfo(const AggregatorConfig &config, std::string_view bytes, PartitionBlobInfo &info,
               std::string &error)
{
    std::string_view blob, folds;
    if (!splitPiece(bytes, blob, folds, error))
        return false;
    Reader r(blob);
    std::uint8_t kind = 0;
    if (!readPartitionHeader(r, config, kind, error))
        return false;
    std::int64_t partition = 0, nextOffset = 0, maxTime = 0, global = 0;
    if (!r.svar(partition) || !r.var(info.seq) || !r.svar(nextOffset) || !r.svar(maxTime) ||
        !r.svar(global)) {
        error = "truncated";
        return false;
    }
    info.partition = static_cast<std::int32_t>(partition);
    info.base = kind == kBase;
    info.globalWatermarkMs = global;
    return true;
}

bool applyPiece(const AggregatorConfig &config, PartitionState &p, std::string_view bytes,
                std::string &error, PartitionBlobInfo *info)
{
    std::string_view blob, folds;
    if (!splitPiece(bytes, blob, folds, error))
        return false;
    if (!applyPartition(config, p, blob, error, info))
        return false;
    Reader r(folds);
    if (!(readFolds(r, p.pageWindows) && readFolds(r, p.funnelWindows) &&
          readFolds(r, p.geoWindows)) ||
        !r.atEnd()) {
        error = "truncated key folds";
        return false;
    }
    return true;
}

} // namespace internal

std::string Aggregator::saveState() const
{
    AllWorkers lock(m_state->workers);
    const State &s = *m_state;
    internal::Writer w;
    w.str(internal::kAggregatorMagic);
    internal::writeSettings(w, m_config);
    w.svar(s.watermarkMs);
    w.svar(s.maxEventTimeMs);
    w.var(s.windowsFinalized);
    w.var(s.keysFolded);
    w.var(s.windowsCapped);
    w.var(s.lastWindowFolded);
    std::vector<const PartitionState *> kept;
    for (const auto &[id, p] : s.partitions)
        kept.push_back(p.get());
    w.var(kept.size());
    for (const PartitionState *p : kept) {
        w.str(internal::savePartition(m_config, const_cast<PartitionState &>(*p), s.watermarkMs,
                                      true));
        w.u8(p->assigned ? 1 : 0);
        internal::writeFolds(w, p->pageWindows);
        internal::writeFolds(w, p->funnelWindows);
        internal::writeFolds(w, p->geoWindows);
    }
    return w.take();
}

bool Aggregator::restoreState(std::string_view bytes, std::string *error, std::int64_t nowMs)
{
    auto fail = [&](const std::string &why) {
        if (error)
            *error = "aggregator checkpoint: " + why;
        return false;
    };
    internal::Reader r(bytes);
    std::string_view magic;
    if (!r.str(magic) ||
        (magic != internal::kAggregatorMagic && magic != internal::kAggregatorMagicV2))
        return fail("not a checkpoint of this format (version 2 or 3)");
    const bool v3 = magic == internal::kAggregatorMagic;
    std::string why;
    if (!internal::readSettings(r, m_config, why))
        return fail(why);
    std::int64_t global = 0, maxTime = 0;
    std::uint64_t finalized = 0, count = 0, keysFolded = 0, windowsCapped = 0, lastFolded = 0;
    if (!r.svar(global) || !r.svar(maxTime) || !r.var(finalized) ||
        (v3 && (!r.var(keysFolded) || !r.var(windowsCapped) || !r.var(lastFolded))) ||
        !r.count(count, 2))
        return fail("truncated");
    std::map<std::int32_t, std::unique_ptr<PartitionState>> partitions;
    for (std::uint64_t i = 0; i < count; ++i) {
        std::string_view blob;
        std::uint8_t assigned = 0;
        if (!r.str(blob) || !r.u8(assigned))
            return fail("truncated partition");
        internal::PartitionBlobInfo info;
        // The partition number is in the blob: read into a scratch state first.
        auto p = std::make_unique<PartitionState>(-1, m_config);
        if (!internal::applyPartition(m_config, *p, blob, why, &info))
            return fail(why);
        p->partition = info.partition;
        p->assigned = assigned != 0;
        if (v3 &&
            !(internal::readFolds(r, p->pageWindows) && internal::readFolds(r, p->funnelWindows) &&
              internal::readFolds(r, p->geoWindows)))
            return fail("truncated key folds");
        partitions[info.partition] = std::move(p);
    }
    if (!r.atEnd())
        return fail("unexpected bytes after the end");
    restoreGuard(partitions, global, nowMs);

    State &s = *m_state;
    AllWorkers lock(s.workers);
    std::lock_guard results(m_resultsMutex);
    s.partitions = std::move(partitions);
    s.watermarkMs = global;
    s.maxEventTimeMs = kNoWatermark;
    for (const auto &[id, p] : s.partitions)
        s.maxEventTimeMs = std::max(s.maxEventTimeMs, p->maxEventTimeMs);
    s.windowsFinalized = finalized;
    s.keysFolded = keysFolded;
    s.windowsCapped = windowsCapped;
    s.lastWindowFolded = lastFolded;
    rebalanceWorkers();
    return true;
}

std::vector<PartitionPiece> Aggregator::checkpointPieces(const std::vector<std::int32_t> *only,
                                                         bool rebase)
{
    State &s = *m_state;
    AllWorkers lock(s.workers);
    std::vector<PartitionPiece> out;
    for (auto &[id, p] : s.partitions) {
        if (only ? std::find(only->begin(), only->end(), id) == only->end() : !p->assigned)
            continue;
        PartitionPiece piece;
        piece.partition = id;
        piece.base = rebase || !p->hasBase;
        piece.seq = ++p->checkpointSeq;
        piece.nextOffset = p->nextOffset;
        piece.bytes = internal::savePiece(m_config, *p, s.watermarkMs, piece.base);
        p->hasBase = true;
        p->lastIncrementBytes = piece.bytes.size();
        out.push_back(std::move(piece));
    }
    return out;
}

void Aggregator::forceBase(const std::vector<std::int32_t> &partitions)
{
    State &s = *m_state;
    AllWorkers lock(s.workers);
    for (const std::int32_t id : partitions) {
        if (const auto it = s.partitions.find(id); it != s.partitions.end())
            it->second->hasBase = false;
    }
}

namespace {

/// Applies a stored chain (a base, then increments in sequence order, none missing) onto `p`.
bool applyChain(const AggregatorConfig &config, PartitionState &p,
                const std::vector<std::string> &chain, std::int32_t partition, std::string &error,
                std::int64_t *lastGlobal = nullptr, std::int32_t *pieceOf = nullptr)
{
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        internal::PartitionBlobInfo info;
        std::string why;
        const auto pieceError = [&] {
            error = "partition " + std::to_string(partition) + ", piece " + std::to_string(i + 1) +
                    " of " + std::to_string(chain.size()) + ": " + why;
            return false;
        };
        // Whose piece it is and where it stands in the chain, before its content is applied
        // (an increment on the wrong state fails on what it changes, and that message would
        // hide the cause).
        if (!internal::pieceInfo(config, chain[i], info, why))
            return pieceError();
        if (partition < 0)
            partition = info.partition; // the first piece's, which every other must share
        if (info.partition != partition) {
            error = "partition " + std::to_string(partition) + ": its chain holds a piece of " +
                    "partition " + std::to_string(info.partition);
            return false;
        }
        if (i == 0 && !info.base) {
            error = "partition " + std::to_string(partition) + ": its chain starts with " +
                    "increment " + std::to_string(info.seq) + ", not a base";
            return false;
        }
        if (i > 0 && !info.base && info.seq != seq + 1) {
            error = "partition " + std::to_string(partition) + ": increment " +
                    std::to_string(seq + 1) + " is missing (the next stored is " +
                    std::to_string(info.seq) + ")";
            return false;
        }
        if (!internal::applyPiece(config, p, chain[i], why, &info))
            return pieceError();
        seq = info.seq;
        if (pieceOf)
            *pieceOf = info.partition;
        if (lastGlobal)
            *lastGlobal = info.globalWatermarkMs;
    }
    return true;
}

} // namespace

bool Aggregator::restorePieces(const std::map<std::int32_t, std::vector<std::string>> &chains,
                               std::string *error, std::int64_t nowMs)
{
    std::map<std::int32_t, std::unique_ptr<PartitionState>> restored;
    // The aggregator's watermark the pieces were written under (the lowest, should they differ):
    // it may be ahead of a partition's own (one that was idle), and windows it made final are
    // not in the pieces; a watermark gone back would take their late events as new ones.
    std::int64_t global = kNoWatermark;
    for (const auto &[id, chain] : chains) {
        auto p = std::make_unique<PartitionState>(id, m_config);
        std::string why;
        std::int64_t written = kNoWatermark;
        if (chain.empty() || !applyChain(m_config, *p, chain, id, why, &written)) {
            if (error)
                *error =
                    "checkpoint: " +
                    (chain.empty() ? "partition " + std::to_string(id) + ": an empty chain" : why);
            return false;
        }
        if (written != kNoWatermark)
            global = global == kNoWatermark ? written : std::min(global, written);
        p->partition = id;
        p->hasBase = true;
        restored[id] = std::move(p);
    }
    restoreGuard(restored, global, nowMs);
    const std::int64_t now = wallNow(nowMs);

    State &s = *m_state;
    AllWorkers lock(s.workers);
    std::lock_guard results(m_resultsMutex);
    for (auto &[id, p] : restored) {
        p->assigned = true;
        p->idle = false;
        // The idle timeout counts from here: the wall clock (live), else the stream's own clock,
        // which advance() stamps (as after restoreState()); a wall-clock stamp would be compared
        // with event times and keep the partition from ever being idle.
        p->lastDataWallMs = m_config.liveClock ? now : kNoWatermark;
        s.maxEventTimeMs = std::max(s.maxEventTimeMs, p->maxEventTimeMs);
        s.parked.erase(id);
        s.partitions[id] = std::move(p);
    }
    if (global != kNoWatermark && global > s.watermarkMs)
        s.watermarkMs = global; // never backwards
    rebalanceWorkers();
    return true;
}

std::optional<std::string> Aggregator::compactChain(const std::vector<std::string> &chain,
                                                    std::string *error) const
{
    PartitionState p(-1, m_config);
    std::string why;
    std::int64_t global = kNoWatermark;
    std::int32_t partition = -1;
    if (chain.empty() || !applyChain(m_config, p, chain, -1, why, &global, &partition)) {
        if (error)
            *error =
                "checkpoint compaction: " + (chain.empty() ? std::string("an empty chain") : why);
        return std::nullopt;
    }
    p.partition = partition;
    return internal::savePiece(m_config, p, global, true);
}

namespace {
constexpr char kHeadMagic[] = "CSHEAD1";
} // namespace

std::string Aggregator::saveHead() const
{
    AllWorkers lock(m_state->workers);
    const State &s = *m_state;
    internal::Writer w;
    w.str(kHeadMagic);
    internal::writeSettings(w, m_config);
    w.var(s.windowsFinalized);
    w.var(s.keysFolded);
    w.var(s.windowsCapped);
    w.var(s.lastWindowFolded);
    return w.take();
}

bool Aggregator::restoreHead(std::string_view bytes, std::string *error)
{
    internal::Reader r(bytes);
    std::string_view magic;
    std::string why;
    std::uint64_t finalized = 0, keysFolded = 0, windowsCapped = 0, lastFolded = 0;
    if (!r.str(magic) || magic != kHeadMagic) {
        why = "not a checkpoint head of this format (version 1)";
    } else if (internal::readSettings(r, m_config, why)) {
        if (!r.var(finalized) || !r.var(keysFolded) || !r.var(windowsCapped) ||
            !r.var(lastFolded) || !r.atEnd())
            why = "truncated head";
    }
    if (!why.empty()) {
        if (error)
            *error = "aggregator checkpoint: " + why;
        return false;
    }
    State &s = *m_state;
    AllWorkers lock(s.workers);
    s.windowsFinalized = finalized;
    s.keysFolded = keysFolded;
    s.windowsCapped = windowsCapped;
    s.lastWindowFolded = lastFolded;
    return true;
}

void Aggregator::restoreGuard(std::map<std::int32_t, std::unique_ptr<PartitionState>> &partitions,
                              std::int64_t &global, std::int64_t nowMs) const
{
    if (!m_config.liveClock)
        return;
    // A stored time the future bound would refuse now is not brought back (a checkpoint of an
    // older version, or one written under a wrong wall clock): the partition starts its time
    // afresh from its next events.
    const std::int64_t limit = wallNow(nowMs) + m_config.maxFutureMs;
    std::int64_t lowest = kNoWatermark;
    bool any = false;
    for (auto &[id, p] : partitions) {
        if (p->maxEventTimeMs != kNoWatermark && p->maxEventTimeMs > limit)
            p->maxEventTimeMs = kNoWatermark;
        const std::int64_t wm = p->watermarkMs(m_config.watermarkDelayMs);
        if (wm != kNoWatermark) {
            lowest = any ? std::min(lowest, wm) : wm;
            any = true;
        }
    }
    if (global != kNoWatermark && global > limit - m_config.watermarkDelayMs)
        global = lowest;
}

} // namespace studio::core
