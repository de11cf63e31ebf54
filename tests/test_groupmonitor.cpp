#include "core/aggregate/aggregator.h"
#include "core/common/timeutil.h"
#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaclient.h"
#include "core/monitor/groupmonitor.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"

#include "kafkatestsupport.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;

namespace {

std::optional<GroupLag> findGroup(const GroupMonitor &monitor, const std::string &id)
{
    const auto snap = monitor.snapshot();
    for (const auto &g : snap->groups)
        if (g.groupId == id)
            return g;
    return std::nullopt;
}

LagStatus statusOf(const GroupMonitor &monitor, const std::string &id)
{
    const auto g = findGroup(monitor, id);
    return g ? g->status : LagStatus::Unknown;
}

KafkaHandle makeClient(const ClusterConfig &cluster, rd_kafka_type_t type, Properties props = {})
{
    std::string error;
    KafkaConf conf = makeKafkaConf(cluster, props, &error);
    INFO(error);
    REQUIRE(conf);
    KafkaHandle client = createKafkaClient(type, std::move(conf), &error);
    INFO(error);
    REQUIRE(client);
    return client;
}

// Commits offsets for `group` without joining it (a non-subscribing consumer with its group.id).
rd_kafka_resp_err_t commitOffsets(rd_kafka_t *consumer, const std::string &topic,
                                  const std::map<std::int32_t, std::int64_t> &offsets)
{
    const KafkaPartitionList list = makePartitionList(int(offsets.size()));
    for (const auto &[partition, offset] : offsets)
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
    return rd_kafka_commit(consumer, list.get(), 0);
}

// `count` messages to `partition`, each with the given timestamp.
void produce(rd_kafka_t *producer, const std::string &topic, std::int32_t partition, int count,
             std::int64_t timestampMs)
{
    for (int i = 0; i < count; ++i) {
        const std::string value = "message " + std::to_string(i);
        REQUIRE(rd_kafka_producev(
                    producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestampMs),
                    RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

} // namespace

TEST_CASE("the app's group is OK while consuming, STOP while paused, OK after catching up and "
          "REWIND after an offset reset",
          "[groups][broker]")
{
    EmbeddedBroker broker;
    std::string error;
    EmbeddedBroker::Options options;
    options.partitions = 4;
    REQUIRE(broker.start(options, &error));
    const std::string group = "clickstream-studio";

    Aggregator aggregator;
    PipelineSettings settings;
    settings.commitIntervalMs = 200;
    settings.extra = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    AggregatorPipeline pipeline(broker.clusterConfig(), settings, aggregator);
    REQUIRE(pipeline.start(&error));

    ProducerSettings producerSettings;
    producerSettings.ratePerSecond = 3000;
    KafkaProducer producer(broker.clusterConfig(), producerSettings,
                           std::make_unique<GeneratorSource>(GeneratorConfig{}));
    REQUIRE(producer.start(&error));

    GroupMonitorOptions monitorOptions;
    monitorOptions.refreshIntervalMs = 300;
    monitorOptions.windowSize = 5;
    monitorOptions.requestTimeoutMs = 2000;
    GroupMonitor monitor(broker.clusterConfig(), true, monitorOptions);
    monitor.watchGroup(group, {"clickstream"});
    monitor.setCommitCounter(group, [&pipeline] { return pipeline.stats().commits; });
    REQUIRE(monitor.start(&error));
    const std::int64_t startSecond = wallClockMs() / 1000;

    REQUIRE(waitFor([&] { return pipeline.stats().consumed > 3000; }, 30s));

    // Consuming: offsets committed everywhere, little lag, OK.
    REQUIRE(waitFor(
        [&] {
            const auto g = findGroup(monitor, group);
            if (!g || g->status != LagStatus::Ok || g->partitions.size() != 4)
                return false;
            for (const auto &p : g->partitions)
                if (p.committed < 0)
                    return false;
            return g->totalLag >= 0 && g->totalLag < 3000 && g->error.empty();
        },
        40s));
    {
        const auto snap = monitor.snapshot();
        CHECK(snap->embedded);
        CHECK_FALSE(snap->listingSupported);
        CHECK(snap->note.find("cannot list consumer groups") != std::string::npos);
        CHECK(snap->error.empty());
        const auto g = findGroup(monitor, group);
        REQUIRE(g);
        CHECK(g->watched);
        CHECK(g->state.find("embedded broker") != std::string::npos);
        CHECK(g->lastCommitSeenMs > 0);
        CHECK(g->partitions[0].topic == "clickstream");
        CHECK(g->partitions[3].partition == 3);
        const auto listing = monitor.listGroups();
        REQUIRE(listing.size() == 1);
        CHECK(listing[0].groupId == group);
        CHECK(listing[0].watched);
        CHECK_FALSE(listing[0].listed);
    }

    // Paused: the lag grows and, with no commits, the status ends in STOP by the window rule.
    pipeline.pause();
    const std::int64_t lagAtPause = findGroup(monitor, group)->totalLag;
    std::set<LagStatus> seenWhilePaused;
    REQUIRE(waitFor(
        [&] {
            const LagStatus s = statusOf(monitor, group);
            seenWhilePaused.insert(s);
            return s == LagStatus::Stop;
        },
        30s));
    CHECK(seenWhilePaused.count(LagStatus::Stall) == 0);
    CHECK(seenWhilePaused.count(LagStatus::Rewind) == 0);
    REQUIRE(waitFor(
        [&] {
            const auto g = findGroup(monitor, group);
            return g && g->totalLag > lagAtPause + 2000 && g->lagSeconds > 0.5;
        },
        30s));
    {
        const auto g = findGroup(monitor, group);
        REQUIRE(g);
        INFO(g->reason);
        CHECK(g->status == LagStatus::Stop);
        CHECK(g->reason.rfind("clickstream[", 0) == 0);
        CHECK(g->reason.find("unchanged for") != std::string::npos);
        CHECK(g->lagSecondsMethod == LagSecondsMethod::NextMessageTimestamp);
        CHECK(std::string(lagSecondsMethodName(g->lagSecondsMethod)) == "next-message timestamp");
        CHECK(g->lagSeconds < 120);
        for (const auto &p : g->partitions) {
            CHECK(p.lag == p.high - p.committed);
            CHECK(p.lag > 0);
        }
        // History: the lag seen while paused is in the group's series.
        const GroupHistory history = monitor.history(group, startSecond);
        REQUIRE_FALSE(history.totalLag.empty());
        double most = 0;
        for (const auto &s : history.totalLag)
            most = std::max(most, s.value);
        CHECK(most >= double(lagAtPause + 2000));
        CHECK_FALSE(history.lagSeconds.empty());
    }

    // Resumed: the group catches up and is OK again; once the producer stops, lag is 0.
    pipeline.resume();
    REQUIRE(waitFor([&] { return statusOf(monitor, group) == LagStatus::Ok; }, 40s));
    producer.stop();
    REQUIRE(waitFor(
        [&] {
            const auto g = findGroup(monitor, group);
            return g && g->status == LagStatus::Ok && g->totalLag == 0 && g->lagSeconds == 0;
        },
        40s));
    const auto caughtUp = findGroup(monitor, group);
    REQUIRE(caughtUp);

    // An offset reset backwards while the aggregator is stopped: REWIND.
    pipeline.stop();
    std::map<std::int32_t, std::int64_t> rewound;
    for (const auto &p : caughtUp->partitions)
        rewound[p.partition] = std::max<std::int64_t>(0, p.committed - 500);
    // The embedded broker refuses offset commits without a member for a group that ever had
    // one ("Unknown member", even once it is empty), so AlterConsumerGroupOffsets cannot reset
    // the app's group there: a member of the group commits the lower offsets instead.
    KafkaHandle member = makeClient(broker.clusterConfig(), RD_KAFKA_CONSUMER,
                                    {{"group.id", group},
                                     {"enable.auto.commit", "false"},
                                     {"session.timeout.ms", "6000"},
                                     {"heartbeat.interval.ms", "500"}});
    rd_kafka_poll_set_consumer(member.get());
    REQUIRE(subscribeToTopic(member.get(), "clickstream") == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(waitFor(
        [&] {
            // Polling serves the group protocol; the message itself is not wanted.
            const KafkaMessage polled(rd_kafka_consumer_poll(member.get(), 100));
            const KafkaPartitionList assigned = currentAssignment(member.get());
            return assigned && assigned->cnt == 4;
        },
        40s));
    REQUIRE(commitOffsets(member.get(), "clickstream", rewound) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(waitFor([&] { return statusOf(monitor, group) == LagStatus::Rewind; }, 30s));
    const auto g = findGroup(monitor, group);
    REQUIRE(g);
    CHECK(g->reason.find("went back") != std::string::npos);
    CHECK(g->totalLag >= 4 * 500 - 10);

    rd_kafka_consumer_close(member.get());

    const auto before = std::chrono::steady_clock::now();
    monitor.stop();
    CHECK(std::chrono::steady_clock::now() - before < 3s);
    CHECK_FALSE(monitor.isRunning());
}

TEST_CASE("a group that commits one offset over and over is STALL, a silent one STOP, and lag "
          "seconds come from the next message's timestamp or the consume rate",
          "[groups][broker]")
{
    EmbeddedBroker broker;
    std::string error;
    EmbeddedBroker::Options options;
    options.partitions = 1;
    REQUIRE(broker.start(options, &error));
    const ClusterConfig cluster = broker.clusterConfig();

    KafkaHandle producer = makeClient(cluster, RD_KAFKA_PRODUCER, {{"linger.ms", "5"}});
    // Messages a minute old: a group at offset 10 is a minute behind.
    produce(producer.get(), "clickstream", 0, 200, wallClockMs() - 60'000);

    KafkaHandle repeater = makeClient(cluster, RD_KAFKA_CONSUMER,
                                      {{"group.id", "repeater"}, {"enable.auto.commit", "false"}});
    KafkaHandle silent = makeClient(cluster, RD_KAFKA_CONSUMER,
                                    {{"group.id", "silent"}, {"enable.auto.commit", "false"}});
    KafkaHandle mover = makeClient(cluster, RD_KAFKA_CONSUMER,
                                   {{"group.id", "mover"}, {"enable.auto.commit", "false"}});
    REQUIRE(commitOffsets(repeater.get(), "clickstream", {{0, 10}}) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(commitOffsets(silent.get(), "clickstream", {{0, 10}}) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(commitOffsets(mover.get(), "clickstream", {{0, 0}}) == RD_KAFKA_RESP_ERR_NO_ERROR);

    GroupMonitorOptions monitorOptions;
    monitorOptions.refreshIntervalMs = 200;
    monitorOptions.windowSize = 4;
    monitorOptions.requestTimeoutMs = 2000;
    GroupMonitor monitor(cluster, true, monitorOptions);
    std::atomic<std::uint64_t> repeats{0};
    monitor.watchGroup("repeater", {"clickstream"});
    monitor.watchGroup("silent", {"clickstream"});
    monitor.setCommitCounter("repeater", [&repeats] { return repeats.load(); });
    REQUIRE(monitor.start(&error));

    // The same consumers seen by a monitor that reads no timestamps (so the consume rate is
    // used) and that believes it talks to a real cluster (so it tries to list groups, which the
    // embedded broker refuses: safe, unlike DescribeConsumerGroups).
    monitorOptions.timestampReadsPerRefresh = 0;
    GroupMonitor rateMonitor(cluster, false, monitorOptions);
    rateMonitor.watchGroup("mover", {"clickstream"});
    rateMonitor.watchGroup("typo", {"no-such-topic"});
    REQUIRE(rateMonitor.start(&error));

    std::atomic<bool> done{false};
    std::thread committer([&] {
        std::int64_t moved = 0;
        while (!done) {
            commitOffsets(repeater.get(), "clickstream", {{0, 10}});
            ++repeats;
            moved = std::min<std::int64_t>(moved + 1, 190); // 10 messages/s
            commitOffsets(mover.get(), "clickstream", {{0, moved}});
            std::this_thread::sleep_for(100ms);
        }
    });

    const bool judged = waitFor(
        [&] {
            return statusOf(monitor, "repeater") == LagStatus::Stall &&
                   statusOf(monitor, "silent") == LagStatus::Stop;
        },
        30s);
    const bool rated = waitFor(
        [&] {
            const auto g = findGroup(rateMonitor, "mover");
            return g && g->lagSeconds > 0;
        },
        30s);
    done = true;
    committer.join();
    REQUIRE(judged);
    REQUIRE(rated);

    const auto stalled = findGroup(monitor, "repeater");
    REQUIRE(stalled);
    CHECK(stalled->reason == "clickstream[0]: " + stalled->partitions[0].reason);
    CHECK(stalled->reason.find("commits repeat offset 10") != std::string::npos);
    CHECK(stalled->totalLag == 190);

    const auto stopped = findGroup(monitor, "silent");
    REQUIRE(stopped);
    CHECK(stopped->reason.find("committed offset 10 unchanged for") != std::string::npos);
    CHECK(stopped->lastCommitSeenMs == -1);
    CHECK(stopped->lagSecondsMethod == LagSecondsMethod::NextMessageTimestamp);
    CHECK(stopped->lagSeconds > 55);
    CHECK(stopped->lagSeconds < 120);

    const auto moving = findGroup(rateMonitor, "mover");
    REQUIRE(moving);
    CHECK(moving->lagSecondsMethod == LagSecondsMethod::ConsumeRate);
    CHECK(moving->partitions[0].lagSecondsMethod == LagSecondsMethod::ConsumeRate);
    CHECK(moving->lagSeconds < 200); // ~ lag / 10 per second

    const auto snap = rateMonitor.snapshot();
    CHECK(snap->listingSupported);
    CHECK(snap->listingError.find("not supported") != std::string::npos);
    const auto typo = findGroup(rateMonitor, "typo");
    REQUIRE(typo);
    CHECK(typo->error == "topic 'no-such-topic' not found");
    CHECK(typo->status == LagStatus::Unknown);

    rateMonitor.stop();
    monitor.stop();
    // Watching a missing topic did not create it on the embedded broker.
    const KafkaMetadata md = requestMetadata(producer.get(), true, nullptr, 5000, nullptr);
    REQUIRE(md);
    for (int t = 0; t < md->topic_cnt; ++t)
        CHECK(std::string(md->topics[t].topic) != "no-such-topic");
}

TEST_CASE("a cluster that goes down is an error in the snapshot, never a hang, and the monitor "
          "recovers",
          "[groups][broker]")
{
    EmbeddedBroker broker;
    std::string error;
    EmbeddedBroker::Options options;
    options.partitions = 2;
    REQUIRE(broker.start(options, &error));
    const ClusterConfig cluster = broker.clusterConfig();
    KafkaHandle producer = makeClient(cluster, RD_KAFKA_PRODUCER, {{"linger.ms", "5"}});
    produce(producer.get(), "clickstream", 0, 50, wallClockMs());
    KafkaHandle consumer = makeClient(cluster, RD_KAFKA_CONSUMER,
                                      {{"group.id", "external"}, {"enable.auto.commit", "false"}});
    REQUIRE(commitOffsets(consumer.get(), "clickstream", {{0, 20}, {1, 0}}) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);

    GroupMonitorOptions monitorOptions;
    monitorOptions.refreshIntervalMs = 300;
    monitorOptions.windowSize = 4;
    // Long enough that waiting one request out would show in stop()'s time below.
    monitorOptions.requestTimeoutMs = 4000;
    GroupMonitor monitor(cluster, true, monitorOptions);
    monitor.watchGroup("external", {"clickstream"});
    REQUIRE(monitor.start(&error));
    REQUIRE(waitFor(
        [&] {
            const auto g = findGroup(monitor, "external");
            return g && g->partitions.size() == 2 && g->error.empty() && g->totalLag == 30;
        },
        30s));

    auto setDown = [&](bool down) {
        for (int id = 1; id <= options.brokers; ++id)
            broker.setBrokerDown(id, down);
    };
    setDown(true);
    REQUIRE(waitFor([&] { return !monitor.snapshot()->error.empty(); }, 30s));
    {
        const auto before = std::chrono::steady_clock::now();
        const auto snap = monitor.snapshot();
        CHECK(std::chrono::steady_clock::now() - before < 500ms);
        INFO(snap->error);
        CHECK(snap->error.find("cannot reach the cluster") != std::string::npos);
        const auto g = findGroup(monitor, "external");
        REQUIRE(g);
        CHECK_FALSE(g->error.empty());
        CHECK(g->partitions.size() == 2); // the last known state is kept
    }

    setDown(false);
    const std::uint64_t refreshesBefore = monitor.snapshot()->refreshes;
    REQUIRE(waitFor(
        [&] {
            const auto snap = monitor.snapshot();
            const auto g = findGroup(monitor, "external");
            return snap->error.empty() && snap->refreshes > refreshesBefore && g &&
                   g->error.empty() && g->totalLag == 30;
        },
        40s));

    // Down again, then stopped while it cannot reach anything: stop() does not wait it out.
    setDown(true);
    REQUIRE(waitFor([&] { return !monitor.snapshot()->error.empty(); }, 30s));
    const auto before = std::chrono::steady_clock::now();
    monitor.stop();
    const auto took = std::chrono::steady_clock::now() - before;
    INFO("stop() took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms");
    CHECK(took < 2s);
    CHECK_FALSE(monitor.isRunning());
    setDown(false);
}

TEST_CASE("a monitor of a cluster that never answers says so and stops at once", "[groups][broker]")
{
    ClusterConfig nowhere;
    nowhere.name = "nowhere";
    nowhere.bootstrap = "127.0.0.1:1"; // nothing listens there
    GroupMonitorOptions monitorOptions;
    monitorOptions.refreshIntervalMs = 200;
    monitorOptions.requestTimeoutMs = 1000;
    GroupMonitor monitor(nowhere, false, monitorOptions);
    monitor.watchGroup("clickstream-studio", {"clickstream"});
    std::string error;
    REQUIRE(monitor.start(&error)); // unreachable is not a start-up error
    REQUIRE(waitFor([&] { return !monitor.snapshot()->error.empty(); }, 20s));
    const auto snap = monitor.snapshot();
    INFO(snap->error);
    CHECK(snap->error.find("cannot reach the cluster") != std::string::npos);
    REQUIRE(snap->groups.size() == 1);
    CHECK(snap->groups[0].status == LagStatus::Unknown);
    CHECK(snap->groups[0].error == snap->error);
    const auto before = std::chrono::steady_clock::now();
    monitor.stop();
    CHECK(std::chrono::steady_clock::now() - before < 2s);

    GroupMonitor invalid(ClusterConfig{}, true); // no bootstrap at all
    CHECK_FALSE(invalid.start(&error));
    CHECK_FALSE(error.empty());
}
