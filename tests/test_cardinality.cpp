// Issue 24: URL normalisation of `page`, the per-window key cap with its (other) row, and the
// bounds of the state, checked with exact numbers against oracles written here.
#include "core/aggregate/aggregator.h"
#include "core/aggregate/pagenormalizer.h"
#include "core/common/timeutil.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace studio::core;

namespace {

constexpr std::int64_t kT0 = 1767225600000LL; // 2026-01-01T00:00:00Z, a window start

std::string event(std::uint64_t n, const std::string &page, std::int64_t ts,
                  const std::string &user, const std::string &type = "page_view",
                  const std::string &product = {}, const std::string &country = "NL",
                  int partition = -1)
{
    return fmt::format(
        R"({{"event_id":"e{}","event_type":"{}","ts":"{}","user_id":"{}","session_id":"s_{}",)"
        R"("page":"{}","product_id":{},"product_category":null,"price":{},"referrer":"",)"
        R"("country":"{}","device_type":"desktop","browser":"Firefox"{}}})",
        n, type, formatIsoMs(ts), user, user, page,
        product.empty() ? std::string("null") : '"' + product + '"',
        type == "purchase" ? "10.50" : "null", country,
        partition >= 0 ? fmt::format(R"(,"partition":{})", partition) : std::string());
}

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

std::map<std::string, std::uint64_t> viewsByPage(const FinalResults &r)
{
    std::map<std::string, std::uint64_t> out;
    for (const PageFinal &p : r.pages)
        out[p.row.page] += p.row.views;
    return out;
}

std::uint64_t folded(const FinalResults &r, KeyOverflow::Kind kind)
{
    std::uint64_t n = 0;
    for (const KeyOverflow &o : r.overflow)
        n += o.kind == kind ? o.keysFolded : 0;
    return n;
}

} // namespace

TEST_CASE("page normalisation: query, fragment, full URLs, trailing slashes", "[cardinality]")
{
    PageNormalizer drop;
    const std::pair<const char *, const char *> cases[] = {
        {"/product/prod_0042?utm_source=x&sid=00000001", "/product/prod_0042"},
        {"/product/prod_0042", "/product/prod_0042"},
        {"/cart/", "/cart"},
        {"/cart///", "/cart"},
        {"/", "/"},
        {"", "/"},
        {"/?q=1", "/"},
        {"/a#top", "/a"},
        {"/a/#top?x=1", "/a"},
        {"https://Shop.Example.COM/Cart/?x=1#f", "/Cart"},
        {"HTTP://shop.example.com", "/"},
        {"http://shop.example.com:8080?x", "/"},
        {"//cdn.example.com/img/a.png", "/img/a.png"},
        {"home", "/home"},
        {"(other)", "/(other)"},
        {"/Mixed/Case", "/Mixed/Case"},
    };
    for (const auto &[in, want] : cases) {
        INFO(in);
        CHECK(drop.normalize(in) == want);
    }

    PageNormalization keepSpec;
    std::string error;
    REQUIRE(PageNormalization::parse("keep", keepSpec, error));
    PageNormalizer keep(keepSpec);
    CHECK(keep.normalize("/a/?x=1&y=2#f") == "/a?x=1&y=2");
    CHECK(keep.normalize("/a?") == "/a");
    CHECK(keep.normalize("https://h/p?z") == "/p?z");

    PageNormalization listed;
    REQUIRE(PageNormalization::parse("keep:utm_source,utm_medium", listed, error));
    CHECK(listed.spec() == "keep:utm_source,utm_medium");
    PageNormalizer some(listed);
    CHECK(some.normalize("/p?sid=1&utm_medium=mail&x&utm_source=news#f") ==
          "/p?utm_medium=mail&utm_source=news");
    CHECK(some.normalize("/p?sid=1") == "/p");
    CHECK(some.normalize("/p?utm_source") == "/p?utm_source");
}

TEST_CASE("page query values (--page-query): good ones parse, bad ones say what is expected",
          "[cardinality]")
{
    PageNormalization n;
    std::string error;
    CHECK(PageNormalization::parse("drop", n, error));
    CHECK(n.query == PageQuery::Drop);
    for (const char *bad : {"", "Drop", "keep:", "keep:a,", "keep:,a", "keep:a=b", "strip"}) {
        INFO(bad);
        error.clear();
        CHECK_FALSE(PageNormalization::parse(bad, n, error));
        CHECK(error.find("--page-query") != std::string::npos);
    }
    AggregatorConfig c;
    c.maxKeysPerWindow = 200'000'000;
    CHECK(c.validate().find("--max-keys-per-window") != std::string::npos);
}

TEST_CASE("unique query strings aggregate into the normalised pages, totals exact", "[cardinality]")
{
    Collect sink;
    Aggregator agg({}, &sink);
    std::map<std::string, std::uint64_t> oracle;
    PageNormalizer oracleNormalizer; // the same rules, as verify applies them
    const int n = 50'000;
    for (int i = 0; i < n; ++i) {
        const std::string page =
            fmt::format("/product/prod_{:04}?utm_source=x&sid={:08}", i % 40, i);
        ++oracle[std::string(oracleNormalizer.normalize(page))];
        CHECK(agg.ingest(event(i, page, kT0 + i, "u" + std::to_string(i % 500))).outcome ==
              Outcome::Accepted);
    }
    agg.flush();
    CHECK(viewsByPage(sink.all) == oracle);
    CHECK(oracle.size() == 40);
    CHECK(sink.all.overflow.empty());
    CHECK(agg.counters().keysFolded == 0);
}

TEST_CASE("unique paths beyond the cap land in one (other) row per window, totals exact",
          "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 10'000;
    Collect sink;
    Aggregator agg(c, &sink);
    // Two page windows: 25,000 unique paths in the first, 12,000 in the second, each path
    // seen twice in its window (the second time by another user): folded keys count once.
    std::uint64_t id = 0;
    const auto feed = [&](std::int64_t start, int paths) {
        for (int i = 0; i < paths; ++i) {
            for (int round = 0; round < 2; ++round)
                agg.ingest(event(++id, fmt::format("/p/{}", i), start + i,
                                 fmt::format("u{}", (i + round * 7) % 3000)));
        }
    };
    feed(kT0, 25'000);
    feed(kT0 + 60'000, 12'000);
    agg.flush();

    std::map<std::int64_t, std::map<std::string, std::uint64_t>> rows;
    for (const PageFinal &p : sink.all.pages)
        rows[p.row.windowStart][p.row.page] += p.row.views;
    REQUIRE(rows.size() == 2);
    CHECK(rows[kT0].size() == 10'001);
    CHECK(rows[kT0]["(other)"] == 2 * 15'000);
    CHECK(rows[kT0 + 60'000].size() == 10'001);
    CHECK(rows[kT0 + 60'000]["(other)"] == 2 * 2'000);
    std::uint64_t total = 0;
    for (const auto &[start, byPage] : rows) {
        for (const auto &[page, views] : byPage) {
            total += views;
            if (page != "(other)")
                CHECK(views == 2); // a kept path holds both its events
        }
    }
    CHECK(total == 2 * (25'000 + 12'000));
    CHECK(folded(sink.all, KeyOverflow::Kind::Pages) == 15'000 + 2'000);
    const AggregateCounters counters = agg.counters();
    CHECK(counters.valid == 2 * (25'000 + 12'000));
    CHECK(counters.keysFolded == 17'000);
    CHECK(counters.windowsCapped == 2);
    CHECK(counters.lastWindowFolded == 2'000);

    // (other)'s distinct users: the folded keys' users merged (the first window's folded paths
    // 10,000..24,999 were seen by all 3,000 users).
    for (const PageFinal &p : sink.all.pages) {
        if (p.row.page == "(other)" && p.row.windowStart == kT0)
            CHECK(std::abs(p.row.uniqueUsers - 3000) < 3000 * 0.03);
    }
}

TEST_CASE("the open windows' fold counter and state size follow the cap", "[cardinality]")
{
    AggregatorConfig capped;
    capped.maxKeysPerWindow = 1'000;
    AggregatorConfig uncapped;
    uncapped.maxKeysPerWindow = 0;
    Aggregator a(capped), b(uncapped);
    for (int i = 0; i < 20'000; ++i) {
        const std::string e = event(i, fmt::format("/p/{}", i), kT0 + i, "u1");
        a.ingest(e);
        b.ingest(e);
    }
    const AggregateCounters ca = a.counters(), cb = b.counters();
    CHECK(ca.keysFolded == 19'000);
    CHECK(cb.keysFolded == 0);
    CHECK(ca.windowsCapped == 0); // not final yet
    // Keys are state: 20,000 page sketches and names against 1,001 plus 19,000 folded hashes.
    CHECK(cb.stateBytes > 10 * ca.stateBytes);
    CHECK(ca.internedNames < 1'010);
}

TEST_CASE("geo combinations and products beyond the cap fold too", "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 3;
    Collect sink;
    Aggregator agg(c, &sink);
    for (int i = 0; i < 10; ++i)
        agg.ingest(event(i, "/product/x", kT0 + i, "u1", "page_view", fmt::format("prod_{}", i),
                         fmt::format("C{}", i)));
    agg.flush();
    std::map<std::string, std::uint64_t> geo, funnel;
    for (const GeoRow &g : sink.all.geo)
        geo[g.country + "|" + g.browser + "|" + g.deviceType] += g.events;
    for (const FunnelRow &f : sink.all.funnel)
        funnel[f.productId] += f.views;
    CHECK(geo == std::map<std::string, std::uint64_t>{{"(other)|(other)|(other)", 7},
                                                      {"C0|Firefox|desktop", 1},
                                                      {"C1|Firefox|desktop", 1},
                                                      {"C2|Firefox|desktop", 1}});
    CHECK(funnel == std::map<std::string, std::uint64_t>{
                        {"(other)", 7}, {"prod_0", 1}, {"prod_1", 1}, {"prod_2", 1}});
    CHECK(folded(sink.all, KeyOverflow::Kind::Geo) == 7);
    CHECK(folded(sink.all, KeyOverflow::Kind::Funnel) == 7);
    CHECK(folded(sink.all, KeyOverflow::Kind::Pages) == 0);
    CHECK(agg.counters().keysFolded == 14);
}

TEST_CASE("partitions each under the cap are capped again when merged", "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 1'000;
    Collect sink;
    Aggregator agg(c, &sink);
    // Partition 0: /a/0../a/799 (3 events each); partition 1: /b/0../b/799 (1 event each) and
    // /b/800../b/1199 beyond its own cap (folded there).
    std::uint64_t id = 0;
    for (int i = 0; i < 800; ++i)
        for (int k = 0; k < 3; ++k)
            agg.ingest(
                event(++id, fmt::format("/a/{}", i), kT0 + i, "ua", "page_view", {}, "NL", 0));
    for (int i = 0; i < 1'200; ++i)
        agg.ingest(event(++id, fmt::format("/b/{}", i), kT0 + i, "ub", "page_view", {}, "NL", 1));
    agg.flush();
    const auto views = viewsByPage(sink.all);
    CHECK(views.size() == 1'001);
    // Partition 1 keeps /b/0../b/999 and folds 200; merged, 1,800 keys: the 800 /a/ pages (3
    // views each) and 200 of the /b/ pages stay, 800 more /b/ pages are folded at the merge.
    CHECK(views.at("(other)") == 200 + 800);
    std::uint64_t total = 0, aPages = 0;
    for (const auto &[page, v] : views) {
        total += v;
        aPages += page.starts_with("/a/");
    }
    CHECK(total == 800 * 3 + 1'200);
    CHECK(aPages == 800);
    CHECK(folded(sink.all, KeyOverflow::Kind::Pages) == 1'000);
}

TEST_CASE("a live snapshot caps the partitions' open windows again when merged", "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 1'000;
    Collect sink;
    Aggregator agg(c, &sink);
    // As in the final case above: partition 0 holds /a/0../a/799 (3 events each, user ua),
    // partition 1 /b/0../b/999 and folded 200 more (1 event each, user ub); merged, 1,800 keys.
    std::uint64_t id = 0;
    for (int i = 0; i < 800; ++i)
        for (int k = 0; k < 3; ++k)
            agg.ingest(
                event(++id, fmt::format("/a/{}", i), kT0 + i, "ua", "page_view", {}, "NL", 0));
    for (int i = 0; i < 1'200; ++i)
        agg.ingest(event(++id, fmt::format("/b/{}", i), kT0 + i, "ub", "page_view", {}, "NL", 1));
    const AggregatorSnapshot snap = agg.snapshot();
    std::map<std::string, std::uint64_t> live;
    const PageRow *other = nullptr;
    for (const PageRow &r : snap.pages) {
        CHECK_FALSE(r.final);
        live[r.page] += r.views;
        if (r.page == "(other)")
            other = &r;
    }
    CHECK(live.size() == 1'001); // at most the cap + (other), not 1,800 + (other)
    CHECK(live.at("(other)") == 200 + 800);
    std::uint64_t total = 0, aPages = 0;
    for (const auto &[page, v] : live) {
        total += v;
        aPages += page.starts_with("/a/");
    }
    CHECK(total == 800 * 3 + 1'200);
    CHECK(aPages == 800);
    REQUIRE(other);
    CHECK(other->uniqueUsers == 1); // ub's, merged from the sketches (not 801 rows' sum)
    // The same rows the window gets once final.
    agg.flush();
    CHECK(viewsByPage(sink.all) == live);
}

TEST_CASE("a live snapshot caps merged geo and product rows too", "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 3;
    Aggregator agg(c);
    for (int i = 0; i < 12; ++i)
        agg.ingest(event(i, "/product/x", kT0 + i, fmt::format("u{}", i % 2), "page_view",
                         fmt::format("prod_{}", i), fmt::format("C{}", i), i % 2));
    const AggregatorSnapshot snap = agg.snapshot();
    std::map<std::string, std::uint64_t> geo, funnel;
    for (const GeoRow &g : snap.geo)
        geo[g.country + "|" + g.browser + "|" + g.deviceType] += g.events;
    for (const FunnelRow &f : snap.funnel)
        funnel[f.productId] += f.views;
    // Each partition kept 3 of its 6 keys; of the 6 kept, the 3 later ones fold when merged.
    CHECK(geo.size() == 4);
    CHECK(funnel.size() == 4);
    CHECK(geo.at("(other)|(other)|(other)") == 12 - 3);
    CHECK(funnel.at("(other)") == 12 - 3);
    std::uint64_t geoTotal = 0, funnelTotal = 0;
    for (const auto &[k, v] : geo)
        geoTotal += v;
    for (const auto &[k, v] : funnel)
        funnelTotal += v;
    CHECK(geoTotal == 12);
    CHECK(funnelTotal == 12);
}

TEST_CASE("snapshots keep recent final windows up to a row budget", "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 100;
    c.recentRowsKept = 250;
    Aggregator agg(c);
    // Five page windows of 150 paths each (100 kept + (other) = 101 rows when final).
    std::uint64_t id = 0;
    for (int w = 0; w < 5; ++w)
        for (int i = 0; i < 150; ++i)
            agg.ingest(event(++id, fmt::format("/p/{}", i), kT0 + w * 60'000 + i, "u1"));
    agg.flush();
    std::map<std::int64_t, std::size_t> rows;
    for (const PageRow &r : agg.snapshot().pages)
        rows[r.windowStart] += r.final ? 1 : 0;
    // The newest two windows (202 rows); a third would exceed 250.
    CHECK(rows ==
          std::map<std::int64_t, std::size_t>{{kT0 + 3 * 60'000, 101}, {kT0 + 4 * 60'000, 101}});
    CHECK(agg.counters().windowsFinalized >= 5);

    // One window over the budget is still kept whole: the newest is always shown.
    c.recentRowsKept = 50;
    Aggregator small(c);
    for (int i = 0; i < 150; ++i)
        small.ingest(event(++id, fmt::format("/p/{}", i), kT0 + i, "u1"));
    small.flush();
    CHECK(small.snapshot().pages.size() == 101);
}

TEST_CASE("a restored checkpoint keeps a full window full", "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 100;
    Aggregator first(c);
    for (int i = 0; i < 100; ++i)
        first.ingest(event(i, fmt::format("/p/{}", i), kT0 + i, "u1"));
    const std::string saved = first.saveState();
    Collect sink;
    Aggregator second(c, &sink);
    std::string error;
    REQUIRE(second.restoreState(saved, &error));
    second.ingest(event(1000, "/new", kT0 + 500, "u1"));
    second.ingest(event(1001, "/p/5", kT0 + 501, "u1"));
    second.flush();
    const auto views = viewsByPage(sink.all);
    CHECK(views.size() == 101);
    CHECK(views.at("(other)") == 1);
    CHECK(views.at("/p/5") == 2);
    CHECK(folded(sink.all, KeyOverflow::Kind::Pages) == 1);
}

TEST_CASE("a session counts at most kMaxSessionPages distinct pages", "[cardinality]")
{
    Collect sink;
    Aggregator agg({}, &sink);
    for (std::uint32_t i = 0; i < kMaxSessionPages + 500; ++i)
        agg.ingest(event(i, fmt::format("/p/{}", i), kT0 + i, "u1"));
    agg.flush();
    REQUIRE(sink.all.sessions.size() == 1);
    CHECK(sink.all.sessions[0].events == kMaxSessionPages + 500);
    CHECK(sink.all.sessions[0].distinctPages == kMaxSessionPages);
}

TEST_CASE("folded-key counters survive saveState and restoreState", "[cardinality]")
{
    AggregatorConfig c;
    c.maxKeysPerWindow = 100;
    Collect sinkA, sinkB;
    Aggregator a(c, &sinkA);
    std::uint64_t id = 0;
    auto feed = [&id](Aggregator &agg, const std::string &page, std::int64_t ts, int part) {
        agg.ingest(event(++id, page, ts, fmt::format("u{}", part), "page_view", {}, "NL", part));
    };
    // The first window: each partition sees /p/0../p/149 and folds /p/100../p/149 (50 keys,
    // the same in both); the second, still open: /q/0../q/129 each, 30 folded in each.
    for (int i = 0; i < 150; ++i)
        for (int part = 0; part < 2; ++part)
            feed(a, fmt::format("/p/{}", i), kT0 + i, part);
    for (int i = 0; i < 130; ++i)
        for (int part = 0; part < 2; ++part)
            feed(a, fmt::format("/q/{}", i), kT0 + 75'000 + i, part);
    const AggregateCounters before = a.counters();
    REQUIRE(before.windowsCapped == 1);        // the first window, final
    REQUIRE(before.lastWindowFolded == 50);    // its folds
    REQUIRE(before.keysFolded == 50 + 2 * 30); // and the open window's, per partition

    const std::string saved = a.saveState();
    Aggregator b(c, &sinkB);
    std::string error;
    REQUIRE(b.restoreState(saved, &error));
    const AggregateCounters after = b.counters();
    CHECK(after.keysFolded == before.keysFolded);
    CHECK(after.windowsCapped == before.windowsCapped);
    CHECK(after.lastWindowFolded == before.lastWindowFolded);
    CHECK(after.windowsFinalized == before.windowsFinalized);
    CHECK(after.valid == before.valid);

    // Then the same events into both: a key folded before the checkpoint (not a new fold) and a
    // new key (one more). The restored aggregator counts exactly what the uninterrupted one does.
    const std::uint64_t next = id;
    for (Aggregator *agg : {&a, &b}) {
        id = next;
        feed(*agg, "/q/120", kT0 + 80'000, 0);
        feed(*agg, "/r/new", kT0 + 80'001, 1);
        agg->flush();
    }
    CHECK(folded(sinkA.all, KeyOverflow::Kind::Pages) == 50 + 31); // it saw both windows close
    REQUIRE(sinkB.all.overflow.size() == 1);
    CHECK(sinkB.all.overflow[0].windowStart == kT0 + 60'000);
    CHECK(sinkB.all.overflow[0].keysFolded == 31);
    CHECK(a.counters().keysFolded == 50 + 31);
    CHECK(b.counters().keysFolded == 50 + 31);
    CHECK(b.counters().windowsCapped == 2);
    CHECK(b.counters().lastWindowFolded == 31);
    CHECK(viewsByPage(sinkB.all).at("(other)") == 2 * 30 + 2);

    CHECK_FALSE(Aggregator(c).restoreState(saved.substr(0, saved.size() - 3), &error));
}

TEST_CASE("a version 2 checkpoint (no fold counters) still restores", "[cardinality]")
{
    // saveState() of main before the fold counters were saved (f400f9e): key cap 3; partitions
    // 0 and 1 each saw /p/0../p/7 at kT0 + 0, 10, .., 70 s (users u0, u1); the first window was
    // final (3 keys folded), the second holds /p/6 and /p/7 in both partitions.
    const std::string hex =
        "06435341474732c0a907c0cf24c0a90780d30ea09c011cc0c9dcedee66e0e5ddedee660102fb010643535052"
        "543200c0a907c0cf24c0a90780d30ea09c011c000001e0e5ddedee66c0c9dcedee66c0c9dcedee6608080000"
        "0000080000000000000000000009042f702f36042f702f37024e4c0746697265666f78076465736b746f7004"
        "2f702f30042f702f31042f702f3207286f746865722901c0c9dcedee66020001000000000b128e0a0ed006a0"
        "eb9ccb890b128e0a9c630567512352640101000000000b128e0a0ed006a0eb9ccb890b128e0a9c6305675123"
        "5264000180a0d5edee660102030408010002753080a0d5edee66e0c50808000006050607080001000002f8e4"
        "ad950d01c8b23f7078f8d5428ce5ad950d017970269ad5e3de0d01fb010643535052543200c0a907c0cf24c0"
        "a90780d30ea09c011c020001e0e5ddedee66c0c9dcedee66c0c9dcedee660808000000000800000000000000"
        "00000009042f702f36042f702f37024e4c0746697265666f78076465736b746f70042f702f30042f702f3104"
        "2f702f3207286f746865722901c0c9dcedee66020001000000000b128e0a739aef4fd4f0b5f50b128e0a0f9b"
        "41007c86d5eb0101000000000b128e0a739aef4fd4f0b5f50b128e0a0f9b41007c86d5eb000180a0d5edee66"
        "0102030408010002753180a0d5edee66e0c50808000006050607080001000002f8e4ad950d01e4270c45a308"
        "8b848ce5ad950d0111f1eee35b71f86601";
    std::string blob;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        blob.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    REQUIRE(blob.starts_with("\x06"
                             "CSAGG2"));
    AggregatorConfig c;
    c.maxKeysPerWindow = 3;
    Collect sink;
    Aggregator agg(c, &sink);
    std::string error;
    REQUIRE(agg.restoreState(blob, &error));
    const AggregateCounters restored = agg.counters();
    CHECK(restored.valid == 16);
    CHECK(restored.windowsFinalized == 1);
    CHECK(restored.keysFolded == 0); // not in that format: counted from here on
    CHECK(restored.windowsCapped == 0);
    agg.flush();
    CHECK(viewsByPage(sink.all) == std::map<std::string, std::uint64_t>{{"/p/6", 2}, {"/p/7", 2}});
    // Written again, it is version 3.
    CHECK(agg.saveState().starts_with("\x06"
                                      "CSAGG3"));
}
