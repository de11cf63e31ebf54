// The C++ parts of `bench/compare` (tracker issue 9): each subcommand measures one row and prints
// one JSON object on stdout; bench/compare runs them beside the peers and prints the table.
//
//   bench_compare parse    --broker B --events N [--topic T] [--repeat 3]
//       Reads N messages of the topic into memory (all partitions from the beginning, no group,
//       not timed), then times simdjson on-demand over every payload in place, every field visited
//       and every value read with its type (as bench_aggregator's parse-only limit): the parse
//       limit. Best of --repeat passes; cpu is this thread's CPU time for that pass.
//   bench_compare pipeline --broker B --events N [--topic T] [--group G] [--workers W]
//       Our engine (StudioEngine, as `headless` runs it, without producers or monitor) in its own
//       consumer group from the beginning; time and process CPU from the first consumed message
//       until N are consumed (the in-process cross-check of the headless row).
//   bench_compare plain    --broker B --events N [--topic T] [--group G]
//       A subscribed librdkafka consumer in its own group, same fetch settings, counting only.
//   bench_compare latency  --rate R [--seconds 10] [--warmup 2] [--partitions 12] [--max-batch M]
//                          [--broker B --topic T] [--workers W]
//       (--workers: aggregation workers, 0 = one per hardware thread, the default.)
//       A fresh engine in this process (embedded broker, the aggregator pipeline consuming, no
//       monitor), then its producer (generator defaults, seed 7) at R events/s for --seconds.
//       A sampler thread reads
//       every ~1 ms the producer's produced counter (events handed to librdkafka = created) and
//       the aggregator's counters().valid under the same lock snapshot() takes (= visible in the
//       snapshot). Latency of the k-th event = (first sample where visible >= k) - (first sample
//       where created >= k): the horizontal distance between the created and visible curves,
//       exact for FIFO order and the per-position delay otherwise (see bench/README.md).
#include "core/engine/studioengine.h"
#include "core/kafka/kafkaclient.h"
#include "core/produce/producerpool.h"
#include "parselimit.h"

#include <fmt/core.h>
#include <simdjson.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace studio::core;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

double processCpu()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double threadCpu()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

long maxRssKb()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

[[noreturn]] void fail(const std::string &what)
{
    fmt::print(stderr, "bench_compare: {}\n", what);
    std::exit(1);
}

ClusterConfig external(const std::string &bootstrap)
{
    ClusterConfig c;
    c.name = "bench";
    c.bootstrap = bootstrap;
    return c;
}

// ---- parse ---------------------------------------------------------------------------------

struct Payloads
{
    std::string buffer; // every payload back to back, simdjson padding after the last
    std::vector<std::pair<std::size_t, std::size_t>> spans;
};

Payloads readTopic(const std::string &bootstrap, const std::string &topic, long events)
{
    std::string e;
    auto conf = makeKafkaConf(external(bootstrap),
                              {{"group.id", "bench-compare-parse-reader"},
                               {"enable.auto.commit", "false"},
                               {"fetch.wait.max.ms", "10"},
                               {"queued.max.messages.kbytes", "262144"},
                               {"fetch.error.backoff.ms", "10"}},
                              &e);
    auto consumer = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), &e);
    if (!consumer)
        fail("consumer: " + e);
    auto marks = queryTopicWatermarks(consumer.get(), topic, 10'000, &e);
    if (!marks)
        fail("watermarks: " + e);
    const KafkaPartitionList list = makePartitionList(static_cast<int>(marks->size()));
    long available = 0;
    for (const auto &p : *marks) {
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p.partition)->offset = p.low;
        available += p.high - p.low;
    }
    events = std::min(events, available);
    rd_kafka_assign(consumer.get(), list.get());
    Payloads out;
    out.spans.reserve(static_cast<std::size_t>(events));
    const auto start = Clock::now();
    while (static_cast<long>(out.spans.size()) < events) {
        const KafkaMessage m(rd_kafka_consumer_poll(consumer.get(), 100));
        if (!m) {
            if (since(start) > 120)
                fail("timed out reading the topic");
            continue;
        }
        if (!m->err) {
            out.spans.emplace_back(out.buffer.size(), m->len);
            out.buffer.append(static_cast<const char *>(m->payload), m->len);
        }
    }
    rd_kafka_consumer_close(consumer.get());
    out.buffer.append(simdjson::SIMDJSON_PADDING, ' ');
    return out;
}

int runParse(const std::string &broker, const std::string &topic, long events, int repeat)
{
    const Payloads in = readTopic(broker, topic, events);
    simdjson::ondemand::parser parser;
    double bestWall = 1e99, bestCpu = 1e99;
    std::uint64_t ok = 0, checksum = 0;
    for (int r = 0; r < repeat; ++r) {
        ok = 0;
        std::uint64_t sum = 0;
        const auto t0 = Clock::now();
        const double c0 = threadCpu();
        for (const auto &[at, len] : in.spans) {
            const char *p = in.buffer.data() + at;
            const std::size_t allocated = in.buffer.size() - at;
            ok += studio::bench::readEveryField(parser, p, len, allocated, sum);
        }
        const double cpu = threadCpu() - c0;
        const double wall = since(t0);
        bestWall = std::min(bestWall, wall);
        bestCpu = std::min(bestCpu, cpu);
        checksum = sum;
    }
    fmt::print("{{\"row\":\"simdjson parse-only\",\"events\":{},\"ok\":{},\"wall_s\":{:.4f},"
               "\"cpu_s\":{:.4f},\"events_per_s\":{:.1f},\"maxrss_kb\":{},\"simdjson\":\"{}\","
               "\"bytes\":{},\"checksum\":{}}}\n",
               in.spans.size(), ok, bestWall, bestCpu, double(in.spans.size()) / bestWall,
               maxRssKb(), simdjson::get_active_implementation()->name(),
               in.buffer.size() - simdjson::SIMDJSON_PADDING, checksum);
    return ok == in.spans.size() ? 0 : 1;
}

// ---- pipeline ------------------------------------------------------------------------------

int runPipeline(const std::string &broker, const std::string &topic, long events,
                const std::string &group, int workers)
{
    StudioEngineSettings settings;
    settings.aggregator.workers = workers;
    settings.embedded = false;
    settings.cluster = external(broker);
    settings.topic = topic;
    settings.groupId = group;
    settings.monitor = false;
    StudioEngine engine(settings);
    auto consumedSoFar = [&engine] {
        return engine.status().pipeline.consumed;
    };
    std::string error;
    const auto started = Clock::now();
    if (!engine.start(&error))
        fail("pipeline: " + error);
    while (consumedSoFar() == 0) {
        if (since(started) > 60)
            fail("nothing consumed in 60 s");
        std::this_thread::sleep_for(200us);
    }
    const auto t0 = Clock::now();
    const double c0 = processCpu();
    const double startup = std::chrono::duration<double>(t0 - started).count();
    double nextTrace = 0.25; // progress on stderr every 250 ms, to see stalls
    while (static_cast<long>(consumedSoFar()) < events) {
        if (since(t0) > 300)
            fail("timed out consuming");
        std::this_thread::sleep_for(200us);
        if (since(t0) >= nextTrace) {
            fmt::print(stderr, "  {:6.2f} s  consumed {:>9}  cpu {:6.2f} s\n", since(t0),
                       consumedSoFar(), processCpu() - c0);
            nextTrace += 0.25;
        }
    }
    const double wall = since(t0);
    const double cpu = processCpu() - c0;
    const auto consumed = consumedSoFar();
    const std::size_t workerCount = engine.status().pipeline.workers.size();
    const AggregateCounters c = engine.finish(std::chrono::seconds(1)).counters;
    fmt::print("{{\"row\":\"pipeline in-process\",\"events\":{},\"valid\":{},\"late\":{},"
               "\"invalid\":{},\"duplicates\":{},\"wall_s\":{:.4f},\"cpu_s\":{:.4f},"
               "\"events_per_s\":{:.1f},\"startup_s\":{:.3f},\"maxrss_kb\":{},\"workers\":{}}}\n",
               consumed, c.valid, c.late, c.invalid, c.duplicates, wall, cpu,
               double(consumed) / wall, startup, maxRssKb(), workerCount);
    return 0;
}

// ---- plain group consumer -----------------------------------------------------------------

// A subscribed librdkafka KafkaConsumer (same group protocol and fetch settings as the pipeline)
// that only counts: separates what the group-consumer path costs from what our processing costs.
int runPlain(const std::string &broker, const std::string &topic, long events,
             const std::string &group)
{
    std::string e;
    auto conf = makeKafkaConf(external(broker),
                              {{"group.id", group},
                               {"auto.offset.reset", "earliest"},
                               {"enable.auto.commit", "false"},
                               {"fetch.wait.max.ms", "10"},
                               {"queued.min.messages", "1000000"},
                               {"queued.max.messages.kbytes", "262144"},
                               {"fetch.error.backoff.ms", "10"}},
                              &e);
    auto consumer = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), &e);
    if (!consumer)
        fail("consumer: " + e);
    rd_kafka_poll_set_consumer(consumer.get());
    subscribeToTopic(consumer.get(), topic);
    KafkaQueue queue(rd_kafka_queue_get_consumer(consumer.get()));
    std::vector<rd_kafka_message_t *> batch(4096);
    long got = 0;
    Clock::time_point first{};
    double c0 = 0;
    const auto started = Clock::now();
    while (got < events) {
        if (since(started) > 300)
            fail("timed out consuming");
        const ssize_t n =
            rd_kafka_consume_batch_queue(queue.get(), 100, batch.data(), batch.size());
        for (ssize_t i = 0; i < n; ++i) {
            if (!batch[i]->err && got++ == 0) {
                first = Clock::now();
                c0 = processCpu();
            }
            rd_kafka_message_destroy(batch[i]);
        }
    }
    const double wall = since(first);
    const double cpu = processCpu() - c0;
    queue.reset();
    rd_kafka_consumer_close(consumer.get());
    fmt::print(
        "{{\"row\":\"plain group consumer\",\"events\":{},\"wall_s\":{:.4f},\"cpu_s\":{:.4f},"
        "\"events_per_s\":{:.1f},\"maxrss_kb\":{}}}\n",
        got, wall, cpu, double(got) / wall, maxRssKb());
    return 0;
}

// ---- latency -------------------------------------------------------------------------------

struct Sample
{
    double t;
    std::uint64_t created;
    std::uint64_t visible;
};

double percentile(std::vector<double> &v, double p)
{
    if (v.empty())
        return 0;
    const auto i = static_cast<std::size_t>(p * double(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}

int runLatency(double rate, double seconds, double warmup, int partitions, std::size_t maxBatch,
               const std::string &broker, const std::string &topic, int workers)
{
    StudioEngineSettings settings;
    settings.aggregator.workers = workers;
    settings.embeddedOptions.partitions = partitions;
    if (!broker.empty()) { // a real cluster: `topic` exists there, empty (bench/compare made it)
        settings.embedded = false;
        settings.cluster.name = "bench";
        settings.cluster.bootstrap = broker;
        settings.topic = topic;
    }
    settings.groupId = "bench-compare-latency";
    settings.maxBatch = maxBatch; // diagnostic only; 0 keeps the default (what the product runs)
    settings.monitor = false;
    StudioEngine engine(settings);
    std::string error;
    if (!engine.start(&error))
        fail("engine: " + error);
    const auto joinStart = Clock::now();
    while (engine.status().pipeline.assignedPartitions == 0) {
        if (since(joinStart) > 60)
            fail("no partitions assigned in 60 s");
        std::this_thread::sleep_for(10ms);
    }
    std::size_t batch = 0;
    engine.visitAggregator([&batch](const AggregatorPipeline &p, const Aggregator &) {
        batch = p.settings().maxBatch;
    });

    StudioProducerSettings settingsOfProducer;
    settingsOfProducer.producer.ratePerSecond = rate;
    settingsOfProducer.producer.topic = settings.topic;
    settingsOfProducer.generator.seed = 7;
    const int id = engine.addProducer(settingsOfProducer);
    if (id == 0)
        fail("producer: unusable settings");
    const std::shared_ptr<KafkaProducer> producer = engine.pool().entries().front().second;
    // The aggregator's counters().valid under the lock snapshot() takes: visible in a snapshot.
    auto visibleNow = [&engine] {
        std::uint64_t valid = 0;
        engine.visitAggregator([&valid](const AggregatorPipeline &, const Aggregator &a) {
            valid = a.counters().valid;
        });
        return valid;
    };

    std::vector<Sample> samples;
    samples.reserve(static_cast<std::size_t>((seconds + 30) * 1100));
    std::atomic<bool> stop{false};
    const auto t0 = Clock::now();
    std::thread sampler([&] {
        while (!stop.load()) {
            const std::uint64_t created = producer->stats().produced;
            const std::uint64_t visible = visibleNow();
            samples.push_back({since(t0), created, visible});
            std::this_thread::sleep_for(1ms);
        }
    });
    const double cpu0 = processCpu();
    engine.startProducer(id);
    engine.waitIdle(); // started on the engine's control thread
    if (producer->stats().state == ProducerState::Failed)
        fail("producer: " + producer->stats().lastError);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    engine.stopProducer(id); // flushes its deliveries
    engine.waitIdle();
    const double producing = since(t0);
    const std::uint64_t produced = producer->stats().produced;
    const std::uint64_t acked = producer->stats().acked;
    // Let the aggregator catch up (bounded) so every created event gets a visible time.
    const auto drain = Clock::now();
    while (visibleNow() < acked && since(drain) < 30)
        std::this_thread::sleep_for(5ms);
    stop = true;
    sampler.join();
    const double cpu = processCpu() - cpu0;
    const AggregateCounters c = engine.finish(std::chrono::seconds(1)).counters;

    // Events created after the warm-up and before the end of producing.
    auto firstAtLeast = [&](std::uint64_t k, bool visible) -> double {
        auto it = std::lower_bound(samples.begin(), samples.end(), k,
                                   [&](const Sample &s, std::uint64_t v) {
                                       return (visible ? s.visible : s.created) < v;
                                   });
        return it == samples.end() ? -1 : it->t;
    };
    std::uint64_t kFrom = 0, kTo = 0;
    for (const Sample &s : samples) {
        if (s.t <= warmup)
            kFrom = s.created + 1;
        if (s.t <= producing)
            kTo = s.created;
    }
    std::vector<double> lat;
    std::uint64_t never = 0;
    const std::uint64_t step = std::max<std::uint64_t>(1, (kTo - std::min(kFrom, kTo)) / 200'000);
    for (std::uint64_t k = kFrom; k <= kTo; k += step) {
        const double tc = firstAtLeast(k, false), tv = firstAtLeast(k, true);
        if (tv < 0) {
            ++never;
            continue;
        }
        lat.push_back(std::max(0.0, tv - tc) * 1000.0);
    }
    // Consumption rate over the producing period after the warm-up (visible events per second).
    double vFrom = 0, vTo = 0, tFrom = 0, tTo = 0;
    for (const Sample &s : samples) {
        if (s.t <= warmup) {
            vFrom = double(s.visible);
            tFrom = s.t;
        }
        if (s.t <= producing) {
            vTo = double(s.visible);
            tTo = s.t;
        }
    }
    const double p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99);
    const double max = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
    fmt::print("{{\"row\":\"latency\",\"offered\":{:.0f},\"seconds\":{:.1f},\"produced\":{},"
               "\"acked\":{},\"visible\":{},\"late\":{},\"produced_per_s\":{:.1f},"
               "\"visible_per_s\":{:.1f},\"p50_ms\":{:.2f},\"p99_ms\":{:.2f},\"max_ms\":{:.2f},"
               "\"measured_events\":{},\"never_visible\":{},\"samples\":{},\"cpu_s\":{:.3f},"
               "\"maxrss_kb\":{},\"max_batch\":{}}}\n",
               rate, seconds, produced, acked, c.valid, c.late,
               double(produced) / std::max(1e-9, producing),
               (vTo - vFrom) / std::max(1e-9, tTo - tFrom), p50, p99, max, lat.size() * step,
               never * step, samples.size(), cpu, maxRssKb(), batch);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        fmt::print(stderr,
                   "usage: bench_compare parse|pipeline|latency [options] (see the source)\n");
        return 2;
    }
    const std::string mode = argv[1];
    std::map<std::string, std::string> o{
        {"--topic", "clickstream"}, {"--repeat", "3"},    {"--group", "bench-compare-pipeline"},
        {"--seconds", "10"},        {"--warmup", "2"},    {"--partitions", "12"},
        {"--events", "0"},          {"--rate", "100000"}, {"--max-batch", "0"},
        {"--workers", "0"}};
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!o.count(argv[i]) && std::strcmp(argv[i], "--broker") != 0) {
            fmt::print(stderr, "bench_compare: unknown option {}\n", argv[i]);
            return 2;
        }
        o[argv[i]] = argv[i + 1];
    }
    const long events = std::stol(o["--events"]);
    if (mode == "parse")
        return runParse(o["--broker"], o["--topic"], events, std::stoi(o["--repeat"]));
    if (mode == "plain")
        return runPlain(o["--broker"], o["--topic"], events, o["--group"]);
    if (mode == "pipeline")
        return runPipeline(o["--broker"], o["--topic"], events, o["--group"],
                           std::stoi(o["--workers"]));
    if (mode == "latency")
        return runLatency(std::stod(o["--rate"]), std::stod(o["--seconds"]),
                          std::stod(o["--warmup"]), std::stoi(o["--partitions"]),
                          std::stoul(o["--max-batch"]), o["--broker"], o["--topic"],
                          std::stoi(o["--workers"]));
    fmt::print(stderr, "bench_compare: unknown mode {}\n", mode);
    return 2;
}
