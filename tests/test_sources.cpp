#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaclient.h"
#include "core/produce/filereplaysource.h"
#include "core/produce/generator.h"
#include "core/produce/mirrorsource.h"
#include "core/produce/producer.h"

#include "kafkatestsupport.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;

namespace {

// Writes `n` generated events (with some malformed ones) as JSON Lines; returns the lines.
std::vector<std::string> writeEvents(const std::string &path, int n, double malformed = 0)
{
    GeneratorConfig config;
    config.malformedFraction = malformed;
    EventGenerator generator(config);
    RecordBatch batch;
    for (int i = 0; i < n; ++i)
        generator.next(1767225600000LL + i, batch);
    std::ofstream out(path, std::ios::binary);
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        lines.emplace_back(batch.value(i));
        out << lines.back() << '\n';
        if (i == 10)
            out << "\n\r\n"; // blank lines are skipped
    }
    return lines;
}

} // namespace

TEST_CASE("a JSON Lines file replays once, keyed by user id", "[sources]")
{
    TempFile file;
    const auto lines = writeEvents(file.path, 1000, 0.05);
    std::string error;
    auto source = FileReplaySource::open(file.path, false, &error);
    REQUIRE(source);
    RecordBatch batch;
    std::size_t total = 0;
    while (!source->atEnd())
        total += source->fill(batch, 128, 0);
    CHECK(total == 1000);
    REQUIRE(batch.size() == 1000);
    int keyed = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        CHECK(batch.value(i) == lines[i]);
        if (!batch.key(i).empty()) {
            ++keyed;
            CHECK(lines[i].find("\"user_id\":\"" + std::string(batch.key(i)) + "\"") !=
                  std::string::npos);
        }
    }
    CHECK(keyed > 900); // malformed lines without a readable user_id go unkeyed
    CHECK(source->fill(batch, 10, 0) == 0);
    CHECK(source->lastError().empty());
}

TEST_CASE("a looping replay starts over at the end of the file", "[sources]")
{
    TempFile file;
    const auto lines = writeEvents(file.path, 100);
    std::string error;
    auto source = FileReplaySource::open(file.path, true, &error);
    REQUIRE(source);
    RecordBatch batch;
    std::size_t total = 0;
    while (total < 250)
        total += source->fill(batch, 250 - total, 0);
    CHECK_FALSE(source->atEnd());
    CHECK(source->loopsCompleted() == 2);
    CHECK(batch.value(249) == lines[49]);

    TempFile empty;
    auto none = FileReplaySource::open(empty.path, true, &error);
    REQUIRE(none);
    CHECK(none->fill(batch, 10, 0) == 0);
    CHECK(none->atEnd()); // an empty file cannot loop forever
}

TEST_CASE("a missing replay file is refused with its name", "[sources]")
{
    std::string error;
    CHECK_FALSE(FileReplaySource::open("/nonexistent/events.jsonl", false, &error));
    CHECK(error.find("/nonexistent/events.jsonl") != std::string::npos);
}

TEST_CASE("a producer replays a file once to the broker and finishes", "[sources][broker]")
{
    TempFile file;
    writeEvents(file.path, 1000);
    EmbeddedBroker broker;
    std::string error;
    REQUIRE(broker.start({}, &error));
    ProducerSettings settings;
    settings.ratePerSecond = 5000;
    KafkaProducer producer(broker.clusterConfig(), settings,
                           FileReplaySource::open(file.path, false, &error));
    REQUIRE(producer.start(&error));
    REQUIRE(producer.waitFinished(10s));
    CHECK(producer.stats().state == ProducerState::Finished);
    producer.stop();
    const ProducerStats s = producer.stats();
    CHECK(s.acked == 1000);
    CHECK(s.failed == 0);
    CHECK(highWatermarkSum(broker.clusterConfig(), "clickstream") == 1000);
}

TEST_CASE("a topic of another cluster is mirrored record for record", "[sources][broker]")
{
    EmbeddedBroker remote, local;
    std::string error;
    EmbeddedBroker::Options remoteOptions;
    remoteOptions.topics = {"remote-clicks"};
    remoteOptions.partitions = 3;
    REQUIRE(remote.start(remoteOptions, &error));
    REQUIRE(local.start({}, &error));

    TempFile file;
    const auto lines = writeEvents(file.path, 2000);
    ProducerSettings toRemote;
    toRemote.topic = "remote-clicks";
    toRemote.ratePerSecond = 20'000;
    KafkaProducer seeder(remote.clusterConfig(), toRemote,
                         FileReplaySource::open(file.path, false, &error));
    REQUIRE(seeder.start(&error));
    REQUIRE(seeder.waitFinished(10s));
    seeder.stop();
    REQUIRE(seeder.stats().acked == 2000);

    auto mirror =
        MirrorSource::open(remote.clusterConfig(), "remote-clicks", "test-mirror", &error);
    INFO(error);
    REQUIRE(mirror);
    ProducerSettings toLocal;
    toLocal.ratePerSecond = 100'000;
    KafkaProducer copier(local.clusterConfig(), toLocal, std::move(mirror));
    REQUIRE(copier.start(&error));
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (copier.stats().acked < 2000 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    std::this_thread::sleep_for(500ms); // nothing more should arrive
    copier.stop();
    CHECK(copier.stats().acked == 2000);
    CHECK(highWatermarkSum(local.clusterConfig(), "clickstream") == 2000);

    // The copies are the originals: read them back from the local cluster.
    std::string e;
    auto conf = makeKafkaConf(local.clusterConfig(),
                              {{"group.id", "verify"}, {"auto.offset.reset", "earliest"}}, &e);
    auto consumer = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), &e);
    REQUIRE(consumer);
    rd_kafka_poll_set_consumer(consumer.get());
    subscribeToTopic(consumer.get(), "clickstream");
    std::set<std::string> expected(lines.begin(), lines.end()), seen;
    const auto readDeadline = std::chrono::steady_clock::now() + 30s;
    while (seen.size() < expected.size() && std::chrono::steady_clock::now() < readDeadline) {
        if (const KafkaMessage m{rd_kafka_consumer_poll(consumer.get(), 100)}) {
            if (!m->err)
                seen.emplace(static_cast<const char *>(m->payload), m->len);
        }
    }
    rd_kafka_consumer_close(consumer.get());
    CHECK(seen == expected);
}

TEST_CASE("watermarks of many partitions in one call equal the per-partition answers",
          "[kafka][broker]")
{
    TempFile file;
    writeEvents(file.path, 3000);
    EmbeddedBroker broker;
    std::string error;
    REQUIRE(broker.start({}, &error));
    REQUIRE(broker.createTopic("other", 5, &error));
    ProducerSettings settings;
    settings.ratePerSecond = 0;
    KafkaProducer producer(broker.clusterConfig(), settings,
                           FileReplaySource::open(file.path, false, &error));
    REQUIRE(producer.start(&error));
    REQUIRE(producer.waitFinished(20s));
    producer.stop();

    auto client = createKafkaClient(RD_KAFKA_PRODUCER,
                                    makeKafkaConf(broker.clusterConfig(), {}, &error), &error);
    REQUIRE(client);
    auto single = queryTopicWatermarks(client.get(), "clickstream", 5000, &error);
    REQUIRE(single);
    std::vector<TopicPartitionWatermarks> many;
    for (const auto &w : *single)
        many.push_back({"clickstream", w.partition});
    for (int p = 0; p < 5; ++p)
        many.push_back({"other", p});
    REQUIRE(queryWatermarks(client.get(), many, 5000, &error));
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < single->size(); ++i) {
        CHECK(many[i].error == 0);
        CHECK(many[i].low == (*single)[i].low);
        CHECK(many[i].high == (*single)[i].high);
        sum += many[i].high;
    }
    CHECK(sum == 3000);
    for (std::size_t i = single->size(); i < many.size(); ++i) {
        CHECK(many[i].error == 0);
        CHECK(many[i].low == 0);
        CHECK(many[i].high == 0);
    }
}
