#include "core/kafka/embeddedbroker.h"
#include "core/monitor/alerts.h"
#include "core/monitor/health.h"

#include "kafkatestsupport.h"
#include "serversupport.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

ServiceState stateOf(const HealthMonitor &monitor, const std::string &name)
{
    const auto snapshot = monitor.snapshot();
    const ServiceHealth *service = snapshot->find(name);
    return service ? service->current.state : ServiceState::Unknown;
}

std::string errorOf(const HealthMonitor &monitor, const std::string &name)
{
    const auto snapshot = monitor.snapshot();
    const ServiceHealth *service = snapshot->find(name);
    return service ? service->current.error : std::string("(no such service)");
}

bool waitForState(const HealthMonitor &monitor, const std::string &name, ServiceState state,
                  std::chrono::seconds timeout)
{
    return waitFor([&] { return stateOf(monitor, name) == state; }, timeout);
}

bool historyHas(const ServiceHealth &service, ServiceState state)
{
    for (std::size_t i = 0; i < service.stateHistory.size(); ++i)
        if (service.stateHistory[i].value == stateValue(state))
            return true;
    return false;
}

#define REQUIRE_SERVER(Server)                                                                     \
    do {                                                                                           \
        std::string why_;                                                                          \
        if (!Server::available(&why_)) {                                                           \
            WARN("skipped: " << why_);                                                             \
            return;                                                                                \
        }                                                                                          \
    } while (false)

} // namespace

TEST_CASE("service states have the names the UI shows", "[health]")
{
    CHECK(toString(ServiceState::Unknown) == "unknown");
    CHECK(toString(ServiceState::Up) == "up");
    CHECK(toString(ServiceState::Degraded) == "degraded");
    CHECK(toString(ServiceState::Down) == "down");
    CHECK(toString(ServiceState::NotConfigured) == "not configured");
}

TEST_CASE("a Redis probe is up with a latency, down when the server stops, up when it returns",
          "[health][redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));

    HealthMonitor monitor;
    REQUIRE(monitor.addProbe(makeRedisProbe("redis", {redis.host(), redis.port(), "", ""}), 1000ms,
                             &error));
    monitor.start(200ms);
    REQUIRE(waitForState(monitor, "redis", ServiceState::Up, 10s));
    {
        const auto snapshot = monitor.snapshot();
        const ServiceHealth *service = snapshot->find("redis");
        REQUIRE(service);
        CHECK(service->kind == "redis");
        CHECK(service->current.latencyMs > 0);
        CHECK(service->current.latencyMs < 1000);
        CHECK(service->current.error.empty());
        CHECK(service->current.atMs > 0);
        CHECK(service->lastChangeAtMs > 0);
        CHECK(service->latencyHistory.size() >= 1);
    }

    redis.stop();
    const auto stoppedAt = Clock::now();
    REQUIRE(waitForState(monitor, "redis", ServiceState::Down, 10s));
    CHECK(Clock::now() - stoppedAt < 5s);
    const std::string downError = errorOf(monitor, "redis");
    INFO(downError);
    CHECK(downError.find("connect to 127.0.0.1:" + std::to_string(redis.port())) == 0);

    REQUIRE(redis.start(&error));
    REQUIRE(waitForState(monitor, "redis", ServiceState::Up, 15s));
    // A second keeps its worst state: the newest second is all "up" once a probe of a new second
    // came in after the recovery.
    REQUIRE(waitFor(
        [&] { return monitor.snapshot()->find("redis")->stateHistory.last().value == 1; }, 10s));
    const auto snapshot = monitor.snapshot();
    const ServiceHealth *service = snapshot->find("redis");
    CHECK(service->lastError == downError); // the last error outlives the recovery
    CHECK(service->lastErrorAtMs > 0);
    CHECK(historyHas(*service, ServiceState::Up));
    CHECK(historyHas(*service, ServiceState::Down));
    monitor.stop();
}

TEST_CASE("a wrong Redis password is an authentication failure that does not show the password",
          "[health][redis]")
{
    REQUIRE_SERVER(RedisServer);
    RedisServer redis({"default-pass-1234", "alice", "alice-pass-5678"});
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));
    auto probeWith = [&](std::string user, std::string password) {
        auto probe = makeRedisProbe("redis", {redis.host(), redis.port(), user, password});
        return probe->probe(2000ms);
    };

    CHECK(probeWith("", "default-pass-1234").state == ServiceState::Up);
    CHECK(probeWith("alice", "alice-pass-5678").state == ServiceState::Up);

    const ProbeResult wrong = probeWith("", "wrong-pass-9999");
    INFO(wrong.error);
    CHECK(wrong.state == ServiceState::Down);
    CHECK(wrong.error.find("authentication failed") != std::string::npos);
    CHECK(wrong.error.find("wrong-pass-9999") == std::string::npos);

    const ProbeResult wrongUser = probeWith("alice", "default-pass-1234");
    INFO(wrongUser.error);
    CHECK(wrongUser.state == ServiceState::Down);
    CHECK(wrongUser.error.find("authentication failed for user alice") != std::string::npos);
    CHECK(wrongUser.error.find("default-pass-1234") == std::string::npos);

    const ProbeResult none = probeWith("", "");
    INFO(none.error);
    CHECK(none.state == ServiceState::Down);
    CHECK(none.error.find("authentication required") != std::string::npos);
}

TEST_CASE("a PostgreSQL probe is up, down when the server stops, up when it returns",
          "[health][postgres]")
{
    REQUIRE_SERVER(PostgresServer);
    PostgresServer pg;
    std::string error;
    INFO(error);
    REQUIRE(pg.start(&error));

    // A wrong password first: the message says so and does not repeat the password.
    const ProbeResult wrong =
        makePostgresProbe("postgresql", {pg.connectionString(), "not-the-password-42"})
            ->probe(3000ms);
    INFO(wrong.error);
    CHECK(wrong.state == ServiceState::Down);
    CHECK(wrong.error.find("password authentication failed") != std::string::npos);
    CHECK(wrong.error.find("not-the-password-42") == std::string::npos);

    HealthMonitor monitor;
    REQUIRE(monitor.addProbe(
        makePostgresProbe("postgresql", {pg.connectionString(), pg.password()}), 3000ms, &error));
    monitor.start(300ms);
    REQUIRE(waitForState(monitor, "postgresql", ServiceState::Up, 15s));
    CHECK(monitor.snapshot()->find("postgresql")->kind == "postgresql");

    pg.stop();
    REQUIRE(waitForState(monitor, "postgresql", ServiceState::Down, 15s));
    const std::string downError = errorOf(monitor, "postgresql");
    INFO(downError);
    CHECK(!downError.empty());
    CHECK(downError.find(pg.password()) == std::string::npos);

    REQUIRE(pg.start(&error));
    REQUIRE(waitForState(monitor, "postgresql", ServiceState::Up, 20s));
    monitor.stop();
}

TEST_CASE("a hung server is down as timed out while the other probes keep updating",
          "[health][timeout]")
{
    SilentTcpServer silent;
    REQUIRE(silent.port() > 0);

    // A check that blocks until released: the monitor must report it without its answer.
    std::mutex mutex;
    std::condition_variable released;
    bool release = false;
    std::atomic<int> hungCalls{0};
    std::atomic<int> concurrent{0};
    std::atomic<int> maxConcurrent{0};
    auto hung = makeFunctionProbe("hung", "function", [&] {
        ++hungCalls;
        maxConcurrent = std::max(maxConcurrent.load(), ++concurrent);
        std::unique_lock lock(mutex);
        released.wait(lock, [&] { return release; });
        --concurrent;
        return ProbeResult{ServiceState::Up, 1, "", 0};
    });
    std::atomic<int> steadyCalls{0};
    auto steady = makeFunctionProbe("steady", "function", [&] {
        ++steadyCalls;
        return ProbeResult{ServiceState::Up, 1, "", 0};
    });

    HealthMonitor monitor;
    std::string error;
    REQUIRE(monitor.addProbe(std::move(hung), 500ms, &error));
    REQUIRE(monitor.addProbe(std::move(steady), 500ms, &error));
    REQUIRE(monitor.addProbe(makeRedisProbe("redis", {"127.0.0.1", silent.port(), "", ""}), 500ms,
                             &error));
    REQUIRE(monitor.addProbe(
        makePostgresProbe("postgresql", {"host=127.0.0.1 port=" + std::to_string(silent.port()) +
                                             " dbname=x user=x",
                                         "secret-pw-1"}),
        500ms, &error));
    const auto started = Clock::now();
    monitor.start(200ms);

    REQUIRE(waitForState(monitor, "hung", ServiceState::Down, 10s));
    const auto hungDownAfter = Clock::now() - started;
    CHECK(hungDownAfter < 4s); // 500 ms timeout + 100 ms grace, on a loaded machine
    CHECK(errorOf(monitor, "hung") == "timed out after 500 ms");
    REQUIRE(waitForState(monitor, "redis", ServiceState::Down, 10s));
    CHECK(errorOf(monitor, "redis").find("timed out after 500 ms") != std::string::npos);
    REQUIRE(waitForState(monitor, "postgresql", ServiceState::Down, 10s));
    CHECK(errorOf(monitor, "postgresql").find("timed out after 500 ms") != std::string::npos);

    // The steady probe keeps answering while "hung" stays blocked in its first call.
    const int steadyBefore = steadyCalls;
    REQUIRE(waitFor([&] { return steadyCalls >= steadyBefore + 5; }, 10s));
    CHECK(stateOf(monitor, "steady") == ServiceState::Up);
    CHECK(hungCalls == 1);
    CHECK(maxConcurrent == 1);
    {
        const auto snapshot = monitor.snapshot();
        CHECK(snapshot->find("hung")->timeouts == 1);
        CHECK(snapshot->find("hung")->current.state == ServiceState::Down);
    }

    {
        std::lock_guard lock(mutex);
        release = true;
    }
    released.notify_all();
    // Its late answer still counts as a timeout; the next call is on time and up.
    REQUIRE(waitFor([&] { return hungCalls >= 2; }, 10s));
    REQUIRE(waitForState(monitor, "hung", ServiceState::Up, 10s));
    CHECK(maxConcurrent == 1);
    monitor.stop();
}

TEST_CASE("stopping the monitor does not wait for a hung probe", "[health][timeout]")
{
    // The gate is shared with the probe: the call left running after stop() may still touch it.
    struct Gate
    {
        std::mutex mutex;
        std::condition_variable cv;
        bool open = false;
        std::atomic<bool> entered{false};
        std::atomic<bool> left{false};
    };
    auto gate = std::make_shared<Gate>();
    std::string error;
    {
        HealthMonitor monitor;
        REQUIRE(
            monitor.addProbe(makeFunctionProbe("hung", "function",
                                               [gate] {
                                                   gate->entered = true;
                                                   std::unique_lock lock(gate->mutex);
                                                   gate->cv.wait(lock, [&] { return gate->open; });
                                                   gate->left = true;
                                                   return ProbeResult{ServiceState::Up, 1, "", 0};
                                               }),
                             300ms, &error));
        monitor.start(100ms);
        REQUIRE(waitFor([&] { return gate->entered.load(); }, 10s));
        const auto before = Clock::now();
        monitor.stop();
        CHECK(Clock::now() - before < 2s);
        CHECK_FALSE(gate->left);
    } // the monitor is gone while the call still blocks
    {
        std::lock_guard lock(gate->mutex);
        gate->open = true;
    }
    gate->cv.notify_all();
    CHECK(waitFor([&] { return gate->left.load(); }, 10s));
}

TEST_CASE("the Kafka probe follows the embedded broker down and back up", "[health][kafka]")
{
    EmbeddedBroker broker;
    EmbeddedBroker::Options options;
    options.partitions = 2;
    std::string error;
    INFO(error);
    REQUIRE(broker.start(options, &error));

    HealthMonitor monitor;
    REQUIRE(monitor.addProbe(makeKafkaProbe("kafka", broker.clusterConfig()), 1500ms, &error));
    monitor.start(300ms);
    REQUIRE(waitForState(monitor, "kafka", ServiceState::Up, 15s));
    CHECK(monitor.snapshot()->find("kafka")->kind == "kafka");

    for (int id = 1; id <= options.brokers; ++id)
        broker.setBrokerDown(id, true);
    REQUIRE(waitForState(monitor, "kafka", ServiceState::Down, 20s));
    INFO(errorOf(monitor, "kafka"));
    CHECK(!errorOf(monitor, "kafka").empty());

    for (int id = 1; id <= options.brokers; ++id)
        broker.setBrokerDown(id, false);
    REQUIRE(waitForState(monitor, "kafka", ServiceState::Up, 30s));
    monitor.stop();
}

TEST_CASE("services that are not configured say so and give no service_up signal", "[health]")
{
    HealthMonitor monitor;
    std::string error;
    REQUIRE(monitor.addProbe(makeNotConfiguredProbe("aggregator", "aggregator"), 500ms, &error));
    REQUIRE(monitor.addProbe(makeRedisProbe("redis", {}), 500ms, &error));
    REQUIRE(monitor.addProbe(makePostgresProbe("postgresql", {}), 500ms, &error));
    REQUIRE(monitor.addProbe(makeKafkaProbe("kafka", ClusterConfig{}), 500ms, &error));
    REQUIRE(monitor.addProbe(makeFunctionProbe("up", "producer",
                                               [] {
                                                   return ProbeResult{ServiceState::Up, 0, "", 0};
                                               }),
                             500ms, &error));
    CHECK(monitor.snapshot()->services.size() == 5);
    CHECK(stateOf(monitor, "redis") == ServiceState::Unknown); // nothing probed yet

    monitor.start(200ms);
    for (const char *name : {"aggregator", "redis", "postgresql", "kafka"}) {
        INFO(name);
        CHECK(waitForState(monitor, name, ServiceState::NotConfigured, 10s));
    }
    REQUIRE(waitForState(monitor, "up", ServiceState::Up, 10s));
    std::vector<Signal> signals;
    appendHealthSignals(*monitor.snapshot(), signals);
    REQUIRE(signals.size() == 1);
    CHECK(signals[0].name == "service_up");
    CHECK(signals[0].labels == Labels{{"service", "up"}});
    CHECK(signals[0].value == 1);
}

TEST_CASE("probe names are unique and probes can be removed", "[health]")
{
    HealthMonitor monitor;
    std::string error;
    REQUIRE(monitor.addProbe(makeNotConfiguredProbe("redis", "redis"), 500ms, &error));
    CHECK_FALSE(monitor.addProbe(makeNotConfiguredProbe("redis", "redis"), 500ms, &error));
    CHECK(error.find("'redis' exists already") != std::string::npos);
    CHECK_FALSE(monitor.addProbe(nullptr, 500ms, &error));
    CHECK_FALSE(monitor.probeNow("redis")); // not running
    monitor.start(10s);
    CHECK(monitor.probeNow("redis"));
    CHECK_FALSE(monitor.probeNow("nope"));
    CHECK(monitor.removeProbe("redis"));
    CHECK_FALSE(monitor.removeProbe("redis"));
    CHECK(monitor.snapshot()->services.empty());
    monitor.stop();
    CHECK_FALSE(monitor.isRunning());
}

TEST_CASE("producer and aggregator health follow deliveries and lag status", "[health]")
{
    CHECK(producerHealth(100, 0, "").state == ServiceState::Up);
    CHECK(producerHealth(100, 3, "x").state == ServiceState::Degraded);
    const ProbeResult down = producerHealth(0, 5, "Local: Message timed out");
    CHECK(down.state == ServiceState::Down);
    CHECK(down.error == "5 deliveries failed, 0 acknowledged: Local: Message timed out");

    CHECK(aggregatorHealth(LagStatus::Ok, 0, 0).state == ServiceState::Up);
    CHECK(aggregatorHealth(LagStatus::Unknown, 0, 0).state == ServiceState::Up);
    CHECK(aggregatorHealth(LagStatus::Warn, 0, 0).state == ServiceState::Degraded);
    CHECK(aggregatorHealth(LagStatus::Stop, 0, 0).state == ServiceState::Down);
    CHECK(aggregatorHealth(LagStatus::Ok, 500, 0).error == "500 invalid events/s");
    CHECK(aggregatorHealth(LagStatus::Ok, 0, 101, 100).state == ServiceState::Degraded);
}

TEST_CASE("a PostgreSQL target keeps its password out of descriptions", "[health]")
{
    const PostgresTarget target{"host=db port=5432 dbname=studio user=studio", "it's\\secret"};
    CHECK(target.connectionString(3) ==
          "host=db port=5432 dbname=studio user=studio connect_timeout=3 "
          "password='it\\'s\\\\secret'");
    CHECK(target.describe() == "host=db port=5432 dbname=studio user=studio");
    const PostgresTarget uri{"postgresql://studio@db/studio", "p@ss word"};
    CHECK(uri.connectionString(2) ==
          "postgresql://studio@db/studio?connect_timeout=2&password=p%40ss%20word");
    const PostgresTarget inline_{"host=db password='abc def' user=x", ""};
    CHECK(inline_.describe() == "host=db password=*** user=x");
}
