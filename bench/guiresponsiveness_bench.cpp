// GUI responsiveness while ingesting (GUI issue 7): the real MainWindow over a real StudioEngine on
// the embedded broker, every page made current in turn (so each is live while visible), and a
// 5 ms QTimer probe recording how late each timeout arrives. The same probe runs first with no
// producer (the peer measured in the same run), then with a producer at --rate events/s.
// Targets: p99 lateness under 16 ms, longest stall under 100 ms. Exits 1 when one is missed.
//
//   build/bin/bench_gui [--seconds 20] [--rate 200000] [--page-ms 2000] [--probe-ms 5]
//
// Offscreen unless DISPLAY is set (then xcb) or QT_QPA_PLATFORM says otherwise.
#include "core/studioengine.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace studio;

namespace {

struct Options
{
    int seconds = 20;
    double rate = 200'000;
    int pageMs = 2000;
    int probeMs = 5;
};

struct Lateness
{
    std::size_t samples = 0;
    double p50 = 0, p99 = 0, max = 0; // ms
    double producedPerSecond = 0, consumedPerSecond = 0;
    int pagesShown = 0;
};

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
Lateness probe(ui::MainWindow &window, core::StudioEngine &engine, const Options &o)
{
    const QStringList titles = ui::MainWindow::pageTitles();
    std::vector<double> late;
    late.reserve(static_cast<std::size_t>(o.seconds) * 1000 / static_cast<std::size_t>(o.probeMs));
    QElapsedTimer clock;
    QEventLoop loop;
    QTimer probeTimer;
    probeTimer.setTimerType(Qt::PreciseTimer);
    probeTimer.setInterval(o.probeMs);
    qint64 last = -1;
    QObject::connect(&probeTimer, &QTimer::timeout, &loop, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (last >= 0)
            late.push_back(std::max(0.0, double(now - last) / 1e6 - o.probeMs));
        last = now;
    });
    int page = 0;
    Lateness result;
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
    QObject::connect(&rateTimer, &QTimer::timeout, &loop, [&] {
        const core::EngineSample s = engine.sample();
        produced += s.producedPerSecond;
        consumed += s.consumedPerSecond;
        ++rateSamples;
    });
    QTimer::singleShot(o.seconds * 1000, &loop, &QEventLoop::quit);
    clock.start();
    probeTimer.start();
    pageTimer.start();
    rateTimer.start();
    loop.exec();
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
}

bool parse(int argc, char **argv, Options &o)
{
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const bool hasValue = i + 1 < argc;
        if (!std::strcmp(a, "--seconds") && hasValue)
            o.seconds = std::atoi(argv[++i]);
        else if (!std::strcmp(a, "--rate") && hasValue)
            o.rate = std::atof(argv[++i]);
        else if (!std::strcmp(a, "--page-ms") && hasValue)
            o.pageMs = std::atoi(argv[++i]);
        else if (!std::strcmp(a, "--probe-ms") && hasValue)
            o.probeMs = std::atoi(argv[++i]);
        else
            return false;
    }
    return o.seconds > 0 && o.rate > 0 && o.rate <= core::ProducerSettings::kMaxRate &&
           o.pageMs > 0 && o.probeMs > 0;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    if (!parse(argc, argv, o)) {
        fmt::print(stderr, "usage: bench_gui [--seconds 20] [--rate 200000] [--page-ms 2000] "
                           "[--probe-ms 5]\n");
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

    fmt::print("GUI responsiveness: {} platform, every page in turn ({} ms each), {} ms probe, "
               "{} s per run\n",
               QApplication::platformName().toStdString(), o.pageMs, o.probeMs, o.seconds);
    const Lateness idle = probe(window, engine, o);
    print("ingestion off:", idle);

    core::StudioProducerSettings producer;
    producer.producer.ratePerSecond = o.rate;
    const int id = engine.addProducer(producer);
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
    const Lateness busy = probe(window, engine, o);
    const std::string label = fmt::format("ingesting {:.0f}/s:", o.rate);
    print(label.c_str(), busy);
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
    return p99Met && maxMet ? 0 : 1;
}
