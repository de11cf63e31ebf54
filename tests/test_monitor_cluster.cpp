#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaclient.h"
#include "core/kafka/messagebrowser.h"
#include "core/monitor/clustermonitor.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"

#include "kafkatestsupport.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

void startBroker(EmbeddedBroker &broker, std::vector<std::string> topics = {"clickstream"},
                 int partitions = 12)
{
    EmbeddedBroker::Options options;
    options.partitions = partitions;
    options.topics = std::move(topics);
    std::string error;
    const bool started = broker.start(options, &error);
    INFO(error);
    REQUIRE(started);
}

struct Outgoing
{
    std::int32_t partition = RD_KAFKA_PARTITION_UA;
    std::string key;
    std::string value;
    std::int64_t timestampMs = 0; ///< 0: the producer's clock
    std::vector<std::pair<std::string, std::string>> headers;
};

void onDelivery(rd_kafka_t *, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err)
        ++*static_cast<std::atomic<int> *>(opaque);
}

/// Produces `messages` in order with a plain producer (explicit partitions, timestamps and
/// headers) and requires every one of them delivered.
void produce(const ClusterConfig &cluster, const std::string &topic,
             const std::vector<Outgoing> &messages)
{
    std::atomic<int> failed{0};
    std::string error;
    KafkaConf conf =
        makeKafkaConf(cluster, {{"linger.ms", "5"}, {"enable.idempotence", "true"}}, &error);
    REQUIRE(conf);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &onDelivery);
    rd_kafka_conf_set_opaque(conf.get(), &failed);
    KafkaHandle producer = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), &error);
    REQUIRE(producer);
    for (const Outgoing &m : messages) {
        KafkaHeaders headers(rd_kafka_headers_new(m.headers.size()));
        for (const auto &[name, value] : m.headers)
            rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()),
                                value.data(), static_cast<ssize_t>(value.size()));
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(m.partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m.key.data(), m.key.size()),
            RD_KAFKA_V_VALUE(const_cast<char *>(m.value.data()), m.value.size()),
            RD_KAFKA_V_TIMESTAMP(m.timestampMs), RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            (void)headers.release(); // the message owns them now
        REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer.get(), 20'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(failed == 0);
}

std::vector<Outgoing> numbered(std::int32_t partition, int count, const std::string &prefix)
{
    std::vector<Outgoing> out;
    for (int i = 0; i < count; ++i)
        out.push_back({partition, "k" + std::to_string(i), prefix + std::to_string(i), 0, {}});
    return out;
}

std::shared_ptr<const ClusterSnapshot> refreshed(ClusterMonitor &monitor)
{
    std::string error;
    const bool ok = monitor.refreshNow(&error);
    INFO(error);
    REQUIRE(ok);
    return monitor.snapshot();
}

} // namespace

TEST_CASE("the cluster view shows the embedded broker's brokers, topics, leaders and replicas",
          "[monitor][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    ClusterMonitor monitor(broker.clusterConfig(), &broker);
    CHECK_FALSE(monitor.snapshot()->ok);
    CHECK(monitor.snapshot()->error == "not refreshed yet");

    const auto snap = refreshed(monitor);
    CHECK(snap->ok);
    CHECK(snap->error.empty());
    CHECK(snap->embedded);
    CHECK(snap->clusterName == "embedded");
    REQUIRE(snap->brokers.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(snap->brokers[i].id == static_cast<std::int32_t>(i + 1));
        CHECK(snap->brokers[i].port > 0);
    }
    const TopicInfo *topic = snap->findTopic("clickstream");
    REQUIRE(topic);
    CHECK_FALSE(topic->internal);
    REQUIRE(topic->partitions.size() == 12);
    for (std::size_t p = 0; p < 12; ++p) {
        const PartitionInfo &part = topic->partitions[p];
        CHECK(part.partition == static_cast<std::int32_t>(p));
        CHECK(part.leader >= 1);
        CHECK(part.leader <= 3);
        REQUIRE_FALSE(part.replicas.empty());
        CHECK(std::find(part.replicas.begin(), part.replicas.end(), part.leader) !=
              part.replicas.end());
        CHECK_FALSE(part.isr.empty());
        CHECK(part.low == 0);
        CHECK(part.high == 0);
        CHECK(part.error == 0);
    }
    CHECK(snap->refreshCount == 1);
    CHECK(snap->dataAtMs > 0);
    CHECK(snap->partitionSeries == 0);
    CHECK(snap->findTopic("no-such-topic") == nullptr);
}

TEST_CASE("watermarks sum to what was produced and throughput shows in the history",
          "[monitor][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    ClusterMonitor monitor(broker.clusterConfig(), &broker);
    refreshed(monitor); // the baseline the rates are measured from

    // A generator-driven producer spreads over every partition by key.
    ProducerSettings settings;
    settings.ratePerSecond = 0;
    GeneratorConfig config;
    config.seed = 7;
    KafkaProducer producer(broker.clusterConfig(), settings,
                           std::make_unique<GeneratorSource>(config));
    std::string error;
    REQUIRE(producer.start(&error));
    REQUIRE(waitFor([&] { return producer.stats().acked >= 5000; }, 30s));
    producer.stop();
    const auto acked = static_cast<std::int64_t>(producer.stats().acked);
    REQUIRE(producer.stats().failed == 0);

    const auto snap = refreshed(monitor);
    const TopicInfo *topic = snap->findTopic("clickstream");
    REQUIRE(topic);
    std::int64_t highs = 0;
    for (const PartitionInfo &part : topic->partitions)
        highs += part.high;
    CHECK(highs == acked);
    CHECK(topic->messages == acked);
    CHECK(snap->totalMessages >= acked);
    CHECK(topic->rate > 0);
    const auto history = monitor.topicRateHistory("clickstream", 0);
    REQUIRE_FALSE(history.empty());
    CHECK(history.back().value > 0);
    CHECK(snap->partitionSeries > 0);
    CHECK(snap->partitionSeries <= 12);
    CHECK(snap->historyBytes > 0);
    CHECK(monitor.topicRateHistory("no-such-topic", 0).empty());
}

TEST_CASE("only partitions that moved get a throughput history", "[monitor][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker, {"clickstream", "idle"}, 50);
    ClusterMonitor monitor(broker.clusterConfig(), &broker);
    refreshed(monitor);
    auto messages = numbered(2, 30, "a");
    const auto more = numbered(7, 10, "b");
    messages.insert(messages.end(), more.begin(), more.end());
    produce(broker.clusterConfig(), "clickstream", messages);

    const auto snap = refreshed(monitor);
    CHECK(snap->partitionSeries == 2);
    const auto p2 = monitor.partitionRateHistory("clickstream", 2, 0);
    REQUIRE(p2.size() == 1);
    CHECK(p2.front().value > 0);
    CHECK(monitor.partitionRateHistory("clickstream", 7, 0).size() == 1);
    CHECK(monitor.partitionRateHistory("clickstream", 3, 0).empty());
    CHECK(monitor.partitionRateHistory("clickstream", 99, 0).empty());
    CHECK(monitor.topicRateHistory("idle", 0).empty());
    const TopicInfo *topic = snap->findTopic("clickstream");
    REQUIRE(topic);
    CHECK(topic->partitions[2].messages == 30);
    CHECK(topic->partitions[7].messages == 10);
    CHECK(topic->partitions[2].rate > 0);
    CHECK(topic->partitions[3].rate == 0);
    // A hundred idle partitions cost a few bytes each, no series.
    CHECK(snap->historyBytes < 20'000);
}

TEST_CASE("topics created through the monitor appear in the view and bad names are refused",
          "[monitor][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    ClusterMonitor monitor(broker.clusterConfig(), &broker);
    refreshed(monitor);
    std::string error;
    const bool created = monitor.createTopic("orders.v1_eu-west", 5, 2, &error);
    INFO(error);
    REQUIRE(created);
    const auto snap = refreshed(monitor);
    const TopicInfo *topic = snap->findTopic("orders.v1_eu-west");
    REQUIRE(topic);
    REQUIRE(topic->partitions.size() == 5);
    for (const PartitionInfo &part : topic->partitions)
        CHECK_FALSE(part.replicas.empty()); // the mock ignores the factor asked for

    CHECK_FALSE(monitor.createTopic("orders.v1_eu-west", 5, 1, &error));
    CHECK(error.find("already exists") != std::string::npos);
    CHECK(monitor.createTopic("__internal_thing", 1, 1, &error));
    CHECK(refreshed(monitor)->findTopic("__internal_thing")->internal);

    const std::string tooLong(250, 'x');
    for (const std::string &bad :
         {std::string(), std::string("."), std::string(".."), std::string("with space"),
          std::string("slash/ed"), std::string("caf\xc3\xa9"), tooLong}) {
        error.clear();
        CHECK_FALSE(monitor.createTopic(bad, 1, 1, &error));
        CHECK_FALSE(error.empty());
    }
    CHECK(ClusterMonitor::validateTopicName(std::string(249, 'x')).empty());
    CHECK(ClusterMonitor::validateTopicName("a b").find("letters, digits") != std::string::npos);
    CHECK_FALSE(monitor.createTopic("fine", 0, 1, &error));
    CHECK(error.find("partitions") != std::string::npos);
    CHECK_FALSE(monitor.createTopic("fine", 1, 4, &error));
    CHECK(error.find("replication factor") != std::string::npos);
    CHECK(refreshed(monitor)->findTopic("fine") == nullptr);
}

TEST_CASE("creating a topic through the admin API gives up within the request timeout",
          "[monitor][broker][fault]")
{
    // Treated as a real cluster, the mock answers CreateTopics with nothing (it has no
    // controller): the call must come back with a timeout, not hang.
    EmbeddedBroker broker;
    startBroker(broker);
    ClusterMonitorOptions options;
    options.requestTimeoutMs = 1500;
    ClusterMonitor monitor(broker.clusterConfig(), nullptr, options);
    const auto snap = refreshed(monitor);
    CHECK_FALSE(snap->embedded);
    std::string error;
    CHECK_FALSE(monitor.createTopic("fine", 1, 4, &error));
    CHECK(error.find("more than the cluster's 3 brokers") != std::string::npos);
    const auto started = Clock::now();
    CHECK_FALSE(monitor.createTopic("admin-made", 3, 1, &error));
    CHECK(Clock::now() - started < 6s);
    INFO(error);
    CHECK(error.find("admin-made") != std::string::npos);
}

TEST_CASE("a dead cluster is reported unreachable within a bounded time and the view recovers",
          "[monitor][broker][fault]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    ClusterMonitorOptions options;
    options.refreshIntervalMs = 200;
    options.requestTimeoutMs = 1000;
    ClusterMonitor monitor(broker.clusterConfig(), &broker, options);
    std::string error;
    REQUIRE(monitor.start(&error));
    REQUIRE(waitFor([&] { return monitor.snapshot()->ok; }, 30s));
    const std::int64_t goodAt = monitor.snapshot()->dataAtMs;

    for (int id = 1; id <= 3; ++id)
        broker.setBrokerDown(id, true);
    const auto downAt = Clock::now();
    REQUIRE(waitFor([&] { return !monitor.snapshot()->ok; }, 30s));
    const double seconds = std::chrono::duration<double>(Clock::now() - downAt).count();
    INFO("reported after " << seconds << " s");
    CHECK(seconds < 10);
    auto snap = monitor.snapshot();
    CHECK(snap->error.rfind("unreachable: ", 0) == 0);
    // The last good data is kept, with its age.
    REQUIRE(snap->findTopic("clickstream"));
    CHECK(snap->findTopic("clickstream")->partitions.size() == 12);
    CHECK(snap->dataAtMs >= goodAt);
    CHECK(snap->attemptAtMs > snap->dataAtMs);
    CHECK(snap->failedRefreshes >= 1);

    // A synchronous refresh gives up within twice the request timeout (the worker's, then its own).
    const auto before = Clock::now();
    CHECK_FALSE(monitor.refreshNow(&error));
    CHECK(Clock::now() - before < 4s);
    CHECK(error.rfind("unreachable: ", 0) == 0);

    for (int id = 1; id <= 3; ++id)
        broker.setBrokerDown(id, false);
    REQUIRE(waitFor([&] { return monitor.snapshot()->ok; }, 60s));
    CHECK(monitor.snapshot()->error.empty());

    // stop() is bounded even with the cluster dead in the middle of a refresh.
    for (int id = 1; id <= 3; ++id)
        broker.setBrokerDown(id, true);
    std::this_thread::sleep_for(300ms);
    const auto stopping = Clock::now();
    monitor.stop();
    CHECK(Clock::now() - stopping < 4s);
    CHECK_FALSE(monitor.isRunning());
}

TEST_CASE("reading from an offset returns exactly that partition's messages in order",
          "[browser][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    auto messages = numbered(3, 200, "p3-");
    const auto other = numbered(4, 50, "p4-");
    messages.insert(messages.end(), other.begin(), other.end());
    produce(broker.clusterConfig(), "clickstream", messages);

    MessageBrowser browser(broker.clusterConfig());
    BrowseResult r = browser.readFromOffset("clickstream", 3, 0, 1000);
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK_FALSE(r.timedOut);
    REQUIRE(r.messages.size() == 200);
    for (int i = 0; i < 200; ++i) {
        const BrowsedMessage &m = r.messages[static_cast<std::size_t>(i)];
        CHECK(m.topic == "clickstream");
        CHECK(m.partition == 3);
        CHECK(m.offset == i);
        CHECK(m.value == "p3-" + std::to_string(i));
        CHECK(m.key == "k" + std::to_string(i));
        CHECK(m.timestampMs > 0);
    }

    r = browser.readFromOffset("clickstream", 3, 150, 1000);
    REQUIRE(r.messages.size() == 50);
    CHECK(r.messages.front().value == "p3-150");
    r = browser.readFromOffset("clickstream", 3, 10, 5);
    REQUIRE(r.messages.size() == 5);
    CHECK(r.messages.front().offset == 10);
    CHECK(r.messages.back().offset == 14);
    r = browser.readFromOffset("clickstream", -1, 0, 1000);
    REQUIRE(r.messages.size() == 250);
    CHECK(r.messages.front().value == "p3-0");
    CHECK(r.messages.back().value == "p4-49");

    r = browser.readLast("clickstream", 3, 7);
    REQUIRE(r.messages.size() == 7);
    CHECK(r.messages.front().offset == 193);
    CHECK(r.messages.back().value == "p3-199");
    r = browser.readLast("clickstream", -1, 3);
    REQUIRE(r.messages.size() == 6);
    CHECK(r.messages[0].value == "p3-197");
    CHECK(r.messages[5].value == "p4-49");

    r = browser.readFromOffset("no-such-topic", -1, 0, 10);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("no-such-topic") != std::string::npos);
    // Browsing an unknown topic must not create it (the mock auto-creates on a named Metadata).
    ClusterMonitor monitor(broker.clusterConfig(), &broker);
    CHECK(refreshed(monitor)->findTopic("no-such-topic") == nullptr);
    r = browser.readFromOffset("clickstream", 40, 0, 10);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("no partition 40") != std::string::npos);
}

TEST_CASE("reading from a timestamp starts at the first message at or after it",
          "[browser][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    const std::int64_t base = 1'700'000'000'000;
    std::vector<Outgoing> messages;
    for (int i = 0; i < 100; ++i)
        messages.push_back({1, "k", "t" + std::to_string(i), base + i * 1000, {}});
    produce(broker.clusterConfig(), "clickstream", messages);

    MessageBrowser browser(broker.clusterConfig());
    std::string error;
    CHECK(browser.offsetForTimestamp("clickstream", 1, base + 41'500, &error) == 42);
    CHECK(browser.offsetForTimestamp("clickstream", 1, base + 42'000, &error) == 42);
    CHECK(browser.offsetForTimestamp("clickstream", 1, base - 5'000, &error) == 0);
    CHECK(browser.offsetForTimestamp("clickstream", 1, base + 99'000, &error) == 99);
    CHECK(browser.offsetForTimestamp("clickstream", 1, base + 200'000, &error) == 100);
    CHECK(browser.offsetForTimestamp("clickstream", 5, base, &error) == 0); // empty partition

    BrowseResult r = browser.readFromTimestamp("clickstream", 1, base + 41'500, 10);
    INFO(r.error);
    REQUIRE(r.ok);
    REQUIRE(r.messages.size() == 10);
    CHECK(r.messages.front().offset == 42);
    CHECK(r.messages.front().timestampMs == base + 42'000);
    CHECK(r.messages.front().value == "t42");
    r = browser.readFromTimestamp("clickstream", -1, base + 95'000, 100);
    REQUIRE(r.messages.size() == 5);
    CHECK(r.messages.front().timestampMs >= base + 95'000);
}

TEST_CASE("search finds text in values and headers and reports its bound", "[browser][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    auto messages = numbered(0, 300, "{\"event\":\"page_view\",\"n\":");
    messages[123].value = "{\"note\":\"a NeedleInValue here\"}";
    messages[200].headers = {{"trace", "abcHEADERNEEDLExyz"}};
    messages[250].headers = {{"Special-Name", "v"}};
    produce(broker.clusterConfig(), "clickstream", messages);
    MessageBrowser browser(broker.clusterConfig());

    SearchOptions options;
    options.needle = "needleinvalue";
    SearchResult r = browser.search("clickstream", options);
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK(r.scanned == 300);
    CHECK_FALSE(r.boundHit);
    REQUIRE(r.matches.size() == 1);
    CHECK(r.matches[0].where == "value");
    CHECK(r.matches[0].message.offset == 123);
    CHECK(r.matches[0].position == 11);

    options.caseSensitive = true;
    CHECK(browser.search("clickstream", options).matches.empty());
    options.caseSensitive = false;
    options.needle = "headerneedle";
    r = browser.search("clickstream", options);
    REQUIRE(r.matches.size() == 1);
    CHECK(r.matches[0].where == "header value");
    CHECK(r.matches[0].headerName == "trace");
    CHECK(r.matches[0].message.offset == 200);
    REQUIRE(r.matches[0].message.headers.size() == 1);
    options.needle = "special-name";
    r = browser.search("clickstream", options);
    REQUIRE(r.matches.size() == 1);
    CHECK(r.matches[0].where == "header name");

    // The newest 50 do not reach offset 123; from offset 100 they do. Both hit the bound.
    options.needle = "NeedleInValue";
    options.maxPerPartition = 50;
    r = browser.search("clickstream", options);
    CHECK(r.scanned == 50);
    CHECK(r.boundHit);
    CHECK(r.matches.empty());
    options.fromOffset = 100;
    r = browser.search("clickstream", options);
    CHECK(r.scanned == 50);
    CHECK(r.boundHit);
    REQUIRE(r.matches.size() == 1);

    // Many matches: capped, newest first.
    options = SearchOptions{};
    options.needle = "page_view";
    options.maxMatches = 10;
    r = browser.search("clickstream", options);
    CHECK(r.matchesCapped);
    REQUIRE(r.matches.size() == 10);
    CHECK(browser.search("clickstream", SearchOptions{}).error == "nothing to search for");
}

TEST_CASE("a live tail receives the messages produced after it started, in a bounded ring",
          "[browser][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    produce(broker.clusterConfig(), "clickstream", numbered(RD_KAFKA_PARTITION_UA, 20, "before-"));
    MessageBrowser browser(broker.clusterConfig(), 50);
    std::string error;
    REQUIRE(browser.startTail("clickstream", {}, &error));
    REQUIRE(waitFor([&] { return browser.tailStatus().positioned; }, 30s));
    CHECK(browser.tailStatus().running);
    CHECK(browser.tailAfter(0).messages.empty());

    produce(broker.clusterConfig(), "clickstream", numbered(RD_KAFKA_PARTITION_UA, 30, "after-"));
    REQUIRE(waitFor([&] { return browser.tailAfter(0).lastSeq >= 30; }, 30s));
    TailRead read = browser.tailAfter(0);
    REQUIRE(read.messages.size() == 30);
    CHECK(read.firstSeq == 1);
    CHECK(read.missed == 0);
    std::set<std::string> values;
    for (const auto &m : read.messages)
        values.insert(m.value);
    CHECK(values.size() == 30);
    CHECK(values.count("after-0") == 1);
    CHECK(values.count("before-0") == 0);
    CHECK(browser.tailAfter(30).messages.empty());
    CHECK(browser.tailAfter(25, 3).messages.size() == 3);

    // Past its capacity the ring keeps the newest 50 and says how many a slow reader missed.
    produce(broker.clusterConfig(), "clickstream", numbered(RD_KAFKA_PARTITION_UA, 70, "more-"));
    REQUIRE(waitFor([&] { return browser.tailAfter(0).lastSeq >= 100; }, 30s));
    read = browser.tailAfter(30);
    CHECK(read.missed == 20);
    CHECK(read.firstSeq == 51);
    CHECK(read.messages.size() == 50);
    browser.stopTail();
    CHECK_FALSE(browser.tailStatus().running);
    CHECK(browser.tailAfter(90).messages.size() == 10); // still readable after stopping

    // From given offsets: only those partitions, from there.
    REQUIRE(browser.startTail("clickstream", {{0, 0}}, &error));
    REQUIRE(waitFor([&] { return browser.tailStatus().positioned; }, 30s));
    const auto p0 = browser.readFromOffset("clickstream", 0, 0, 1000).messages.size();
    REQUIRE(waitFor([&] { return browser.tailAfter(0).lastSeq >= p0; }, 30s));
    for (const auto &m : browser.tailAfter(0).messages)
        CHECK(m.partition == 0);
    browser.stopTail();
}

TEST_CASE("browsing leaves a consumer group's committed offsets untouched", "[browser][broker]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    produce(broker.clusterConfig(), "clickstream", numbered(RD_KAFKA_PARTITION_UA, 600, "m"));

    std::string error;
    KafkaConf conf =
        makeKafkaConf(broker.clusterConfig(),
                      {{"group.id", "analytics"}, {"enable.auto.commit", "false"}}, &error);
    REQUIRE(conf);
    KafkaHandle group = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), &error);
    REQUIRE(group);
    auto offsets = [&](std::int64_t base) {
        KafkaPartitionList list = makePartitionList(12);
        for (int p = 0; p < 12; ++p)
            rd_kafka_topic_partition_list_add(list.get(), "clickstream", p)->offset = base + p;
        return list;
    };
    REQUIRE(rd_kafka_commit(group.get(), offsets(3).get(), 0) == RD_KAFKA_RESP_ERR_NO_ERROR);
    auto committed = [&] {
        const KafkaPartitionList list = offsets(RD_KAFKA_OFFSET_INVALID);
        REQUIRE(rd_kafka_committed(group.get(), list.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
        std::vector<std::int64_t> out;
        for (int i = 0; i < list->cnt; ++i)
            out.push_back(list->elems[i].offset);
        return out;
    };
    const auto before = committed();
    REQUIRE(before.size() == 12);
    CHECK(before[0] == 3);
    CHECK(before[11] == 14);

    MessageBrowser browser(broker.clusterConfig());
    CHECK(browser.readFromOffset("clickstream", -1, 0, 1000).messages.size() == 600);
    CHECK(browser.readLast("clickstream", -1, 5).ok);
    SearchOptions options;
    options.needle = "m42";
    CHECK(browser.search("clickstream", options).ok);
    CHECK(browser.offsetForTimestamp("clickstream", 0, 0, &error).has_value());
    REQUIRE(browser.startTail("clickstream", {}, &error));
    REQUIRE(waitFor([&] { return browser.tailStatus().positioned; }, 30s));
    produce(broker.clusterConfig(), "clickstream", numbered(RD_KAFKA_PARTITION_UA, 10, "x"));
    REQUIRE(waitFor([&] { return browser.tailAfter(0).lastSeq >= 10; }, 30s));
    browser.stopTail();

    CHECK(committed() == before);
}

TEST_CASE("prettyJson indents JSON and leaves anything else alone", "[browser]")
{
    CHECK(prettyJson(R"({"a":1,"b":[true,null]})") ==
          "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}");
    CHECK(prettyJson("not json") == "not json");
    CHECK(prettyJson("") == "");
    CHECK(prettyJson("{\"a\":") == "{\"a\":");
    CHECK(prettyJson(R"({"s":"[{\"x"})") == "{\n  \"s\": \"[{\\\"x\"\n}");
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    CHECK(prettyJson(deep) == deep); // too deep to print: left alone, and no stack overflow
}

TEST_CASE("browsing a dead cluster fails within its deadline", "[browser][broker][fault]")
{
    EmbeddedBroker broker;
    startBroker(broker);
    produce(broker.clusterConfig(), "clickstream", numbered(0, 20, "m"));
    for (int id = 1; id <= 3; ++id)
        broker.setBrokerDown(id, true);
    MessageBrowser browser(broker.clusterConfig());
    auto started = Clock::now();
    const BrowseResult r = browser.readLast("clickstream", -1, 10, 1500ms);
    CHECK(Clock::now() - started < 5s);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.error.empty());
    started = Clock::now();
    std::string error;
    CHECK_FALSE(browser.offsetForTimestamp("clickstream", 0, 0, &error, 1500ms));
    CHECK(Clock::now() - started < 5s);
    CHECK_FALSE(error.empty());

    // A tail started meanwhile reports the trouble and catches up once the brokers are back.
    REQUIRE(browser.startTail("clickstream", {{0, 0}}, &error));
    REQUIRE(waitFor([&] { return !browser.tailStatus().error.empty(); }, 30s));
    for (int id = 1; id <= 3; ++id)
        broker.setBrokerDown(id, false);
    REQUIRE(waitFor([&] { return browser.tailAfter(0).lastSeq >= 20; }, 60s));
    started = Clock::now();
    browser.stopTail();
    CHECK(Clock::now() - started < 3s);
}

// Regression: isRunning() read the std::thread that start() and stop() assign and join, without
// a lock (a data race: ThreadSanitizer reports it, tests/README.md).
TEST_CASE("isRunning may be asked from another thread while start and stop run",
          "[cluster][threads]")
{
    ClusterConfig cluster;
    cluster.bootstrap = "127.0.0.1:1"; // nothing listens: refreshes fail fast
    ClusterMonitorOptions options;
    options.refreshIntervalMs = 50;
    options.requestTimeoutMs = 100;
    ClusterMonitor monitor(cluster, nullptr, options);
    std::atomic<bool> done{false};
    std::atomic<int> seenRunning{0}, seenStopped{0};
    std::thread reader([&] {
        while (!done) {
            (monitor.isRunning() ? seenRunning : seenStopped)++;
            (void)monitor.snapshot();
        }
    });
    std::string error;
    for (int i = 0; i < 20; ++i) {
        REQUIRE(monitor.start(&error));
        std::this_thread::sleep_for(5ms);
        monitor.stop();
        std::this_thread::sleep_for(1ms);
    }
    done = true;
    reader.join();
    CHECK_FALSE(monitor.isRunning());
    CHECK(seenRunning > 0);
    CHECK(seenStopped > 0);
}

// Regression: start() and stop() assigned and joined the std::thread unguarded, so two threads
// calling them at once (the header promises any thread) could join one thread twice or overwrite
// a running one.
TEST_CASE("start and stop may be called from two threads at once", "[cluster][threads]")
{
    ClusterConfig cluster;
    cluster.bootstrap = "127.0.0.1:1";
    ClusterMonitorOptions options;
    options.refreshIntervalMs = 50;
    options.requestTimeoutMs = 100;
    ClusterMonitor monitor(cluster, nullptr, options);
    auto cycle = [&monitor] {
        std::string error;
        for (int i = 0; i < 20; ++i) {
            monitor.start(&error);
            std::this_thread::sleep_for(2ms);
            monitor.stop();
        }
    };
    std::thread other(cycle);
    cycle();
    other.join();
    CHECK_FALSE(monitor.isRunning());
    std::string error;
    REQUIRE(monitor.start(&error)); // still usable
    CHECK(monitor.isRunning());
    monitor.stop();
}
