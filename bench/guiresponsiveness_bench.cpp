// GUI responsiveness while ingesting (GUI issue 7): the real MainWindow over a real StudioEngine on
// the embedded broker, every page made current in turn (so each is live while visible), and a
// 5 ms QTimer probe recording how late each timeout arrives. The same probe runs first with no
// producer (the peer measured in the same run), then with a producer at --rate events/s.
// Targets: p99 lateness under 16 ms, longest stall under 100 ms. Exits 1 when one is missed.
//
//   build/bin/bench_gui [--seconds 20] [--idle-seconds S] [--rate 200000] [--page-ms 2000]
//                       [--probe-ms 5] [--unique-paths [--warmup-seconds 240]]
//                       [--second-cluster]
//
// --unique-paths (issue 24): every generated event gets a page of its own (/p/<n>), the worst
// case for the per-window key cap; the resident memory is printed every 10 s of the busy run and
// sampled every second after --warmup-seconds: flat means the least-squares trend through those
// samples grows by at most 10% of their mean over the span (exit 1 otherwise, like a missed probe
// target); windows closing make it a sawtooth, so one sample against another would measure the
// phase. The default warm-up, 240 s, is how long the counted state itself grows: the generator's
// sessions last about 60 s (20 events, 3 s apart) and close 120 s after their last event, users
// come back after that, and two 60 s page windows plus the 10 s watermark delay are open at once
// (measured: the state's peaks at each window close rise until about 280 s, then stay level).
// Run it with --seconds 540 for 5 minutes after the warm-up. --idle-seconds (default:
// --seconds) shortens the run with no producer that comes first.
//
// Consume mode (bench/compare, issue 9): --broker B --events N [--group G] runs the same window
// over an engine on the external broker B with no producer, the aggregator reading the pre-filled
// topic from the beginning in its own group while every page is cycled, and prints one JSON line:
// the time and process CPU from the first consumed event until N are consumed, peak RSS, and the
// probe's lateness meanwhile.
//
// --second-cluster (issue 23): a second embedded broker is added on the Kafka page (its own
// monitors and health row "kafka:second", its panel the one shown there) for both runs, and
// stopped halfway through the busy run; the end says whether its row went down and how fresh
// the engine's own cluster view still was.
//
// Offscreen unless DISPLAY is set (then xcb) or QT_QPA_PLATFORM says otherwise.
#include "core/common/timeutil.h"
#include "core/engine/studioengine.h"
#include "core/kafka/embeddedbroker.h"
#include "core/monitor/monitor.h"
#include "core/produce/generator.h"
#include "ui/pages/kafkapage.h"
#include "ui/window/mainwindow.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <fmt/core.h>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace studio;

namespace {

struct Options
{
    int seconds = 20;
    int idleSeconds = -1; ///< -1: `seconds`
    int warmupSeconds = 240;
    double rate = 200'000;
    int pageMs = 2000;
    int probeMs = 5;
    std::string broker; ///< consume mode when set
    long events = 0;
    std::string group = "bench-gui-consume";
    bool uniquePaths = false;
    bool secondCluster = false;
};

/// The generator's events with a page unique to each (/p/<n>).
class UniquePathSource final : public core::EventSource
{
public:
    explicit UniquePathSource(core::GeneratorConfig config)
        : m_inner(std::move(config))
    {
    }
    std::size_t fill(core::RecordBatch &out, std::size_t max, std::int64_t nowMs) override
    {
        m_batch.clear();
        const std::size_t n = m_inner.fill(m_batch, max, nowMs);
        for (std::size_t i = 0; i < m_batch.size(); ++i) {
            const std::string_view v = m_batch.value(i);
            const std::size_t at = v.find("\"page\":\"");
            if (at == std::string_view::npos) { // a malformed one: as it is
                out.add(m_batch.key(i), v, m_batch.timestampMs(i));
                continue;
            }
            const std::size_t end = v.find('"', at + 8);
            m_value.assign(v.substr(0, at + 8));
            m_value += "/p/" + std::to_string(++m_next);
            m_value.append(v.substr(end));
            out.add(m_batch.key(i), m_value, m_batch.timestampMs(i));
        }
        return n;
    }
    std::string describe() const override { return "generator with unique paths"; }

private:
    core::GeneratorSource m_inner;
    core::RecordBatch m_batch;
    std::string m_value;
    std::uint64_t m_next = 0;
};

long residentKb()
{
    long pages = 0, resident = 0;
    if (FILE *f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        std::fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/// Lateness at or above this is reported one by one, with the time and the page shown.
constexpr double kStallReportMs = 50;

struct Lateness
{
    std::size_t samples = 0;
    double p50 = 0, p99 = 0, max = 0; // ms
    double producedPerSecond = 0, consumedPerSecond = 0;
    int pagesShown = 0;
    long warmKb = 0, endKb = 0;                          ///< resident memory (--unique-paths)
    std::vector<std::pair<double, double>> rssAfterWarm; ///< (s into the run, MB) each second
    double maxAfterMark = -1; ///< longest lateness within 3 s after g_markNs (-1: no mark)
    struct Stall
    {
        double ms = 0, atSeconds = 0;
        double cpuMs = 0; ///< the GUI thread's CPU time in that interval (the rest it waited)
        QString page;     ///< the page shown when the probe fired late
    };
    std::vector<Stall> stalls; ///< every lateness of kStallReportMs or more
};

/// steady_clock nanoseconds of an event during a probe run (--second-cluster: its broker's
/// stop); 0 when none.
std::atomic<std::int64_t> g_markNs{0};

std::int64_t steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// The calling thread's CPU time, ns: a stall longer than it was spent waiting for a core.
std::int64_t threadCpuNs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double percentile(std::vector<double> sorted, double p)
{
    if (sorted.empty())
        return 0;
    std::sort(sorted.begin(), sorted.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(i, sorted.size() - 1)];
}

/// Runs the event loop for `seconds`, cycling the pages every `pageMs` and probing every
/// `probeMs`: lateness = actual interval - expected interval, in ms.
Lateness probe(ui::MainWindow &window, core::StudioEngine &engine, const Options &o, int seconds)
{
    const QStringList titles = ui::MainWindow::pageTitles();
    std::vector<double> late;
    late.reserve(static_cast<std::size_t>(seconds) * 1000 / static_cast<std::size_t>(o.probeMs));
    QElapsedTimer clock;
    QEventLoop loop;
    QTimer probeTimer;
    probeTimer.setTimerType(Qt::PreciseTimer);
    probeTimer.setInterval(o.probeMs);
    qint64 last = -1;
    std::int64_t lastCpu = 0;
    std::vector<std::int64_t> at; // steadyNs() of each sample, for the lateness after a mark
    at.reserve(late.capacity());
    int page = 0;
    Lateness result;
    QObject::connect(&probeTimer, &QTimer::timeout, &loop, [&] {
        const qint64 now = clock.nsecsElapsed();
        const std::int64_t cpu = threadCpuNs();
        if (last >= 0) {
            late.push_back(std::max(0.0, double(now - last) / 1e6 - o.probeMs));
            at.push_back(steadyNs());
            if (late.back() >= kStallReportMs)
                result.stalls.push_back(
                    {late.back(), double(now) / 1e9, double(cpu - lastCpu) / 1e6, titles.at(page)});
        }
        last = now;
        lastCpu = cpu;
    });
    QTimer pageTimer;
    pageTimer.setInterval(o.pageMs);
    QObject::connect(&pageTimer, &QTimer::timeout, &loop, [&] {
        page = (page + 1) % int(titles.size());
        window.showPage(titles.at(page));
        ++result.pagesShown; // the switch's own cost shows in the next probe interval
    });
    window.showPage(titles.at(0));
    result.pagesShown = 1;
    double produced = 0, consumed = 0;
    int rateSamples = 0;
    QTimer rateTimer;
    rateTimer.setInterval(1000);
    // The end is timed on the wall clock (a stalled GUI thread delays the 1 s timer's ticks).
    QElapsedTimer wall;
    QObject::connect(&rateTimer, &QTimer::timeout, &loop, [&] {
        // status(), not sample(): a sample's snapshot waits for the aggregation workers (on
        // this, the GUI thread) and stops them while it merges the open windows.
        const core::EngineStatus s = engine.status();
        produced += s.producedPerSecond;
        consumed += s.consumedPerSecond;
        ++rateSamples;
        const long kb = residentKb();
        if (rateSamples == o.warmupSeconds)
            result.warmKb = kb;
        if (result.warmKb > 0)
            result.rssAfterWarm.emplace_back(double(wall.elapsed()) / 1000.0, kb / 1024.0);
        if (o.uniquePaths && rateSamples % 10 == 0)
            fmt::print(
                "    {:>4} s: resident {} MB, state {} MB, keys folded {}, produced {:.0f}/s, "
                "consumed {:.0f}/s, lag {}\n",
                rateSamples, kb / 1024, s.counters.stateBytes / (1024 * 1024),
                s.counters.keysFolded, s.producedPerSecond, s.consumedPerSecond,
                s.pipeline.lagMessages);
    });
    wall.start();
    QTimer::singleShot(seconds * 1000, &loop, &QEventLoop::quit);
    clock.start();
    probeTimer.start();
    pageTimer.start();
    rateTimer.start();
    loop.exec();
    result.endKb = residentKb();
    if (result.warmKb == 0 && o.uniquePaths && wall.elapsed() >= o.warmupSeconds * 1000)
        result.warmKb = -1; // the 1 s timer never ticked that often: the GUI thread stalled
    if (const std::int64_t mark = g_markNs.load(); mark > 0) {
        result.maxAfterMark = 0;
        for (std::size_t i = 0; i < late.size(); ++i)
            if (at[i] >= mark && at[i] - mark <= 3'000'000'000)
                result.maxAfterMark = std::max(result.maxAfterMark, late[i]);
    }
    result.samples = late.size();
    result.p50 = percentile(late, 0.50);
    result.p99 = percentile(late, 0.99);
    result.max = late.empty() ? 0 : *std::max_element(late.begin(), late.end());
    if (rateSamples > 0) {
        result.producedPerSecond = produced / rateSamples;
        result.consumedPerSecond = consumed / rateSamples;
    }
    return result;
}

void print(const char *what, const Lateness &l)
{
    fmt::print("  {:<28} {:>7} probes  p50 {:6.2f} ms  p99 {:6.2f} ms  max {:7.2f} ms  "
               "(produced {:.0f}/s, consumed {:.0f}/s, {} page switches)\n",
               what, l.samples, l.p50, l.p99, l.max, l.producedPerSecond, l.consumedPerSecond,
               l.pagesShown);
    std::vector<Lateness::Stall> worst = l.stalls;
    std::sort(worst.begin(), worst.end(),
              [](const Lateness::Stall &a, const Lateness::Stall &b) { return a.ms > b.ms; });
    if (worst.size() > 8)
        worst.resize(8);
    for (const Lateness::Stall &st : worst)
        fmt::print(
            "    stall {:7.2f} ms at {:6.1f} s on {} (GUI thread on a core {:.1f} ms of it)\n",
            st.ms, st.atSeconds, st.page.toStdString(), st.cpuMs);
    if (l.stalls.size() > worst.size())
        fmt::print("    ({} probes {} ms or more late in all)\n", l.stalls.size(), kStallReportMs);
}

double processCpu()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/// Consume mode: the window live over an engine reading a pre-filled topic; time to consume N.
int consume(const Options &o)
{
    core::StudioEngineSettings settings;
    settings.embedded = false;
    settings.cluster.name = "bench";
    settings.cluster.bootstrap = o.broker;
    settings.groupId = o.group;
    core::StudioEngine engine(settings);
    QElapsedTimer clock;
    clock.start();
    std::string error;
    if (!engine.start(&error)) {
        fmt::print(stderr, "engine: {}\n", error);
        return 1;
    }
    ui::MainWindow window(engine);
    window.resize(1280, 800);
    window.show();
    const QStringList titles = ui::MainWindow::pageTitles();
    auto consumed = [&engine] {
        std::uint64_t n = 0;
        engine.visitAggregator([&n](const core::AggregatorPipeline &p, const core::Aggregator &) {
            n = p.stats().consumed;
        });
        return n;
    };
    // Timed off the GUI thread (a stalled GUI thread must not delay the reading), every ~1 ms.
    std::atomic<qint64> firstNs{-1}, doneNs{-1};
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> got{0};
    double cpuFirst = 0, cpuDone = 0;
    QEventLoop loop;
    std::thread watcher([&] {
        while (!stop.load()) {
            const std::uint64_t n = consumed();
            got = n;
            const qint64 now = clock.nsecsElapsed();
            if (firstNs.load() < 0 && n > 0) {
                cpuFirst = processCpu();
                firstNs = now;
            }
            if (n >= static_cast<std::uint64_t>(o.events)) {
                cpuDone = processCpu();
                doneNs = now;
                QMetaObject::invokeMethod(&loop, "quit", Qt::QueuedConnection);
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    std::vector<double> late;
    qint64 last = -1;
    QTimer probeTimer;
    probeTimer.setTimerType(Qt::PreciseTimer);
    probeTimer.setInterval(o.probeMs);
    QObject::connect(&probeTimer, &QTimer::timeout, &loop, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (last >= 0 && firstNs.load() >= 0)
            late.push_back(std::max(0.0, double(now - last) / 1e6 - o.probeMs));
        last = now;
    });
    int page = 0;
    QTimer pageTimer;
    pageTimer.setInterval(o.pageMs);
    QObject::connect(&pageTimer, &QTimer::timeout, &loop, [&] {
        page = (page + 1) % int(titles.size());
        window.showPage(titles.at(page));
    });
    window.showPage(titles.at(0));
    QTimer::singleShot(std::max(60, o.seconds) * 1000, &loop, &QEventLoop::quit);
    probeTimer.start();
    pageTimer.start();
    loop.exec();
    stop = true;
    watcher.join();
    const core::EngineSample s = engine.sample();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double wall = doneNs > firstNs && firstNs >= 0 ? double(doneNs - firstNs) / 1e9 : 0;
    const double cpu = cpuDone - cpuFirst;
    std::vector<double> sorted = late;
    fmt::print("{{\"row\":\"gui\",\"platform\":\"{}\",\"events\":{},\"valid\":{},\"wall_s\":{:.4f},"
               "\"cpu_s\":{:.4f},\"events_per_s\":{:.1f},\"startup_s\":{:.3f},\"maxrss_kb\":{},"
               "\"probe_p99_ms\":{:.2f},\"probe_max_ms\":{:.2f},\"done\":{}}}\n",
               QApplication::platformName().toStdString(), got.load(), s.aggregates.counters.valid,
               wall, cpu, wall > 0 ? double(got.load()) / wall : 0.0, double(firstNs.load()) / 1e9,
               ru.ru_maxrss, percentile(sorted, 0.99),
               late.empty() ? 0.0 : *std::max_element(late.begin(), late.end()),
               doneNs >= 0 ? "true" : "false");
    std::fflush(stdout);
    return doneNs >= 0 ? 0 : 1;
}

bool parse(int argc, char **argv, Options &o)
{
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const bool hasValue = i + 1 < argc;
        if (!std::strcmp(a, "--seconds") && hasValue)
            o.seconds = std::atoi(argv[++i]);
        else if (!std::strcmp(a, "--second-cluster"))
            o.secondCluster = true;
        else if (!std::strcmp(a, "--unique-paths"))
            o.uniquePaths = true;
        else if (!std::strcmp(a, "--idle-seconds") && hasValue)
            o.idleSeconds = std::atoi(argv[++i]);
        else if (!std::strcmp(a, "--warmup-seconds") && hasValue)
            o.warmupSeconds = std::atoi(argv[++i]);
        else if (!std::strcmp(a, "--rate") && hasValue)
            o.rate = std::atof(argv[++i]);
        else if (!std::strcmp(a, "--page-ms") && hasValue)
            o.pageMs = std::atoi(argv[++i]);
        else if (!std::strcmp(a, "--probe-ms") && hasValue)
            o.probeMs = std::atoi(argv[++i]);
        else if (!std::strcmp(a, "--broker") && hasValue)
            o.broker = argv[++i];
        else if (!std::strcmp(a, "--events") && hasValue)
            o.events = std::atol(argv[++i]);
        else if (!std::strcmp(a, "--group") && hasValue)
            o.group = argv[++i];
        else
            return false;
    }
    if (!o.broker.empty() && o.events <= 0)
        return false;
    return o.seconds > 0 && o.idleSeconds >= -1 && o.warmupSeconds > 0 && o.rate > 0 &&
           o.rate <= core::ProducerSettings::kMaxRate && o.pageMs > 0 && o.probeMs > 0;
}

} // namespace

int main(int argc, char **argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // progress lines show as they come, even in a file
    Options o;
    if (!parse(argc, argv, o)) {
        fmt::print(stderr,
                   "usage: bench_gui [--seconds 20] [--idle-seconds S] [--rate 200000] "
                   "[--page-ms 2000] [--probe-ms 5] [--unique-paths [--warmup-seconds 240]] "
                   "[--second-cluster] [--broker B --events N [--group G]]\n");
        return 2;
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", qEnvironmentVariableIsEmpty("DISPLAY") ? "offscreen" : "xcb");
    QApplication app(argc, argv);
    // The window keeps geometry and last page in QSettings: never the user's.
    QTemporaryDir settingsDir;
    QCoreApplication::setOrganizationName(QStringLiteral("clickstream-studio-bench"));
    QCoreApplication::setApplicationName(QStringLiteral("bench-gui"));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir.path());
    if (!o.broker.empty())
        return consume(o);

    core::StudioEngineSettings settings;
    settings.embeddedOptions.brokers = 1;
    settings.embeddedOptions.partitions = 4;
    core::StudioEngine engine(settings);
    std::string error;
    if (!engine.start(&error)) {
        fmt::print(stderr, "engine: {}\n", error);
        return 1;
    }
    ui::MainWindow window(engine);
    window.resize(1280, 800);
    window.show();

    auto second = std::make_unique<core::EmbeddedBroker>();
    if (o.secondCluster) {
        core::EmbeddedBroker::Options secondOptions;
        secondOptions.brokers = 1;
        secondOptions.partitions = 4;
        secondOptions.topics = {"second"};
        if (!second->start(secondOptions, &error)) {
            fmt::print(stderr, "second cluster: {}\n", error);
            return 1;
        }
        core::ClusterConfig config = second->clusterConfig();
        config.name = "second";
        auto *kafka = qobject_cast<ui::KafkaPage *>(window.page(QStringLiteral("Kafka")));
        QString why;
        if (!kafka || !kafka->addCluster(config, &why)) {
            fmt::print(stderr, "second cluster: {}\n", why.toStdString());
            return 1;
        }
        kafka->setCurrentCluster(QStringLiteral("second"));
        fmt::print("second cluster: {} shown on the Kafka page beside the engine's\n",
                   config.describe());
    }

    fmt::print("GUI responsiveness: {} platform, every page in turn ({} ms each), {} ms probe, "
               "{} s per run\n",
               QApplication::platformName().toStdString(), o.pageMs, o.probeMs, o.seconds);
    const Lateness idle = probe(window, engine, o, o.idleSeconds >= 0 ? o.idleSeconds : o.seconds);
    print("ingestion off:", idle);

    core::StudioProducerSettings producer;
    producer.producer.ratePerSecond = o.rate;
    const int id =
        o.uniquePaths
            ? engine.addProducer(producer, std::make_unique<UniquePathSource>(producer.generator))
            : engine.addProducer(producer);
    if (!engine.startProducer(id, &error)) {
        fmt::print(stderr, "producer: {}\n", error);
        return 1;
    }
    // Let the producer reach its rate and the aggregator fill its windows before measuring.
    {
        QEventLoop warm;
        QTimer::singleShot(3000, &warm, &QEventLoop::quit);
        warm.exec();
    }
    // --second-cluster: its broker goes away halfway through, off the GUI thread (as a remote
    // cluster would), while the probe runs.
    std::thread stopper;
    if (o.secondCluster)
        stopper = std::thread([&second, half = std::chrono::milliseconds(o.seconds * 500)] {
            std::this_thread::sleep_for(half);
            g_markNs = steadyNs();
            second.reset();
        });
    const Lateness busy = probe(window, engine, o, o.seconds);
    if (stopper.joinable())
        stopper.join();
    const std::string label =
        fmt::format("ingesting {:.0f}/s{}:", o.rate, o.secondCluster ? ", second stopped" : "");
    print(label.c_str(), busy);
    bool secondDown = true;
    if (o.secondCluster) {
        core::Monitor *monitor = engine.monitor();
        const auto health = monitor->health().snapshot();
        const core::ServiceHealth *row = health ? health->find("kafka:second") : nullptr;
        const core::ServiceHealth *own = health ? health->find("kafka") : nullptr;
        secondDown = row && row->current.state == core::ServiceState::Down;
        const auto view = monitor->cluster().snapshot();
        fmt::print("  second cluster stopped after {} s (longest probe lateness in the 3 s after "
                   "it: {:.2f} ms): its row {} ({}); the engine's cluster {} (its view refreshed "
                   "{} ms before the end, {} topics): {}\n",
                   o.seconds / 2.0, busy.maxAfterMark,
                   row ? std::string(core::toString(row->current.state)) : std::string("missing"),
                   row ? row->current.error : std::string(),
                   own ? std::string(core::toString(own->current.state)) : std::string("missing"),
                   core::wallClockMs() - view->dataAtMs, view->topics.size(),
                   secondDown && view->ok ? "met" : "MISSED");
        secondDown = secondDown && view->ok;
    }
    engine.stopProducer(id);
    engine.waitIdle();

    constexpr double kP99TargetMs = 16, kMaxTargetMs = 100;
    const bool p99Met = busy.p99 < kP99TargetMs;
    const bool maxMet = busy.max < kMaxTargetMs;
    fmt::print("  against ingestion off: p99 {:.2f}x, max {:.2f}x\n",
               idle.p99 > 0 ? busy.p99 / idle.p99 : 0.0, idle.max > 0 ? busy.max / idle.max : 0.0);
    fmt::print("p99 lateness {:.2f} ms (target < {:.0f} ms): ratio {:.2f} (<= 1.0 meets): {}\n",
               busy.p99, kP99TargetMs, busy.p99 / kP99TargetMs, p99Met ? "met" : "MISSED");
    fmt::print("longest stall {:.2f} ms (target < {:.0f} ms): ratio {:.2f} (<= 1.0 meets): {}\n",
               busy.max, kMaxTargetMs, busy.max / kMaxTargetMs, maxMet ? "met" : "MISSED");
    bool flat = true;
    if (o.uniquePaths) {
        // Closing windows make resident memory a sawtooth, so one sample against another says
        // more about the phase than the trend: the trend is the least-squares line through every
        // second after the warm-up, and flat means it grows by at most 10% of the mean over that
        // span (a leak of 10% per 5 minutes would still show).
        constexpr double kMaxGrowth = 0.10;
        const auto &pts = busy.rssAfterWarm;
        if (busy.warmKb > 0 && pts.size() >= 10) {
            double sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (const auto &[t, mb] : pts) {
                sx += t;
                sy += mb;
                sxx += t * t;
                sxy += t * mb;
            }
            const double n = double(pts.size());
            const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx); // MB per s
            const double mean = sy / n;
            const double span = pts.back().first - pts.front().first;
            const double growth = slope * span / mean;
            double firstPeak = 0, secondPeak = 0;
            for (const auto &[t, mb] : pts) {
                double &peak = t < pts.front().first + span / 2 ? firstPeak : secondPeak;
                peak = std::max(peak, mb);
            }
            flat = growth <= kMaxGrowth;
            fmt::print("resident memory after the {} s warm-up: {:.1f} MB, at the end of {} s: "
                       "{:.1f} MB, mean {:.1f} MB, peak {:.1f} MB in the first half and {:.1f} MB "
                       "in the second; trend {:+.2f} MB/min, {:+.1f}% of the mean over {:.0f} s "
                       "(<= {:.0f}% is flat): {}\n",
                       o.warmupSeconds, busy.warmKb / 1024.0, o.seconds, busy.endKb / 1024.0, mean,
                       firstPeak, secondPeak, slope * 60, growth * 100, span, kMaxGrowth * 100,
                       flat ? "met" : "MISSED");
        } else {
            flat = false;
            fmt::print("resident memory {:.1f} MB at the end; too few samples after the warm-up "
                       "({} s of a {} s run, or the GUI thread stalled): MISSED\n",
                       busy.endKb / 1024.0, o.warmupSeconds, o.seconds);
        }
    }
    return p99Met && maxMet && flat && secondDown ? 0 : 1;
}
