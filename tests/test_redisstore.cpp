// RedisStore against a real redis-server started by the test; everything written is read back
// with a plain hiredis client.

#include "core/store/redisclient.h"
#include "core/store/redisstore.h"

#include "serversupport.h"

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kW0 = 1'749'531'840'000; // 2025-06-10T05:04:00Z, seed 001's example window

#define REQUIRE_SERVER(Server)                                                                     \
    do {                                                                                           \
        std::string why_;                                                                          \
        if (!Server::available(&why_)) {                                                           \
            WARN("skipped: " << why_);                                                             \
            return;                                                                                \
        }                                                                                          \
    } while (false)

using Reply = RedisReplyPtr;

/// A plain hiredis connection for reading back what the store wrote.
class Client
{
public:
    explicit Client(const RedisServer &server, int db = 0)
    {
        m_c.reset(redisConnectWithTimeout("127.0.0.1", server.port(), {5, 0}));
        REQUIRE(m_c);
        REQUIRE(m_c->err == 0);
        if (!server.options().password.empty())
            REQUIRE(command({"AUTH", server.options().password})->type != REDIS_REPLY_ERROR);
        if (db != 0)
            REQUIRE(command({"SELECT", std::to_string(db)})->type != REDIS_REPLY_ERROR);
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    Reply command(const std::vector<std::string> &args)
    {
        Reply r = redisCommandArgs(m_c.get(), args);
        REQUIRE(r);
        return r;
    }
    std::map<std::string, std::string> hgetall(const std::string &key)
    {
        const Reply r = command({"HGETALL", key});
        std::map<std::string, std::string> out;
        for (std::size_t i = 0; i + 1 < r->elements; i += 2)
            out[text(r->element[i])] = text(r->element[i + 1]);
        return out;
    }
    /// ZRANGE WITHSCORES as member -> score text.
    std::map<std::string, std::string> zrange(const std::string &key)
    {
        const Reply r = command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
        std::map<std::string, std::string> out;
        for (std::size_t i = 0; i + 1 < r->elements; i += 2)
            out[text(r->element[i])] = text(r->element[i + 1]);
        return out;
    }
    long long integer(const std::vector<std::string> &args)
    {
        const Reply r = command(args);
        REQUIRE(r->type == REDIS_REPLY_INTEGER);
        return r->integer;
    }
    long long ttl(const std::string &key) { return integer({"TTL", key}); }
    std::vector<std::string> keys()
    {
        const Reply r = command({"KEYS", "*"});
        std::vector<std::string> out;
        for (std::size_t i = 0; i < r->elements; ++i)
            out.push_back(text(r->element[i]));
        std::sort(out.begin(), out.end());
        return out;
    }
    /// Every key with its type and contents (not its TTL, which counts down).
    std::map<std::string, std::string> dump()
    {
        std::map<std::string, std::string> out;
        for (const std::string &key : keys()) {
            const Reply type = command({"TYPE", key});
            std::string &d = out[key];
            d = text(type.get()) + ":";
            const auto fields = d == "hash:" ? hgetall(key) : zrange(key);
            for (const auto &[k, v] : fields)
                d += std::to_string(k.size()) + ":" + k + "=" + v + ";";
        }
        return out;
    }

private:
    static std::string text(const redisReply *r) { return std::string(r->str, r->len); }
    RedisContextPtr m_c;
};

PageRow page(std::string name, std::int64_t start, std::uint64_t views, std::uint64_t clicks = 0,
             std::uint64_t carts = 0, std::uint64_t purchases = 0, bool final = false)
{
    PageRow r;
    r.windowStart = start;
    r.windowEnd = start + kMinute;
    r.page = std::move(name);
    r.views = views;
    r.clicks = clicks;
    r.addToCart = carts;
    r.purchases = purchases;
    r.final = final;
    return r;
}

FunnelRow funnel(std::string product, std::int64_t start, std::uint64_t views, std::uint64_t carts,
                 std::uint64_t purchases, bool hot = false, bool final = false)
{
    return {start, start + kMinute, std::move(product), views, carts, purchases, hot, final};
}

RedisTarget targetOf(const RedisServer &server, std::string user = {}, std::string password = {})
{
    RedisTarget t;
    t.host = server.host();
    t.port = server.port();
    t.user = std::move(user);
    t.password = std::move(password);
    return t;
}

RedisBatch sampleBatch()
{
    RedisBatch b;
    b.pages = {page("/home", kW0, 30, 4, 1, 0), page("/cart", kW0, 7, 2, 0, 1, true),
               page("/home", kW0 + kMinute, 12, 1)};
    b.funnel = {funnel("prod_0042", kW0, 200, 8, 2, true), funnel("prod_0007", kW0, 3, 1, 1)};
    return b;
}

} // namespace

TEST_CASE("window starts are written as seed 001 wrote them", "[redis]")
{
    CHECK(RedisStore::windowText(kW0) == "2025-06-10T05:04:00");
    CHECK(RedisStore::windowText(kW0 + 1500) == "2025-06-10T05:04:01.500");
    RedisStoreOptions options;
    options.keyPrefix = "app1:";
    RedisStore store(options);
    CHECK(store.clickCountKey("/home") == "app1:click_count:/home");
    CHECK(store.topPagesKey(kW0) == "app1:top_pages:2025-06-10T05:04:00");
    CHECK(store.productKey("prod_0042") == "app1:product:prod_0042");
}

TEST_CASE(
    "page and funnel rows are stored as click counts, top pages and product hashes with a TTL",
    "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));

    RedisStoreOptions options;
    options.ttl = 3600s;
    RedisStore store(options);
    REQUIRE(store.connect(targetOf(redis), 2000ms, &error));
    RedisWriteResult result;
    REQUIRE(store.write(sampleBatch(), &result, &error));
    CHECK(result.rows == 5);
    // 2 HSET + 2 EXPIRE + 2 prunes, 2 ZADD + 2 EXPIRE, 2 product scripts.
    CHECK(result.commands == 12);
    CHECK(result.bytes > 0);

    Client client(redis);
    using Fields = std::map<std::string, std::string>;
    CHECK(client.hgetall("click_count:/home") ==
          Fields{{"2025-06-10T05:04:00", "35"}, {"2025-06-10T05:05:00", "13"}});
    CHECK(client.hgetall("click_count:/cart") == Fields{{"2025-06-10T05:04:00", "10"}});
    CHECK(client.zrange("top_pages:2025-06-10T05:04:00") ==
          Fields{{"/cart", "7"}, {"/home", "30"}});
    CHECK(client.zrange("top_pages:2025-06-10T05:05:00") == Fields{{"/home", "12"}});
    CHECK(client.hgetall("product:prod_0042") == Fields{{"window_start", "2025-06-10T05:04:00"},
                                                        {"window_end", "2025-06-10T05:05:00"},
                                                        {"views", "200"},
                                                        {"add_to_cart", "8"},
                                                        {"purchases", "2"},
                                                        {"conversion", "0.01"},
                                                        {"hot_low_conversion", "1"},
                                                        {"final", "0"}});
    CHECK(client.hgetall("product:prod_0007").at("conversion") == "0.3333333333333333");
    CHECK(client.keys().size() == 6);
    for (const std::string &key : client.keys()) {
        INFO(key);
        const long long ttl = client.ttl(key);
        CHECK(ttl > 3500);
        CHECK(ttl <= 3600);
    }

    const RedisStoreStats stats = store.stats();
    CHECK(stats.connected);
    CHECK(stats.writes == 1);
    CHECK(stats.rows == 5);
    CHECK(stats.commands == 12);
    CHECK(stats.connects == 1);
    double latency = -1;
    CHECK(store.ping(&latency, &error));
    CHECK(latency >= 0);
}

TEST_CASE("writing the same rows twice leaves identical contents and a bigger count overwrites",
          "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStore store;
    REQUIRE(store.connect(targetOf(redis), 2000ms, &error));
    Client client(redis);

    REQUIRE(store.write(sampleBatch(), nullptr, &error));
    const auto first = client.dump();
    REQUIRE(store.write(sampleBatch(), nullptr, &error));
    CHECK(client.dump() == first);

    // Later values of the same windows: absolute, so they replace the old ones.
    RedisBatch later;
    later.pages = {page("/home", kW0, 50, 5, 2, 1, true)};
    later.funnel = {funnel("prod_0042", kW0, 300, 9, 3, false, true)};
    REQUIRE(store.write(later, nullptr, &error));
    CHECK(client.hgetall("click_count:/home").at("2025-06-10T05:04:00") == "58");
    CHECK(client.zrange("top_pages:2025-06-10T05:04:00").at("/home") == "50");
    const auto product = client.hgetall("product:prod_0042");
    CHECK(product.at("views") == "300");
    CHECK(product.at("purchases") == "3");
    CHECK(product.at("final") == "1");
    CHECK(product.at("hot_low_conversion") == "0");
}

TEST_CASE("within a batch the last row wins and a product keeps its newest window", "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStore store;
    REQUIRE(store.connect(targetOf(redis), 2000ms, &error));
    Client client(redis);

    RedisBatch batch; // a live row, then the final row of the same window
    batch.pages = {page("/home", kW0, 10), page("/home", kW0, 11, 0, 0, 0, true)};
    batch.funnel = {funnel("p1", kW0 + kMinute, 5, 1, 0), funnel("p1", kW0, 90, 9, 9, false, true)};
    REQUIRE(store.write(batch, nullptr, &error));
    CHECK(client.hgetall("click_count:/home").at("2025-06-10T05:04:00") == "11");
    CHECK(client.zrange("top_pages:2025-06-10T05:04:00").at("/home") == "11");
    CHECK(client.hgetall("product:p1").at("window_start") == "2025-06-10T05:05:00");

    // The older window's final row arriving alone later does not take the product hash back.
    RedisBatch old;
    old.funnel = {funnel("p1", kW0, 95, 9, 9, false, true)};
    REQUIRE(store.write(old, nullptr, &error));
    const auto product = client.hgetall("product:p1");
    CHECK(product.at("window_start") == "2025-06-10T05:05:00");
    CHECK(product.at("views") == "5");
    CHECK(client.ttl("product:p1") > 0);
}

TEST_CASE("10,000 rows go out in one pipelined call", "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStoreOptions options;
    options.pipelineDepth = 1'000'000; // the whole batch appended before any reply is read
    RedisStore store(options);
    REQUIRE(store.connect(targetOf(redis), 5000ms, &error));

    RedisBatch batch;
    for (int w = 0; w < 5; ++w)
        for (int p = 0; p < 2000; ++p)
            batch.pages.push_back(
                page("/page/" + std::to_string(p), kW0 + w * kMinute, std::uint64_t(p + w), 1));
    RedisWriteResult result;
    REQUIRE(store.write(batch, &result, &error));
    CHECK(result.rows == 10'000);
    // Per page: HSET + EXPIRE + prune; per window: 4 ZADDs of 512 members or less + EXPIRE.
    CHECK(result.commands == 2000 * 3 + 5 * 5);

    Client client(redis);
    CHECK(client.keys().size() == 2005);
    for (int p = 0; p < 2000; p += 7) {
        const auto fields = client.hgetall("click_count:/page/" + std::to_string(p));
        REQUIRE(fields.size() == 5);
        for (int w = 0; w < 5; ++w)
            CHECK(fields.at(RedisStore::windowText(kW0 + w * kMinute)) ==
                  std::to_string(p + w + 1));
    }
    for (int w = 0; w < 5; ++w) {
        const auto top = client.zrange(store.topPagesKey(kW0 + w * kMinute));
        REQUIRE(top.size() == 2000);
        CHECK(top.at("/page/1999") == std::to_string(1999 + w));
    }
}

TEST_CASE("page and product names that look like protocol or injection are stored verbatim",
          "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStore store;
    REQUIRE(store.connect(targetOf(redis), 2000ms, &error));

    const std::vector<std::string> names = {"/with space",
                                            "/new\nline",
                                            "\r\n*3\r\n$3\r\nDEL\r\n$1\r\nx\r\n",
                                            "/q'uo\"te`",
                                            "/café/日本語/🙂",
                                            std::string("/nul\0byte", 9),
                                            "%s%n%d",
                                            "*",
                                            "'; FLUSHALL; --",
                                            ""};
    RedisBatch batch;
    for (std::size_t i = 0; i < names.size(); ++i) {
        batch.pages.push_back(page(names[i], kW0, i + 1));
        batch.funnel.push_back(funnel(names[i], kW0, i + 1, 0, 0));
    }
    REQUIRE(store.write(batch, nullptr, &error));

    Client client(redis);
    const auto top = client.zrange("top_pages:2025-06-10T05:04:00");
    CHECK(top.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        INFO("name #" << i);
        CHECK(client.hgetall("click_count:" + names[i]) ==
              std::map<std::string, std::string>{{"2025-06-10T05:04:00", std::to_string(i + 1)}});
        CHECK(top.at(names[i]) == std::to_string(i + 1));
        CHECK(client.hgetall("product:" + names[i]).at("views") == std::to_string(i + 1));
    }
    CHECK(client.keys().size() == 2 * names.size() + 1); // nothing else was created or deleted
}

TEST_CASE("a key prefix separates apps and a TTL of zero keeps keys", "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStoreOptions options;
    options.keyPrefix = "app1:";
    options.ttl = 0s;
    RedisStore store(options);
    REQUIRE(store.connect(targetOf(redis), 2000ms, &error));
    RedisWriteResult result;
    REQUIRE(store.write(sampleBatch(), &result, &error));
    CHECK(result.commands == 6); // 2 HSET, 2 ZADD, 2 product scripts: no EXPIRE, no pruning

    Client client(redis);
    const auto keys = client.keys();
    CHECK(keys.size() == 6);
    for (const std::string &key : keys) {
        INFO(key);
        CHECK(key.rfind("app1:", 0) == 0);
        CHECK(client.ttl(key) == -1);
    }
    CHECK(client.hgetall("app1:click_count:/home").size() == 2);
}

TEST_CASE("click count fields older than the TTL are pruned and never written", "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStoreOptions options;
    options.ttl = 3600s;
    RedisStore store(options);
    REQUIRE(store.connect(targetOf(redis), 2000ms, &error));
    Client client(redis);

    REQUIRE(store.writePages({page("/home", kW0, 1), page("/home", kW0 + kMinute, 2)}, nullptr,
                             &error));
    CHECK(client.hgetall("click_count:/home").size() == 2);
    const std::int64_t later = kW0 + 120 * kMinute; // two hours on: both fields are past the TTL
    REQUIRE(store.writePages({page("/home", later, 3)}, nullptr, &error));
    CHECK(client.hgetall("click_count:/home") ==
          std::map<std::string, std::string>{{RedisStore::windowText(later), "3"}});

    // A replayed old window in the same batch as a new one is not written back.
    REQUIRE(store.writePages({page("/home", kW0, 1), page("/home", later, 3)}, nullptr, &error));
    CHECK(client.hgetall("click_count:/home").size() == 1);
}

TEST_CASE("AUTH works with a password and with an ACL user, and wrong credentials are clear "
          "errors without the password",
          "[redis][auth]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis({"default-pass-1234", "alice", "alice-pass-5678"});
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));

    {
        RedisStore store;
        REQUIRE(store.connect(targetOf(redis, "", "default-pass-1234"), 2000ms, &error));
        REQUIRE(store.write(sampleBatch(), nullptr, &error));
    }
    {
        RedisStoreOptions options;
        options.keyPrefix = "alice:";
        RedisStore store(options);
        REQUIRE(store.connect(targetOf(redis, "alice", "alice-pass-5678"), 2000ms, &error));
        REQUIRE(store.write(sampleBatch(), nullptr, &error));
    }
    Client client(redis);
    CHECK(client.keys().size() == 12);

    auto failure = [&](RedisTarget target) {
        RedisStore store;
        std::string why;
        CHECK_FALSE(store.connect(target, 2000ms, &why));
        CHECK_FALSE(store.isConnected());
        std::string again; // and a write, which tries to connect again, says the same
        CHECK_FALSE(store.write(sampleBatch(), nullptr, &again));
        CHECK(again == why);
        CHECK(store.stats().lastError == why);
        return why;
    };
    const std::string prefix = "Redis 127.0.0.1:" + std::to_string(redis.port()) + ": ";
    const std::string wrong = failure(targetOf(redis, "", "wrong-pass-9999"));
    CHECK(wrong.rfind(prefix + "authentication failed (wrong password)", 0) == 0);
    CHECK(wrong.find("wrong-pass-9999") == std::string::npos);

    const std::string wrongUser = failure(targetOf(redis, "mallory", "alice-pass-5678"));
    CHECK(wrongUser.rfind(prefix + "authentication failed for user 'mallory'", 0) == 0);
    CHECK(wrongUser.find("alice-pass-5678") == std::string::npos);

    const std::string aliceWrong = failure(targetOf(redis, "alice", "default-pass-1234"));
    CHECK(aliceWrong.rfind(prefix + "authentication failed for user 'alice'", 0) == 0);
    CHECK(aliceWrong.find("default-pass-1234") == std::string::npos);

    const std::string none = failure(targetOf(redis));
    CHECK(none.rfind(prefix + "authentication required", 0) == 0);
    CHECK(none.find("NOAUTH") != std::string::npos);
}

TEST_CASE("a stopped server gives an error within the timeout and a restart is written to again",
          "[redis][outage]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStore store;
    REQUIRE(store.connect(targetOf(redis), 1000ms, &error));
    REQUIRE(store.write(sampleBatch(), nullptr, &error));

    redis.stop();
    for (int attempt = 0; attempt < 2; ++attempt) { // on the dead connection, then on none
        const auto start = Clock::now();
        RedisWriteResult result;
        CHECK_FALSE(store.write(sampleBatch(), &result, &error));
        const auto took = Clock::now() - start;
        CHECK(took < 5s); // refused at once; bounded by the 1 s timeout per step in any case
        CHECK(error.rfind("Redis 127.0.0.1:" + std::to_string(redis.port()) + ": ", 0) == 0);
        CHECK(error.find("connect failed") != std::string::npos);
        CHECK_FALSE(store.isConnected());
        CHECK_FALSE(store.stats().connected);
    }
    CHECK_FALSE(store.ping(nullptr, &error));
    CHECK(store.stats().failedWrites == 2);

    REQUIRE(redis.start(&error));
    REQUIRE(store.write(sampleBatch(), nullptr, &error)); // reconnects on demand
    CHECK(store.isConnected());
    CHECK(store.stats().connects == 2);
    CHECK(store.stats().writes == 2);
    Client client(redis); // the server kept nothing: all of it was written again
    CHECK(client.keys().size() == 6);
    CHECK(client.hgetall("click_count:/home").at("2025-06-10T05:04:00") == "35");

    // Restarted between two calls: the first write finds its connection dead and retries on a
    // fresh one within the same call.
    redis.stop();
    REQUIRE(redis.start(&error));
    REQUIRE(store.write(sampleBatch(), nullptr, &error));
    CHECK(store.stats().connects == 3);
}

TEST_CASE("a server that never answers times out after the configured timeout", "[redis][outage]")
{
    SilentTcpServer silent;
    REQUIRE(silent.port() != 0);
    RedisStore store;
    RedisTarget target;
    target.host = "127.0.0.1";
    target.port = silent.port();
    target.password = "secret-pass-4321";
    std::string error;
    const auto start = Clock::now();
    CHECK_FALSE(store.connect(target, 500ms, &error));
    const auto took = Clock::now() - start;
    CHECK(took >= 400ms);
    CHECK(took < 5s);
    CHECK(error ==
          "Redis 127.0.0.1:" + std::to_string(silent.port()) + ": AUTH timed out after 500 ms");

    // Nothing listening: refused at once.
    target.port = serverdetail::freeLoopbackPort();
    CHECK_FALSE(store.connect(target, 500ms, &error));
    CHECK(error.rfind("Redis 127.0.0.1:" + std::to_string(target.port) + ": connect failed", 0) ==
          0);
    CHECK(error.find("secret-pass-4321") == std::string::npos);

    RedisStore unconfigured;
    CHECK_FALSE(unconfigured.write(sampleBatch(), nullptr, &error));
    CHECK(error == "Redis: no server configured");
}

TEST_CASE("the database number of the target is selected", "[redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisTarget target = targetOf(redis);
    target.db = 3;
    RedisStore store;
    REQUIRE(store.connect(target, 2000ms, &error));
    REQUIRE(store.write(sampleBatch(), nullptr, &error));
    CHECK(Client(redis, 3).keys().size() == 6);
    CHECK(Client(redis, 0).keys().empty());

    target.db = 99;
    RedisStore bad;
    CHECK_FALSE(bad.connect(target, 2000ms, &error));
    CHECK(error.rfind("Redis 127.0.0.1:" + std::to_string(redis.port()) + ": SELECT 99 failed",
                      0) == 0);
}

TEST_CASE("a server that goes away under a big pipelined batch is an error, not a SIGPIPE",
          "[redis][outage]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    RedisStoreOptions options;
    options.pipelineDepth = 1'000'000; // megabytes in one go: write() meets the reset connection
    RedisStore store(options);
    REQUIRE(store.connect(targetOf(redis), 2000ms, &error));
    RedisBatch big;
    for (int p = 0; p < 30'000; ++p)
        big.pages.push_back(
            page("/a/rather/long/page/path/to/fill/the/socket/buffers/quickly/" + std::to_string(p),
                 kW0, 1));
    REQUIRE(store.write(big, nullptr, &error));
    redis.stop();
    // Without SIGPIPE blocked on the calling thread this would end the test process.
    CHECK_FALSE(store.write(big, nullptr, &error));
    CHECK(error.find("Redis 127.0.0.1:") == 0);
    REQUIRE(redis.start(&error));
    CHECK(store.write(big, nullptr, &error));
}
