// The sink worker (issue 4 "When a sink is down or slow") against real PostgreSQL and Redis
// servers started by the test (serversupport.h): exact writes, durable offsets only after the
// commit, outages with buffering and back-pressure, wrong passwords, hung servers.

#include "core/store/pgstore.h"
#include "core/store/redisclient.h"
#include "core/store/redisstore.h"
#include "core/store/sinkworker.h"

#include "serversupport.h"

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>
#include <pqxx/pqxx>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kT0 = 1767225600000; // 2026-01-01T00:00:00.000Z
constexpr std::int64_t kMinute = 60'000;
constexpr std::size_t kRowsPerBatch = 17; // batchOf(): 9 pages, 1 geo, 1 session, 6 funnel
/// A submit() that waited for a server would take seconds (blocked writes, connect timeouts);
/// this bound leaves room for a loaded machine's scheduling.
constexpr std::chrono::milliseconds kQuick{500};
const std::string kShard = "shard-a";
const std::string kGroup = "clickstream-studio";

bool waitUntil(const std::function<bool()> &condition, std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
        if (Clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

#define SKIP_WITHOUT(Server)                                                                       \
    do {                                                                                           \
        std::string why_;                                                                          \
        if (!Server::available(&why_)) {                                                           \
            WARN("skipped: " << why_);                                                             \
            return;                                                                                \
        }                                                                                          \
    } while (false)

std::string sql(PostgresServer &pg, const std::string &text, const std::string &db)
{
    std::string error;
    const auto out = pg.psql(text, &error, db);
    INFO(error);
    REQUIRE(out);
    return *out;
}

std::string freshDatabase(PostgresServer &pg)
{
    static int counter = 0;
    const std::string name = "sink_" + std::to_string(++counter);
    sql(pg, "CREATE DATABASE " + name + " OWNER " + pg.user() + ";", "postgres");
    return name;
}

PostgresTarget targetFor(PostgresServer &pg, const std::string &db, std::string password = {})
{
    return {"host=127.0.0.1 port=" + std::to_string(pg.port()) + " dbname=" + db +
                " user=" + pg.user(),
            password.empty() ? pg.password() : std::move(password)};
}

RedisTarget redisTarget(const RedisServer &server, std::string password = {})
{
    RedisTarget t;
    t.host = server.host();
    t.port = server.port();
    t.password = std::move(password);
    return t;
}

void startOrFail(PostgresServer &pg)
{
    std::string error;
    const bool ok = pg.start(&error);
    INFO(error);
    REQUIRE(ok);
}

void startOrFail(RedisServer &redis)
{
    std::string error;
    const bool ok = redis.start(&error);
    INFO(error);
    REQUIRE(ok);
}

/// Test settings: short backoff and pings, so an outage of a few seconds is seen and left fast.
SinkSettings quickSettings()
{
    SinkSettings s;
    s.shard = kShard;
    s.groupId = kGroup;
    s.connectTimeout = 3s;
    s.initialBackoff = 50ms;
    s.maxBackoff = 500ms;
    s.pingInterval = 300ms;
    s.liveInterval = 100ms;
    return s;
}

HyperLogLog sketchOf(const std::string &prefix, int count)
{
    HyperLogLog hll;
    for (int i = 0; i < count; ++i)
        hll.add(prefix + std::to_string(i));
    return hll;
}

/// Batch v: three one-minute windows starting at window 2v, so consecutive batches share a
/// window (the later values must win); sessions and geo rows repeat keys too.
SinkBatch batchOf(int v, bool checkpoint)
{
    SinkBatch b;
    const char *pages[] = {"/", "/cart", "/product/prod_0042"};
    for (int w = 0; w < 3; ++w) {
        const std::int64_t start = kT0 + (2 * v + w) * kMinute;
        for (int i = 0; i < 3; ++i) {
            PageFinal p;
            p.row.windowStart = start;
            p.row.windowEnd = start + kMinute;
            p.row.page = pages[i];
            p.row.views = static_cast<std::uint64_t>(10 * v + w + 100 * i + 1);
            p.row.clicks = static_cast<std::uint64_t>(v + i);
            p.row.addToCart = static_cast<std::uint64_t>(i);
            p.row.purchases = static_cast<std::uint64_t>(v % 2);
            p.row.revenueCents = 1999 * (v % 3);
            p.users = sketchOf("u" + std::to_string(v), 5 + i);
            p.sessions = sketchOf("s" + std::to_string(v), 7 + i);
            p.row.uniqueUsers = p.users.estimate();
            p.row.uniqueSessions = p.sessions.estimate();
            p.row.final = true;
            b.results.pages.push_back(std::move(p));
        }
        for (const char *product : {"prod_0042", "prod_0007"})
            b.results.funnel.push_back({start, start + kMinute, product,
                                        static_cast<std::uint64_t>(50 + v + w),
                                        static_cast<std::uint64_t>(v), 1, v % 2 == 0, true});
    }
    const std::int64_t geoStart = kT0 + (v / 3) * 5 * kMinute;
    b.results.geo.push_back({geoStart, geoStart + 5 * kMinute, "DE", "Firefox", "desktop",
                             static_cast<std::uint64_t>(100 + v), true});
    const std::int64_t sessionStart = kT0 + (v % 4) * kMinute;
    b.results.sessions.push_back({"user_" + std::to_string(v % 4), sessionStart,
                                  sessionStart + 30'000, static_cast<std::uint64_t>(10 + v), 3,
                                  v * 100, v % 2 == 1});
    for (int p = 0; p < 3; ++p)
        b.offsets.push_back({"clickstream", p, 1000 * (v + 1) + p});
    if (checkpoint)
        b.checkpoint = std::string("ck\0\xff-", 5) + std::to_string(v);
    return b;
}

/// batchOf(v) as the worker completes it (shard and group from the settings).
SinkBatch referenceBatch(int v, bool checkpoint)
{
    SinkBatch b = batchOf(v, checkpoint);
    b.shard = kShard;
    b.groupId = kGroup;
    return b;
}

/// Everything the sink stores, without surrogate keys (assigned in insertion order) and write
/// times; dimension keys are resolved to their natural values.
std::string dumpTables(PostgresServer &pg, const std::string &db)
{
    return sql(pg,
               "SELECT 'dim_date'; SELECT * FROM dim_date ORDER BY 1;"
               "SELECT 'dim_page'; SELECT page, page_type FROM dim_page ORDER BY 1;"
               "SELECT 'dim_product'; SELECT product_id, category FROM dim_product ORDER BY 1;"
               "SELECT 'page_metrics'; SELECT m.window_start, m.window_end, m.page, m.shard,"
               " m.views, m.clicks, m.add_to_cart, m.purchases, m.revenue, m.unique_users,"
               " m.unique_sessions, encode(m.users_hll, 'hex'), encode(m.sessions_hll, 'hex'),"
               " m.date_key, d.page FROM page_metrics m JOIN dim_page d USING (page_key)"
               " ORDER BY 1, 3, 4;"
               "SELECT 'geo_metrics'; SELECT m.window_start, m.window_end, m.country, m.browser,"
               " m.device_type, m.shard, m.events, m.date_key, c.country, d.device_type,"
               " d.browser FROM geo_metrics m JOIN dim_country c USING (country_key)"
               " JOIN dim_device d USING (device_key) ORDER BY 1, 3, 4, 5, 6;"
               "SELECT 'sessions'; SELECT * FROM sessions ORDER BY 1, 2, 4;"
               "SELECT 'product_funnel'; SELECT m.window_start, m.window_end, m.product_id,"
               " m.shard, m.views, m.add_to_cart, m.purchases, m.hot_low_conversion, m.date_key,"
               " p.product_id FROM product_funnel m JOIN dim_product p USING (product_key)"
               " ORDER BY 1, 3, 4;"
               "SELECT 'offsets'; SELECT group_id, topic, partition, next_offset"
               " FROM consumer_offsets ORDER BY 1, 2, 3;"
               "SELECT 'checkpoints'; SELECT group_id, shard, encode(state, 'hex'), offsets"
               " FROM aggregator_checkpoints ORDER BY 1, 2;",
               db);
}

/// The same batches written one by one with a PostgresStore into a database of their own.
std::string referenceDump(PostgresServer &pg, const std::vector<SinkBatch> &batches)
{
    const std::string db = freshDatabase(pg);
    PostgresStore store;
    std::string error;
    const bool connected = store.connect(targetFor(pg, db), 10s, &error);
    INFO(error);
    REQUIRE(connected);
    for (const SinkBatch &b : batches) {
        const bool written = store.write(b, &error);
        INFO(error);
        REQUIRE(written);
    }
    return dumpTables(pg, db);
}

using Reply = RedisReplyPtr;

/// A plain hiredis connection for reading what the worker wrote.
class RedisClient
{
public:
    explicit RedisClient(const RedisServer &server)
    {
        m_c.reset(redisConnectWithTimeout("127.0.0.1", server.port(), {5, 0}));
        REQUIRE(m_c);
        REQUIRE(m_c->err == 0);
        if (!server.options().password.empty())
            REQUIRE(command({"AUTH", server.options().password})->type != REDIS_REPLY_ERROR);
    }
    RedisClient(const RedisClient &) = delete;
    RedisClient &operator=(const RedisClient &) = delete;

    Reply command(const std::vector<std::string> &args)
    {
        Reply r = redisCommandArgs(m_c.get(), args);
        REQUIRE(r);
        return r;
    }
    std::optional<std::string> hget(const std::string &key, const std::string &field)
    {
        const Reply r = command({"HGET", key, field});
        if (r->type != REDIS_REPLY_STRING)
            return std::nullopt;
        return std::string(r->str, r->len);
    }

private:
    RedisContextPtr m_c;
};

/// click_count:<page> field <window> -> count, as the last final row of each key sets it.
std::map<std::pair<std::string, std::string>, std::string>
expectedClickCounts(const std::vector<SinkBatch> &batches)
{
    RedisStore naming;
    std::map<std::pair<std::string, std::string>, std::string> out;
    for (const SinkBatch &b : batches)
        for (const PageFinal &p : b.results.pages)
            out[{naming.clickCountKey(p.row.page), RedisStore::windowText(p.row.windowStart)}] =
                std::to_string(p.row.views + p.row.clicks + p.row.addToCart + p.row.purchases);
    return out;
}

/// Distinct Redis keys (page and funnel rows) of the batches: what the Redis buffer holds.
std::size_t distinctRedisRows(const std::vector<SinkBatch> &batches)
{
    std::map<std::pair<std::int64_t, std::string>, int> pages, funnel;
    for (const SinkBatch &b : batches) {
        for (const PageFinal &p : b.results.pages)
            pages[{p.row.windowStart, p.row.page}] = 1;
        for (const FunnelRow &f : b.results.funnel)
            funnel[{f.windowStart, f.productId}] = 1;
    }
    return pages.size() + funnel.size();
}

void checkRedisHolds(const RedisServer &server, const std::vector<SinkBatch> &batches)
{
    RedisClient client(server);
    for (const auto &[where, count] : expectedClickCounts(batches)) {
        INFO(where.first << " " << where.second);
        CHECK(client.hget(where.first, where.second) == count);
    }
}

} // namespace

TEST_CASE("merged batches land in PostgreSQL exactly as one-by-one writes, and final and live "
          "values in Redis",
          "[sinkworker][servers]")
{
    SKIP_WITHOUT(PostgresServer);
    SKIP_WITHOUT(RedisServer);
    PostgresServer pg;
    startOrFail(pg);
    RedisServer redis;
    startOrFail(redis);
    const std::string db = freshDatabase(pg);

    SinkSettings settings = quickSettings();
    settings.postgres = targetFor(pg, db);
    settings.redis = redisTarget(redis);
    settings.maxRowsPerTransaction = 5 * kRowsPerBatch;
    SinkWorker worker(settings);
    std::vector<std::uint64_t> notified;
    std::mutex notifiedMutex;
    worker.setDurableCallback([&](std::uint64_t seq) {
        std::lock_guard lock(notifiedMutex);
        notified.push_back(seq);
    });

    // Submitted before start: they queue and merge (a checkpoint only ends a merge).
    std::vector<SinkBatch> reference;
    std::uint64_t lastSeq = 0;
    for (int v = 0; v < 12; ++v) {
        const bool checkpoint = v % 4 == 2;
        lastSeq = worker.submit(batchOf(v, checkpoint));
        reference.push_back(referenceBatch(v, checkpoint));
    }
    CHECK(lastSeq == 12);
    CHECK(worker.postgresStatus().bufferedRows == 12 * kRowsPerBatch);
    CHECK(worker.postgresStatus().bufferedBatches == 12);
    CHECK(worker.durableSequence() == 0);

    RedisBatch live;
    PageRow open;
    open.windowStart = kT0 + 90 * kMinute;
    open.windowEnd = open.windowStart + kMinute;
    open.page = "/live";
    open.views = 7;
    live.pages.push_back(open);
    worker.submitLive(live);

    worker.start();
    REQUIRE(worker.flush(60s));
    // Then batches one at a time while it runs.
    for (int v = 12; v < 16; ++v) {
        lastSeq = worker.submit(batchOf(v, false));
        reference.push_back(referenceBatch(v, false));
    }
    REQUIRE(worker.flush(60s));

    const SinkStatus ps = worker.postgresStatus();
    CHECK(ps.state == ServiceState::Up);
    CHECK(ps.connected);
    CHECK(ps.bufferedRows == 0);
    CHECK(ps.bufferedBatches == 0);
    CHECK(ps.writtenRows == 16 * kRowsPerBatch);
    CHECK(ps.writtenBatches == 16);
    CHECK(ps.writes < 16); // merged
    CHECK(ps.writtenThrough == lastSeq);
    CHECK(ps.failures == 0);
    CHECK_THAT(ps.target, !Contains(pg.password()));

    CHECK(dumpTables(pg, db) == referenceDump(pg, reference));

    const DurablePoint durable = worker.durableOffsets();
    CHECK(durable.sequence == lastSeq);
    CHECK(durable.offsets == reference.back().offsets);
    {
        std::lock_guard lock(notifiedMutex);
        REQUIRE_FALSE(notified.empty());
        CHECK(notified.back() == lastSeq);
        CHECK(std::is_sorted(notified.begin(), notified.end()));
    }

    std::optional<Checkpoint> checkpoint;
    std::vector<KafkaOffset> offsets;
    std::string error;
    REQUIRE(worker.loadResumePoint(kGroup, "clickstream", kShard, &checkpoint, &offsets, &error));
    CHECK(offsets == reference.back().offsets);
    REQUIRE(checkpoint);
    // The newest checkpoint (batch 10, merged with 7 to 9) still carries its own offsets.
    CHECK(checkpoint->state == *reference[10].checkpoint);
    CHECK(checkpoint->offsets == reference[10].offsets);

    const SinkStatus rs = worker.redisStatus();
    CHECK(rs.state == ServiceState::Up);
    CHECK(rs.bufferedRows == 0);
    CHECK(rs.liveWrites >= 1);
    CHECK(rs.writtenThrough == lastSeq);
    checkRedisHolds(redis, reference);
    RedisClient client(redis);
    RedisStore naming;
    CHECK(client.hget(naming.clickCountKey("/live"), RedisStore::windowText(open.windowStart)) ==
          "7");

    CHECK(worker.stop(5s));
}

TEST_CASE("durable offsets advance only after the PostgreSQL transaction committed, and submit "
          "and stop never wait for a blocked write",
          "[sinkworker][servers]")
{
    SKIP_WITHOUT(PostgresServer);
    PostgresServer pg;
    startOrFail(pg);
    const std::string db = freshDatabase(pg);

    SinkSettings settings = quickSettings();
    settings.postgres = targetFor(pg, db);
    SinkWorker worker(settings);
    std::mutex seenMutex;
    std::vector<std::string> storedAtCallback;
    worker.setDurableCallback([&](std::uint64_t) {
        // What another session sees in the database when the worker says "durable".
        std::string error;
        const auto out =
            pg.psql("SELECT next_offset FROM consumer_offsets WHERE partition = 0;", &error, db);
        std::lock_guard lock(seenMutex);
        storedAtCallback.push_back(out ? *out : "error: " + error);
    });
    worker.start();
    REQUIRE(waitUntil([&] { return worker.postgresStatus().state == ServiceState::Up; }, 30s));

    std::string superuser = pg.superuserConnectionString();
    superuser.replace(superuser.find("dbname=postgres"), 15, "dbname=" + db);
    pqxx::connection blocker(superuser);
    {
        pqxx::work lockTx(blocker);
        lockTx.exec("LOCK TABLE consumer_offsets IN ACCESS EXCLUSIVE MODE");

        auto t0 = Clock::now();
        const std::uint64_t seq = worker.submit(batchOf(0, true));
        CHECK(Clock::now() - t0 < kQuick);
        // The write is under way and blocked on the lock: nothing is durable yet.
        std::this_thread::sleep_for(1500ms);
        CHECK(worker.postgresStatus().writes == 0);
        t0 = Clock::now();
        const std::uint64_t seq2 = worker.submit(batchOf(1, true));
        CHECK(Clock::now() - t0 < kQuick);
        CHECK(worker.durableSequence() == 0);
        CHECK(worker.durableOffsets().offsets.empty());
        CHECK(worker.postgresStatus().bufferedRows == 2 * kRowsPerBatch);
        CHECK(worker.postgresStatus().bufferedBatches == 2);
        CHECK_FALSE(worker.flush(200ms));

        lockTx.abort(); // releases the lock: the write commits now
        REQUIRE(worker.flush(30s));
        CHECK(worker.durableSequence() == seq2);
        CHECK(seq2 == seq + 1);
    }
    CHECK(worker.durableOffsets().offsets == referenceBatch(1, true).offsets);
    REQUIRE(waitUntil(
        [&] {
            std::lock_guard lock(seenMutex);
            return !storedAtCallback.empty() && storedAtCallback.back() != "1000\n";
        },
        30s)); // the callback runs after flush() saw the write
    {
        std::lock_guard lock(seenMutex);
        for (const std::string &seen : storedAtCallback)
            CHECK((seen == "1000\n" || seen == "2000\n")); // committed before the callback
        CHECK(storedAtCallback.back() == "2000\n");
    }

    // A write blocked again: stop() cancels it and returns promptly; nothing of it is durable.
    pqxx::work lockTx(blocker);
    lockTx.exec("LOCK TABLE consumer_offsets IN ACCESS EXCLUSIVE MODE");
    worker.submit(batchOf(2, true));
    REQUIRE(waitUntil([&] { return worker.postgresStatus().bufferedRows > 0; }, 5s));
    std::this_thread::sleep_for(500ms);
    const auto t0 = Clock::now();
    CHECK_FALSE(worker.stop(300ms));
    CHECK(Clock::now() - t0 < 5s);
    CHECK(worker.postgresStatus().bufferedRows == kRowsPerBatch); // reported, not lost
    CHECK(worker.durableSequence() == 2);
    lockTx.abort();
}

TEST_CASE("PostgreSQL stopped for a few seconds: rows are buffered and counted, back-pressure "
          "turns on, Redis keeps working, and everything is written once it is back",
          "[sinkworker][servers]")
{
    SKIP_WITHOUT(PostgresServer);
    SKIP_WITHOUT(RedisServer);
    PostgresServer pg;
    startOrFail(pg);
    RedisServer redis;
    startOrFail(redis);
    const std::string db = freshDatabase(pg);

    SinkSettings settings = quickSettings();
    settings.postgres = targetFor(pg, db);
    settings.redis = redisTarget(redis);
    settings.maxBufferedRows = 500;
    settings.maxBackoff = 1s;
    SinkWorker worker(settings);
    worker.start();

    std::vector<SinkBatch> reference;
    int v = 0;
    for (; v < 5; ++v) {
        worker.submit(batchOf(v, v % 3 == 0));
        reference.push_back(referenceBatch(v, v % 3 == 0));
    }
    REQUIRE(worker.flush(60s));
    CHECK(worker.postgresStatus().state == ServiceState::Up);
    const std::uint64_t writtenBefore = worker.postgresStatus().writtenRows;

    pg.stop();
    REQUIRE(waitUntil([&] { return worker.postgresStatus().state == ServiceState::Down; }, 20s));
    const auto downAt = Clock::now();

    // Batches keep coming, as the pipeline would send them, until back-pressure says pause; the
    // outage lasts at least 5 s.
    double slowestSubmit = 0;
    while (Clock::now() - downAt < 5s || !worker.backPressure()) {
        REQUIRE(Clock::now() - downAt < 60s);
        if (!worker.backPressure()) {
            const auto t0 = Clock::now();
            worker.submit(batchOf(v, v % 3 == 0));
            slowestSubmit =
                std::max(slowestSubmit,
                         std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            reference.push_back(referenceBatch(v, v % 3 == 0));
            ++v;
        }
        std::this_thread::sleep_for(100ms);
    }
    CHECK(slowestSubmit < double(kQuick.count()));
    const SinkStatus down = worker.postgresStatus();
    CHECK(down.state == ServiceState::Down);
    CHECK_FALSE(down.connected);
    CHECK(down.failures > 0);
    CHECK_THAT(down.lastError, Contains("PostgreSQL at"));
    CHECK_THAT(down.lastError, !Contains(pg.password()));
    CHECK(down.lastErrorAtMs > 0);
    CHECK(down.writtenRows == writtenBefore);
    CHECK(down.bufferedRows == reference.size() * kRowsPerBatch - writtenBefore);
    CHECK(down.bufferedRows > settings.maxBufferedRows);
    CHECK(down.bufferedRows <= settings.maxBufferedRows + kRowsPerBatch); // paused right away
    CHECK(worker.backPressure());
    CHECK(worker.durableOffsets().offsets == reference[4].offsets);

    // Redis is a sink of its own: it kept writing.
    const SinkStatus redisDuring = worker.redisStatus();
    CHECK(redisDuring.state == ServiceState::Up);
    REQUIRE(waitUntil([&] { return worker.redisStatus().bufferedRows == 0; }, 20s));

    startOrFail(pg);
    REQUIRE(waitUntil(
        [&] {
            const SinkStatus s = worker.postgresStatus();
            return s.state == ServiceState::Up && s.bufferedRows == 0;
        },
        60s));
    CHECK_FALSE(worker.backPressure());
    REQUIRE(worker.flush(30s));
    const SinkStatus after = worker.postgresStatus();
    CHECK(after.writtenRows == reference.size() * kRowsPerBatch);
    CHECK(after.writtenBatches == reference.size());
    CHECK(after.retries + after.failures > 0);
    CHECK(worker.durableSequence() == reference.size());
    CHECK(worker.durableOffsets().offsets == reference.back().offsets);
    CHECK(dumpTables(pg, db) == referenceDump(pg, reference));
    checkRedisHolds(redis, reference);
    CHECK(worker.stop(5s));
}

TEST_CASE("Redis stopped and restarted: final rows are kept by key while it is down and are "
          "all there afterwards",
          "[sinkworker][servers]")
{
    SKIP_WITHOUT(RedisServer);
    RedisServer redis;
    startOrFail(redis);

    SinkSettings settings = quickSettings();
    settings.redis = redisTarget(redis);
    settings.maxBufferedRows = 40;
    SinkWorker worker(settings); // Redis only: the durable point follows Redis
    worker.start();
    std::vector<SinkBatch> batches;
    batches.push_back(batchOf(0, false));
    worker.submit(batchOf(0, false));
    REQUIRE(worker.flush(30s));
    CHECK(worker.redisStatus().state == ServiceState::Up);
    CHECK(worker.durableSequence() == 1);
    CHECK(worker.postgresStatus().state == ServiceState::NotConfigured);

    redis.stop();
    REQUIRE(waitUntil([&] { return worker.redisStatus().state == ServiceState::Down; }, 20s));
    // The same keys again (window 2v+1 overlaps) and new ones: buffered rows = distinct keys.
    for (int v = 1; v < 6; ++v) {
        batches.push_back(batchOf(v, false));
        const auto t0 = Clock::now();
        worker.submit(batchOf(v, false));
        CHECK(Clock::now() - t0 < kQuick);
    }
    batches.push_back(batchOf(5, false)); // a repeat changes nothing in the buffer
    worker.submit(batchOf(5, false));
    std::vector<SinkBatch> sinceDown(batches.begin() + 1, batches.end());
    const SinkStatus down = worker.redisStatus();
    CHECK(down.state == ServiceState::Down);
    CHECK_THAT(down.lastError, Contains("Redis"));
    CHECK(down.bufferedRows == distinctRedisRows(sinceDown));
    CHECK(down.bufferedBatches == 6);
    CHECK(worker.backPressure()); // 5 windows x 5 keys > 40
    CHECK(worker.durableSequence() == 1);
    CHECK_FALSE(worker.flush(100ms));
    std::this_thread::sleep_for(2s);

    startOrFail(redis);
    REQUIRE(waitUntil(
        [&] {
            const SinkStatus s = worker.redisStatus();
            return s.state == ServiceState::Up && s.bufferedRows == 0;
        },
        30s));
    REQUIRE(worker.flush(10s));
    CHECK_FALSE(worker.backPressure());
    CHECK(worker.durableSequence() == batches.size());
    CHECK(worker.durableOffsets().offsets == batches.back().offsets);
    CHECK(worker.redisStatus().writtenBatches == batches.size());
    // The restarted server kept nothing (no persistence): every value is from the replayed buffer.
    checkRedisHolds(redis, sinceDown);
    CHECK(worker.stop(5s));
}

TEST_CASE("a wrong password takes only that sink down, with an error naming it",
          "[sinkworker][servers]")
{
    SKIP_WITHOUT(PostgresServer);
    SKIP_WITHOUT(RedisServer);
    PostgresServer pg;
    startOrFail(pg);
    RedisServer::Options redisOptions;
    redisOptions.password = "redis-secret-1234";
    RedisServer redis(redisOptions);
    startOrFail(redis);
    const std::string wrong = "not-the-password-31337";

    SECTION("PostgreSQL")
    {
        const std::string db = freshDatabase(pg);
        SinkSettings settings = quickSettings();
        settings.postgres = targetFor(pg, db, wrong);
        settings.redis = redisTarget(redis, redisOptions.password);
        SinkWorker worker(settings);
        worker.start();
        std::vector<SinkBatch> batches{batchOf(0, false), batchOf(1, false)};
        for (const SinkBatch &b : batches)
            worker.submit(b);
        REQUIRE(
            waitUntil([&] { return worker.postgresStatus().state == ServiceState::Down; }, 20s));
        const SinkStatus ps = worker.postgresStatus();
        CHECK_THAT(ps.lastError, Contains("PostgreSQL at"));
        CHECK_THAT(ps.lastError, Contains("password"));
        CHECK_THAT(ps.lastError, !Contains(wrong));
        CHECK(ps.bufferedRows == 2 * kRowsPerBatch);
        REQUIRE(waitUntil([&] { return worker.redisStatus().writtenThrough == 2; }, 20s));
        CHECK(worker.redisStatus().state == ServiceState::Up);
        checkRedisHolds(redis, batches);
        CHECK(worker.durableSequence() == 0); // nothing committed past what PostgreSQL lacks
        const auto t0 = Clock::now();
        CHECK_FALSE(worker.stop(500ms));
        CHECK(Clock::now() - t0 < 5s);
    }
    SECTION("Redis")
    {
        const std::string db = freshDatabase(pg);
        SinkSettings settings = quickSettings();
        settings.postgres = targetFor(pg, db);
        settings.redis = redisTarget(redis, wrong);
        SinkWorker worker(settings);
        worker.start();
        worker.submit(batchOf(0, true));
        REQUIRE(waitUntil([&] { return worker.redisStatus().state == ServiceState::Down; }, 20s));
        const SinkStatus rs = worker.redisStatus();
        CHECK_THAT(rs.lastError, Contains("Redis"));
        CHECK_THAT(rs.lastError, Contains("password"));
        CHECK_THAT(rs.lastError, !Contains(wrong));
        CHECK(rs.bufferedRows == 15); // 9 page and 6 funnel keys
        // PostgreSQL writes on, and (PostgreSQL being the record) the durable point moves.
        REQUIRE(waitUntil([&] { return worker.durableSequence() == 1; }, 20s));
        CHECK(worker.postgresStatus().state == ServiceState::Up);
        CHECK(worker.postgresStatus().writtenRows == kRowsPerBatch);
        const auto t0 = Clock::now();
        CHECK_FALSE(worker.stop(500ms));
        CHECK(Clock::now() - t0 < 5s);
        CHECK(worker.redisStatus().bufferedRows == 15);
    }
}

TEST_CASE("against servers that accept connections and never answer, submit never blocks and "
          "stop returns within its time",
          "[sinkworker][servers]")
{
    SilentTcpServer silentPg;
    SilentTcpServer silentRedis;
    REQUIRE(silentPg.port() > 0);
    REQUIRE(silentRedis.port() > 0);
    SinkSettings settings = quickSettings();
    settings.postgres = PostgresTarget{"host=127.0.0.1 port=" + std::to_string(silentPg.port()) +
                                           " dbname=studio user=studio connect_timeout=2",
                                       "hung-server-secret"};
    settings.redis = RedisTarget{"127.0.0.1", silentRedis.port(), "", "hung-server-secret", 0};
    settings.connectTimeout = 2s;
    settings.maxBufferedRows = 100;
    SinkWorker worker(settings);
    worker.start();

    double slowest = 0;
    std::size_t rows = 0;
    for (int v = 0; v < 30; ++v) {
        const auto t0 = Clock::now();
        worker.submit(batchOf(v, v % 5 == 0));
        RedisBatch live;
        live.funnel.push_back({kT0, kT0 + kMinute, "prod_0042", 1, 0, 0, false, false});
        worker.submitLive(std::move(live));
        slowest =
            std::max(slowest, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        rows += kRowsPerBatch;
        std::this_thread::sleep_for(50ms);
    }
    CHECK(slowest < double(kQuick.count()));
    CHECK(worker.backPressure());
    REQUIRE(waitUntil(
        [&] {
            return worker.postgresStatus().state == ServiceState::Down &&
                   worker.redisStatus().state == ServiceState::Down;
        },
        30s));
    CHECK_THAT(worker.postgresStatus().lastError, Contains("PostgreSQL at"));
    CHECK_THAT(worker.postgresStatus().lastError, !Contains("hung-server-secret"));
    CHECK_THAT(worker.redisStatus().lastError, Contains("Redis"));
    CHECK_THAT(worker.redisStatus().lastError, !Contains("hung-server-secret"));
    CHECK(worker.postgresStatus().bufferedRows == rows);
    CHECK(worker.redisStatus().liveRows == 1);

    const auto t0 = Clock::now();
    CHECK_FALSE(worker.stop(1s));
    CHECK(Clock::now() - t0 < 1s + settings.stopGrace + 2s);
    CHECK(worker.postgresStatus().bufferedRows == rows); // left over, reported
    CHECK(worker.durableSequence() == 0);
}
