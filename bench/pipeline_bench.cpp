// End-to-end benchmark: events preloaded into the embedded broker, then consumed by the engine's
// aggregator pipeline (consumer group, parse, validate, dedupe, windows, sessions) until drained.
// Prints events/s beside a plain librdkafka consumer reading the same topic (the consume limit,
// same group protocol, no processing), and their ratio. Broker, producer and pipeline are the
// StudioEngine's, as the app runs them; only the plain consumer (the peer) is assembled here.
//
//   bench_pipeline [--events N] [--partitions P] [--kafka embedded|single] [--workers W]
//
// --workers W (issue 20): the pipeline with W aggregation workers (0: one per hardware thread, the
// product's default) and, in the same run on the same topic, with one; prints both beside the
// plain consumer, their speed-up and the process CPU time per event of each.
//
// --kafka single: the same on a real Apache Kafka node in its own JVM process (scripts/kafka.sh),
// a fresh topic of P partitions; the engine then connects to it as to any real cluster.

#include "benchkafka.h"
#include "core/engine/studioengine.h"
#include "core/kafka/kafkaclient.h"

#include <fmt/core.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
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
double g_plainCpuPerEvent = 0; // of the last plainConsume(): process CPU seconds per event

double processCpu();

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
    double cpu0 = 0;
    while (got < events) {
        const ssize_t n =
            rd_kafka_consume_batch_queue(queue.get(), 100, batch.data(), batch.size());
        for (ssize_t i = 0; i < n; ++i) {
            if (!batch[i]->err) {
                if (got++ == 0) {
                    first = Clock::now();
                    cpu0 = processCpu();
                }
            }
            rd_kafka_message_destroy(batch[i]);
        }
    }
    const double s = since(first); // from the first message: group joining is not consuming
    g_plainCpuPerEvent = (processCpu() - cpu0) / double(got);
    queue.reset();
    rd_kafka_consumer_close(consumer.get());
    return got / s;
}

double processCpu()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct PipelineRun
{
    double rate = 0;        // events/s from the first consumed
    double cpuPerEvent = 0; // process CPU seconds per event over the same span
    int workers = 0;
    AggregateCounters counters;
};

/// A fresh engine's pipeline (its own group, from the start of the preloaded topic, `workers`
/// aggregation workers) on the broker the first engine runs.
PipelineRun pipelineConsume(const StudioEngineSettings &base, const ClusterConfig &cluster,
                            long events, int workers)
{
    static int runs = 0;
    StudioEngineSettings settings = base;
    settings.embedded = false;
    settings.cluster = cluster;
    settings.groupId = "bench-pipeline-" + std::to_string(++runs);
    settings.aggregator.workers = workers;
    StudioEngine engine(settings);
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
    const double c0 = processCpu();
    while (static_cast<long>(consumed()) < events)
        std::this_thread::sleep_for(1ms);
    const double s = since(t0);
    const double cpu = processCpu() - c0;
    const auto n = consumed();
    PipelineRun run;
    run.workers = static_cast<int>(engine.status().pipeline.workers.size());
    run.counters = engine.finish(1s).counters;
    run.rate = double(n) / s;
    run.cpuPerEvent = cpu / double(n);
    return run;
}

} // namespace

int main(int argc, char **argv)
{
    long events = 1'000'000;
    int partitions = 64;
    auto kind = studio::bench::BenchKafka::Kind::Embedded;
    int workers = -1; // -1: the product's default only, as before
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--events")
            events = std::stol(argv[i + 1]);
        else if (flag == "--partitions")
            partitions = std::stoi(argv[i + 1]);
        else if (flag == "--kafka" && studio::bench::BenchKafka::parseKind(argv[i + 1]))
            kind = *studio::bench::BenchKafka::parseKind(argv[i + 1]);
        else if (flag == "--workers" && std::atoi(argv[i + 1]) >= 0)
            workers = std::atoi(argv[i + 1]);
        else {
            fmt::print(stderr, "usage: bench_pipeline [--events N] [--partitions P] [--kafka "
                               "embedded|single] [--workers W]\n");
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
    const double warm = plainConsume(cluster, settings.topic, events);
    fmt::print("  plain (first reader):             {:>12.0f} events/s\n", warm);
    const double plain = plainConsume(cluster, settings.topic, events);
    const PipelineRun ours = pipelineConsume(settings, cluster, events, std::max(workers, 0));
    const AggregateCounters &c = ours.counters;
    const double plainCpu = g_plainCpuPerEvent;
    fmt::print(
        "  plain librdkafka consumer:        {:>12.0f} events/s (the consume limit), {:.3f} us "
        "CPU per event\n",
        plain, plainCpu * 1e6);
    fmt::print("  consume + parse + aggregate:      {:>12.0f} events/s, {} workers, {:.3f} us CPU "
               "per event ({} valid, {} invalid, {} duplicates, {} late)\n",
               ours.rate, ours.workers, ours.cpuPerEvent * 1e6, c.valid, c.invalid, c.duplicates,
               c.late);
    std::optional<PipelineRun> one;
    if (workers >= 0) {
        one = pipelineConsume(settings, cluster, events, 1);
        fmt::print("  the same with one worker:         {:>12.0f} events/s, {} worker,  {:.3f} us "
                   "CPU per event ({} valid)\n",
                   one->rate, one->workers, one->cpuPerEvent * 1e6, one->counters.valid);
    }
    fmt::print("\nratio pipeline/plain consumer = {:.2f}\n", ours.rate / plain);
    if (one) {
        fmt::print("ratio one worker/plain consumer = {:.2f}\n", one->rate / plain);
        fmt::print("speed-up {} workers/one worker = {:.2f}\n", ours.workers,
                   ours.rate / one->rate);
        fmt::print("CPU per event {} workers/one worker = {:.2f}\n", ours.workers,
                   ours.cpuPerEvent / one->cpuPerEvent);
    }
    fmt::print("end to end = {:.0f} events/s (target >= 1,000,000): {}\n", ours.rate,
               ours.rate >= 1'000'000 ? "met" : "NOT met");
    return 0;
}
