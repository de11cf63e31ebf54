// The PostgreSQL sink against a real PostgreSQL 15 cluster started by the test (serversupport.h):
// migrations, atomic idempotent writes with offsets and checkpoints, SQL injection as data,
// shard merge (in the app and with postgresql-hll), connection errors, CSV export and `report`.

#include "core/aggregate/aggregator.h"
#include "core/common/timeutil.h"
#include "core/produce/generator.h"
#include "core/store/csvreport.h"
#include "core/store/pgschema.h"
#include "core/store/pgstore.h"

#include "kafkatestsupport.h"
#include "serversupport.h"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

constexpr std::int64_t kT0 = 1767225600000; // 2026-01-01T00:00:00.000Z
constexpr std::int64_t kMinute = 60'000;

#define REQUIRE_WRITE(store, batch)                                                                \
    do {                                                                                           \
        std::string writeError_;                                                                   \
        const bool written_ = (store).write((batch), &writeError_);                                \
        INFO(writeError_);                                                                         \
        REQUIRE(written_);                                                                         \
    } while (false)

#define REQUIRE_POSTGRES(pg)                                                                       \
    PostgresServer *pg = sharedServer();                                                           \
    do {                                                                                           \
        if (!pg) {                                                                                 \
            WARN("skipped: " << serverProblem());                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (false)

std::string &serverProblem()
{
    static std::string problem;
    return problem;
}

/// One cluster per test process (ctest runs each case in a process of its own), a fresh
/// database per test.
PostgresServer *sharedServer()
{
    static std::unique_ptr<PostgresServer> server;
    static bool tried = false;
    if (!tried) {
        tried = true;
        if (!PostgresServer::available(&serverProblem()))
            return nullptr;
        auto s = std::make_unique<PostgresServer>();
        if (s->start(&serverProblem()))
            server = std::move(s);
    }
    return server.get();
}

std::string sql(PostgresServer &pg, const std::string &text, const std::string &db)
{
    std::string error;
    const auto out = pg.psql(text, &error, db);
    INFO(error);
    REQUIRE(out);
    return *out;
}

/// A new database owned by the test role.
std::string freshDatabase(PostgresServer &pg)
{
    static int counter = 0;
    const std::string name = "store_" + std::to_string(++counter);
    sql(pg, "CREATE DATABASE " + name + " OWNER " + pg.user() + ";", "postgres");
    return name;
}

PostgresTarget targetFor(PostgresServer &pg, const std::string &db,
                         const std::string &password = {})
{
    return {"host=127.0.0.1 port=" + std::to_string(pg.port()) + " dbname=" + db +
                " user=" + pg.user(),
            password.empty() ? pg.password() : password};
}

std::string superuserConnection(PostgresServer &pg, const std::string &db)
{
    std::string c = pg.superuserConnectionString();
    c.replace(c.find("dbname=postgres"), 15, "dbname=" + db);
    return c;
}

void connectOrFail(PostgresStore &store, PostgresServer &pg, const std::string &db)
{
    std::string error;
    const bool ok = store.connect(targetFor(pg, db), 10s, &error);
    INFO(error);
    REQUIRE(ok);
}

HyperLogLog sketchOf(const std::string &prefix, int from, int to)
{
    HyperLogLog hll;
    for (int i = from; i < to; ++i)
        hll.add(prefix + std::to_string(i));
    return hll;
}

PageFinal pageRow(std::int64_t start, std::string page, std::uint64_t views, int users,
                  std::int64_t revenueCents = 0)
{
    PageFinal p;
    p.row.windowStart = start;
    p.row.windowEnd = start + kMinute;
    p.row.page = std::move(page);
    p.row.views = views;
    p.row.clicks = views / 3;
    p.row.addToCart = views / 7;
    p.row.purchases = views / 20;
    p.row.revenueCents = revenueCents;
    p.users = sketchOf("user_", 0, users);
    p.sessions = sketchOf("session_", 0, users + users / 2);
    p.row.uniqueUsers = p.users.estimate();
    p.row.uniqueSessions = p.sessions.estimate();
    p.row.final = true;
    return p;
}

/// A batch with every kind of row: small (EXPLICIT) and large (FULL) sketches, several windows.
SinkBatch sampleBatch(int variant = 0)
{
    SinkBatch b;
    b.shard = "a";
    b.groupId = "clickstream-studio";
    for (int w = 0; w < 3; ++w) {
        const std::int64_t start = kT0 + (variant * 3 + w) * kMinute;
        b.results.pages.push_back(pageRow(start, "/", 120 + w, 40));
        b.results.pages.push_back(pageRow(start, "/product/prod_0042", 900 + w, 700, 12345));
        b.results.pages.push_back(pageRow(start, "/cart", 30, 12, -250));
        b.results.geo.push_back({start, start + 5 * kMinute, "DE", "Firefox", "desktop",
                                 static_cast<std::uint64_t>(50 + w), true});
        b.results.geo.push_back({start, start + 5 * kMinute, "US", "Chrome", "mobile", 70, true});
        b.results.funnel.push_back({start, start + kMinute, "prod_0042", 900, 36, 9, w == 1, true});
        b.results.funnel.push_back({start, start + kMinute, "prod_0007", 40, 3, 1, false, true});
        b.results.sessions.push_back({"user_" + std::to_string(variant * 10 + w), start,
                                      start + 25'000, 14, 6, w * 1999, w == 2});
    }
    b.offsets = {{"clickstream", 0, 100 + variant},
                 {"clickstream", 1, 200 + variant},
                 {"clickstream", 2, 300 + variant}};
    b.checkpoint = std::string("state\0with\xff binary", 18) + std::to_string(variant);
    return b;
}

/// Every row of every table the sink writes (timestamps of writes left out), for comparisons.
std::string dumpTables(PostgresServer &pg, const std::string &db)
{
    return sql(pg,
               "SELECT 'dim_date'; SELECT * FROM dim_date ORDER BY 1;"
               "SELECT 'dim_page'; SELECT * FROM dim_page ORDER BY 1;"
               "SELECT 'dim_product'; SELECT * FROM dim_product ORDER BY 1;"
               "SELECT 'dim_country'; SELECT * FROM dim_country ORDER BY 1;"
               "SELECT 'dim_device'; SELECT * FROM dim_device ORDER BY 1;"
               "SELECT 'dim_referrer'; SELECT * FROM dim_referrer ORDER BY 1;"
               "SELECT 'page_metrics'; SELECT * FROM page_metrics ORDER BY 1, 3, 4;"
               "SELECT 'geo_metrics'; SELECT * FROM geo_metrics ORDER BY 1, 3, 4, 5, 6;"
               "SELECT 'sessions'; SELECT * FROM sessions ORDER BY 1, 2, 4;"
               "SELECT 'product_funnel'; SELECT * FROM product_funnel ORDER BY 1, 3, 4;"
               "SELECT 'offsets'; SELECT group_id, topic, partition, next_offset"
               " FROM consumer_offsets ORDER BY 1, 2, 3;"
               "SELECT 'checkpoints'; SELECT group_id, shard, state, offsets"
               " FROM aggregator_checkpoints ORDER BY 1, 2;"
               "SELECT 'raw_events'; SELECT * FROM raw_events ORDER BY 1;",
               db);
}

std::string countOf(PostgresServer &pg, const std::string &db, const std::string &table)
{
    std::string n = sql(pg, "SELECT count(*) FROM " + table + ";", db);
    while (!n.empty() && (n.back() == '\n' || n.back() == ' '))
        n.pop_back();
    return n;
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct CaptureSink final : AggregateSink
{
    FinalResults all;
    void onFinal(FinalResults &&r) override
    {
        for (auto &p : r.pages)
            all.pages.push_back(std::move(p));
        all.geo.insert(all.geo.end(), r.geo.begin(), r.geo.end());
        all.sessions.insert(all.sessions.end(), r.sessions.begin(), r.sessions.end());
        all.funnel.insert(all.funnel.end(), r.funnel.begin(), r.funnel.end());
    }
};

std::string hex(const std::string &bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string out = "\\x";
    for (const char c : bytes) {
        out += digits[static_cast<unsigned char>(c) >> 4];
        out += digits[static_cast<unsigned char>(c) & 15];
    }
    return out;
}

bool hllExtensionInstalled()
{
    // /usr/lib/postgresql/15/bin -> /usr/share/postgresql/15/extension/hll.control
    const std::string version =
        std::filesystem::path(PostgresServer::binDir()).parent_path().filename().string();
    return std::filesystem::exists("/usr/share/postgresql/" + version + "/extension/hll.control");
}

} // namespace

TEST_CASE("migrations create every table once, serialise concurrent starters and refuse a newer "
          "schema",
          "[pgstore][migrations]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);
    const int latest = latestSchemaVersion();
    REQUIRE(latest >= 2);

    // Two starters at once on an empty database: both succeed, each migration is applied once.
    PostgresStore first, second;
    std::string error1, error2;
    std::thread other([&] { second.connect(targetFor(*pg, db), 10s, &error2); });
    first.connect(targetFor(*pg, db), 10s, &error1);
    other.join();
    INFO(error1 << " / " << error2);
    REQUIRE(first.isConnected());
    REQUIRE(second.isConnected());
    CHECK(first.schemaVersion() == latest);
    CHECK(second.schemaVersion() == latest);

    const std::string applied =
        sql(*pg, "SELECT version, name FROM schema_migrations ORDER BY 1;", db);
    std::string expected;
    for (const SchemaMigration &m : schemaMigrations())
        expected += std::to_string(m.version) + "|" + std::string(m.name) + "\n";
    CHECK(applied == expected);
    CHECK_THAT(applied, StartsWith("1|initial\n"));

    const std::string tables = sql(*pg,
                                   "SELECT string_agg(table_name, ',' ORDER BY table_name)"
                                   " FROM information_schema.tables"
                                   " WHERE table_schema = 'public';",
                                   db);
    for (const char *table : {"aggregator_checkpoints", "alert_history", "consumer_offsets",
                              "dim_country", "dim_date", "dim_device", "dim_page", "dim_product",
                              "dim_referrer", "geo_metrics", "geo_metrics_merged", "page_metrics",
                              "page_metrics_merged", "product_funnel", "product_funnel_merged",
                              "raw_events", "schema_migrations", "sessions", "sessions_merged"})
        CHECK_THAT(tables, Contains(table));

    // A second connect applies nothing.
    const std::string before = sql(*pg, "SELECT version, applied_at FROM schema_migrations;", db);
    PostgresStore again;
    connectOrFail(again, *pg, db);
    CHECK(sql(*pg, "SELECT version, applied_at FROM schema_migrations;", db) == before);

    // alert_history comes from the migrations only (AlertHistoryStore applies the same ones), and
    // takes the rows AlertHistoryStore writes. The DDL builds before had AlertHistoryStore run
    // itself still runs on it (a database they created first).
    sql(*pg,
        "CREATE TABLE IF NOT EXISTS alert_history (id bigserial PRIMARY KEY, rule text NOT NULL,"
        " labels jsonb NOT NULL DEFAULT '{}'::jsonb, severity text NOT NULL, state text NOT NULL,"
        " value double precision, at timestamptz NOT NULL, summary text NOT NULL DEFAULT '');"
        "INSERT INTO alert_history (rule, labels, severity, state, value, at, summary) VALUES"
        " ('r', '{}'::jsonb, 'warning', 'firing', 1, now(), 's');",
        db);

    // A database migrated by a newer build is refused, and left as it is.
    sql(*pg, "INSERT INTO schema_migrations (version, name) VALUES (7, 'from_the_future');", db);
    PostgresStore old;
    std::string error;
    CHECK_FALSE(old.connect(targetFor(*pg, db), 10s, &error));
    CHECK_FALSE(old.isConnected());
    CHECK_THAT(error, Contains("database schema version 7 is newer than this app knows (" +
                               std::to_string(latest) + "): upgrade clickstream-studio"));
    CHECK_THAT(error, Contains("PostgreSQL"));
    CHECK(countOf(*pg, db, "schema_migrations") == std::to_string(latest + 1));
}

TEST_CASE("writing a batch twice leaves identical rows, and offsets and checkpoints round-trip",
          "[pgstore][write]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);
    PostgresStore store;
    connectOrFail(store, *pg, db);
    std::string error;

    // Nothing stored yet.
    std::vector<KafkaOffset> offsets{{"x", 9, 9}};
    REQUIRE(store.loadOffsets("clickstream-studio", "clickstream", &offsets, &error));
    CHECK(offsets.empty());
    std::optional<Checkpoint> checkpoint = Checkpoint{};
    REQUIRE(store.loadCheckpoint("clickstream-studio", "a", &checkpoint, &error));
    CHECK_FALSE(checkpoint);

    const SinkBatch batch = sampleBatch();
    REQUIRE_WRITE(store, batch);
    const std::string once = dumpTables(*pg, db);
    REQUIRE_WRITE(store, batch);
    CHECK(dumpTables(*pg, db) == once);
    // Another connection (a restarted process) replays it: still the same rows.
    PostgresStore replay;
    connectOrFail(replay, *pg, db);
    REQUIRE_WRITE(replay, batch);
    CHECK(dumpTables(*pg, db) == once);
    CHECK(countOf(*pg, db, "page_metrics") == "9");
    CHECK(countOf(*pg, db, "dim_page") == "3");
    CHECK(countOf(*pg, db, "dim_date") == "1");
    CHECK(sql(*pg,
              "SELECT date_key, full_date, year, quarter, month, day, day_of_week,"
              " week_of_year FROM dim_date;",
              db) == "20260101|2026-01-01|2026|1|1|1|4|1\n");
    CHECK(sql(*pg, "SELECT page, page_type FROM dim_page ORDER BY 1;", db) ==
          "/|home\n/cart|cart\n/product/prod_0042|product\n");
    // Revenue as numeric(18,2) from cents, estimates beside their sketches.
    CHECK(sql(*pg, "SELECT DISTINCT revenue FROM page_metrics ORDER BY 1;", db) ==
          "-2.50\n0.00\n123.45\n");
    CHECK(sql(*pg,
              "SELECT DISTINCT round(unique_users), length(users_hll) FROM page_metrics"
              " ORDER BY 1;",
              db) == "12|99\n40|323\n" +
                         std::to_string(std::llround(batch.results.pages[1].row.uniqueUsers)) +
                         "|10243\n");
    CHECK(store.stats().batches == 2);
    CHECK(store.stats().rows == 2 * batch.rowCount());

    REQUIRE(store.loadOffsets("clickstream-studio", "clickstream", &offsets, &error));
    CHECK(offsets == batch.offsets);
    REQUIRE(store.loadOffsets("another-group", "clickstream", &offsets, &error));
    CHECK(offsets.empty());
    REQUIRE(store.loadCheckpoint("clickstream-studio", "a", &checkpoint, &error));
    REQUIRE(checkpoint);
    CHECK(checkpoint->state == *batch.checkpoint);
    CHECK(checkpoint->offsets == batch.offsets);
    CHECK(std::abs(checkpoint->updatedAtMs - wallClockMs()) < 600'000);
    REQUIRE(store.loadCheckpoint("clickstream-studio", "b", &checkpoint, &error));
    CHECK_FALSE(checkpoint);

    // The next batch moves offsets and replaces the checkpoint; its rows are added.
    const SinkBatch next = sampleBatch(1);
    REQUIRE_WRITE(store, next);
    REQUIRE(store.loadOffsets("clickstream-studio", "clickstream", &offsets, &error));
    CHECK(offsets == next.offsets);
    REQUIRE(store.loadCheckpoint("clickstream-studio", "a", &checkpoint, &error));
    CHECK(checkpoint->state == *next.checkpoint);
    CHECK(countOf(*pg, db, "page_metrics") == "18");

    // Within a batch a later row with the same key replaces the earlier one.
    SinkBatch twice;
    twice.shard = "a";
    twice.results.pages = {pageRow(kT0, "/", 1, 1), pageRow(kT0, "/", 77, 3)};
    REQUIRE_WRITE(store, twice);
    CHECK(sql(*pg,
              "SELECT views, unique_users FROM page_metrics WHERE page = '/' AND"
              " window_start = '2026-01-01T00:00:00Z';",
              db) == "77|3\n");

    // Offsets without a group are refused before anything is written.
    SinkBatch noGroup = sampleBatch(2);
    noGroup.groupId.clear();
    CHECK_FALSE(store.write(noGroup, &error));
    CHECK_THAT(error, Contains("groupId"));
    CHECK_FALSE(store.lastWriteRetryable());
    CHECK(store.isConnected());
    CHECK(store.ping(&error));
}

TEST_CASE("a batch that fails midway leaves nothing behind and keeps the stored offsets",
          "[pgstore][atomic]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);
    PostgresStore store;
    connectOrFail(store, *pg, db);
    std::string error;
    REQUIRE_WRITE(store, sampleBatch(0));
    const std::string before = dumpTables(*pg, db);

    SECTION("a row the database refuses (revenue beyond numeric(18,2)) after pages and geo")
    {
        SinkBatch broken = sampleBatch(1);
        broken.results.sessions.back().revenueCents = INT64_MAX;
        CHECK_FALSE(store.write(broken, &error));
        INFO(error);
        CHECK_THAT(error, StartsWith("PostgreSQL at "));
        CHECK_THAT(error, Contains("writing sessions failed, nothing of the batch was stored"));
        CHECK_THAT(error, Contains("numeric field overflow"));
        CHECK(dumpTables(*pg, db) == before);
        CHECK(store.stats().failures == 1);
        CHECK_FALSE(store.lastWriteRetryable());
        // The connection is still good: the repaired batch goes in.
        CHECK(store.isConnected());
        broken.results.sessions.back().revenueCents = 100;
        REQUIRE_WRITE(store, broken);
        std::vector<KafkaOffset> offsets;
        REQUIRE(store.loadOffsets("clickstream-studio", "clickstream", &offsets, &error));
        CHECK(offsets == broken.offsets);
    }

    SECTION("the connection is killed while the batch waits for the offsets table")
    {
        // Hold a lock on consumer_offsets so the write stops after the facts, then kill its
        // backend.
        pqxx::connection locker(superuserConnection(*pg, db));
        pqxx::work lockTx(locker);
        lockTx.exec("LOCK TABLE consumer_offsets IN ACCESS EXCLUSIVE MODE");

        std::atomic<bool> done{false};
        bool written = true;
        std::string writeError;
        std::thread writer([&] {
            written = store.write(sampleBatch(1), &writeError);
            done = true;
        });
        pqxx::connection watcher(superuserConnection(*pg, db));
        int pid = 0;
        const bool blocked = waitFor(
            [&] {
                pqxx::nontransaction q(watcher);
                const auto r = q.exec("SELECT pid FROM pg_stat_activity WHERE application_name ="
                                      " 'clickstream-studio' AND wait_event_type = 'Lock'"
                                      " AND datname = current_database()");
                if (r.empty())
                    return false;
                pid = r[0][0].as<int>();
                return true;
            },
            30s);
        if (blocked) {
            pqxx::nontransaction q(watcher);
            q.exec_params("SELECT pg_terminate_backend($1)", pid);
        }
        REQUIRE(waitFor([&] { return done.load(); }, 30s));
        writer.join();
        lockTx.abort();
        REQUIRE(blocked);
        INFO(writeError);
        CHECK_FALSE(written);
        CHECK_THAT(writeError, StartsWith("PostgreSQL at "));
        CHECK_THAT(writeError, Contains("writing the consumer offsets failed"));
        CHECK_FALSE(store.isConnected());
        CHECK(store.lastWriteRetryable());
        CHECK(dumpTables(*pg, db) == before);

        // Reconnect and write again: everything lands.
        connectOrFail(store, *pg, db);
        REQUIRE_WRITE(store, sampleBatch(1));
        std::vector<KafkaOffset> offsets;
        REQUIRE(store.loadOffsets("clickstream-studio", "clickstream", &offsets, &error));
        CHECK(offsets == sampleBatch(1).offsets);
    }
}

TEST_CASE("SQL injection attempts in event fields are stored as plain data", "[pgstore][security]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);
    PostgresStoreOptions options;
    options.rawArchive = true;
    PostgresStore store(options);
    connectOrFail(store, *pg, db);

    const std::vector<std::string> nasty = {
        "'); DROP TABLE page_metrics; --",
        "Robert'); DROP TABLE sessions;--",
        "x' OR '1'='1",
        "\"; DELETE FROM consumer_offsets; --",
        "$1; SELECT pg_sleep(10); --",
        "tab\there\nnew line\\N back\\slash",
        "=HYPERLINK(\"http://evil\")",
        "\xE2\x9C\x93 unicode",
    };
    SinkBatch b;
    b.shard = "'; DROP TABLE geo_metrics; --";
    b.groupId = "g'); DROP TABLE consumer_offsets; --";
    for (std::size_t i = 0; i < nasty.size(); ++i) {
        const std::int64_t start = kT0 + static_cast<std::int64_t>(i) * kMinute;
        b.results.pages.push_back(pageRow(start, nasty[i], 5, 2));
        b.results.geo.push_back({start, start + kMinute, nasty[i], nasty[(i + 1) % nasty.size()],
                                 nasty[(i + 2) % nasty.size()], 3, true});
        b.results.sessions.push_back({nasty[i], start, start + 1000, 2, 1, 0, false});
        b.results.funnel.push_back({start, start + kMinute, nasty[i], 4, 1, 0, false, true});
        RawEvent e;
        e.eventId = nasty[i];
        e.eventType = "page_view";
        e.timestampMs = start;
        e.userId = e.sessionId = e.page = e.referrer = e.country = e.deviceType = e.browser =
            nasty[i];
        e.productId = nasty[i];
        b.rawEvents.push_back(e);
    }
    b.offsets = {{"topic'); DROP TABLE raw_events; --", 0, 1}};
    std::string error;
    REQUIRE_WRITE(store, b);
    REQUIRE_WRITE(store, b); // raw events are archived once

    // Every table is still there, each value came back verbatim.
    for (const char *table : {"page_metrics", "sessions", "geo_metrics", "consumer_offsets",
                              "raw_events", "product_funnel"})
        CHECK(countOf(*pg, db, table) == (std::string(table) == "consumer_offsets" ? "1" : "8"));
    std::vector<PageFinal> pages;
    REQUIRE(store.loadPages(kT0, kT0 + 60 * kMinute, &pages, &error));
    std::vector<SessionRow> sessions;
    REQUIRE(store.loadSessions(kT0, kT0 + 60 * kMinute, &sessions, &error));
    std::vector<GeoRow> geo;
    REQUIRE(store.loadGeo(kT0, kT0 + 60 * kMinute, &geo, &error));
    REQUIRE(pages.size() == nasty.size());
    REQUIRE(sessions.size() == nasty.size());
    REQUIRE(geo.size() == nasty.size());
    for (std::size_t i = 0; i < nasty.size(); ++i) {
        CHECK(pages[i].row.page == nasty[i]);
        CHECK(sessions[i].userId == nasty[i]);
        CHECK(geo[i].country == nasty[i]);
        CHECK(geo[i].deviceType == nasty[(i + 2) % nasty.size()]);
    }
    std::vector<KafkaOffset> offsets;
    REQUIRE(store.loadOffsets(b.groupId, b.offsets[0].topic, &offsets, &error));
    CHECK(offsets == b.offsets);
    CHECK(sql(*pg, "SELECT DISTINCT shard FROM page_metrics;", db) == b.shard + "\n");
    CHECK(sql(*pg,
              "SELECT count(*) FROM raw_events WHERE event_id = user_id AND page = country"
              " AND price IS NULL AND kafka_partition IS NULL;",
              db) == "8\n");

    // A NUL byte (which PostgreSQL text cannot hold) does not poison the batch.
    SinkBatch nul;
    nul.results.pages.push_back(pageRow(kT0, std::string("/nul\0byte", 9), 1, 1));
    REQUIRE_WRITE(store, nul);
    CHECK(sql(*pg, "SELECT page FROM page_metrics WHERE page LIKE '/nul%';", db) ==
          "/nul\xEF\xBF\xBD"
          "byte\n");

    // Without the raw archive option raw events are left out.
    PostgresStore plain;
    connectOrFail(plain, *pg, db);
    SinkBatch more = b;
    more.rawEvents[0].eventId = "new-event";
    REQUIRE_WRITE(plain, more);
    CHECK(countOf(*pg, db, "raw_events") == "8");
}

TEST_CASE("two shards' partial aggregates merge to the results of one combined run",
          "[pgstore][merge]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);

    // One run over every event, and two aggregators each given the users of one partition.
    GeneratorConfig generator;
    generator.users = 3000; // enough distinct users per window for FULL sketches
    generator.seed = 7;
    EventGenerator events(generator);
    CaptureSink combined, shardA, shardB;
    AggregatorConfig config;
    Aggregator all(config, &combined), a(config, &shardA), b(config, &shardB);
    RecordBatch records;
    for (int i = 0; i < 30'000; ++i)
        events.next(kT0 + i * 8, records); // 240 s: four page windows
    for (std::size_t i = 0; i < records.size(); ++i) {
        all.ingest(records.value(i));
        (murmurHash64(records.key(i)) % 2 == 0 ? a : b).ingest(records.value(i));
    }
    all.flush();
    a.flush();
    b.flush();
    REQUIRE(!shardA.all.pages.empty());
    REQUIRE(!shardB.all.pages.empty());

    PostgresStore store;
    connectOrFail(store, *pg, db);
    std::string error;
    SinkBatch batchA, batchB;
    batchA.shard = "partition-0";
    batchA.results = std::move(shardA.all);
    batchB.shard = "partition-1";
    batchB.results = std::move(shardB.all);
    REQUIRE_WRITE(store, batchA);
    REQUIRE_WRITE(store, batchB);

    const auto &expected = combined.all;
    auto checkMerged = [&](PostgresStore &s, double uniqueTolerance) {
        std::vector<PageFinal> pages;
        REQUIRE(s.loadPages(kT0, kT0 + 3'600'000, &pages, &error));
        REQUIRE(pages.size() == expected.pages.size());
        std::map<std::pair<std::int64_t, std::string>, const PageFinal *> byKey;
        for (const PageFinal &p : expected.pages)
            byKey[{p.row.windowStart, p.row.page}] = &p;
        bool sawFull = false;
        for (const PageFinal &p : pages) {
            const PageFinal *want = byKey[{p.row.windowStart, p.row.page}];
            REQUIRE(want);
            INFO(p.row.page << " at " << formatIsoMs(p.row.windowStart));
            CHECK(p.row.windowEnd == want->row.windowEnd);
            CHECK(p.row.views == want->row.views);
            CHECK(p.row.clicks == want->row.clicks);
            CHECK(p.row.addToCart == want->row.addToCart);
            CHECK(p.row.purchases == want->row.purchases);
            CHECK(p.row.revenueCents == want->row.revenueCents);
            CHECK(p.row.uniqueUsers == Approx(want->row.uniqueUsers).epsilon(uniqueTolerance));
            CHECK(p.row.uniqueSessions ==
                  Approx(want->row.uniqueSessions).epsilon(uniqueTolerance));
            CHECK(p.users.estimate() == Approx(want->users.estimate()).epsilon(uniqueTolerance));
            sawFull = sawFull || !want->users.isExplicit();
        }
        CHECK(sawFull);

        std::vector<GeoRow> geo;
        REQUIRE(s.loadGeo(kT0, kT0 + 3'600'000, &geo, &error));
        std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, std::uint64_t>
            geoWant, geoGot;
        for (const GeoRow &g : expected.geo)
            geoWant[{g.windowStart, g.country, g.browser, g.deviceType}] += g.events;
        for (const GeoRow &g : geo)
            geoGot[{g.windowStart, g.country, g.browser, g.deviceType}] += g.events;
        CHECK(geoGot == geoWant);

        std::vector<FunnelRow> funnel;
        REQUIRE(s.loadFunnel(kT0, kT0 + 3'600'000, &funnel, &error));
        std::map<std::pair<std::int64_t, std::string>,
                 std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>>
            funnelWant, funnelGot;
        for (const FunnelRow &f : expected.funnel)
            funnelWant[{f.windowStart, f.productId}] = {f.views, f.addToCart, f.purchases};
        for (const FunnelRow &f : funnel)
            funnelGot[{f.windowStart, f.productId}] = {f.views, f.addToCart, f.purchases};
        CHECK(funnelGot == funnelWant);

        // Sessions are per user, so each lies in one shard: the same rows as the combined run.
        std::vector<SessionRow> sessions;
        REQUIRE(s.loadSessions(INT64_MIN, INT64_MAX, &sessions, &error));
        CsvReportCollector want, got;
        want.onFinal(FinalResults{{}, {}, expected.sessions, {}});
        got.onFinal(FinalResults{{}, {}, sessions, {}});
        TempFile wantDir, gotDir;
        std::filesystem::remove(wantDir.path);
        std::filesystem::remove(gotDir.path);
        REQUIRE_WRITE(want, wantDir.path);
        REQUIRE_WRITE(got, gotDir.path);
        CHECK(readFile(gotDir.path + "/sessions.csv") == readFile(wantDir.path + "/sessions.csv"));
        std::filesystem::remove_all(wantDir.path);
        std::filesystem::remove_all(gotDir.path);
    };

    // Merged here: register-wise maxima of the same hashes give the combined run's sketches.
    SECTION("unique counts merged in the app")
    {
        CHECK(store.hasHllExtension() == false);
        checkMerged(store, 1e-9);
    }

    // Merged by postgresql-hll's hll_union_agg, when the extension is installed.
    SECTION("unique counts merged in PostgreSQL by postgresql-hll")
    {
        if (!hllExtensionInstalled()) {
            WARN("skipped: the postgresql-hll extension is not installed (postgresql-15-hll)");
            return;
        }
        sql(*pg, "CREATE EXTENSION hll;", db);
        PostgresStoreOptions options;
        options.hllMerge = HllMerge::InPostgres;
        PostgresStore inPostgres(options);
        connectOrFail(inPostgres, *pg, db);
        CHECK(inPostgres.hasHllExtension());
        checkMerged(inPostgres, 0.005);
    }
}

TEST_CASE("sketches written by the store are postgresql-hll sketches", "[pgstore][hll]")
{
    REQUIRE_POSTGRES(pg);
    if (!hllExtensionInstalled()) {
        WARN("skipped: the postgresql-hll extension is not installed (postgresql-15-hll)");
        return;
    }
    const std::string db = freshDatabase(*pg);
    sql(*pg, "CREATE EXTENSION hll;", db);
    // The extension's own sketch of the same values, with our parameters (log2m 14, regwidth 5,
    // explicit cutoff 512, no SPARSE), is byte for byte ours: EXPLICIT, and FULL after promotion.
    for (const int n : {0, 1, 300, 512, 513, 5000, 100'000}) {
        const HyperLogLog ours = sketchOf("u", 1, n + 1);
        const std::string theirs =
            sql(*pg,
                "SELECT h::text, hll_cardinality(h) FROM (SELECT coalesce(hll_add_agg("
                "hll_hash_text('u' || i), 14, 5, 512, 0), hll_empty(14, 5, 512, 0)) AS h"
                " FROM generate_series(1, " +
                    std::to_string(n) + ") i) s;",
                db);
        INFO("n = " << n);
        const auto bar = theirs.find('|');
        REQUIRE(bar != std::string::npos);
        CHECK(theirs.substr(0, bar) == hex(ours.toHllBytes()));
        CHECK(std::stod(theirs.substr(bar + 1)) == Approx(ours.estimate()).epsilon(1e-6));
    }

    // What the store wrote casts to hll with the same cardinality, and a union of the two sketches
    // reads back as ours.
    PostgresStore store;
    connectOrFail(store, *pg, db);
    std::string error;
    SinkBatch batch;
    batch.shard = "a";
    batch.results.pages = {pageRow(kT0, "/small", 10, 300), pageRow(kT0, "/large", 10, 20'000)};
    REQUIRE_WRITE(store, batch);
    const std::string out = sql(*pg,
                                "SELECT page, round(hll_cardinality(users_hll::hll)),"
                                " round(unique_users) FROM page_metrics ORDER BY page;",
                                db);
    const std::string large = std::to_string(std::llround(batch.results.pages[1].users.estimate()));
    CHECK(out == "/large|" + large + "|" + large + "\n/small|300|300\n");
    std::vector<PageFinal> pages;
    REQUIRE(store.loadPages(kT0, kT0 + kMinute, &pages, &error));
    REQUIRE(pages.size() == 2);
    CHECK(pages[0].users.toHllBytes() == batch.results.pages[1].users.toHllBytes());
}

TEST_CASE("connection failures say which sink and what went wrong, without the password",
          "[pgstore][errors]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);
    PostgresStore store;
    std::string error;
    const std::string wrong = "not-the-password-31337";

    CHECK_FALSE(store.connect(targetFor(*pg, db, wrong), 5s, &error));
    CHECK_THAT(error, StartsWith("PostgreSQL at "));
    CHECK_THAT(error, Contains("wrong password"));
    CHECK_THAT(error, !Contains(wrong));
    CHECK_THAT(error, Contains("dbname=" + db));

    PostgresTarget closed{"host=127.0.0.1 port=" +
                              std::to_string(serverdetail::freeLoopbackPort()) + " dbname=x user=y",
                          wrong};
    CHECK_FALSE(store.connect(closed, 3s, &error));
    CHECK_THAT(error, StartsWith("PostgreSQL at "));
    CHECK_THAT(error, Contains("unreachable: connection refused"));
    CHECK_THAT(error, !Contains(wrong));

    SilentTcpServer silent;
    REQUIRE(silent.port() > 0);
    PostgresTarget hung{"host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=x user=y",
                        wrong};
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(store.connect(hung, 2s, &error));
    CHECK(std::chrono::steady_clock::now() - start < 20s);
    CHECK_THAT(error, Contains("unreachable: no answer within 2 s"));

    // A database the user may connect to but not create tables in (PostgreSQL 15: only the
    // owner may create in schema public).
    sql(*pg, "CREATE DATABASE locked_down;", "postgres");
    CHECK_FALSE(store.connect(targetFor(*pg, "locked_down"), 5s, &error));
    CHECK_THAT(error, StartsWith("PostgreSQL at "));
    CHECK_THAT(error, Contains("no permission to create or use the schema"));
    CHECK_THAT(error, Contains("permission denied for schema public"));

    sql(*pg, "CREATE DATABASE no_entry; REVOKE CONNECT ON DATABASE no_entry FROM PUBLIC;",
        "postgres");
    CHECK_FALSE(store.connect(targetFor(*pg, "no_entry"), 5s, &error));
    CHECK_THAT(error, Contains("no permission to connect to this database"));

    CHECK_FALSE(store.connect(targetFor(*pg, "no_such_database"), 5s, &error));
    CHECK_THAT(error, Contains("the database does not exist"));

    // Not connected: every call says so instead of crashing.
    CHECK_FALSE(store.isConnected());
    CHECK_FALSE(store.write(sampleBatch(), &error));
    CHECK_THAT(error, Contains("not connected"));
    CHECK(store.lastWriteRetryable());
    std::vector<KafkaOffset> offsets;
    CHECK_FALSE(store.loadOffsets("g", "t", &offsets, &error));
    std::ostringstream csv;
    CHECK_FALSE(store.exportCsv(ReportTable::PageMetrics, 0, 1, csv, &error));
    CHECK_FALSE(store.ping(&error));

    // The server goes away under a connected store: a clear error, then a reconnect works.
    connectOrFail(store, *pg, db);
    pg->stop();
    CHECK_FALSE(store.write(sampleBatch(), &error));
    CHECK_THAT(error, StartsWith("PostgreSQL at "));
    CHECK_FALSE(store.isConnected());
    std::string startError;
    REQUIRE(pg->start(&startError));
    connectOrFail(store, *pg, db);
    CHECK(store.write(sampleBatch(), &error));
}

TEST_CASE("a report export is the in-memory report's CSV, read from PostgreSQL",
          "[pgstore][report]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);
    PostgresStore store;
    connectOrFail(store, *pg, db);

    SinkBatch batch = sampleBatch();
    // Cells a spreadsheet would run as formulas, and text that needs RFC 4180 quoting.
    batch.results.pages.push_back(pageRow(kT0, "=HYPERLINK(\"http://x\",\"y\")", 3, 2));
    batch.results.pages.push_back(pageRow(kT0, "+1,2", 3, 2));
    batch.results.pages.push_back(pageRow(kT0, "-3\r\nline", 3, 2));
    batch.results.pages.push_back(pageRow(kT0, "@SUM(A1)", 3, 2));
    batch.results.geo.push_back(
        {kT0, kT0 + 5 * kMinute, "\tTAB", "=cmd|' /C calc'!A0", "say \"hi\"", 1, true});
    batch.results.sessions.push_back({"=1+1", kT0 + 5, kT0 + 10, 1, 1, 5, true});
    batch.results.funnel.push_back({kT0, kT0 + kMinute, "@prod", 1, 0, 0, false, true});
    std::string error;
    REQUIRE_WRITE(store, batch);

    CsvReportCollector memory;
    memory.onFinal(FinalResults(batch.results));
    TempFile dir;
    std::filesystem::remove(dir.path);
    REQUIRE_WRITE(memory, dir.path);

    for (const auto table : {ReportTable::PageMetrics, ReportTable::GeoMetrics,
                             ReportTable::Sessions, ReportTable::ProductFunnel}) {
        INFO(toString(table));
        std::ostringstream csv;
        REQUIRE(store.exportCsv(table, INT64_MIN, INT64_MAX, csv, &error));
        CHECK(csv.str() == readFile(dir.path + "/" + std::string(toString(table)) + ".csv"));
    }
    std::ostringstream pages;
    REQUIRE(store.exportCsv(ReportTable::PageMetrics, kT0, kT0 + kMinute, pages, &error));
    const std::string text = pages.str();
    CHECK(text.rfind("window_start,window_end,page,views,clicks,add_to_cart,purchases,revenue,"
                     "unique_users,unique_sessions\r\n",
                     0) == 0);
    CHECK_THAT(text, Contains("\r\n2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,"
                              "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",3,"));
    CHECK_THAT(text, Contains(",\"'+1,2\","));
    CHECK_THAT(text, Contains(",\"'-3\r\nline\","));
    CHECK_THAT(text, Contains(",'@SUM(A1),"));
    CHECK_THAT(text, !Contains("2026-01-01T00:01:00.000Z,2026-01-01T00:02:00.000Z"));
    CHECK_THAT(text, Contains(",/product/prod_0042,900,300,128,45,123.45,"));

    // To a file; a failure leaves no file behind.
    const std::string path = dir.path + "/export.csv";
    REQUIRE(store.exportCsv(ReportTable::PageMetrics, kT0, kT0 + kMinute, path, &error));
    CHECK(readFile(path) == text);
    CHECK_FALSE(
        store.exportCsv(ReportTable::PageMetrics, 0, 1, dir.path + "/missing/x.csv", &error));
    CHECK(!std::filesystem::exists(dir.path + "/missing/x.csv.part"));
    std::filesystem::remove_all(dir.path);
}

TEST_CASE("the report subcommand exports from PostgreSQL and refuses passwords on the command "
          "line",
          "[pgstore][report][cli]")
{
    REQUIRE_POSTGRES(pg);
    const std::string db = freshDatabase(*pg);
    PostgresStore store;
    connectOrFail(store, *pg, db);
    std::string error;
    REQUIRE_WRITE(store, sampleBatch());
    std::ostringstream want;
    REQUIRE(store.exportCsv(ReportTable::ProductFunnel, kT0, kT0 + 2 * kMinute, want, &error));

    serverdetail::TempDir dir("studio-report");
    const std::string log = dir.path + "/out.log";
    auto run = [&](std::vector<std::string> args) {
        std::filesystem::remove(log);
        args.insert(args.begin(), STUDIO_EXECUTABLE);
        const int code = serverdetail::run(args, log, dir.path, serverdetail::RunAs{}, 60s);
        return std::make_pair(code, readFile(log));
    };
    const std::string conninfo = targetFor(*pg, db).conninfo;
    const std::string out = dir.path + "/funnel.csv";

    ::setenv("PGPASSWORD", pg->password().c_str(), 1); // libpq's own variable, read by the child
    auto [code, text] =
        run({"report", "--table", "product_funnel", "--from", "2026-01-01T00:00:00Z", "--to",
             "2026-01-01T00:02:00.000Z", "--out", out, "--postgres", conninfo});
    ::unsetenv("PGPASSWORD");
    INFO(text);
    CHECK(code == 0);
    CHECK(readFile(out) == want.str());
    CHECK_THAT(text, !Contains(pg->password()));

    // The same through CLICKSTREAM_PG_PASSWORD, to stdout.
    ::setenv("CLICKSTREAM_PG_PASSWORD", pg->password().c_str(), 1);
    std::tie(code, text) =
        run({"report", "--table", "product_funnel", "--from", "2026-01-01T00:00:00Z", "--to",
             "2026-01-01T00:02:00Z", "--out", "-", "--postgres", conninfo});
    ::unsetenv("CLICKSTREAM_PG_PASSWORD");
    CHECK(code == 0);
    CHECK(text == want.str());

    // A password in the URI is refused before anything connects, and not repeated.
    std::tie(code, text) = run({"report", "--table", "page_metrics", "--out", out, "--postgres",
                                "postgresql://studio:s3cret-pw@127.0.0.1:1/db"});
    CHECK(code != 0);
    CHECK_THAT(text, Contains("must not contain a password"));
    CHECK_THAT(text, !Contains("s3cret-pw"));

    // A wrong password: the sink's clear message, non-zero exit.
    ::setenv("PGPASSWORD", "wrong-password-42", 1);
    std::tie(code, text) =
        run({"report", "--table", "sessions", "--out", out, "--postgres", conninfo});
    ::unsetenv("PGPASSWORD");
    CHECK(code == 1);
    CHECK_THAT(text, Contains("PostgreSQL at "));
    CHECK_THAT(text, Contains("wrong password"));
    CHECK_THAT(text, !Contains("wrong-password-42"));

    // Without --postgres: where in-memory reports come from.
    std::tie(code, text) = run({"report", "--table", "sessions", "--out", out});
    CHECK(code == 2);
    CHECK_THAT(text, Contains("run --report-dir"));

    std::tie(code, text) = run({"report", "--table", "nope", "--out", out, "--postgres", conninfo});
    CHECK(code != 0);
    CHECK_THAT(text, Contains("page_metrics"));

    std::tie(code, text) = run({"report", "--table", "sessions", "--from", "yesterday", "--out",
                                out, "--postgres", conninfo});
    CHECK(code == 2);
    CHECK_THAT(text, Contains("--from"));
}
