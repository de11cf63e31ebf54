// Issue 19: the aggregator's incremental checkpoints per partition (checkpointPieces,
// restorePieces, compactChain, saveHead / restoreHead). The reference is the aggregator that was
// never interrupted: one restored from the stored chains, fed the same input after the
// checkpoint, must hand out exactly the same finals (sketches included, byte for byte) and
// counters.
#include "core/aggregate/aggregator.h"
#include "core/common/timeutil.h"
#include "core/produce/generator.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace studio::core;

namespace {

constexpr std::int64_t kStart = 1767225600000LL; // 2026-01-01T00:00:00Z

using Chains = std::map<std::int32_t, std::vector<std::string>>;

struct Collect : AggregateSink
{
    FinalResults all;
    void onFinal(FinalResults &&r) override
    {
        auto append = [](auto &into, auto &from) {
            into.insert(into.end(), std::make_move_iterator(from.begin()),
                        std::make_move_iterator(from.end()));
        };
        append(all.pages, r.pages);
        append(all.geo, r.geo);
        append(all.funnel, r.funnel);
        append(all.sessions, r.sessions);
        append(all.overflow, r.overflow);
    }
};

/// How far a sink had got: the finals after it are what came later.
struct Mark
{
    std::size_t pages = 0, geo = 0, funnel = 0, sessions = 0, overflow = 0;
};

Mark markOf(const FinalResults &r)
{
    return {r.pages.size(), r.geo.size(), r.funnel.size(), r.sessions.size(), r.overflow.size()};
}

/// Every final from `from` on as sorted lines: page rows with their estimates and both sketches'
/// bytes, geo, funnel (with the hot flag), sessions (with distinct pages), key-cap overflows.
std::vector<std::string> dump(const FinalResults &r, Mark from = {})
{
    std::vector<std::string> out;
    for (std::size_t i = from.pages; i < r.pages.size(); ++i) {
        const PageFinal &f = r.pages[i];
        const PageRow &p = f.row;
        out.push_back(fmt::format("p {} {} {} {} {} {} {} {} {} {} {} {}", p.windowStart, p.page,
                                  p.views, p.clicks, p.addToCart, p.purchases, p.revenueCents,
                                  p.uniqueUsers, p.uniqueSessions, p.final,
                                  std::hash<std::string>{}(f.users.toHllBytes()),
                                  std::hash<std::string>{}(f.sessions.toHllBytes())));
    }
    for (std::size_t i = from.geo; i < r.geo.size(); ++i) {
        const GeoRow &g = r.geo[i];
        out.push_back(fmt::format("g {} {} {} {} {}", g.windowStart, g.country, g.browser,
                                  g.deviceType, g.events));
    }
    for (std::size_t i = from.funnel; i < r.funnel.size(); ++i) {
        const FunnelRow &f = r.funnel[i];
        out.push_back(fmt::format("f {} {} {} {} {} {}", f.windowStart, f.productId, f.views,
                                  f.addToCart, f.purchases, f.hotLowConversion));
    }
    for (std::size_t i = from.sessions; i < r.sessions.size(); ++i) {
        const SessionRow &s = r.sessions[i];
        out.push_back(fmt::format("s {} {} {} {} {} {} {}", s.userId, s.start, s.end, s.events,
                                  s.distinctPages, s.revenueCents, s.converted));
    }
    for (std::size_t i = from.overflow; i < r.overflow.size(); ++i) {
        const KeyOverflow &o = r.overflow[i];
        out.push_back(
            fmt::format("o {} {} {}", static_cast<int>(o.kind), o.windowStart, o.keysFolded));
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// The counters a restored run must end with, as text (one CHECK shows every difference).
std::string countersText(const AggregateCounters &c)
{
    return fmt::format("read {} valid {} invalid {} duplicates {} late {} sessionsClosed {} "
                       "windowsFinalized {} keysFolded {} windowsCapped {} lastWindowFolded {}",
                       c.read, c.valid, c.invalid, c.duplicates, c.late, c.sessionsClosed,
                       c.windowsFinalized, c.keysFolded, c.windowsCapped, c.lastWindowFolded);
}

struct Rec
{
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string key, value;
};

std::uint32_t fnv(std::string_view s)
{
    std::uint32_t h = 2166136261u;
    for (const char ch : s)
        h = (h ^ static_cast<unsigned char>(ch)) * 16777619u;
    return h;
}

constexpr int kParts = 4;

/// A stream over kParts partitions (by the record key, the user, as Kafka does): the
/// generator's duplicates and late events, users with long sessions over many product pages
/// (page ids beyond the PageSet's inline 128, so sessions' increments carry added pages) who
/// leave and come back (sessions close and reopen), events shuffled within 3 s (out of order,
/// inside the watermark delay), and copies of events 5 s old re-sent (dedupe seconds already
/// checkpointed are hit again).
std::vector<Rec> makeStream(int n, double rps, std::uint64_t seed)
{
    GeneratorConfig g;
    g.users = 3000;
    g.products = 600;
    g.meanSessionEvents = 30;
    g.thinkMs = 4000;
    g.sessionTimeoutMs = 60'000;
    g.returnShare = 0.8;
    g.duplicateFraction = 0.02;
    g.lateFraction = 0.01;
    g.lateByMs = 40'000;
    g.seed = seed;
    EventGenerator generator(g);
    RecordBatch batch;
    for (int i = 0; i < n; ++i)
        generator.next(kStart + static_cast<std::int64_t>(i * 1000.0 / rps), batch);
    std::vector<Rec> recs;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        Rec r;
        r.key.assign(batch.key(i));
        r.value.assign(batch.value(i));
        r.partition = static_cast<std::int32_t>(fnv(r.key) % kParts);
        recs.push_back(std::move(r));
    }
    // One crawler per partition: a session over the whole stream, a product page every 100 ms
    // (thousands of distinct pages: its increments carry only the pages added).
    std::mt19937_64 rng(seed);
    const std::size_t crawlEvery = static_cast<std::size_t>(rps / 10);
    std::vector<Rec> withCrawlers;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        withCrawlers.push_back(std::move(recs[i]));
        if (i % crawlEvery != 0)
            continue;
        const std::size_t k = i / crawlEvery;
        Rec r;
        r.partition = static_cast<std::int32_t>(k % kParts);
        r.key = fmt::format("crawler{}", r.partition);
        r.value = fmt::format(
            R"({{"event_id":"crawl{}","event_type":"page_view","ts":"{}","user_id":"{}",)"
            R"("session_id":"s_{}","page":"/product/c{}","product_id":null,)"
            R"("product_category":null,"price":null,"referrer":"","country":"NL",)"
            R"("device_type":"desktop","browser":"Firefox"}})",
            k, formatIsoMs(kStart + static_cast<std::int64_t>(i * 1000.0 / rps)), r.key, r.key,
            rng() % 5000);
        withCrawlers.push_back(std::move(r));
    }
    recs = std::move(withCrawlers);
    const std::size_t block = static_cast<std::size_t>(3 * rps);
    for (std::size_t from = 0; from < recs.size(); from += block)
        std::shuffle(
            recs.begin() + static_cast<std::ptrdiff_t>(from),
            recs.begin() + static_cast<std::ptrdiff_t>(std::min(recs.size(), from + block)), rng);
    std::vector<Rec> out;
    const std::size_t back = static_cast<std::size_t>(5 * rps);
    for (std::size_t i = 0; i < recs.size(); ++i) {
        out.push_back(recs[i]);
        if (i % 97 == 0 && i >= back)
            out.push_back(recs[i - back]);
    }
    std::int64_t offsets[kParts] = {};
    for (Rec &r : out)
        r.offset = offsets[r.partition]++;
    return out;
}

void feed(Aggregator &a, const std::vector<Rec> &recs, std::size_t from, std::size_t to)
{
    RecordBatch batch;
    for (std::size_t i = from; i < to; ++i)
        batch.addFrom(recs[i].partition, recs[i].offset, recs[i].key, recs[i].value);
    a.ingestBatch(batch);
}

/// Stores pieces as a store would: a base replaces the partition's chain, an increment extends
/// it. Checks each piece's sequence number follows the chain's.
void store(Chains &chains, std::map<std::int32_t, std::uint64_t> &seqs,
           const std::vector<PartitionPiece> &pieces)
{
    for (const PartitionPiece &p : pieces) {
        INFO("partition " << p.partition);
        CHECK(p.seq == seqs[p.partition] + 1);
        seqs[p.partition] = p.seq;
        if (p.base)
            chains[p.partition] = {p.bytes};
        else {
            REQUIRE(chains.count(p.partition) == 1); // an increment after a base only
            chains[p.partition].push_back(p.bytes);
        }
    }
}

AggregatorConfig piecesConfig()
{
    AggregatorConfig c;
    c.pageWindowMs = 30'000;
    c.funnelWindowMs = 30'000;
    c.geoWindowMs = 60'000;
    c.sessionGapMs = 60'000;
    return c;
}

/// A new aggregator from stored chains and a head.
std::unique_ptr<Aggregator> restored(const AggregatorConfig &c, AggregateSink *sink,
                                     const Chains &chains, const std::string &head)
{
    auto b = std::make_unique<Aggregator>(c, sink);
    std::string error;
    if (!b->restorePieces(chains, &error))
        FAIL("restorePieces: " << error);
    if (!b->restoreHead(head, &error))
        FAIL("restoreHead: " << error);
    return b;
}

} // namespace

TEST_CASE("a run restored from piece chains equals the uninterrupted run", "[pieces]")
{
    const double rps = 500;
    const auto recs = makeStream(120'000, rps, 7); // 240 s of event time
    const AggregatorConfig c = piecesConfig();
    const std::size_t batchSize = 500; // 1 s of event time
    const std::size_t batches = (recs.size() + batchSize - 1) / batchSize;

    Collect sinkA;
    Aggregator a(c, &sinkA);
    Chains chains;
    std::map<std::int32_t, std::uint64_t> seqs;
    struct Restored
    {
        std::size_t batch = 0;
        Mark mark;
        std::unique_ptr<Collect> sink;
        std::unique_ptr<Aggregator> agg;
        Chains chains; // its own pieces (the first run only): a restored state's increments
        std::map<std::int32_t, std::uint64_t> seqs;
    };
    std::vector<Restored> runs;
    const std::vector<std::size_t> restoreAt = {30, 95, 170, batches - 1};
    std::mt19937 rng(11);
    std::uint64_t steadyIncrementBytes = 0, steadyBaseBytes = 0, checkpoints = 0, bases = 0;
    std::size_t steadyCheckpoints = 0;
    for (std::size_t k = 0; k < batches; ++k) {
        const std::size_t from = k * batchSize, to = std::min(recs.size(), from + batchSize);
        feed(a, recs, from, to);
        for (Restored &r : runs)
            feed(*r.agg, recs, from, to);
        const bool restoreNow = std::find(restoreAt.begin(), restoreAt.end(), k) != restoreAt.end();
        if (!restoreNow && rng() % 10 >= 3)
            continue;
        // A checkpoint after this batch: every partition's piece, its offset where the input
        // after it resumes.
        const std::vector<PartitionPiece> pieces = a.checkpointPieces();
        REQUIRE(pieces.size() == kParts);
        ++checkpoints;
        std::uint64_t incrementBytes = 0;
        for (const PartitionPiece &p : pieces) {
            std::int64_t next = 0;
            for (std::size_t i = 0; i < to; ++i)
                next = recs[i].partition == p.partition ? recs[i].offset + 1 : next;
            CHECK(p.nextOffset == next);
            bases += p.base;
            if (!p.base)
                incrementBytes += p.bytes.size();
        }
        store(chains, seqs, pieces);
        if (!runs.empty()) // the first restored run checkpoints along, on its own chains
            store(runs.front().chains, runs.front().seqs, runs.front().agg->checkpointPieces());
        if (k >= batches / 2) { // the steady phase: the state is as large as it gets
            steadyIncrementBytes += incrementBytes;
            steadyBaseBytes += a.saveState().size();
            ++steadyCheckpoints;
        }
        if (restoreNow) {
            Restored r;
            r.batch = k;
            r.mark = markOf(sinkA.all);
            r.sink = std::make_unique<Collect>();
            r.agg = restored(c, r.sink.get(), chains, a.saveHead());
            CHECK(countersText(r.agg->counters()) == countersText(a.counters()));
            if (runs.empty()) {
                r.chains = chains;
                r.seqs = seqs;
            }
            runs.push_back(std::move(r));
            // Nothing changed since: the next pieces are increments of a few bytes.
            const std::vector<PartitionPiece> empty = a.checkpointPieces();
            for (const PartitionPiece &p : empty) {
                CHECK_FALSE(p.base);
                CHECK(p.bytes.size() < 128);
            }
            store(chains, seqs, empty);
        }
    }
    CHECK(bases == kParts); // one base per partition, increments after
    // A state restored from pieces writes increments of its own that restore too.
    Restored &first = runs.front();
    const Mark firstMark = markOf(first.sink->all);
    Collect sinkC;
    auto fromFirst = restored(c, &sinkC, first.chains, first.agg->saveHead());
    first.agg->flush();
    fromFirst->flush();
    CHECK(dump(sinkC.all) == dump(first.sink->all, firstMark));
    CHECK(countersText(fromFirst->counters()) == countersText(first.agg->counters()));
    a.flush();
    REQUIRE(runs.size() == restoreAt.size());
    const AggregateCounters whole = a.counters();
    CHECK(whole.duplicates > 0);
    CHECK(whole.late > 0);
    CHECK(whole.sessionsClosed > 1000);
    for (Restored &r : runs) {
        INFO("restored after batch " << r.batch);
        if (r.agg != first.agg)
            r.agg->flush();
        const auto expected = dump(sinkA.all, r.mark);
        CHECK(expected.size() > 10);
        CHECK(dump(r.sink->all) == expected);
        CHECK(countersText(r.agg->counters()) == countersText(whole));
    }
    // Sessions long enough that their page sets go beyond the inline ids.
    std::uint32_t mostPages = 0;
    for (const SessionRow &s : sinkA.all.sessions)
        mostPages = std::max(mostPages, s.distinctPages);
    CHECK(mostPages > 400);

    // Increments hold what changed: in the steady phase, far less than a base each time.
    REQUIRE(steadyCheckpoints > 20);
    const double ratio = double(steadyIncrementBytes) / double(steadyBaseBytes);
    WARN("steady phase: " << steadyCheckpoints << " checkpoints of " << checkpoints
                          << ", increments " << steadyIncrementBytes << " bytes against "
                          << steadyBaseBytes << " for bases (ratio " << ratio << ")");
    CHECK(ratio < 0.5); // measured 0.39
}

TEST_CASE("a compacted chain restores as the chain does, and increments follow it", "[pieces]")
{
    const double rps = 500;
    const auto recs = makeStream(40'000, rps, 3); // 80 s
    const AggregatorConfig c = piecesConfig();
    Collect sinkA;
    Aggregator a(c, &sinkA);
    Chains chains;
    std::map<std::int32_t, std::uint64_t> seqs;
    const std::size_t batchSize = 500, cut = recs.size() * 2 / 3;
    for (std::size_t from = 0; from < cut; from += batchSize) {
        feed(a, recs, from, std::min(cut, from + batchSize));
        if ((from / batchSize) % 2 == 1)
            store(chains, seqs, a.checkpointPieces());
    }
    store(chains, seqs, a.checkpointPieces());
    const std::string head = a.saveHead();
    Chains compacted;
    std::size_t chainBytes = 0, compactBytes = 0;
    for (const auto &[partition, chain] : chains) {
        REQUIRE(chain.size() > 20);
        std::string error;
        const auto base = a.compactChain(chain, &error);
        if (!base)
            FAIL("compactChain: " << error);
        compacted[partition] = {*base};
        for (const std::string &piece : chain)
            chainBytes += piece.size();
        compactBytes += base->size();
    }
    CHECK(compactBytes < chainBytes / 4); // one state, not every change made on the way

    // Increments after the compaction extend the compacted chain (their sequence follows it).
    const std::size_t mid = cut + (recs.size() - cut) / 2;
    feed(a, recs, cut, mid);
    const auto next = a.checkpointPieces();
    Chains compactedThen = compacted, chainsThen = chains;
    std::map<std::int32_t, std::uint64_t> seqsCopy = seqs;
    store(chainsThen, seqsCopy, next);
    seqsCopy = seqs;
    store(compactedThen, seqsCopy, next);
    const Mark mark = markOf(sinkA.all);

    Collect sinkChain, sinkCompact;
    auto fromChain = restored(c, &sinkChain, chainsThen, a.saveHead());
    auto fromCompact = restored(c, &sinkCompact, compactedThen, a.saveHead());
    for (Aggregator *agg : {&a, fromChain.get(), fromCompact.get()}) {
        feed(*agg, recs, mid, recs.size());
        agg->flush();
    }
    const auto expected = dump(sinkA.all, mark);
    CHECK(expected.size() > 100);
    CHECK(dump(sinkChain.all) == expected);
    CHECK(dump(sinkCompact.all) == expected);
    CHECK(countersText(fromCompact->counters()) == countersText(a.counters()));

    // The compacted base alone restores the state the chain stood for (the head of then).
    Collect sinkOld, sinkOldCompact;
    auto old = restored(c, &sinkOld, chains, head);
    auto oldCompact = restored(c, &sinkOldCompact, compacted, head);
    CHECK(countersText(oldCompact->counters()) == countersText(old->counters()));
    old->flush();
    oldCompact->flush();
    CHECK(dump(sinkOldCompact.all) == dump(sinkOld.all));

    // An unreadable chain is no base.
    std::string error;
    auto broken = chains.begin()->second;
    broken.erase(broken.begin() + 2);
    CHECK_FALSE(a.compactChain(broken, &error));
    CHECK_THAT(error, Catch::Contains("missing"));
    CHECK_FALSE(a.compactChain({}, &error));
}

namespace {

/// A partition whose pieces are all refused: `chains`' partition `bad` replaced by `chain`.
Chains with(Chains chains, std::int32_t bad, std::vector<std::string> chain)
{
    chains[bad] = std::move(chain);
    return chains;
}

} // namespace

TEST_CASE("unusable chains are refused with the partition named and nothing changed", "[pieces]")
{
    const auto recs = makeStream(12'000, 500, 5);
    const AggregatorConfig c = piecesConfig();
    Aggregator a(c);
    Chains chains;
    std::map<std::int32_t, std::uint64_t> seqs;
    for (std::size_t from = 0; from < recs.size(); from += 1000) {
        feed(a, recs, from, std::min(recs.size(), from + 1000));
        store(chains, seqs, a.checkpointPieces());
    }
    REQUIRE(chains.size() == kParts);
    REQUIRE(chains.at(1).size() > 5);
    const std::vector<std::string> &one = chains.at(1);
    const std::string &base = one.front();

    // The aggregator refusing them has a state of its own, which must stay as it was.
    Aggregator x(c);
    feed(x, recs, 0, 3000);
    const std::string before = x.saveState();
    const auto assignmentBefore = x.assignment();
    const auto refused = [&](const Chains &bad, const std::string &what) {
        std::string error;
        CHECK_FALSE(x.restorePieces(bad, &error));
        INFO(error);
        CHECK_THAT(error, Catch::Contains("partition 1"));
        if (!what.empty())
            CHECK_THAT(error, Catch::Contains(what));
        const bool unchanged = x.saveState() == before;
        CHECK(unchanged);
        CHECK(x.assignment() == assignmentBefore);
    };
    SECTION("an increment missing")
    {
        auto gap = one;
        gap.erase(gap.begin() + 3);
        refused(with(chains, 1, gap), "increment 4 is missing");
        auto last = one;
        last.erase(last.end() - 2);
        refused(with(chains, 1, last), "missing");
    }
    SECTION("the same increment twice")
    {
        auto twice = one;
        twice.insert(twice.begin() + 2, one[2]);
        refused(with(chains, 1, twice), "");
    }
    SECTION("a piece of another partition")
    {
        auto foreign = one;
        foreign[2] = chains.at(2)[2];
        refused(with(chains, 1, foreign), "partition 2");
        refused(with(chains, 1, chains.at(3)), "partition 3");
    }
    SECTION("a chain starting with an increment")
    {
        refused(with(chains, 1, {one.begin() + 1, one.end()}), "not a base");
    }
    SECTION("an empty chain")
    {
        refused(with(chains, 1, {}), "empty");
    }
    SECTION("truncated pieces")
    {
        for (const std::size_t keep :
             {std::size_t{0}, std::size_t{5}, base.size() / 2, base.size() - 9, base.size() - 1}) {
            INFO("base cut to " << keep << " of " << base.size() << " bytes");
            refused(with(chains, 1, {base.substr(0, keep)}), "");
        }
        auto cutIncrement = one;
        cutIncrement.back().pop_back();
        refused(with(chains, 1, cutIncrement), "");
    }
    SECTION("a flipped byte")
    {
        for (const double at : {0.05, 0.3, 0.5, 0.7, 0.95}) {
            std::string damaged = base;
            const auto i = static_cast<std::size_t>(at * double(damaged.size()));
            damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
            INFO("base byte " << i << " of " << base.size() << " flipped");
            refused(with(chains, 1, {damaged}), "");
        }
        auto damaged = one;
        damaged[3][damaged[3].size() / 2] ^= 0x01;
        refused(with(chains, 1, damaged), "");
    }
    SECTION("other window settings")
    {
        AggregatorConfig other = c;
        other.pageWindowMs = 60'000;
        Aggregator y(other);
        std::string error;
        CHECK_FALSE(y.restorePieces(chains, &error));
        CHECK_THAT(error, Catch::Contains("partition 0"));
        CHECK_THAT(error, Catch::Contains("settings"));
        CHECK(y.assignment().empty());
        CHECK_FALSE(y.restoreHead(a.saveHead(), &error));
        CHECK_THAT(error, Catch::Contains("settings"));
        CHECK_FALSE(a.compactChain(with(chains, 0, {}).at(1), &error) == std::nullopt);
        CHECK_FALSE(y.compactChain(one, &error));
        CHECK_THAT(error, Catch::Contains("settings"));
    }
    // Still usable: the good chains restore.
    std::string error;
    CHECK(x.restorePieces(chains, &error));
    CHECK(x.counters().read == a.counters().read);
}

namespace {

std::string pageEvent(std::uint64_t n, const std::string &page, std::int64_t ts,
                      const std::string &user)
{
    return fmt::format(
        R"({{"event_id":"e{}","event_type":"page_view","ts":"{}","user_id":"{}",)"
        R"("session_id":"s_{}","page":"{}","product_id":null,"product_category":null,)"
        R"("price":null,"referrer":"","country":"NL","device_type":"desktop",)"
        R"("browser":"Firefox"}})",
        n, formatIsoMs(ts), user, user, page);
}

std::uint64_t foldedPages(const FinalResults &r)
{
    std::uint64_t n = 0;
    for (const KeyOverflow &o : r.overflow)
        n += o.kind == KeyOverflow::Kind::Pages ? o.keysFolded : 0;
    return n;
}

} // namespace

TEST_CASE("folded-key counters survive pieces: base, increment, restore", "[pieces]")
{
    constexpr std::int64_t kT0 = kStart; // a window start
    AggregatorConfig c;
    c.maxKeysPerWindow = 100;
    Collect sinkA, sinkB;
    Aggregator a(c, &sinkA);
    std::uint64_t id = 0;
    auto feedOne = [&id](Aggregator &agg, const std::string &page, std::int64_t ts, int part) {
        agg.ingest(pageEvent(++id, page, ts, fmt::format("u{}", part)), part);
    };
    Chains chains;
    std::map<std::int32_t, std::uint64_t> seqs;
    // The first window: each partition sees /p/0../p/149 and folds /p/100../p/149 (the same 50
    // in both). The base is taken while it is open.
    for (int i = 0; i < 150; ++i)
        for (int part = 0; part < 2; ++part)
            feedOne(a, fmt::format("/p/{}", i), kT0 + i, part);
    store(chains, seqs, a.checkpointPieces());
    // The second window opens (the first becomes final), /q/0../q/109 each: 10 folded in each;
    // an increment; then /q/110../q/129: 20 more each, another increment.
    for (int i = 0; i < 110; ++i)
        for (int part = 0; part < 2; ++part)
            feedOne(a, fmt::format("/q/{}", i), kT0 + 75'000 + i, part);
    store(chains, seqs, a.checkpointPieces());
    for (int i = 110; i < 130; ++i)
        for (int part = 0; part < 2; ++part)
            feedOne(a, fmt::format("/q/{}", i), kT0 + 75'000 + i, part);
    const auto last = a.checkpointPieces();
    for (const PartitionPiece &p : last)
        CHECK_FALSE(p.base);
    store(chains, seqs, last);
    const AggregateCounters before = a.counters();
    REQUIRE(before.windowsCapped == 1);
    REQUIRE(before.lastWindowFolded == 50);
    REQUIRE(before.keysFolded == 50 + 2 * 30);

    auto b = restored(c, &sinkB, chains, a.saveHead());
    CHECK(countersText(b->counters()) == countersText(before));

    // The same events into both: a key folded before the checkpoint (no new fold), a key the
    // window holds (no fold), a new key (one more fold).
    const std::uint64_t next = id;
    const Mark mark = markOf(sinkA.all);
    for (Aggregator *agg : {&a, b.get()}) {
        id = next;
        feedOne(*agg, "/q/120", kT0 + 80'000, 0);
        feedOne(*agg, "/q/5", kT0 + 80'000, 1);
        feedOne(*agg, "/r/new", kT0 + 80'001, 1);
        agg->flush();
    }
    CHECK(foldedPages(sinkA.all) == 50 + 31);
    CHECK(foldedPages(sinkB.all) == 31);
    CHECK(dump(sinkB.all) == dump(sinkA.all, mark));
    CHECK(countersText(b->counters()) == countersText(a.counters()));
    CHECK(b->counters().keysFolded == 50 + 31);
}

TEST_CASE("names renumbered between two pieces restore the same sessions and windows", "[pieces]")
{
    // One partition. Four users stay all along, each visiting a new page every event (their
    // sessions hold thousands of pages, most beyond the inline ids); passers-by visit a page of
    // their own once and leave. When the passers' windows and sessions are gone, their names are
    // dropped and the rest renumbered (PartitionState::compactNames): the staying sessions'
    // pages move, so their next increment must carry them whole.
    AggregatorConfig c;
    c.pageWindowMs = 10'000;
    c.funnelWindowMs = 10'000;
    c.geoWindowMs = 10'000;
    c.sessionGapMs = 15'000;
    Collect sinkA;
    Aggregator a(c, &sinkA);
    Chains chains;
    std::map<std::int32_t, std::uint64_t> seqs;
    std::uint64_t id = 0, keepPage = 0, passer = 0;
    std::vector<std::string> all;
    for (std::int64_t ms = 0; ms < 240'000; ms += 20) {
        const std::int64_t ts = kStart + ms;
        if (ms % 40 == 0)
            all.push_back(pageEvent(++id, fmt::format("/keep/{}", keepPage++), ts,
                                    fmt::format("u{}", id % 4)));
        else
            all.push_back(pageEvent(++id, fmt::format("/pass/{}", passer), ts,
                                    fmt::format("passer{}", passer)));
        ++passer;
    }
    const auto feedRange = [&](Aggregator &agg, std::size_t from, std::size_t to) {
        RecordBatch batch;
        for (std::size_t i = from; i < to; ++i)
            batch.addFrom(0, static_cast<std::int64_t>(i), {}, all[i]);
        agg.ingestBatch(batch);
    };
    const std::size_t batchSize = 100; // 2 s
    std::uint64_t namesBefore = 0;
    int compactions = 0;
    std::unique_ptr<Aggregator> b;
    std::unique_ptr<Collect> sinkB = std::make_unique<Collect>();
    Mark markB;
    for (std::size_t from = 0; from < all.size(); from += batchSize) {
        const std::size_t to = std::min(all.size(), from + batchSize);
        feedRange(a, from, to);
        if (b)
            feedRange(*b, from, to);
        store(chains, seqs, a.checkpointPieces());
        const std::uint64_t names = a.counters().internedNames;
        const bool compacted = names < namesBefore;
        namesBefore = names;
        if (!compacted)
            continue;
        ++compactions;
        if (compactions == 1) {
            // Restored right after the increment that follows a renumbering.
            markB = markOf(sinkA.all);
            b = restored(c, sinkB.get(), chains, a.saveHead());
        }
    }
    WARN("names renumbered " << compactions << " times");
    REQUIRE(compactions >= 2);
    REQUIRE(b);
    // At the end, once more from the chains of now.
    const Mark markC = markOf(sinkA.all);
    Collect sinkC;
    auto last = restored(c, &sinkC, chains, a.saveHead());
    for (Aggregator *agg : {&a, b.get(), last.get()})
        agg->flush();
    std::uint32_t longest = 0;
    for (const SessionRow &s : sinkA.all.sessions)
        longest = std::max(longest, s.distinctPages);
    CHECK(longest > 1000);
    CHECK(dump(sinkB->all) == dump(sinkA.all, markB));
    CHECK(dump(sinkC.all) == dump(sinkA.all, markC));
    CHECK(countersText(last->counters()) == countersText(a.counters()));
}

TEST_CASE("a partition idle at the checkpoint: the restored watermark does not go back", "[pieces]")
{
    // Partitions 0 and 1 send for 120 s, partition 2 stops after 40 s: idle (no data for the
    // idle timeout of event time), it no longer holds the aggregator's watermark, which passes
    // its own. Pieces then. After them, 0 and 1 go on, and 2 sends again events of 45..60 s:
    // behind the aggregator's watermark, late, their windows final long ago.
    AggregatorConfig c = piecesConfig();
    c.pageWindowMs = 10'000;
    c.funnelWindowMs = 10'000;
    c.geoWindowMs = 10'000;
    c.sessionGapMs = 15'000;
    std::uint64_t id = 0;
    std::int64_t offsets[3] = {};
    const auto batchOf = [&](std::int64_t fromMs, std::int64_t toMs, std::vector<int> parts) {
        RecordBatch batch;
        for (std::int64_t ms = fromMs; ms < toMs; ms += 100) {
            for (const int part : parts)
                batch.addFrom(part, offsets[part]++, {},
                              pageEvent(++id, fmt::format("/p/{}", (ms / 100) % 7), kStart + ms,
                                        fmt::format("u{}-{}", part, (ms / 1000) % 3)));
        }
        return batch;
    };
    Collect sinkA;
    Aggregator a(c, &sinkA);
    for (std::int64_t s = 0; s < 120; ++s)
        a.ingestBatch(
            batchOf(s * 1000, (s + 1) * 1000, s < 40 ? std::vector{0, 1, 2} : std::vector{0, 1}));
    REQUIRE(a.counters().partitions.size() == 3);
    REQUIRE(a.counters().partitions[2].idle);
    REQUIRE(a.counters().watermarkMs > a.counters().partitions[2].watermarkMs + 30'000);
    Chains chains;
    std::map<std::int32_t, std::uint64_t> seqs;
    store(chains, seqs, a.checkpointPieces());
    const Mark mark = markOf(sinkA.all);
    Collect sinkB;
    auto b = restored(c, &sinkB, chains, a.saveHead());
    CHECK(b->counters().watermarkMs == a.counters().watermarkMs);

    std::vector<RecordBatch> after;
    for (std::int64_t s = 120; s < 180; ++s)
        after.push_back(batchOf(s * 1000, (s + 1) * 1000, {0, 1}));
    after.push_back(batchOf(45'000, 60'000, {2}));
    for (Aggregator *agg : {&a, b.get()}) {
        for (const RecordBatch &batch : after)
            agg->ingestBatch(batch);
    }
    // What became final before the end of input too: the restored partition 2 is idle again
    // after the idle timeout of the stream's time, as it would have stayed.
    CHECK(dump(sinkB.all) == dump(sinkA.all, mark));
    a.flush();
    b->flush();
    CHECK(a.counters().late == 150);
    CHECK(countersText(b->counters()) == countersText(a.counters()));
    CHECK(dump(sinkB.all) == dump(sinkA.all, mark));
}

TEST_CASE("forceBase, rebase and only: a partition's chain starts again and still restores",
          "[pieces]")
{
    const auto recs = makeStream(30'000, 500, 9);
    const AggregatorConfig c = piecesConfig();
    Collect sinkA;
    Aggregator a(c, &sinkA);
    Chains chains;
    std::map<std::int32_t, std::uint64_t> seqs;
    const std::size_t cut = recs.size() / 2;
    for (std::size_t from = 0; from < cut; from += 1000) {
        feed(a, recs, from, std::min(cut, from + 1000));
        store(chains, seqs, a.checkpointPieces());
    }
    REQUIRE(chains.at(2).size() > 5);
    // Partition 2's stored chain was lost: its next piece is a base, the others go on.
    a.forceBase({2});
    feed(a, recs, cut, cut + 1000);
    auto pieces = a.checkpointPieces();
    REQUIRE(pieces.size() == kParts);
    for (const PartitionPiece &p : pieces)
        CHECK(p.base == (p.partition == 2));
    store(chains, seqs, pieces);
    CHECK(chains.at(2).size() == 1);
    // A base of partition 1 only, on request; nothing for a partition this process lacks.
    feed(a, recs, cut + 1000, cut + 2000);
    const std::vector<std::int32_t> only{1, 9};
    pieces = a.checkpointPieces(&only, true);
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].partition == 1);
    CHECK(pieces[0].base);
    store(chains, seqs, pieces);
    pieces = a.checkpointPieces(); // the others' increments cover both batches
    for (const PartitionPiece &p : pieces)
        CHECK_FALSE(p.base);
    store(chains, seqs, pieces);
    CHECK(chains.at(1).size() == 2);

    const Mark mark = markOf(sinkA.all);
    Collect sinkB;
    auto b = restored(c, &sinkB, chains, a.saveHead());
    for (Aggregator *agg : {&a, b.get()}) {
        feed(*agg, recs, cut + 2000, recs.size());
        agg->flush();
    }
    CHECK(dump(sinkB.all) == dump(sinkA.all, mark));
    CHECK(countersText(b->counters()) == countersText(a.counters()));
}
