// End-to-end benchmark: events preloaded into the embedded broker, then consumed by the engine's
// aggregator pipeline (consumer group, parse, validate, dedupe, windows, sessions) until drained.
// Prints events/s beside a plain librdkafka consumer reading the same topic (the consume limit,
// same group protocol, no processing), and their ratio. Broker, producer and pipeline are the
// StudioEngine's, as the app runs them; only the plain consumer (the peer) is assembled here.
//
//   bench_pipeline [--events N] [--partitions P] [--kafka embedded|single]
//
// --kafka single: the same on a real Apache Kafka node in its own JVM process (scripts/kafka.sh),
// a fresh topic of P partitions; the engine then connects to it as to any real cluster.

#include "benchkafka.h"
#include "core/engine/studioengine.h"
#include "core/kafka/kafkaclient.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using namespace studio::core;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

/// The engine's producer at full speed until `events` are produced, then paused until every
/// delivery is reported, then stopped.
void preload(StudioEngine &engine, const std::string &topic, long events)
{
    StudioProducerSettings settings;
    settings.producer.ratePerSecond = 0; // as fast as it goes
    settings.producer.topic = topic;
    const int id = engine.addProducer(settings);
    std::string error;
    if (id == 0 || !engine.startProducer(id, &error)) {
        fmt::print(stderr, "producer: {}\n", error);
        std::exit(1);
    }
    auto stats = [&engine] {
        return engine.status().producers.front().stats;
    };
    while (static_cast<long>(stats().produced) < events) {
        if (stats().state == ProducerState::Failed) {
            fmt::print(stderr, "producer: {}\n", stats().lastError);
            std::exit(1);
        }
        std::this_thread::sleep_for(1ms);
    }
    engine.pauseProducer(id);
    engine.waitIdle();
    const auto deadline = Clock::now() + 60s;
    while (stats().inFlight > 0 && Clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    engine.stopProducer(id);
    engine.waitIdle();
    fmt::print("  preloaded {} events\n", stats().acked);
}

// A subscribed consumer that only counts: the broker's consume limit for this topic.
int g_plainRuns = 0;

double plainConsume(const ClusterConfig &cluster, const std::string &topic, long events)
{
    std::string e;
    auto conf = makeKafkaConf(cluster,
                              {{"group.id", "bench-plain-" + std::to_string(++g_plainRuns)},
                               {"auto.offset.reset", "earliest"},
                               {"enable.auto.commit", "false"},
                               {"fetch.wait.max.ms", "10"},
                               {"queued.min.messages", "1000000"},
                               {"queued.max.messages.kbytes", "262144"},
                               {"fetch.error.backoff.ms", "10"}},
                              &e);
    auto consumer = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), &e);
    rd_kafka_poll_set_consumer(consumer.get());
    subscribeToTopic(consumer.get(), topic);
    KafkaQueue queue(rd_kafka_queue_get_consumer(consumer.get()));
    std::vector<rd_kafka_message_t *> batch(4096);
    long got = 0;
    Clock::time_point first{};
    while (got < events) {
        const ssize_t n =
            rd_kafka_consume_batch_queue(queue.get(), 100, batch.data(), batch.size());
        for (ssize_t i = 0; i < n; ++i) {
            if (!batch[i]->err) {
                if (got++ == 0)
                    first = Clock::now();
            }
            rd_kafka_message_destroy(batch[i]);
        }
    }
    const double s = since(first); // from the first message: group joining is not consuming
    queue.reset();
    rd_kafka_consumer_close(consumer.get());
    return got / s;
}

/// The engine's pipeline, started on the preloaded topic: events/s from the first consumed.
double pipelineConsume(StudioEngine &engine, long events, AggregateCounters &counters)
{
    std::string error;
    if (!engine.start(&error)) {
        fmt::print(stderr, "pipeline: {}\n", error);
        std::exit(1);
    }
    auto consumed = [&engine] {
        return engine.status().pipeline.consumed;
    };
    while (consumed() == 0)
        std::this_thread::sleep_for(1ms);
    const auto t0 = Clock::now();
    while (static_cast<long>(consumed()) < events)
        std::this_thread::sleep_for(1ms);
    const double s = since(t0);
    const auto n = consumed();
    counters = engine.finish(1s).counters;
    return n / s;
}

} // namespace

int main(int argc, char **argv)
{
    long events = 1'000'000;
    int partitions = 64;
    auto kind = studio::bench::BenchKafka::Kind::Embedded;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--events")
            events = std::stol(argv[i + 1]);
        else if (flag == "--partitions")
            partitions = std::stoi(argv[i + 1]);
        else if (flag == "--kafka" && studio::bench::BenchKafka::parseKind(argv[i + 1]))
            kind = *studio::bench::BenchKafka::parseKind(argv[i + 1]);
        else {
            fmt::print(stderr, "usage: bench_pipeline [--events N] [--partitions P] [--kafka "
                               "embedded|single]\n");
            return 2;
        }
    }
    StudioEngineSettings settings;
    settings.embeddedOptions.partitions = partitions;
    studio::bench::BenchKafka kafka(kind, settings.embeddedOptions.brokers);
    if (kind == studio::bench::BenchKafka::Kind::Single) {
        std::string error;
        std::optional<studio::bench::BenchKafka::Target> target;
        if (!kafka.start(&error) || !(target = kafka.fresh(partitions, &error))) {
            fmt::print(stderr, "{}\n", error);
            return 1;
        }
        settings.embedded = false;
        settings.cluster = target->cluster;
        settings.topic = target->topic;
    }
    settings.groupId = "bench-pipeline";
    settings.monitor = false; // the pipeline alone, as before: no cluster view or probes
    StudioEngine engine(settings);
    std::string error;
    if (!engine.connect(&error)) {
        fmt::print(stderr, "broker: {}\n", error);
        return 1;
    }
    const ClusterConfig cluster = engine.cluster();
    fmt::print("pipeline benchmark: {}, {} partitions, {} events, {} hardware threads\n",
               kafka.describe(), partitions, events, std::thread::hardware_concurrency());
    preload(engine, settings.topic, events);
    // The embedded broker keeps about 5 MiB per partition: count what is really there.
    {
        std::string e;
        auto client = createKafkaClient(RD_KAFKA_PRODUCER, makeKafkaConf(cluster, {}, &e), &e);
        auto w = queryTopicWatermarks(client.get(), settings.topic, 5000, &e);
        long available = 0;
        for (const auto &p : *w)
            available += p.high - p.low;
        if (available < events)
            fmt::print("  retention kept {} of them (use more --partitions to keep all)\n",
                       available);
        events = available;
    }
    AggregateCounters c;
    const double warm = plainConsume(cluster, settings.topic, events);
    fmt::print("  plain (first reader):             {:>12.0f} events/s\n", warm);
    const double plain = plainConsume(cluster, settings.topic, events);
    const double ours = pipelineConsume(engine, events, c);
    fmt::print("  plain librdkafka consumer:        {:>12.0f} events/s (the consume limit)\n",
               plain);
    fmt::print("  consume + parse + aggregate:      {:>12.0f} events/s ({} valid, {} invalid, {} "
               "duplicates, {} late)\n",
               ours, c.valid, c.invalid, c.duplicates, c.late);
    fmt::print("\nratio pipeline/plain consumer = {:.2f}\n", ours / plain);
    fmt::print("end to end = {:.0f} events/s (target >= 1,000,000): {}\n", ours,
               ours >= 1'000'000 ? "met" : "NOT met");
    return 0;
}
