// The aggregation core against a brute-force oracle written here, independent of core's code:
// its own JSON reading (simdjson DOM), its own time parsing (timegm), plain std::map grouping,
// exact distinct counts, and sessions from each user's sorted events.
#include "core/aggregate/aggregator.h"
#include "core/common/timeutil.h"
#include "core/produce/generator.h"
#include "core/store/csvreport.h"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <atomic>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_set>

using namespace studio::core;

namespace {

constexpr std::int64_t kStart = 1767225600000LL; // 2026-01-01T00:00:00Z

struct Ev
{
    std::string id, type, user, session, page, product, country, browser, device;
    std::int64_t ts = 0;
    std::int64_t cents = 0;
};

// "YYYY-MM-DDTHH:MM:SS.mmmZ" as the generator writes it.
std::int64_t oracleTime(const std::string &s)
{
    std::tm tm{};
    int ms = 0;
    REQUIRE(std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) == 7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

// Reads the valid events of a stream; invalid ones (by the oracle's own checks) are skipped.
std::vector<Ev> oracleRead(const std::vector<std::string> &lines)
{
    simdjson::dom::parser parser;
    std::vector<Ev> out;
    for (const auto &line : lines) {
        simdjson::dom::element doc;
        if (parser.parse(line).get(doc))
            continue;
        Ev e;
        std::string_view v;
        auto str = [&](const char *k, std::string &into) {
            if (doc[k].get(v))
                return false;
            into = std::string(v);
            return true;
        };
        std::string ts;
        if (!str("event_id", e.id) || !str("event_type", e.type) || !str("ts", ts) ||
            !str("user_id", e.user) || !str("session_id", e.session) || !str("page", e.page) ||
            !str("country", e.country) || !str("browser", e.browser) ||
            !str("device_type", e.device))
            continue;
        if (ts.size() != 24 || ts[4] != '-' || ts.substr(5, 2) == "02" && ts.substr(8, 2) == "30")
            continue;
        e.ts = oracleTime(ts);
        str("product_id", e.product);
        double price = 0;
        if (doc["price"].get(price) == simdjson::SUCCESS)
            e.cents = std::llround(price * 100);
        if (e.type != "page_view" && e.type != "click" && e.type != "add_to_cart" &&
            e.type != "purchase")
            continue;
        out.push_back(e);
    }
    return out;
}

struct Oracle
{
    struct Page
    {
        std::uint64_t views = 0, clicks = 0, carts = 0, purchases = 0;
        std::int64_t revenue = 0;
        std::set<std::string> users, sessions;
    };
    struct Funnel
    {
        std::uint64_t views = 0, carts = 0, purchases = 0;
    };
    std::map<std::pair<std::int64_t, std::string>, Page> pages;
    std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, std::uint64_t> geo;
    std::map<std::pair<std::int64_t, std::string>, Funnel> funnel;
    std::set<std::pair<std::int64_t, std::string>> flagged;
    std::vector<SessionRow> sessions;
};

Oracle oracleAggregate(std::vector<Ev> events, const AggregatorConfig &c)
{
    // Dedupe by event id, first one wins.
    std::unordered_set<std::string> seen;
    std::vector<Ev> unique;
    for (auto &e : events) {
        if (seen.insert(e.id).second)
            unique.push_back(std::move(e));
    }
    Oracle o;
    auto win = [](std::int64_t ts, std::int64_t size) {
        return ts - ((ts % size) + size) % size;
    };
    std::map<std::string, std::vector<const Ev *>> byUser;
    for (const Ev &e : unique) {
        auto &p = o.pages[{win(e.ts, c.pageWindowMs), e.page}];
        p.views += e.type == "page_view";
        p.clicks += e.type == "click";
        p.carts += e.type == "add_to_cart";
        if (e.type == "purchase") {
            ++p.purchases;
            p.revenue += e.cents;
        }
        p.users.insert(e.user);
        p.sessions.insert(e.session);
        ++o.geo[{win(e.ts, c.geoWindowMs), e.country, e.browser, e.device}];
        if (!e.product.empty()) {
            auto &f = o.funnel[{win(e.ts, c.funnelWindowMs), e.product}];
            f.views += e.type == "page_view";
            f.carts += e.type == "add_to_cart";
            f.purchases += e.type == "purchase";
        }
        byUser[e.user].push_back(&e);
    }
    std::map<std::int64_t, std::uint64_t> viewsPerWindow;
    for (const auto &[key, f] : o.funnel)
        viewsPerWindow[key.first] += f.views;
    for (const auto &[key, f] : o.funnel) {
        const double share = double(f.views) / double(viewsPerWindow[key.first]);
        if (f.views > 0 && share >= c.hotViewShare &&
            double(f.purchases) / double(f.views) <= c.hotMaxConversion)
            o.flagged.insert(key);
    }
    for (auto &[user, evs] : byUser) {
        std::stable_sort(evs.begin(), evs.end(),
                         [](const Ev *a, const Ev *b) { return a->ts < b->ts; });
        SessionRow cur;
        std::set<std::string> pages;
        for (const Ev *e : evs) {
            if (cur.events > 0 && e->ts - cur.end >= c.sessionGapMs) {
                cur.distinctPages = static_cast<std::uint32_t>(pages.size());
                o.sessions.push_back(cur);
                cur = {};
                pages.clear();
            }
            if (cur.events == 0) {
                cur.userId = user;
                cur.start = e->ts;
            }
            cur.end = e->ts;
            ++cur.events;
            pages.insert(e->page);
            if (e->type == "purchase") {
                cur.revenueCents += e->cents;
                cur.converted = true;
            }
        }
        cur.distinctPages = static_cast<std::uint32_t>(pages.size());
        o.sessions.push_back(cur);
    }
    return o;
}

std::vector<std::string> generateLines(GeneratorConfig config, int n, double rps)
{
    EventGenerator generator(std::move(config));
    RecordBatch batch;
    for (int i = 0; i < n; ++i)
        generator.next(kStart + static_cast<std::int64_t>(std::floor(i * 1000.0 / rps)), batch);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < batch.size(); ++i)
        out.emplace_back(batch.value(i));
    return out;
}

CsvReportCollector runCore(const std::vector<std::string> &lines, const AggregatorConfig &config,
                           AggregateCounters *counters = nullptr)
{
    CsvReportCollector reports;
    Aggregator aggregator(config, &reports);
    RecordBatch batch;
    for (const auto &line : lines) {
        batch.add({}, line);
        if (batch.size() == 1000) {
            aggregator.ingestBatch(batch);
            batch.clear();
        }
    }
    aggregator.ingestBatch(batch);
    aggregator.flush();
    if (counters)
        *counters = aggregator.counters();
    return reports;
}

void compare(const CsvReportCollector &core, const Oracle &o)
{
    REQUIRE(core.pages().size() == o.pages.size());
    for (const PageRow &r : core.pages()) {
        INFO(r.page << " @ " << r.windowStart);
        const auto it = o.pages.find({r.windowStart, r.page});
        REQUIRE(it != o.pages.end());
        const auto &p = it->second;
        CHECK(r.final);
        CHECK(r.views == p.views);
        CHECK(r.clicks == p.clicks);
        CHECK(r.addToCart == p.carts);
        CHECK(r.purchases == p.purchases);
        CHECK(r.revenueCents == p.revenue);
        CHECK(std::abs(r.uniqueUsers - double(p.users.size())) <= 0.02 * p.users.size() + 0.5);
        CHECK(std::abs(r.uniqueSessions - double(p.sessions.size())) <=
              0.02 * p.sessions.size() + 0.5);
    }
    REQUIRE(core.geo().size() == o.geo.size());
    for (const GeoRow &r : core.geo()) {
        const auto it = o.geo.find({r.windowStart, r.country, r.browser, r.deviceType});
        REQUIRE(it != o.geo.end());
        CHECK(r.events == it->second);
    }
    REQUIRE(core.funnel().size() == o.funnel.size());
    for (const FunnelRow &r : core.funnel()) {
        INFO(r.productId << " @ " << r.windowStart);
        const auto it = o.funnel.find({r.windowStart, r.productId});
        REQUIRE(it != o.funnel.end());
        CHECK(r.views == it->second.views);
        CHECK(r.addToCart == it->second.carts);
        CHECK(r.purchases == it->second.purchases);
        CHECK(r.hotLowConversion == (o.flagged.count({r.windowStart, r.productId}) == 1));
    }
    auto key = [](const SessionRow &s) {
        return std::tie(s.userId, s.start);
    };
    auto coreSessions = core.sessions();
    auto oracleSessions = o.sessions;
    std::sort(coreSessions.begin(), coreSessions.end(),
              [&](const auto &a, const auto &b) { return key(a) < key(b); });
    std::sort(oracleSessions.begin(), oracleSessions.end(),
              [&](const auto &a, const auto &b) { return key(a) < key(b); });
    REQUIRE(coreSessions.size() == oracleSessions.size());
    for (std::size_t i = 0; i < coreSessions.size(); ++i) {
        const SessionRow &a = coreSessions[i], &b = oracleSessions[i];
        INFO(a.userId << " session at " << a.start);
        CHECK(a.userId == b.userId);
        CHECK(a.start == b.start);
        CHECK(a.end == b.end);
        CHECK(a.events == b.events);
        CHECK(a.distinctPages == b.distinctPages);
        CHECK(a.revenueCents == b.revenueCents);
        CHECK(a.converted == b.converted);
    }
}

AggregatorConfig testConfig()
{
    AggregatorConfig c;
    c.sessionGapMs = 2000; // short, so users' sessions split within the test stream
    return c;
}

} // namespace

TEST_CASE("every count equals a brute-force recomputation from the events", "[aggregator]")
{
    GeneratorConfig g;
    g.users = 200;
    const auto lines = generateLines(g, 120'000, 300); // 400 s: 7 page windows, 2 geo windows
    const AggregatorConfig c = testConfig();
    AggregateCounters counters;
    const auto core = runCore(lines, c, &counters);
    const Oracle o = oracleAggregate(oracleRead(lines), c);
    compare(core, o);
    CHECK(counters.read == 120'000);
    CHECK(counters.valid == 120'000);
    CHECK(counters.invalid + counters.duplicates + counters.late == 0);
    CHECK(core.sessions().size() > 1000); // the gap really split sessions
    CHECK(o.flagged.size() >= 6);         // prod_0042 in every minute
    for (const auto &key : o.flagged)
        CHECK(key.second == "prod_0042");
    CHECK(counters.openWindows == 0);
    CHECK(counters.openSessions == 0);
}

TEST_CASE("duplicates change nothing: results equal those of the stream without them",
          "[aggregator]")
{
    GeneratorConfig g;
    g.users = 300;
    g.duplicateFraction = 0.05;
    const auto withDuplicates = generateLines(g, 60'000, 400);
    std::vector<std::string> without;
    std::unordered_set<std::string> ids;
    simdjson::dom::parser parser;
    for (const auto &line : withDuplicates) {
        std::string_view id;
        REQUIRE(parser.parse(line)["event_id"].get(id) == simdjson::SUCCESS);
        if (ids.insert(std::string(id)).second)
            without.push_back(line);
    }
    REQUIRE(without.size() < withDuplicates.size() - 2000);
    const AggregatorConfig c = testConfig();
    AggregateCounters a, b;
    const auto withReports = runCore(withDuplicates, c, &a);
    const auto withoutReports = runCore(without, c, &b);
    CHECK(a.duplicates == withDuplicates.size() - without.size());
    CHECK(b.duplicates == 0);
    CHECK(a.valid == b.valid);
    compare(withReports, oracleAggregate(oracleRead(without), c));
    compare(withoutReports, oracleAggregate(oracleRead(without), c));
}

TEST_CASE("late and invalid counters match the injected numbers exactly", "[aggregator]")
{
    GeneratorConfig g;
    g.lateFraction = 0.02;
    g.malformedFraction = 0.03;
    g.lateByMs = 60'000;
    const int n = 100'000;
    const double rps = 500;
    const auto lines = generateLines(g, n, rps);
    // Injected, as the oracle sees them: malformed = unreadable or invalid to the oracle; late =
    // event time a minute before the time the line was written at.
    const auto valid = oracleRead(lines);
    std::uint64_t late = 0;
    simdjson::dom::parser parser;
    for (int i = 0; i < n; ++i) {
        simdjson::dom::element doc;
        std::string_view ts;
        if (parser.parse(lines[i]).get(doc) || doc["ts"].get(ts) || ts.size() != 24)
            continue;
        if (oracleTime(std::string(ts)) <
            kStart + std::int64_t(std::floor(i * 1000.0 / rps)) - 30'000)
            ++late;
    }
    REQUIRE(late > 1500);
    AggregateCounters counters;
    const auto core = runCore(lines, testConfig(), &counters);
    CHECK(counters.read == std::uint64_t(n));
    CHECK(counters.invalid == n - valid.size());
    CHECK(counters.late == late);
    CHECK(counters.valid == valid.size() - late);
    std::uint64_t byReason = 0;
    for (auto r : counters.invalidByReason)
        byReason += r;
    CHECK(byReason == counters.invalid);
    // Late events were not merged: results equal the oracle over on-time events only.
    std::vector<std::string> onTimeLines;
    for (int i = 0; i < n; ++i) {
        simdjson::dom::element doc;
        std::string_view ts;
        if (parser.parse(lines[i]).get(doc) || doc["ts"].get(ts) || ts.size() != 24)
            continue;
        if (oracleTime(std::string(ts)) >=
            kStart + std::int64_t(std::floor(i * 1000.0 / rps)) - 30'000)
            onTimeLines.push_back(lines[i]);
    }
    compare(core, oracleAggregate(oracleRead(onTimeLines), testConfig()));
}

TEST_CASE("windows become final as the watermark passes and state stays bounded", "[aggregator]")
{
    struct Sink : AggregateSink
    {
        std::vector<std::int64_t> pageWindowsClosed;
        void onFinal(FinalResults &&r) override
        {
            for (const auto &p : r.pages)
                if (pageWindowsClosed.empty() || pageWindowsClosed.back() != p.row.windowStart)
                    pageWindowsClosed.push_back(p.row.windowStart);
        }
    } sink;
    AggregatorConfig c;
    c.watermarkDelayMs = 5000;
    Aggregator aggregator(c, &sink);
    EventGenerator generator;
    RecordBatch batch;
    std::uint64_t maxDedupe = 0, maxBytes = 0;
    for (int minute = 0; minute < 20; ++minute) {
        for (int i = 0; i < 6000; ++i) // 100 events/s for a minute
            generator.next(kStart + minute * 60'000 + i * 10, batch);
        aggregator.ingestBatch(batch);
        batch.clear();
        const auto counters = aggregator.counters();
        maxDedupe = std::max(maxDedupe, counters.dedupeEntries);
        maxBytes = std::max(maxBytes, counters.stateBytes);
        // At most the current minute and the one the watermark has not yet passed are open.
        CHECK(counters.openWindows <= 2 + 2 + 2);
        if (minute >= 1)
            CHECK(sink.pageWindowsClosed.size() >= static_cast<std::size_t>(minute));
    }
    // The dedupe memory holds the watermark horizon (5 s of 100 events/s plus a minute's batch),
    // not all 120,000 ids.
    CHECK(maxDedupe < 7000);
    const auto snapshot = aggregator.snapshot();
    CHECK(snapshot.counters.watermarkMs == kStart + 19 * 60'000 + 5999 * 10 - 5000);
    CHECK_FALSE(snapshot.topPages.empty());
    CHECK(snapshot.topPages.size() <= c.topPages);
    for (std::size_t i = 1; i < snapshot.topPages.size(); ++i)
        CHECK(snapshot.topPages[i - 1].views >= snapshot.topPages[i].views);
    aggregator.flush();
    CHECK(aggregator.counters().openWindows == 0);
    CHECK(aggregator.counters().openSessions == 0);
    CHECK(sink.pageWindowsClosed.size() == 20);
}

TEST_CASE("snapshots are consistent while another thread ingests", "[aggregator][threads]")
{
    Aggregator aggregator;
    std::atomic<bool> done{false};
    std::thread ingest([&] {
        EventGenerator generator;
        RecordBatch batch;
        for (int b = 0; b < 200; ++b) {
            batch.clear();
            for (int i = 0; i < 1000; ++i)
                generator.next(kStart + (b * 1000 + i) * 2, batch);
            aggregator.ingestBatch(batch);
        }
        done = true;
    });
    int snapshots = 0;
    while (!done) {
        const auto s = aggregator.snapshot();
        const auto &c = s.counters;
        CHECK(c.read == c.valid + c.invalid + c.duplicates + c.late);
        CHECK(c.read % 1000 == 0); // a batch is applied whole
        std::uint64_t viewsInRows = 0;
        for (const auto &row : s.pages)
            viewsInRows += row.views + row.clicks + row.addToCart + row.purchases;
        CHECK(viewsInRows == c.valid); // every accepted event is in exactly one page row
        ++snapshots;
    }
    ingest.join();
    CHECK(snapshots > 0);
}

TEST_CASE("names of closed windows are dropped and results stay exact", "[aggregator][memory]")
{
    // 20 minutes, 1,000 new pages and 300 new products every minute: 26,000 names in all. Users
    // come and go (two seconds each), so their sessions close and release their pages too.
    std::vector<std::string> lines;
    for (int i = 0; i < 60'000; ++i) {
        const std::int64_t ts = kStart + std::int64_t(i) * 20;
        const int minute = i / 3000, k = i % 1000;
        lines.push_back("{\"event_id\":\"e" + std::to_string(i) + "\",\"event_type\":\"" +
                        (i % 10 == 0 ? "purchase" : "page_view") + "\",\"ts\":\"" +
                        formatIsoMs(ts) + "\",\"user_id\":\"u" + std::to_string(i / 100) +
                        "\",\"session_id\":\"s" + std::to_string(i / 100) + "\",\"page\":\"/p/" +
                        std::to_string(minute) + "/" + std::to_string(k) + "\",\"product_id\":\"x" +
                        std::to_string(minute) + "_" + std::to_string(k % 300) +
                        "\",\"product_category\":\"c\",\"price\":1.5,\"referrer\":\"direct\","
                        "\"country\":\"C" +
                        std::to_string(k % 7) + "_" + std::to_string(minute) +
                        "\",\"device_type\":\"mobile\",\"browser\":\"B\"}");
    }
    AggregatorConfig c = testConfig();
    c.sessionGapMs = 60'000;
    CsvReportCollector reports;
    Aggregator aggregator(c, &reports);
    RecordBatch batch;
    std::uint64_t maxInterned = 0;
    for (const auto &line : lines) {
        batch.add({}, line);
        if (batch.size() == 1000) {
            aggregator.ingestBatch(batch);
            batch.clear();
            maxInterned = std::max(maxInterned, aggregator.counters().internedNames);
        }
    }
    aggregator.ingestBatch(batch);
    aggregator.flush();
    CHECK(maxInterned < 12'000); // not the 26,000+ names seen
    compare(reports, oracleAggregate(oracleRead(lines), c));
}

TEST_CASE("long sessions count each distinct page once, across name compaction",
          "[aggregator][sessions]")
{
    // Three users who never pause: one revisits 40 pages, one walks 600 pages (page ids far
    // beyond the first 128, so the set grows into its table) and back, one sees a new page on
    // every event. Passers-by stay 3 s on pages of their own: once their windows and sessions
    // close, those names are dropped and the long sessions' page ids renumbered, again and again.
    std::vector<std::string> lines;
    int i = 0;
    auto add = [&](const std::string &user, const std::string &page) {
        const std::int64_t ts = kStart + std::int64_t(i) * 40;
        lines.push_back("{\"event_id\":\"e" + std::to_string(i++) +
                        "\",\"event_type\":\"page_view\",\"ts\":\"" + formatIsoMs(ts) +
                        "\",\"user_id\":\"" + user + "\",\"session_id\":\"s_" + user +
                        "\",\"page\":\"" + page +
                        "\",\"product_id\":null,\"product_category\":null,\"price\":null,"
                        "\"referrer\":\"direct\",\"country\":\"DE\",\"device_type\":\"mobile\","
                        "\"browser\":\"Firefox\"}");
    };
    for (int round = 0; round < 9000; ++round) {
        add("revisits", "/r/" + std::to_string(round % 40));
        const int walk = round % 1200 < 600 ? round % 1200 : 1199 - round % 1200;
        add("walker", "/w/" + std::to_string(walk));
        add("explorer", "/e/" + std::to_string(round));
        add("passer_" + std::to_string(round / 20), "/t/" + std::to_string(round));
    }
    AggregatorConfig c = testConfig();
    c.sessionGapMs = 60'000;
    CsvReportCollector reports;
    Aggregator aggregator(c, &reports);
    RecordBatch batch;
    std::uint64_t maxInterned = 0;
    for (const auto &line : lines) {
        batch.add({}, line);
        if (batch.size() == 1000) {
            aggregator.ingestBatch(batch);
            batch.clear();
            maxInterned = std::max(maxInterned, aggregator.counters().internedNames);
        }
    }
    aggregator.ingestBatch(batch);
    aggregator.flush();
    CHECK(maxInterned < 15'000); // of 18,640 names: passers-by's pages were dropped on the way
    compare(reports, oracleAggregate(oracleRead(lines), c));
    std::map<std::string, std::uint32_t> distinct;
    for (const SessionRow &s : reports.sessions())
        distinct[s.userId] = s.distinctPages;
    CHECK(distinct["revisits"] == 40);
    CHECK(distinct["walker"] == 600);
    CHECK(distinct["explorer"] == 9000);
}

TEST_CASE("geo keys whose parts differ are apart even when their concatenations agree",
          "[aggregator][geo]")
{
    // (country "A\x1f" "B", browser "C") and (country "A", browser "B\x1f" "C") once shared a key.
    std::vector<std::string> lines;
    const char *parts[][2] = {{R"(A\u001fB)", "C"}, {"A", R"(B\u001fC)"}, {"A", R"(B\u001fC)"}};
    for (int i = 0; i < 3; ++i) {
        lines.push_back("{\"event_id\":\"g" + std::to_string(i) +
                        "\",\"event_type\":\"click\","
                        "\"ts\":\"" +
                        formatIsoMs(kStart + i) +
                        "\",\"user_id\":\"u\","
                        "\"session_id\":\"s\",\"page\":\"/\",\"product_id\":null,"
                        "\"product_category\":null,\"price\":null,\"referrer\":\"direct\","
                        "\"country\":\"" +
                        parts[i][0] +
                        "\",\"device_type\":\"tablet\","
                        "\"browser\":\"" +
                        parts[i][1] + "\"}");
    }
    const AggregatorConfig c = testConfig();
    const CsvReportCollector reports = runCore(lines, c);
    compare(reports, oracleAggregate(oracleRead(lines), c));
    REQUIRE(reports.geo().size() == 2);
}

namespace {

// Everything a run emitted, as comparable text (sketch estimates included, exactly).
std::vector<std::string> dump(const CsvReportCollector &c)
{
    std::vector<std::string> out;
    for (const PageRow &r : c.pages())
        out.push_back("p " + std::to_string(r.windowStart) + " " + r.page + " " +
                      std::to_string(r.views) + " " + std::to_string(r.clicks) + " " +
                      std::to_string(r.addToCart) + " " + std::to_string(r.purchases) + " " +
                      std::to_string(r.revenueCents) + " " + std::to_string(r.uniqueUsers) + " " +
                      std::to_string(r.uniqueSessions));
    for (const GeoRow &r : c.geo())
        out.push_back("g " + std::to_string(r.windowStart) + " " + r.country + " " + r.browser +
                      " " + r.deviceType + " " + std::to_string(r.events));
    for (const FunnelRow &r : c.funnel())
        out.push_back("f " + std::to_string(r.windowStart) + " " + r.productId + " " +
                      std::to_string(r.views) + " " + std::to_string(r.addToCart) + " " +
                      std::to_string(r.purchases) + " " + std::to_string(r.hotLowConversion));
    for (const SessionRow &r : c.sessions())
        out.push_back("s " + r.userId + " " + std::to_string(r.start) + " " +
                      std::to_string(r.end) + " " + std::to_string(r.events) + " " +
                      std::to_string(r.distinctPages) + " " + std::to_string(r.revenueCents) + " " +
                      std::to_string(r.converted));
    std::sort(out.begin(), out.end());
    return out;
}

void ingestRange(Aggregator &a, const std::vector<std::string> &lines, std::size_t from,
                 std::size_t to)
{
    RecordBatch batch;
    for (std::size_t i = from; i < to; ++i) {
        batch.add({}, lines[i]);
        if (batch.size() == 1000) {
            a.ingestBatch(batch);
            batch.clear();
        }
    }
    a.ingestBatch(batch);
}

} // namespace

TEST_CASE("a run restored from checkpoints equals the uninterrupted run",
          "[aggregator][checkpoint]")
{
    GeneratorConfig g;
    g.users = 300;
    g.duplicateFraction = 0.02; // a duplicate may come after the cut: the horizon is restored too
    g.malformedFraction = 0.01;
    const auto lines = generateLines(g, 60'000, 300); // 200 s of event time
    const AggregatorConfig c = testConfig();
    AggregateCounters whole;
    const auto reference = runCore(lines, c, &whole);

    // Cut four times; each time a new aggregator (as after a crash) restores the checkpoint.
    CsvReportCollector reports;
    std::string state;
    const std::vector<std::size_t> cuts = {7'001, 19'999, 20'000, 41'234, lines.size()};
    std::size_t from = 0;
    for (const std::size_t cut : cuts) {
        Aggregator a(c, &reports);
        std::string error;
        if (!state.empty())
            REQUIRE(a.restoreState(state, &error));
        ingestRange(a, lines, from, cut);
        state = a.saveState();
        from = cut;
        if (cut == lines.size()) {
            a.flush();
            const AggregateCounters counters = a.counters();
            CHECK(counters.read == whole.read);
            CHECK(counters.valid == whole.valid);
            CHECK(counters.duplicates == whole.duplicates);
            CHECK(counters.invalid == whole.invalid);
            CHECK(counters.late == whole.late);
        }
    }
    CHECK(dump(reports) == dump(reference));
    CHECK(whole.duplicates > 0);
}

TEST_CASE("a checkpoint is refused under other settings or when damaged",
          "[aggregator][checkpoint]")
{
    const auto lines = generateLines(GeneratorConfig{}, 5'000, 500);
    Aggregator a(testConfig());
    ingestRange(a, lines, 0, lines.size());
    const std::string state = a.saveState();

    AggregatorConfig other = testConfig();
    other.pageWindowMs = 30'000;
    Aggregator b(other);
    std::string error;
    CHECK_FALSE(b.restoreState(state, &error));
    CHECK_THAT(error, Catch::Contains("settings"));

    Aggregator d(testConfig());
    CHECK_FALSE(d.restoreState(state.substr(0, state.size() / 2), &error));
    CHECK_THAT(error, Catch::Contains("truncated"));
    CHECK_FALSE(d.restoreState("garbage", &error));
    CHECK(d.counters().read == 0); // unchanged
    CHECK(d.restoreState(state, &error));
    CHECK(d.counters().read == a.counters().read);
}

// ---- Event time per partition (issue 18) ------------------------------------------------------

namespace {

// `line` with its ts (and event id, so it is no duplicate) replaced.
std::string withTime(const std::string &line, std::int64_t ts, const std::string &id = {})
{
    std::string out = line;
    const std::size_t at = out.find("\"ts\":\"");
    REQUIRE(at != std::string::npos);
    out.replace(at + 6, 24, formatIsoMs(ts));
    if (!id.empty()) {
        const std::size_t idAt = out.find("\"event_id\":\"");
        REQUIRE(idAt != std::string::npos);
        const std::size_t end = out.find('"', idAt + 12);
        out.replace(idAt + 12, end - idAt - 12, id);
    }
    return out;
}

std::string userOf(const std::string &line)
{
    const std::size_t at = line.find("\"user_id\":\"");
    const std::size_t end = line.find('"', at + 11);
    return line.substr(at + 11, end - at - 11);
}

std::int64_t timeOf(const std::string &line)
{
    const std::size_t at = line.find("\"ts\":\"");
    return oracleTime(line.substr(at + 6, 24));
}

const std::int64_t k2099 = 4070908800000LL; // 2099-01-01T00:00:00Z

std::size_t futureCount(const AggregateCounters &c)
{
    return c.invalidByReason[static_cast<std::size_t>(InvalidReason::FutureTimestamp)];
}

} // namespace

TEST_CASE("one event in 2099 placed first, in the middle or last changes nothing else",
          "[aggregator][eventtime]")
{
    const auto lines = generateLines(GeneratorConfig{}, 100'000, 1000);
    const AggregatorConfig c = testConfig();
    AggregateCounters reference;
    const auto expected = dump(runCore(lines, c, &reference));
    REQUIRE(reference.late == 0);
    const std::string poison = withTime(lines[1234], k2099, "poison-2099");
    for (const std::size_t at : {std::size_t{0}, lines.size() / 2, lines.size()}) {
        INFO("the 2099 event at position " << at);
        std::vector<std::string> poisoned = lines;
        poisoned.insert(poisoned.begin() + static_cast<std::ptrdiff_t>(at), poison);
        AggregateCounters counters;
        const auto reports = runCore(poisoned, c, &counters);
        CHECK(counters.late == 0);
        CHECK(counters.read == lines.size() + 1);
        CHECK(counters.valid == reference.valid);
        CHECK(counters.invalid == 1);
        CHECK(futureCount(counters) == 1);
        CHECK(counters.held == 0);
        CHECK(dump(reports) == expected);
    }
}

TEST_CASE("events of users whose clocks run an hour ahead are refused live, everyone else's "
          "windows are exact",
          "[aggregator][eventtime]")
{
    // 500 users at 500 events/s; 50 of them send one event in ten an hour ahead: 1% in all.
    GeneratorConfig g;
    g.users = 500; // a cap: without it users come and go and few send ten events
    const auto lines = generateLines(g, 60'000, 500);
    std::set<std::string> users;
    for (const auto &line : lines)
        users.insert(userOf(line));
    REQUIRE(users.size() >= 400);
    const std::set<std::string> skewed(users.begin(), std::next(users.begin(), 50));
    std::vector<std::string> mixed, honest;
    std::map<std::string, int> seen;
    std::uint64_t ahead = 0;
    for (const auto &line : lines) {
        const std::string user = userOf(line);
        if (skewed.count(user) && ++seen[user] % 10 == 0) {
            mixed.push_back(withTime(line, timeOf(line) + 3'600'000));
            ++ahead;
        } else {
            mixed.push_back(line);
            honest.push_back(line);
        }
    }
    REQUIRE(ahead > 400);
    REQUIRE(ahead < 800);
    AggregatorConfig c = testConfig();
    c.liveClock = true;
    CsvReportCollector reports;
    Aggregator aggregator(c, &reports);
    RecordBatch batch;
    for (std::size_t i = 0; i < mixed.size(); ++i) {
        batch.add({}, mixed[i]);
        if (batch.size() == 500 || i + 1 == mixed.size()) {
            // Live: the wall clock is the time these were produced at.
            aggregator.ingestBatch(batch, nullptr, kStart + std::int64_t(i) * 2);
            batch.clear();
        }
    }
    aggregator.flush();
    const AggregateCounters counters = aggregator.counters();
    CHECK(futureCount(counters) == ahead);
    CHECK(counters.invalid == ahead);
    CHECK(counters.late == 0);
    CHECK(counters.valid == honest.size());
    compare(reports, oracleAggregate(oracleRead(honest), c));
}

TEST_CASE("a partition ten minutes behind the others is not late: the watermark follows it",
          "[aggregator][eventtime]")
{
    // Users in four partitions (by user, as the Kafka key does); partition 3's events are 10 min
    // behind the others' (a slow producer), interleaved with them.
    const auto lines = generateLines(GeneratorConfig{}, 40'000, 200); // 200 s
    AggregatorConfig c = testConfig();
    CsvReportCollector reports;
    Aggregator aggregator(c, &reports);
    std::vector<std::string> all;
    RecordBatch batch;
    std::array<std::int64_t, 4> offsets{};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto partition =
            static_cast<std::int32_t>(std::hash<std::string>{}(userOf(lines[i])) % 4);
        std::string line = lines[i];
        if (partition == 3)
            line = withTime(line, timeOf(line) - 600'000);
        all.push_back(line);
        batch.addFrom(partition, offsets[partition]++, {}, line);
        if (batch.size() == 1000) {
            aggregator.ingestBatch(batch);
            batch.clear();
            const AggregateCounters mid = aggregator.counters();
            REQUIRE(mid.partitions.size() == 4);
            CHECK(mid.watermarkMs == mid.partitions[3].watermarkMs);
            CHECK_FALSE(mid.partitions[3].idle);
        }
    }
    aggregator.ingestBatch(batch);
    const AggregateCounters before = aggregator.counters();
    CHECK(before.late == 0);
    CHECK(before.watermarkMs == before.partitions[3].watermarkMs);
    CHECK(before.partitions[0].watermarkMs > before.watermarkMs + 500'000);
    CHECK(before.partitions[3].nextOffset == offsets[3]);
    CHECK(offsets[3] > 5'000);
    aggregator.flush();
    compare(reports, oracleAggregate(oracleRead(all), c));
}

TEST_CASE("a partition that stops sending is idle after the timeout and releases the watermark",
          "[aggregator][eventtime]")
{
    // In a file the clock is the stream's own event time: partition 1 stops after 20 s while
    // partition 0 goes on for 5 min; with a 30 s idle timeout windows close meanwhile.
    struct Sink : AggregateSink
    {
        std::size_t finals = 0;
        void onFinal(FinalResults &&r) override { finals += r.pages.size(); }
    } sink;
    AggregatorConfig c = testConfig();
    c.idleTimeoutMs = 30'000;
    Aggregator aggregator(c, &sink);
    const auto lines = generateLines(GeneratorConfig{}, 30'000, 100); // 300 s
    RecordBatch batch;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::int64_t ts = timeOf(lines[i]);
        const std::int32_t partition = ts - kStart < 20'000 && i % 2 ? 1 : 0;
        batch.addFrom(partition, -1, {}, lines[i]);
        if (batch.size() == 500) {
            aggregator.ingestBatch(batch);
            batch.clear();
        }
    }
    aggregator.ingestBatch(batch);
    const AggregateCounters counters = aggregator.counters();
    REQUIRE(counters.partitions.size() == 2);
    CHECK(counters.partitions[1].idle);
    CHECK_FALSE(counters.partitions[0].idle);
    CHECK(counters.idlePartitions == 1);
    CHECK(counters.watermarkMs == counters.partitions[0].watermarkMs);
    CHECK(sink.finals > 0); // windows closed before the end of input
    CHECK(counters.late == 0);
}

TEST_CASE("a legitimate two-hour gap in a replayed file is accepted once confirmed",
          "[aggregator][eventtime]")
{
    const auto first = generateLines(GeneratorConfig{}, 20'000, 200);
    GeneratorConfig later;
    later.seed = 7;
    std::vector<std::string> lines = first;
    for (const std::string &line : generateLines(later, 20'000, 200))
        lines.push_back(withTime(line, timeOf(line) + 2 * 3'600'000));
    const AggregatorConfig c = testConfig();
    AggregateCounters counters;
    const auto reports = runCore(lines, c, &counters);
    CHECK(counters.late == 0);
    CHECK(counters.invalid == 0);
    CHECK(counters.held == 0);
    CHECK(counters.valid == lines.size());
    compare(reports, oracleAggregate(oracleRead(lines), c));
}

TEST_CASE("a stored partition time the future bound refuses is not brought back",
          "[aggregator][eventtime][checkpoint]")
{
    // Offline (no wall clock), a partition that really jumped to 2099 keeps that time...
    const auto lines = generateLines(GeneratorConfig{}, 3'000, 1000);
    AggregatorConfig offline = testConfig();
    Aggregator a(offline);
    RecordBatch batch;
    for (std::size_t i = 0; i < lines.size(); ++i)
        batch.add({}, i < 2000 ? lines[i] : withTime(lines[i], k2099 + std::int64_t(i)));
    a.ingestBatch(batch);
    REQUIRE(a.counters().maxEventTimeMs > k2099);
    REQUIRE(a.counters().invalid == 0);
    const std::string state = a.saveState();

    // ...but a live aggregator restoring it at a 2026 wall clock does not take it.
    AggregatorConfig live = offline;
    live.liveClock = true;
    Aggregator b(live);
    std::string error;
    const std::int64_t now = kStart + 10'000;
    REQUIRE(b.restoreState(state, &error, now));
    const AggregateCounters restored = b.counters();
    CHECK(restored.watermarkMs < k2099);
    REQUIRE(restored.partitions.size() == 1);
    CHECK(restored.partitions[0].maxEventTimeMs == kNoWatermark);
    // Events of now are not late after it.
    RecordBatch fresh;
    const auto more = generateLines(GeneratorConfig{}, 1'000, 1000);
    for (const auto &line : more)
        fresh.add({}, withTime(line, timeOf(line) + 5'000, "n" + std::to_string(fresh.size())));
    b.ingestBatch(fresh, nullptr, now);
    CHECK(b.counters().late == 0);
    CHECK(b.counters().valid == restored.valid + more.size());
}

TEST_CASE("held suspects and per-partition state survive a checkpoint exactly",
          "[aggregator][eventtime][checkpoint]")
{
    // Four partitions, a far-future event in partition 2 just before each cut: restored runs
    // still refuse it, and everything else equals the uninterrupted run.
    GeneratorConfig g;
    g.users = 300;
    g.duplicateFraction = 0.02;
    const auto lines = generateLines(g, 40'000, 300);
    const AggregatorConfig c = testConfig();
    const std::vector<std::size_t> cuts = {9'001, 20'000, 31'234, lines.size()};
    auto feed = [&](Aggregator &a, std::size_t from, std::size_t to) {
        RecordBatch batch;
        for (std::size_t i = from; i < to; ++i) {
            batch.addFrom(static_cast<std::int32_t>(i % 4), static_cast<std::int64_t>(i), {},
                          lines[i]);
            if (std::find(cuts.begin(), cuts.end(), i + 2) != cuts.end())
                batch.addFrom(2, static_cast<std::int64_t>(i) + 1'000'000, "k",
                              withTime(lines[i], k2099, "poison" + std::to_string(i)));
            if (batch.size() >= 1000) {
                a.ingestBatch(batch);
                batch.clear();
            }
        }
        a.ingestBatch(batch);
    };
    CsvReportCollector whole;
    AggregateCounters wholeCounters;
    {
        Aggregator a(c, &whole);
        feed(a, 0, lines.size());
        a.flush();
        wholeCounters = a.counters();
    }
    CHECK(futureCount(wholeCounters) == cuts.size());
    CsvReportCollector pieces;
    std::string state;
    std::size_t from = 0;
    std::uint64_t deferred = 0;
    for (const std::size_t cut : cuts) {
        Aggregator a(c, &pieces);
        std::string error;
        if (!state.empty())
            REQUIRE(a.restoreState(state, &error));
        feed(a, from, cut);
        deferred += a.takeDeferred().size();
        if (cut != lines.size()) {
            CHECK(a.counters().held >= 1); // the suspect is held across the cut
            state = a.saveState();
        } else {
            a.flush();
            deferred += a.takeDeferred().size();
            const AggregateCounters counters = a.counters();
            CHECK(counters.read == wholeCounters.read);
            CHECK(counters.valid == wholeCounters.valid);
            CHECK(counters.duplicates == wholeCounters.duplicates);
            CHECK(futureCount(counters) == cuts.size());
            CHECK(counters.late == 0);
        }
        from = cut;
    }
    CHECK(deferred == cuts.size()); // each refused suspect is one dead letter, once
    CHECK(dump(pieces) == dump(whole));
}
