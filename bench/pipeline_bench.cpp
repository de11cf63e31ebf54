// End-to-end benchmark: events preloaded into the embedded broker, then consumed by the
// aggregator pipeline (consumer group, parse, validate, dedupe, windows, sessions) until drained.
// Prints events/s beside a plain librdkafka consumer reading the same topic (the consume limit,
// same group protocol, no processing), and their ratio.
//
//   bench_pipeline [--events N] [--partitions P]

#include "core/aggregate/aggregator.h"
#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaclient.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"

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

void preload(const EmbeddedBroker &broker, long events)
{
    ProducerSettings settings;
    settings.ratePerSecond = 0; // as fast as it goes
    KafkaProducer producer(broker.clusterConfig(), settings,
                           std::make_unique<GeneratorSource>(GeneratorConfig{}));
    std::string error;
    if (!producer.start(&error)) {
        fmt::print(stderr, "producer: {}\n", error);
        std::exit(1);
    }
    while (static_cast<long>(producer.stats().produced) < events)
        std::this_thread::sleep_for(1ms);
    producer.stop(60s);
    fmt::print("  preloaded {} events\n", producer.stats().acked);
}

// A subscribed consumer that only counts: the broker's consume limit for this topic.
int g_plainRuns = 0;

double plainConsume(const EmbeddedBroker &broker, long events)
{
    std::string e;
    auto conf = makeKafkaConf(broker.clusterConfig(),
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
    auto *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, "clickstream", RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer.get(), topics);
    rd_kafka_topic_partition_list_destroy(topics);
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(consumer.get());
    std::vector<rd_kafka_message_t *> batch(4096);
    long got = 0;
    Clock::time_point first{};
    while (got < events) {
        const ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch.data(), batch.size());
        for (ssize_t i = 0; i < n; ++i) {
            if (!batch[i]->err) {
                if (got++ == 0)
                    first = Clock::now();
            }
            rd_kafka_message_destroy(batch[i]);
        }
    }
    const double s = since(first); // from the first message: group joining is not consuming
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(consumer.get());
    return got / s;
}

double pipelineConsume(const EmbeddedBroker &broker, long events, AggregateCounters &counters)
{
    Aggregator aggregator;
    PipelineSettings settings;
    settings.groupId = "bench-pipeline";
    AggregatorPipeline pipeline(broker.clusterConfig(), settings, aggregator);
    std::string error;
    if (!pipeline.start(&error)) {
        fmt::print(stderr, "pipeline: {}\n", error);
        std::exit(1);
    }
    while (pipeline.stats().consumed == 0)
        std::this_thread::sleep_for(1ms);
    const auto t0 = Clock::now();
    while (static_cast<long>(pipeline.stats().consumed) < events)
        std::this_thread::sleep_for(1ms);
    const double s = since(t0);
    const auto consumed = pipeline.stats().consumed;
    pipeline.stop();
    counters = aggregator.counters();
    return consumed / s;
}

} // namespace

int main(int argc, char **argv)
{
    long events = 1'000'000;
    int partitions = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--events")
            events = std::stol(argv[i + 1]);
        else if (flag == "--partitions")
            partitions = std::stoi(argv[i + 1]);
        else {
            fmt::print(stderr, "usage: bench_pipeline [--events N] [--partitions P]\n");
            return 2;
        }
    }
    EmbeddedBroker broker;
    EmbeddedBroker::Options options;
    options.partitions = partitions;
    std::string error;
    if (!broker.start(options, &error)) {
        fmt::print(stderr, "broker: {}\n", error);
        return 1;
    }
    fmt::print("pipeline benchmark: embedded broker (3 brokers, {} partitions), {} events, {} "
               "hardware threads\n",
               partitions, events, std::thread::hardware_concurrency());
    preload(broker, events);
    // The embedded broker keeps about 5 MiB per partition: count what is really there.
    {
        std::string e;
        auto client =
            createKafkaClient(RD_KAFKA_PRODUCER, makeKafkaConf(broker.clusterConfig(), {}, &e), &e);
        auto w = queryTopicWatermarks(client.get(), "clickstream", 5000, &e);
        long available = 0;
        for (const auto &p : *w)
            available += p.high - p.low;
        if (available < events)
            fmt::print("  retention kept {} of them (use more --partitions to keep all)\n",
                       available);
        events = available;
    }
    AggregateCounters c;
    const double warm = plainConsume(broker, events);
    fmt::print("  plain (first reader):             {:>12.0f} events/s\n", warm);
    const double plain = plainConsume(broker, events);
    const double ours = pipelineConsume(broker, events, c);
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
