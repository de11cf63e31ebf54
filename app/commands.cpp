#include "app/commands.h"

#include "app/commandsupport.h"
#include "app/enginesetup.h"
#include "app/metricsserver.h"
#include "app/signals.h"
#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/kafka/embeddedbroker.h"
#include "core/produce/producerpool.h"

#include <fmt/core.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace studio::app {

using core::groupThousands;

int usageError(const std::string &message)
{
    fmt::print(stderr, "error: {}\n", message);
    return kUsageError;
}

Totals totalsOf(const std::vector<core::ProducerSample> &producers)
{
    Totals t;
    for (const core::ProducerSample &p : producers) {
        const core::ProducerStats &s = p.stats;
        t.produced += s.produced;
        t.acked += s.acked;
        t.failed += s.failed;
        t.inFlight += s.inFlight;
        t.shortfall += s.shortfall;
        t.transactions += s.transactions;
        t.abortedTransactions += s.abortedTransactions;
        t.resent += s.resent;
        t.rate += s.achievedRate;
        t.target += s.targetRate;
        t.keepingUp = t.keepingUp && s.keepingUp;
        t.anyRunning = t.anyRunning || s.state == core::ProducerState::Running ||
                       s.state == core::ProducerState::Paused;
        if (!s.keepingUp)
            t.limitedBy = s.limitedBy;
        if (!s.lastError.empty())
            t.lastError = s.lastError;
    }
    return t;
}

namespace {

// Fault injection from outside the process: SIGUSR1 takes every broker down, SIGUSR2 brings them
// back (the handlers only count; the loop below acts).
std::atomic<int> g_brokerDownRequests{0};
std::atomic<int> g_brokerUpRequests{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void onBrokerDownSignal(int)
{
    g_brokerDownRequests.fetch_add(1);
}

extern "C" void onBrokerUpSignal(int)
{
    g_brokerUpRequests.fetch_add(1);
}

void installBrokerFaultSignals()
{
    struct sigaction action = {};
    sigemptyset(&action.sa_mask);
    action.sa_handler = onBrokerDownSignal;
    sigaction(SIGUSR1, &action, nullptr);
    action.sa_handler = onBrokerUpSignal;
    sigaction(SIGUSR2, &action, nullptr);
}

} // namespace

int runBroker(const BrokerCommand &command)
{
    core::EmbeddedBroker broker;
    core::EmbeddedBroker::Options options;
    options.brokers = command.brokers;
    options.partitions = command.partitions;
    options.topics = command.topics;
    std::string error;
    installStopSignals();
    installBrokerFaultSignals();
    if (!broker.start(options, &error)) {
        fmt::print(stderr, "error: {}\n", error);
        return kRuntimeError;
    }
    // The bootstrap is the first line of stdout, so scripts can read it and go on.
    fmt::print("{}\n", broker.bootstrap());
    std::fflush(stdout);
    std::string topics;
    for (const auto &t : options.topics)
        topics += (topics.empty() ? "" : ", ") + t;
    fmt::print(stderr,
               "embedded Kafka broker (librdkafka mock cluster): {} broker(s), topic(s) {} with "
               "{} partitions each, at {}. Ctrl-C stops it; its data lives in memory only. "
               "SIGUSR1 takes every broker down, SIGUSR2 brings them back up (fault "
               "injection).\n",
               options.brokers, topics, options.partitions, broker.bootstrap());
    int downSeen = 0, upSeen = 0;
    while (sleepUnlessStopped(0.05)) {
        const int down = g_brokerDownRequests.load(), up = g_brokerUpRequests.load();
        if (down == downSeen && up == upSeen)
            continue;
        // Checked every 50 ms; should both signals arrive within one check, down is applied
        // first and up last (brokers end up serving).
        if (down != downSeen) {
            for (int id = 1; id <= options.brokers; ++id)
                broker.setBrokerDown(id, true);
            fmt::print(stderr, "fault injection: all {} broker(s) down\n", options.brokers);
            downSeen = down;
        }
        if (up != upSeen) {
            for (int id = 1; id <= options.brokers; ++id)
                broker.setBrokerDown(id, false);
            fmt::print(stderr, "fault injection: all {} broker(s) up\n", options.brokers);
            upSeen = up;
        }
    }
    fmt::print(stderr, "embedded broker stopped\n");
    return 0;
}

int runGenerate(GenerateCommand &command)
{
    if (std::string e = finishGeneratorOptions(command.generator); !e.empty())
        return usageError(e);
    if (command.count < 1)
        return usageError("--count must be at least 1");
    if (!(command.rps > 0) || !std::isfinite(command.rps))
        return usageError("--rps must be a positive number of events per second");
    std::int64_t start = core::wallClockMs();
    if (!command.start.empty()) {
        const auto parsed = core::parseIsoMs(command.start);
        if (!parsed)
            return usageError("--start must be an ISO-8601 UTC time like 2026-01-01T00:00:00.000Z, "
                              "got '" +
                              command.start + "'");
        start = *parsed;
    }
    std::FILE *out = stdout;
    const bool toFile = !command.out.empty() && command.out != "-";
    if (toFile) {
        out = std::fopen(command.out.c_str(), "wb");
        if (!out) {
            fmt::print(stderr, "error: cannot write '{}': {}\n", command.out, std::strerror(errno));
            return kRuntimeError;
        }
    }
    core::EventGenerator generator(command.generator.config);
    core::RecordBatch batch;
    std::string chunk;
    const double msPerEvent = 1000.0 / command.rps;
    bool ok = true;
    for (long long i = 0; i < command.count && ok; ++i) {
        const auto ts =
            start + static_cast<std::int64_t>(std::floor(static_cast<double>(i) * msPerEvent));
        generator.next(ts, batch);
        if (batch.size() == 4096 || i + 1 == command.count) {
            chunk.clear();
            for (std::size_t r = 0; r < batch.size(); ++r) {
                chunk.append(batch.value(r));
                chunk.push_back('\n');
            }
            ok = std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size();
            batch.clear();
        }
    }
    ok = std::fflush(out) == 0 && ok;
    if (toFile)
        ok = std::fclose(out) == 0 && ok;
    if (!ok) {
        fmt::print(stderr, "error: writing {} failed: {}\n", toFile ? command.out : "stdout",
                   std::strerror(errno));
        return kRuntimeError;
    }
    if (toFile)
        fmt::print(
            stderr, "wrote {} events to {} ({} to {})\n", groupThousands(command.count),
            command.out, core::formatIsoMs(start),
            core::formatIsoMs(start + static_cast<std::int64_t>(
                                          static_cast<double>(command.count - 1) * msPerEvent)));
    return 0;
}

int runProduce(ProduceCommand &c, bool headless)
{
    if (c.producer.producers < 1)
        return usageError("--producers 0 aggregates only: it goes with run/headless, not produce");
    core::StudioEngineSettings settings;
    if (std::string e = buildProducerEngineSettings(c, settings); !e.empty())
        return usageError(e);
    if (std::string e = checkProducerOptions(c); !e.empty())
        return usageError(e);
    // Before the broker, so a port in use is reported at once.
    MetricsEndpoint metrics;
    std::string error;
    if (!metrics.start(c.metrics, &error))
        return usageError(error);
    // Before anything slow starts, so an early Ctrl-C still ends with a summary.
    installStopSignals();
    core::StudioEngine engine(settings); // producers only: no pipeline, no monitor
    // Declared after the engine, so removed (waiting for a scrape) before it goes.
    const auto registrations = engine.registerMetrics(metrics.registry());
    if (auto code = startEngine(engine))
        return *code;
    if (auto code = startProducers(c, engine))
        return *code;
    const ConnectionOptions &conn = c.connection;
    const ProducerOptions &p = c.producer;
    const core::ClusterConfig cluster = engine.cluster();
    const std::string what = engine.pool().entries().front().second->sourceDescription();
    fmt::print(stderr, "{}producing {} to '{}' on {} at {} events/s{}{}\n",
               headless ? "Clickstream Studio headless: " : "", what, p.settings.topic,
               cluster.describe(),
               groupThousands(static_cast<std::uint64_t>(p.settings.ratePerSecond)),
               p.producers > 1 ? fmt::format(" over {} producers", p.producers) : "",
               p.durationSeconds > 0 ? fmt::format(" for {} s", p.durationSeconds)
                                     : std::string(", Ctrl-C to stop"));

    std::FILE *statusOut = p.json ? stderr : stdout;
    const double seconds = runTicking(
        p.durationSeconds,
        [&](double elapsed) {
            const Totals t = totalsOf(engine.status().producers);
            std::string line = fmt::format(
                "[{:6.1f}s] {:>9} ev/s (target {}) | produced {} acked {} failed {} in flight {}",
                elapsed, groupThousands(static_cast<std::uint64_t>(t.rate)),
                groupThousands(static_cast<std::uint64_t>(t.target)), groupThousands(t.produced),
                groupThousands(t.acked), groupThousands(t.failed), groupThousands(t.inFlight));
            if (!t.keepingUp)
                line += fmt::format(" | BEHIND target, limited by {}", t.limitedBy);
            if (!t.lastError.empty())
                line += " | " + t.lastError;
            fmt::print(statusOut, "{}\n", line);
            std::fflush(statusOut);
        },
        [&] { return !totalsOf(engine.status().producers).anyRunning; });
    if (stopRequested())
        fmt::print(stderr, "stopping: waiting for in-flight deliveries...\n");
    engine.stopProducers();
    const Totals t = totalsOf(engine.status().producers);

    // What the brokers hold: on a fresh embedded topic this equals acked.
    std::int64_t highWatermarks = -1;
    auto conf = t.acked > 0 ? core::makeKafkaConf(cluster, {}, &error) : nullptr;
    if (conf) {
        if (auto client = core::createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), &error)) {
            if (auto w = core::queryTopicWatermarks(client.get(), p.settings.topic, 3000, &error))
                highWatermarks = core::sumHighWatermarks(*w);
        }
    }
    const double achieved = seconds > 0 ? static_cast<double>(t.produced) / seconds : 0;
    fmt::print(stderr,
               "done: produced {} acked {} failed {} in {:.1f} s ({} events/s, target {}){}\n",
               groupThousands(t.produced), groupThousands(t.acked), groupThousands(t.failed),
               seconds, groupThousands(static_cast<std::uint64_t>(achieved)),
               groupThousands(static_cast<std::uint64_t>(p.settings.ratePerSecond)),
               t.shortfall > 0 ? fmt::format("; {} events behind schedule were not sent",
                                             groupThousands(t.shortfall))
                               : std::string());
    if (p.settings.transactional)
        fmt::print(stderr,
                   "transactions: {} committed, {} aborted by the brokers ({} events sent again, "
                   "invisible to read_committed consumers in the aborted ones)\n",
                   groupThousands(t.transactions), groupThousands(t.abortedTransactions),
                   groupThousands(t.resent));
    if (!t.lastError.empty() && t.failed > 0)
        fmt::print(stderr, "last error: {}\n", t.lastError);
    if (p.json) {
        fmt::print(
            "{{\"produced\":{},\"acked\":{},\"failed\":{},\"in_flight\":{},\"seconds\":{:.3f},"
            "\"achieved_rps\":{:.1f},\"target_rps\":{},\"shortfall\":{},"
            "\"topic_high_watermark_sum\":{},\"producers\":{},\"broker\":\"{}\","
            "\"transactional\":{},\"transactions\":{},\"aborted_transactions\":{},"
            "\"resent\":{}}}\n",
            t.produced, t.acked, t.failed, t.inFlight, seconds, achieved, p.settings.ratePerSecond,
            t.shortfall, highWatermarks, p.producers, conn.embedded() ? "embedded" : "cluster",
            p.settings.transactional, t.transactions, t.abortedTransactions, t.resent);
    }
    std::fflush(stdout);
    return t.failed > 0 ? kDeliveryFailures : 0;
}

} // namespace studio::app
