// The monitoring facade end to end: the app's own pipeline and producer on the embedded broker,
// signals from group lag and health feeding the alert rules, a loopback webhook receiving the
// notifications, and the Prometheus families it adds.
#include "core/aggregate/aggregator.h"
#include "core/common/metrics.h"
#include "core/common/timeutil.h"
#include "core/kafka/embeddedbroker.h"
#include "core/monitor/clustermonitor.h"
#include "core/monitor/health.h"
#include "core/monitor/monitor.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"
#include "core/produce/producerpool.h"

#include "kafkatestsupport.h"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <librdkafka/rdkafka_mock.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <thread>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;

namespace {

// Collects the bodies POSTed to it, on 127.0.0.1 and a free port.
class WebhookReceiver
{
public:
    WebhookReceiver()
    {
        m_server.Post("/hook", [this](const httplib::Request &req, httplib::Response &res) {
            std::lock_guard lock(m_mutex);
            m_bodies.push_back(nlohmann::json::parse(req.body));
            res.status = 200;
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        REQUIRE(m_port > 0);
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
    }
    ~WebhookReceiver()
    {
        m_server.stop();
        m_thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/hook"; }
    std::vector<nlohmann::json> bodies() const
    {
        std::lock_guard lock(m_mutex);
        return m_bodies;
    }
    bool received(const std::string &status, const std::string &alertname) const
    {
        for (const auto &b : bodies()) {
            for (const auto &a : b["alerts"]) {
                if (a["status"] == status && a["labels"]["alertname"] == alertname)
                    return true;
            }
        }
        return false;
    }

private:
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::vector<nlohmann::json> m_bodies;
};

std::optional<Alert> activeAlert(const Monitor &monitor, const std::string &rule)
{
    for (const Alert &a : monitor.alerts().active()) {
        if (a.rule == rule)
            return a;
    }
    return std::nullopt;
}

bool hasSignal(const std::vector<Signal> &signals, const std::string &name,
               const std::string &label, const std::string &value)
{
    for (const Signal &s : signals) {
        if (s.name != name)
            continue;
        for (const auto &[k, v] : s.labels) {
            if (k == label && v == value)
                return true;
        }
    }
    return false;
}

} // namespace

TEST_CASE("a paused aggregator fires the lag-status alert, the webhook hears it, and it resolves",
          "[monitor][broker]")
{
    EmbeddedBroker broker;
    std::string error;
    EmbeddedBroker::Options options;
    options.partitions = 4;
    REQUIRE(broker.start(options, &error));

    Aggregator aggregator;
    PipelineSettings settings;
    settings.commitIntervalMs = 200;
    settings.extra = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    AggregatorPipeline pipeline(broker.clusterConfig(), settings, aggregator);
    REQUIRE(pipeline.start(&error));

    ProducerPool pool;
    ProducerSettings producerSettings;
    producerSettings.ratePerSecond = 3000;
    const int producerId = pool.add(
        std::make_unique<KafkaProducer>(broker.clusterConfig(), producerSettings,
                                        std::make_unique<GeneratorSource>(GeneratorConfig{})));
    REQUIRE(pool.find(producerId)->start(&error));

    WebhookReceiver receiver;
    MonitorSettings ms;
    ms.cluster = broker.clusterConfig();
    ms.embedded = &broker;
    ms.tickMs = 200;
    ms.healthInterval = 500ms;
    ms.groupOptions.refreshIntervalMs = 300;
    ms.groupOptions.windowSize = 5;
    ms.clusterOptions.refreshIntervalMs = 500;
    WebhookSettings webhook;
    webhook.url = receiver.url();
    ms.webhook = webhook;
    Monitor monitor(ms);
    AlertRule lagRule;
    lagRule.name = "LagNotOk";
    lagRule.signal = kSignalLagStatusOk;
    lagRule.comparison = Comparison::Equal;
    lagRule.threshold = 0;
    lagRule.forSeconds = 1;
    lagRule.severity = Severity::Warning;
    lagRule.summary = "group {group} lag status not OK";
    REQUIRE(monitor.alerts().setRules({lagRule}, &error));
    monitor.watchPipeline(&pipeline, &aggregator);
    monitor.watchProducers(&pool);
    REQUIRE(monitor.start(&error));

    // Consuming: every service answers, the group is OK, no alert.
    REQUIRE(waitFor(
        [&] {
            const auto h = monitor.health().snapshot();
            const ServiceHealth *kafka = h->find("kafka");
            const ServiceHealth *producer = h->find("producer-" + std::to_string(producerId));
            const ServiceHealth *agg = h->find("aggregator");
            return kafka && producer && agg && kafka->current.state == ServiceState::Up &&
                   producer->current.state == ServiceState::Up &&
                   agg->current.state == ServiceState::Up;
        },
        60s));
    REQUIRE(waitFor(
        [&] {
            const auto g = monitor.groups().snapshot();
            return !g->groups.empty() && g->groups[0].status == LagStatus::Ok;
        },
        60s));
    CHECK_FALSE(activeAlert(monitor, "LagNotOk"));
    const auto signals = monitor.lastSignals();
    CHECK(hasSignal(signals, kSignalServiceUp, "service", "kafka"));
    CHECK(hasSignal(signals, kSignalLagStatusOk, "group", "clickstream-studio"));
    CHECK(hasSignal(signals, kSignalDeadLetterRate, "topic", "clickstream"));
    // The redis and postgresql services are "not configured": no signal, so no alert.
    CHECK_FALSE(hasSignal(signals, kSignalServiceUp, "service", "redis"));
    {
        const auto h = monitor.health().snapshot();
        REQUIRE(h->find("redis"));
        CHECK(h->find("redis")->current.state == ServiceState::NotConfigured);
    }

    // Paused: lag grows, the status leaves OK, the alert goes pending then firing.
    pipeline.pause();
    REQUIRE(waitFor(
        [&] {
            const auto a = activeAlert(monitor, "LagNotOk");
            return a && a->state == AlertState::Firing;
        },
        60s));
    REQUIRE(waitFor([&] { return receiver.received("firing", "LagNotOk"); }, 30s));
    {
        const auto h = monitor.health().snapshot();
        CHECK(h->find("aggregator")->current.state != ServiceState::Up);
    }
    MetricsText text;
    monitor.collectMetrics(text);
    CHECK(text.errors().empty());
    const std::string metrics = text.str();
    CHECK_THAT(metrics, Catch::Contains("clickstream_alerts{alertname=\"LagNotOk\""));
    CHECK_THAT(metrics, Catch::Contains("clickstream_alerts_firing 1"));
    CHECK_THAT(metrics, Catch::Contains("clickstream_consumer_group_lag_messages{group="));
    CHECK_THAT(metrics, Catch::Contains("clickstream_service_up{service=\"kafka\""));
    CHECK_THAT(metrics, Catch::Contains("clickstream_kafka_topic_messages{topic=\"clickstream\"}"));

    // Resumed: caught up, OK again, the alert resolves and the webhook hears that too.
    pipeline.resume();
    REQUIRE(waitFor([&] { return !activeAlert(monitor, "LagNotOk"); }, 90s));
    REQUIRE(waitFor([&] { return receiver.received("resolved", "LagNotOk"); }, 30s));
    // The receiver sees the request before the sender has read the reply and counted it as
    // sent, so wait for the count rather than read it once.
    REQUIRE(waitFor(
        [&] {
            const MonitorStatus s = monitor.status();
            return s.webhook && s.webhook->sent >= 2;
        },
        30s));
    const MonitorStatus status = monitor.status();
    REQUIRE(status.webhook);
    CHECK(status.webhook->sent >= 2);
    CHECK(status.webhook->failed == 0);

    // A removed producer loses its probe.
    pool.remove(producerId);
    REQUIRE(waitFor(
        [&] {
            return monitor.health().snapshot()->find("producer-" + std::to_string(producerId)) ==
                   nullptr;
        },
        10s));

    monitor.stop();
    monitor.watchPipeline(nullptr, nullptr);
    pipeline.stop();
}

TEST_CASE("a bad alert rules file stops the monitor from starting with its name in the message",
          "[monitor]")
{
    TempFile rules;
    {
        std::FILE *f = std::fopen(rules.path.c_str(), "w");
        REQUIRE(f);
        std::fputs("{\"version\":1,\"rules\":[{\"name\":\"x\",\"signal\":\"service_up\","
                   "\"comparison\":\"~\",\"threshold\":0,\"for\":1,\"severity\":\"info\"}]}",
                   f);
        std::fclose(f);
    }
    MonitorSettings ms;
    ms.cluster.name = "nowhere";
    ms.cluster.bootstrap = "127.0.0.1:1";
    ms.alertRulesPath = rules.path;
    Monitor monitor(ms);
    std::string error;
    CHECK_FALSE(monitor.start(&error));
    CHECK_THAT(error, Catch::Contains(rules.path));
}

TEST_CASE("Kafka health follows injected broker latency and recovers when it goes",
          "[monitor][broker]")
{
    EmbeddedBroker broker;
    std::string error;
    EmbeddedBroker::Options options;
    options.partitions = 4;
    REQUIRE(broker.start(options, &error));
    HealthMonitor health;
    REQUIRE(health.addProbe(std::shared_ptr<Probe>(makeKafkaProbe("kafka", broker.clusterConfig())),
                            1000ms, &error));
    health.start(300ms);
    auto kafka = [&] {
        return health.snapshot()->find("kafka")->current;
    };
    REQUIRE(waitFor([&] { return kafka().state == ServiceState::Up; }, 30s));

    // Every broker answers 2.5 s late: the 1 s probe reports down ("timed out"), nothing hangs.
    for (int id = 1; id <= options.brokers; ++id)
        REQUIRE(rd_kafka_mock_broker_set_rtt(broker.mockCluster(), id, 2500) == 0);
    REQUIRE(waitFor([&] { return kafka().state == ServiceState::Down; }, 30s));
    INFO(kafka().error);
    CHECK_FALSE(kafka().error.empty());

    for (int id = 1; id <= options.brokers; ++id)
        REQUIRE(rd_kafka_mock_broker_set_rtt(broker.mockCluster(), id, 0) == 0);
    REQUIRE(waitFor([&] { return kafka().state == ServiceState::Up; }, 60s));
    health.stop();
}

TEST_CASE("injected ListOffsets errors show on the partitions of the cluster view, then clear",
          "[monitor][broker]")
{
    EmbeddedBroker broker;
    std::string error;
    EmbeddedBroker::Options options;
    options.partitions = 4;
    REQUIRE(broker.start(options, &error));
    ClusterMonitorOptions co;
    co.refreshIntervalMs = 200;
    co.requestTimeoutMs = 2000;
    ClusterMonitor cluster(broker.clusterConfig(), &broker, co);
    REQUIRE(cluster.refreshNow(&error));
    auto partitionErrors = [&] {
        int n = 0;
        const auto snap = cluster.snapshot();
        if (const TopicInfo *t = snap->findTopic("clickstream")) {
            for (const auto &p : t->partitions)
                n += p.error != 0;
        }
        return n;
    };
    CHECK(partitionErrors() == 0);
    // ListOffsets (API key 2) answers "topic authorization failed" a few times.
    constexpr std::int16_t kListOffsets = 2;
    rd_kafka_mock_push_request_errors(
        broker.mockCluster(), kListOffsets, 6, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    const bool refreshed = cluster.refreshNow(&error);
    INFO("refresh: " << refreshed << " " << error
                     << " snapshot error: " << cluster.snapshot()->error);
    if (refreshed)
        CHECK(partitionErrors() > 0); // answered per partition
    else
        CHECK_THAT(cluster.snapshot()->error,
                   Catch::Contains("refresh failed: ") && Catch::Contains("authorization"));
    // The errors are used up: the next refreshes are clean again.
    REQUIRE(cluster.start(&error));
    REQUIRE(waitFor([&] { return cluster.snapshot()->ok && partitionErrors() == 0; }, 30s));
    cluster.stop();
}

// Issue 23: one more cluster beside the monitor's own, with its own monitors and health row; a
// slow one is removed without waiting for its requests in flight, and added again at once.
TEST_CASE("a watched cluster has its own row, and removing a slow one does not wait for it",
          "[monitor][broker][clusters]")
{
    EmbeddedBroker own, other;
    std::string error;
    EmbeddedBroker::Options options;
    options.brokers = 1;
    options.partitions = 2;
    options.topics = {"own"};
    REQUIRE(own.start(options, &error));
    options.topics = {"other"};
    REQUIRE(other.start(options, &error));

    MonitorSettings settings;
    settings.cluster = own.clusterConfig();
    settings.embedded = &own;
    settings.healthInterval = 300ms;
    settings.probeTimeout = 1000ms;
    settings.clusterOptions.refreshIntervalMs = 300;
    settings.clusterOptions.requestTimeoutMs = 3000;
    settings.groupOptions.refreshIntervalMs = 300;
    Monitor monitor(settings);
    REQUIRE(monitor.start(&error));

    ClusterConfig config = other.clusterConfig();
    config.name = "other";
    auto watched = monitor.addCluster(config, &error);
    INFO(error);
    REQUIRE(watched);
    CHECK(monitor.kafkaProbeName("other") == "kafka:other");
    CHECK(monitor.kafkaProbeName(settings.cluster.name) == "kafka");
    // Its own view of its own cluster; the monitor's view is of the other one.
    REQUIRE(
        waitFor([&] { return watched->cluster.snapshot()->findTopic("other") != nullptr; }, 30s));
    CHECK(watched->cluster.snapshot()->findTopic("own") == nullptr);
    REQUIRE(
        waitFor([&] { return monitor.cluster().snapshot()->findTopic("own") != nullptr; }, 30s));
    auto state = [&monitor](const std::string &name) {
        const ServiceHealth *s = monitor.health().snapshot()->find(name);
        return s ? s->current.state : ServiceState::NotConfigured;
    };
    REQUIRE(waitFor([&] { return state("kafka:other") == ServiceState::Up; }, 30s));

    // Its groups feed the alert rules labelled with the cluster (the monitor's own: no label).
    watched->groups.watchGroup("other-group", {"other"});
    REQUIRE(waitFor(
        [&] {
            monitor.evaluateNow(wallClockMs());
            for (const Signal &signal : monitor.lastSignals())
                if (signal.name == kSignalLagStatusOk &&
                    signal.labels == Labels{{"cluster", "other"}, {"group", "other-group"}})
                    return true;
            return false;
        },
        30s));

    // Refused: the same name again, the monitor's own cluster, no name, an unusable config.
    CHECK_FALSE(monitor.addCluster(config, &error));
    CHECK(error.find("shown already") != std::string::npos);
    CHECK_FALSE(monitor.addCluster(settings.cluster, &error));
    CHECK(error.find("aggregator reads") != std::string::npos);
    ClusterConfig unnamed = config;
    unnamed.name.clear();
    CHECK_FALSE(monitor.addCluster(unnamed, &error));
    ClusterConfig unusable = config;
    unusable.name = "unusable";
    unusable.bootstrap.clear();
    CHECK_FALSE(monitor.addCluster(unusable, &error));
    CHECK(monitor.watchedClusters().size() == 1);

    // Every answer of the other cluster now takes 2.5 s: its refreshes and probe are in flight.
    REQUIRE(rd_kafka_mock_broker_set_rtt(other.mockCluster(), 1, 2500) == 0);
    REQUIRE(waitFor([&] { return state("kafka:other") == ServiceState::Down; }, 30s));
    std::this_thread::sleep_for(500ms); // a refresh of its own under way too
    const auto started = std::chrono::steady_clock::now();
    CHECK(monitor.removeCluster("other"));
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(
        "removeCluster took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                              << " ms");
    CHECK(took < 100ms);
    CHECK(monitor.health().snapshot()->find("kafka:other") == nullptr);
    CHECK(monitor.watchedClusters().empty());
    CHECK_FALSE(monitor.removeCluster("other"));
    // Its last view stays readable for who holds it.
    CHECK(watched->cluster.snapshot()->findTopic("other") != nullptr);
    watched.reset();

    // The name can be used again at once; stop() joins everything.
    REQUIRE(rd_kafka_mock_broker_set_rtt(other.mockCluster(), 1, 0) == 0);
    auto again = monitor.addCluster(config, &error);
    INFO(error);
    REQUIRE(again);
    REQUIRE(waitFor([&] { return state("kafka:other") == ServiceState::Up; }, 30s));
    monitor.stop();
    CHECK(monitor.watchedClusters().empty());
    CHECK_FALSE(again->cluster.isRunning());
}
