#include "core/common/timeutil.h"
#include "core/monitor/alerts.h"
#include "core/monitor/health.h"
#include "core/monitor/webhook.h"
#include "core/store/pgschema.h"

#include "kafkatestsupport.h"
#include "serversupport.h"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000; // a fixed wall clock for the pure rule tests

Signal serviceUp(const std::string &service, double value)
{
    return {kSignalServiceUp, {{"service", service}}, value};
}

AlertRule serviceDownRule(double forSeconds)
{
    AlertRule rule;
    rule.name = "ServiceDown";
    rule.signal = kSignalServiceUp;
    rule.comparison = Comparison::Equal;
    rule.threshold = 0;
    rule.forSeconds = forSeconds;
    rule.severity = Severity::Critical;
    rule.summary = "{service} is down";
    return rule;
}

std::vector<AlertState> statesOf(const std::vector<AlertTransition> &transitions)
{
    std::vector<AlertState> out;
    for (const auto &t : transitions)
        out.push_back(t.alert.state);
    return out;
}

/// An HTTP receiver on 127.0.0.1 (a port the kernel picks) that keeps every body POSTed to
/// /hook; `failFirst` requests are answered 500.
class WebhookReceiver
{
public:
    explicit WebhookReceiver(int failFirst = 0)
        : m_failFirst(failFirst)
    {
        m_server.Post("/hook", [this](const httplib::Request &req, httplib::Response &res) {
            std::lock_guard lock(m_mutex);
            ++m_requests;
            if (m_requests <= m_failFirst) {
                res.status = 500;
                return;
            }
            m_bodies.push_back(req.body);
            m_authorization = req.get_header_value("Authorization");
            res.status = 200;
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        // stop() before the accept loop runs would be lost: wait for it (httplib 0.11 has no
        // wait_until_ready()).
        REQUIRE(waitFor([this] { return m_server.is_running(); }, std::chrono::seconds(10)));
    }
    ~WebhookReceiver()
    {
        m_server.stop();
        m_thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/hook"; }
    std::vector<std::string> bodies() const
    {
        std::lock_guard lock(m_mutex);
        return m_bodies;
    }
    int requests() const
    {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }
    std::string authorization() const
    {
        std::lock_guard lock(m_mutex);
        return m_authorization;
    }

private:
    httplib::Server m_server;
    int m_port = 0;
    int m_failFirst = 0;
    mutable std::mutex m_mutex;
    std::vector<std::string> m_bodies;
    std::string m_authorization; // of the last accepted request
    int m_requests = 0;
    std::thread m_thread;
};

} // namespace

TEST_CASE("a rule goes pending, fires after its duration and resolves", "[alerts]")
{
    AlertEngine engine({serviceDownRule(10)});
    CHECK(engine.evaluate(kT0, {serviceUp("redis", 1)}).empty());

    auto t = engine.evaluate(kT0 + 1000, {serviceUp("redis", 0)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].from == AlertState::Inactive);
    CHECK(t[0].alert.state == AlertState::Pending);
    CHECK_FALSE(t[0].notifies());
    CHECK(t[0].alert.activeSinceMs == kT0 + 1000);
    CHECK(t[0].alert.summary == "redis is down");
    CHECK(t[0].alert.severity == Severity::Critical);
    CHECK(t[0].alert.labels == Labels{{"service", "redis"}});
    REQUIRE(engine.active().size() == 1);
    CHECK(engine.active()[0].state == AlertState::Pending);

    CHECK(engine.evaluate(kT0 + 10'999, {serviceUp("redis", 0)}).empty()); // 9.999 s held
    t = engine.evaluate(kT0 + 11'000, {serviceUp("redis", 0)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].from == AlertState::Pending);
    CHECK(t[0].alert.state == AlertState::Firing);
    CHECK(t[0].notifies());
    CHECK(t[0].alert.firingSinceMs == kT0 + 11'000);
    CHECK(t[0].alert.activeSinceMs == kT0 + 1000);
    CHECK(engine.evaluate(kT0 + 20'000, {serviceUp("redis", 0)}).empty()); // stays firing

    t = engine.evaluate(kT0 + 21'000, {serviceUp("redis", 1)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].from == AlertState::Firing);
    CHECK(t[0].alert.state == AlertState::Resolved);
    CHECK(t[0].notifies());
    CHECK(t[0].alert.resolvedAtMs == kT0 + 21'000);
    CHECK(t[0].alert.firingSinceMs == kT0 + 11'000);
    CHECK(engine.active().empty());
    CHECK(statesOf(engine.history()) ==
          std::vector{AlertState::Pending, AlertState::Firing, AlertState::Resolved});

    // Down again: a fresh alert with a new start.
    t = engine.evaluate(kT0 + 30'000, {serviceUp("redis", 0)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].alert.activeSinceMs == kT0 + 30'000);
}

TEST_CASE("a pending alert that clears goes back to inactive without a notification", "[alerts]")
{
    AlertEngine engine({serviceDownRule(60)});
    engine.evaluate(kT0, {serviceUp("kafka", 0)});
    const auto t = engine.evaluate(kT0 + 30'000, {serviceUp("kafka", 1)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].from == AlertState::Pending);
    CHECK(t[0].alert.state == AlertState::Inactive);
    CHECK_FALSE(t[0].notifies());
    CHECK(engine.active().empty());
    for (const auto &h : engine.history())
        CHECK_FALSE(h.notifies());
}

TEST_CASE("alerts of different label sets are independent", "[alerts]")
{
    AlertEngine engine({serviceDownRule(5)});
    engine.evaluate(kT0, {serviceUp("redis", 0), serviceUp("kafka", 1)});
    engine.evaluate(kT0 + 3000, {serviceUp("redis", 0), serviceUp("kafka", 0)});
    auto t = engine.evaluate(kT0 + 5000, {serviceUp("redis", 0), serviceUp("kafka", 0)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].alert.labels == Labels{{"service", "redis"}});
    CHECK(t[0].alert.state == AlertState::Firing);
    t = engine.evaluate(kT0 + 8000, {serviceUp("redis", 1), serviceUp("kafka", 0)});
    REQUIRE(t.size() == 2);
    for (const auto &x : t) {
        if (x.alert.labels == Labels{{"service", "redis"}})
            CHECK(x.alert.state == AlertState::Resolved);
        else
            CHECK(x.alert.state == AlertState::Firing);
    }
    CHECK(engine.active().size() == 1);

    // Matchers pick label sets; label order in a signal does not matter.
    AlertRule onlyRedis = serviceDownRule(0);
    onlyRedis.name = "RedisDown";
    onlyRedis.matchers = {{"service", "redis"}};
    AlertEngine matching({onlyRedis});
    t = matching.evaluate(
        kT0, {serviceUp("kafka", 0), {kSignalServiceUp, {{"zone", "a"}, {"service", "redis"}}, 0}});
    REQUIRE(t.size() == 1);
    CHECK(t[0].alert.state == AlertState::Firing); // for 0: fires at once
    CHECK(t[0].alert.labels == Labels{{"service", "redis"}, {"zone", "a"}});
}

TEST_CASE("a signal that disappears, a removed rule or a disabled rule resolve their alerts",
          "[alerts]")
{
    AlertRule lag;
    lag.name = "LagHigh";
    lag.signal = kSignalLagSeconds;
    lag.comparison = Comparison::Greater;
    lag.threshold = 30;
    lag.summary = "{group} {$value} s behind, limit {$threshold}, rule {$rule}, {unknown}";
    AlertEngine engine({serviceDownRule(0), lag});
    auto t =
        engine.evaluate(kT0, {serviceUp("redis", 0), {kSignalLagSeconds, {{"group", "g"}}, 45}});
    REQUIRE(t.size() == 2);
    CHECK(t[1].alert.summary == "g 45 s behind, limit 30, rule LagHigh, {unknown}");

    t = engine.evaluate(kT0 + 1000, {serviceUp("redis", 0)}); // lag signal gone
    REQUIRE(t.size() == 1);
    CHECK(t[0].alert.rule == "LagHigh");
    CHECK(t[0].alert.state == AlertState::Resolved);

    REQUIRE(engine.setEnabled("ServiceDown", false));
    t = engine.evaluate(kT0 + 2000, {serviceUp("redis", 0)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].alert.state == AlertState::Resolved);
    REQUIRE(engine.setEnabled("ServiceDown", true));
    CHECK(engine.evaluate(kT0 + 3000, {serviceUp("redis", 0)}).size() == 1);
    REQUIRE(engine.removeRule("ServiceDown"));
    t = engine.evaluate(kT0 + 4000, {serviceUp("redis", 0)});
    REQUIRE(t.size() == 1);
    CHECK(t[0].alert.state == AlertState::Resolved);
    CHECK(engine.active().empty());

    // NaN never satisfies a condition.
    AlertEngine nan({lag});
    CHECK(nan.evaluate(kT0, {{kSignalLagSeconds, {}, std::nan("")}}).empty());
}

TEST_CASE("the default rules cover service down, lag, dead letters and the hot product", "[alerts]")
{
    const auto rules = defaultAlertRules();
    auto find = [&](const std::string &signal) -> const AlertRule & {
        for (const auto &r : rules)
            if (r.signal == signal)
                return r;
        FAIL("no default rule on " << signal);
        return rules.front();
    };
    const AlertRule &down = find("service_up");
    CHECK(down.comparison == Comparison::Equal);
    CHECK(down.threshold == 0);
    CHECK(down.forSeconds == 120); // seed 001: down for 2 minutes
    CHECK(down.severity == Severity::Critical);
    CHECK(find("lag_status_ok").forSeconds == 60);
    CHECK(find("lag_seconds").threshold == 30);
    CHECK(find("lag_seconds").comparison == Comparison::Greater);
    CHECK(find("dead_letter_rate").threshold == 100);
    CHECK(find("hot_low_conversion").severity == Severity::Info);
    for (const auto &r : rules) {
        INFO(r.name);
        CHECK(r.validate().empty());
        CHECK(r.enabled);
        CHECK(!r.summary.empty());
    }
    AlertEngine engine;
    CHECK(engine.rules().size() == rules.size());
}

TEST_CASE("rules survive a save and a load, and edits are validated", "[alerts]")
{
    auto rules = defaultAlertRules();
    rules[0].matchers = {{"service", "redis"}, {"env", "prod"}};
    rules[1].enabled = false;
    rules[2].forSeconds = 12.5;
    TempFile file;
    std::string error;
    INFO(error);
    REQUIRE(saveAlertRules(file.path, rules, &error));
    const auto loaded = loadAlertRules(file.path, &error);
    REQUIRE(loaded);
    REQUIRE(loaded->size() == rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const AlertRule &a = rules[i];
        const AlertRule &b = (*loaded)[i];
        INFO(a.name);
        CHECK(b.name == a.name);
        CHECK(b.signal == a.signal);
        CHECK(b.comparison == a.comparison);
        CHECK(b.threshold == a.threshold);
        CHECK(b.forSeconds == a.forSeconds);
        CHECK(b.severity == a.severity);
        CHECK(b.summary == a.summary);
        CHECK(b.enabled == a.enabled);
    }
    CHECK((*loaded)[0].matchers == Labels{{"env", "prod"}, {"service", "redis"}});

    AlertEngine engine(*loaded);
    AlertRule extra = serviceDownRule(1);
    CHECK_FALSE(engine.addRule(extra, &error)); // ServiceDown exists
    CHECK(error.find("same name") != std::string::npos);
    extra.name = "Extra";
    extra.forSeconds = -1;
    CHECK_FALSE(engine.addRule(extra, &error));
    CHECK(error.find("\"for\"") != std::string::npos);
    extra.forSeconds = 1;
    CHECK(engine.addRule(extra, &error));
    extra.threshold = 5;
    CHECK(engine.updateRule(extra, &error));
    CHECK(engine.rules().back().threshold == 5);
    extra.name = "Missing";
    CHECK_FALSE(engine.updateRule(extra, &error));
}

TEST_CASE("bad rule files are refused with messages naming the rule and the field", "[alerts]")
{
    auto refuse = [](const std::string &text) {
        std::string error;
        CHECK_FALSE(parseAlertRules(text, &error));
        return error;
    };
    auto rule = [](const std::string &fields) {
        return R"({"version":1,"rules":[{"name":"ok","signal":"s","comparison":">","threshold":1},
                  {"name":"bad","signal":"service_up","comparison":"==","threshold":0)" +
               fields + "}]}";
    };
    CHECK(refuse("{not json").find("not valid JSON") == 0);
    CHECK(refuse("[]").find("\"rules\" array") != std::string::npos);
    CHECK(refuse(R"({"version":2,"rules":[]})").find("unsupported version 2") == 0);
    CHECK(refuse(R"({"rules":[{"name":"bad","signal":"s","comparison":"=>","threshold":1}]})") ==
          "rule 1 (\"bad\"): field \"comparison\": unknown comparison \"=>\" "
          "(use >, >=, <, <=, == or !=)");
    CHECK(refuse(rule(R"(,"for":-5)")) == "rule 2 (\"bad\"): field \"for\" must be a number of "
                                          "seconds >= 0");
    CHECK(refuse(rule(R"(,"severity":"fatal")")) ==
          "rule 2 (\"bad\"): field \"severity\": unknown severity \"fatal\" "
          "(use info, warning or critical)");
    CHECK(refuse(rule(R"(,"fro":60)")) == "rule 2 (\"bad\"): unknown field \"fro\"");
    CHECK(refuse(rule(R"(,"for":"2m")")) == "rule 2 (\"bad\"): field \"for\" must be a number of "
                                            "seconds");
    CHECK(refuse(rule(R"(,"labels":{"service":3})")) ==
          "rule 2 (\"bad\"): label \"service\" must be a string");
    CHECK(refuse(R"({"rules":[{"signal":"s","comparison":">","threshold":1}]})") ==
          "rule 1: missing field \"name\"");
    CHECK(refuse(R"({"rules":[{"name":"a","signal":"bad name","comparison":">","threshold":1}]})")
              .find("rule 1 (\"a\"): field \"signal\"") == 0);
    CHECK(refuse(R"({"rules":[{"name":"a","signal":"s","comparison":">","threshold":1},
                              {"name":"a","signal":"s","comparison":"<","threshold":1}]})") ==
          "rule 2 (\"a\"): another rule has the same name");

    TempFile file;
    {
        std::ofstream out(file.path);
        out << rule(R"(,"for":-1)");
    }
    std::string error;
    CHECK_FALSE(loadAlertRules(file.path, &error));
    CHECK(error.find(file.path + ": rule 2 (\"bad\")") == 0);
    CHECK_FALSE(loadAlertRules("/nonexistent/rules.json", &error));
    CHECK(error.find("cannot read /nonexistent/rules.json") == 0);
}

TEST_CASE("webhook bodies follow Alertmanager's format", "[alerts][webhook]")
{
    AlertEngine engine({serviceDownRule(0)});
    const auto firing = engine.evaluate(kT0, {serviceUp("redis", 0), serviceUp("kafka", 0)});
    REQUIRE(firing.size() == 2);
    json body = json::parse(webhookBody(firing, "studio", "http://studio.local"));
    CHECK(body["version"] == "4");
    CHECK(body["status"] == "firing");
    CHECK(body["receiver"] == "studio");
    CHECK(body["groupKey"] == "{}:{alertname=\"ServiceDown\"}");
    CHECK(body["groupLabels"] == json{{"alertname", "ServiceDown"}});
    CHECK(body["commonLabels"] == json{{"alertname", "ServiceDown"}, {"severity", "critical"}});
    CHECK(body["externalURL"] == "http://studio.local");
    REQUIRE(body["alerts"].size() == 2);
    const json &a = body["alerts"][0];
    CHECK(a["status"] == "firing");
    CHECK(a["labels"]["alertname"] == "ServiceDown");
    CHECK(a["labels"]["severity"] == "critical");
    CHECK(a["labels"].contains("service"));
    CHECK(a["annotations"]["summary"].get<std::string>().find(" is down") != std::string::npos);
    CHECK(a["startsAt"] == formatIsoMs(kT0));
    CHECK(a["endsAt"] == "0001-01-01T00:00:00Z");
    CHECK(a["fingerprint"].get<std::string>().size() == 16);
    CHECK(a["fingerprint"] != body["alerts"][1]["fingerprint"]);

    const auto resolved = engine.evaluate(kT0 + 5000, {serviceUp("redis", 1)});
    REQUIRE(resolved.size() == 2);
    body = json::parse(webhookBody(resolved, "studio", ""));
    CHECK(body["status"] == "resolved");
    CHECK(body["alerts"][0]["endsAt"] == formatIsoMs(kT0 + 5000));
    CHECK(body["alerts"][0]["startsAt"] == formatIsoMs(kT0));
    CHECK(alertFingerprint("ServiceDown", {{"service", "redis"}}) ==
          alertFingerprint("ServiceDown", {{"service", "redis"}}));
}

TEST_CASE("the webhook retries a failing receiver, gives up on a dead one and never blocks",
          "[alerts][webhook]")
{
    AlertEngine engine({serviceDownRule(0)});
    const auto firing = engine.evaluate(wallClockMs(), {serviceUp("redis", 0)});
    std::string error;

    WebhookReceiver flaky(2); // two 500s, then 200
    WebhookSettings settings;
    settings.url = flaky.url();
    settings.initialBackoff = 50ms;
    WebhookNotifier notifier(settings);
    REQUIRE(notifier.start(&error));
    notifier.notify(firing);
    REQUIRE(notifier.waitIdle(20s));
    CHECK(notifier.stats().sent == 1);
    CHECK(notifier.stats().retries == 2);
    CHECK(notifier.stats().lastStatus == 200);
    CHECK(flaky.requests() == 3);
    CHECK(flaky.bodies().size() == 1);
    notifier.stop();

    SilentTcpServer silentPort; // nothing answers there
    WebhookSettings dead;
    dead.url = "http://user:hook-secret@127.0.0.1:" + std::to_string(silentPort.port()) + "/x";
    dead.timeout = 300ms;
    dead.maxAttempts = 2;
    dead.initialBackoff = 50ms;
    dead.queueCapacity = 2;
    WebhookNotifier deadNotifier(dead);
    REQUIRE(deadNotifier.start(&error));
    const auto before = Clock::now();
    for (int i = 0; i < 5; ++i)
        deadNotifier.notify(firing);
    CHECK(Clock::now() - before < 1s); // queued, not sent, on this thread
    REQUIRE(waitFor([&] { return deadNotifier.stats().failed >= 2; }, 20s));
    const WebhookStats s = deadNotifier.stats();
    CHECK(s.dropped >= 2);
    CHECK(s.failed + s.dropped + s.pending + s.sent == 5);
    INFO(s.lastError);
    CHECK(s.lastError.find("webhook POST to 127.0.0.1:") == 0);
    CHECK(s.lastError.find("hook-secret") == std::string::npos);
    deadNotifier.stop(0ms);

    WebhookSettings bad;
    bad.url = "ftp://x/y";
    CHECK_FALSE(WebhookNotifier(bad).start(&error));
    CHECK(error.find("http or https") != std::string::npos);
    bad.url = "http://host:99999/";
    CHECK(bad.validate().find("not a port number") != std::string::npos);
}

// The command line refuses a webhook URL with a password (CLICKSTREAM_WEBHOOK_PASSWORD instead):
// the user stays in the URL and the password comes from the settings.
TEST_CASE("the webhook sends basic auth with the password given beside the URL",
          "[alerts][webhook]")
{
    AlertEngine engine({serviceDownRule(0)});
    const auto firing = engine.evaluate(wallClockMs(), {serviceUp("redis", 0)});
    WebhookReceiver receiver;
    WebhookSettings settings;
    settings.url = receiver.url();
    settings.url.insert(settings.url.find("127.0.0.1"), "alerts@");
    settings.password = "hook-pass";
    WebhookNotifier notifier(settings);
    std::string error;
    REQUIRE(notifier.start(&error));
    notifier.notify(firing);
    REQUIRE(notifier.waitIdle(20s));
    CHECK(notifier.stats().sent == 1);
    CHECK(receiver.authorization() == "Basic YWxlcnRzOmhvb2stcGFzcw=="); // alerts:hook-pass
    notifier.stop();
}

TEST_CASE("a service down for a few seconds fires, resolves and reaches the webhook",
          "[alerts][redis][webhook]")
{
    std::string why;
    if (!RedisServer::available(&why)) {
        WARN("skipped: " << why);
        return;
    }
    RedisServer redis;
    std::string error;
    INFO(error);
    REQUIRE(redis.start(&error));

    HealthMonitor monitor;
    REQUIRE(monitor.addProbe(makeRedisProbe("redis", {redis.host(), redis.port(), "", ""}), 500ms,
                             &error));
    monitor.start(200ms);

    AlertEngine engine({serviceDownRule(2)});
    WebhookReceiver receiver;
    WebhookSettings settings;
    settings.url = receiver.url();
    settings.receiver = "test";
    WebhookNotifier notifier(settings);
    REQUIRE(notifier.start(&error));

    std::vector<AlertTransition> seen;
    auto tick = [&] {
        std::vector<Signal> signals;
        appendHealthSignals(*monitor.snapshot(), signals);
        auto transitions = engine.evaluate(wallClockMs(), signals);
        notifier.notify(transitions);
        seen.insert(seen.end(), transitions.begin(), transitions.end());
        return signals;
    };
    auto reached = [&](AlertState state) {
        return std::any_of(seen.begin(), seen.end(),
                           [&](const AlertTransition &t) { return t.alert.state == state; });
    };

    REQUIRE(waitFor(
        [&] {
            auto signals = tick();
            return !signals.empty() && signals[0].value == 1;
        },
        10s));
    CHECK(seen.empty());

    redis.stop();
    REQUIRE(waitFor([&] { return tick(), reached(AlertState::Firing); }, 20s));
    CHECK(monitor.snapshot()->find("redis")->current.state == ServiceState::Down);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].alert.state == AlertState::Pending);
    CHECK(seen[1].alert.state == AlertState::Firing);
    CHECK(seen[1].atMs - seen[0].atMs >= 2000);
    REQUIRE(engine.active().size() == 1);
    CHECK(engine.active()[0].state == AlertState::Firing);

    REQUIRE(redis.start(&error));
    REQUIRE(waitFor([&] { return tick(), reached(AlertState::Resolved); }, 20s));
    CHECK(engine.active().empty());

    REQUIRE(notifier.waitIdle(20s));
    REQUIRE(waitFor([&] { return receiver.bodies().size() >= 2; }, 10s));
    const auto bodies = receiver.bodies();
    CHECK(bodies.size() == 2);
    const json fired = json::parse(bodies[0]);
    const json resolved = json::parse(bodies[1]);
    CHECK(fired["status"] == "firing");
    CHECK(fired["receiver"] == "test");
    CHECK(fired["alerts"][0]["labels"]["alertname"] == "ServiceDown");
    CHECK(fired["alerts"][0]["labels"]["service"] == "redis");
    CHECK(fired["alerts"][0]["annotations"]["summary"] == "redis is down");
    CHECK(fired["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z");
    CHECK(resolved["status"] == "resolved");
    CHECK(resolved["alerts"][0]["labels"]["alertname"] == "ServiceDown");
    const auto startsAt = parseIsoMs(fired["alerts"][0]["startsAt"].get<std::string>());
    const auto endsAt = parseIsoMs(resolved["alerts"][0]["endsAt"].get<std::string>());
    REQUIRE(startsAt);
    REQUIRE(endsAt);
    CHECK(*startsAt == seen[1].alert.firingSinceMs);
    CHECK(*endsAt > *startsAt);
    CHECK(resolved["alerts"][0]["startsAt"] == fired["alerts"][0]["startsAt"]);
    CHECK(notifier.stats().sent == 2);
    monitor.stop();
}

TEST_CASE("alert history goes to PostgreSQL, and a stopped server does not block evaluation",
          "[alerts][postgres]")
{
    std::string why;
    if (!PostgresServer::available(&why)) {
        WARN("skipped: " << why);
        return;
    }
    PostgresServer pg;
    std::string error;
    INFO(error);
    REQUIRE(pg.start(&error));
    const PostgresTarget target{pg.connectionString(), pg.password()};

    AlertEngine engine({serviceDownRule(2)});
    AlertHistoryStore store(target);
    store.start();
    auto evaluate = [&](std::int64_t at, double up) {
        const auto begin = Clock::now();
        auto t = engine.evaluate(at, {serviceUp("postgresql", up)});
        store.add(t);
        CHECK(Clock::now() - begin < 1s); // never waits for the database
        return t.size();
    };
    const std::int64_t t0 = wallClockMs();
    CHECK(evaluate(t0, 0) == 1);        // pending
    CHECK(evaluate(t0 + 2000, 0) == 1); // firing
    CHECK(evaluate(t0 + 3000, 1) == 1); // resolved
    REQUIRE(store.waitIdle(30s));
    INFO(store.stats().lastError);
    CHECK(store.stats().written == 3);
    CHECK(store.stats().connected);
    {
        // The table came from the schema migrations, which the store applied itself to this
        // fresh database: the same ones, to the same version, as the PostgreSQL sink's.
        pqxx::connection c(target.connectionString(5));
        pqxx::nontransaction tx(c);
        CHECK(tx.exec("SELECT max(version) FROM schema_migrations")[0][0].as<int>() ==
              latestSchemaVersion());
        CHECK(tx.exec("SELECT count(*) FROM information_schema.tables WHERE table_name ="
                      " 'page_metrics'")[0][0]
                  .as<int>() == 1);
    }

    auto rows = [&] {
        pqxx::connection c(target.connectionString(5));
        pqxx::nontransaction tx(c);
        return tx.exec("SELECT rule, labels->>'service', severity, state, value,"
                       " (extract(epoch FROM at) * 1000)::bigint, summary"
                       " FROM alert_history ORDER BY id");
    };
    {
        const pqxx::result r = rows();
        REQUIRE(r.size() == 3);
        CHECK(r[0][0].as<std::string>() == "ServiceDown");
        CHECK(r[0][1].as<std::string>() == "postgresql");
        CHECK(r[0][2].as<std::string>() == "critical");
        CHECK(r[0][3].as<std::string>() == "pending");
        CHECK(r[1][3].as<std::string>() == "firing");
        CHECK(r[2][3].as<std::string>() == "resolved");
        CHECK(r[2][4].as<double>() == 1);
        CHECK(r[0][5].as<std::int64_t>() == t0);
        CHECK(r[2][5].as<std::int64_t>() == t0 + 3000);
        CHECK(r[0][6].as<std::string>() == "postgresql is down");
    }

    pg.stop();
    CHECK(evaluate(t0 + 10'000, 0) == 1);
    CHECK(evaluate(t0 + 12'000, 0) == 1);
    REQUIRE(waitFor([&] { return store.stats().errors >= 1; }, 30s));
    {
        const AlertHistoryStats s = store.stats();
        CHECK(s.pending == 2);
        CHECK_FALSE(s.connected);
        CHECK(s.lastError.find(pg.password()) == std::string::npos);
        CHECK(s.dropped == 0);
    }
    CHECK(evaluate(t0 + 13'000, 1) == 1); // still evaluating, queued behind the outage

    REQUIRE(pg.start(&error));
    REQUIRE(store.waitIdle(60s));
    const AlertHistoryStats s = store.stats();
    CHECK(s.written == 6);
    CHECK(s.failed == 0);
    CHECK(s.connected);
    const pqxx::result r = rows();
    REQUIRE(r.size() == 6);
    CHECK(r[5][3].as<std::string>() == "resolved");
    store.stop();
}

// Regression: alert_history was defined twice (the store's own DDL and the migration). The store
// now applies the migrations, so it refuses a database a newer build migrated, as the sink does.
TEST_CASE("alert history applies the schema migrations and refuses a newer schema",
          "[alerts][postgres]")
{
    std::string why;
    if (!PostgresServer::available(&why)) {
        WARN("skipped: " << why);
        return;
    }
    PostgresServer pg;
    std::string error;
    INFO(error);
    REQUIRE(pg.start(&error));
    const PostgresTarget target{pg.connectionString(), pg.password()};
    {
        pqxx::connection c(target.connectionString(5));
        pqxx::nontransaction tx(c);
        tx.exec("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now());"
                "INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future');");
    }
    AlertEngine engine({serviceDownRule(2)});
    AlertHistoryStore store(target);
    store.start();
    store.add(engine.evaluate(wallClockMs(), {serviceUp("postgresql", 0)}));
    REQUIRE(waitFor([&] { return store.stats().errors >= 1; }, 30s));
    const AlertHistoryStats s = store.stats();
    INFO(s.lastError);
    CHECK(s.lastError.find("database schema version 999 is newer than this app knows") !=
          std::string::npos);
    CHECK(s.written == 0);
    CHECK(s.pending == 1);
    store.stop(std::chrono::milliseconds(100));
    // Nothing was created in the newer database.
    pqxx::connection c(target.connectionString(5));
    pqxx::nontransaction tx(c);
    CHECK(tx.exec("SELECT to_regclass('alert_history') IS NULL")[0][0].as<bool>());
}

TEST_CASE("the default KeyCardinalityCapped rule fires while keys are folded into (other) and "
          "resolves when folding stops",
          "[alerts]")
{
    AlertEngine engine; // the default rules
    const auto capped = [&](std::int64_t at, double rate) {
        return engine.evaluate(at, {{kSignalKeysFoldedRate, {}, rate}});
    };
    CHECK(capped(kT0, 0).empty());
    const auto fired = capped(kT0 + 1000, 2500);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].alert.rule == "KeyCardinalityCapped");
    CHECK(fired[0].alert.state == AlertState::Firing); // for 0 s: at once
    CHECK(fired[0].alert.severity == Severity::Warning);
    CHECK(fired[0].alert.summary.find("key cardinality capped: 2500 keys/s") == 0);
    const auto resolved = capped(kT0 + 2000, 0);
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].alert.state == AlertState::Resolved);
}
