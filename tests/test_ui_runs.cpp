// Recorded runs (GUI issue 7): record a run from synthetic frames, save, reopen and overlay it on
// the Overview charts of a new run.

#include "core/engine/runrecording.h"
#include "core/engine/studioengine.h"
#include "ui/charts/livechart.h"
#include "ui/pages/overviewpage.h"
#include "ui/window/mainwindow.h"
#include "uitestsupport.h"

#include <QDir>
#include <QFile>
#include <QLineSeries>
#include <QMessageBox>
#include <QTemporaryDir>

#include <catch2/catch.hpp>

using namespace studio;
using namespace std::chrono_literals;

namespace {

ui::DashboardFrame frameAt(std::int64_t nowMs, double rate)
{
    ui::DashboardFrame f;
    f.nowMs = nowMs;
    f.producedPerSecond = rate;
    f.consumedPerSecond = rate * 0.97;
    f.lagMessages = static_cast<std::int64_t>(rate / 10);
    f.watermarkDelayMs = 1500;
    f.latePerSecond = 2;
    f.invalidPerSecond = 1;
    return f;
}

core::RunSample sampleOf(const ui::DashboardFrame &f)
{
    core::RunSample s;
    s.timeMs = f.nowMs;
    s.producedPerSecond = f.producedPerSecond;
    s.consumedPerSecond = f.consumedPerSecond;
    s.lagMessages = f.lagMessages;
    s.watermarkDelayMs = f.watermarkDelayMs;
    s.latePerSecond = f.latePerSecond;
    s.invalidPerSecond = f.invalidPerSecond;
    return s;
}

} // namespace

TEST_CASE("A recorded run reopens and overlays the Overview charts of a new run", "[ui][runs]")
{
    QTemporaryDir dir;
    const std::int64_t firstStart = 1'767'225'600'000;
    core::RunRecorder recorder;
    // 60 s of the first run at 10 Hz, the rate raised at 30 s.
    for (int i = 0; i < 600; ++i) {
        ui::DashboardFrame f = frameAt(firstStart + i * 100, i < 300 ? 5000 : 20000);
        if (i == 300) {
            f.markers.push_back({f.nowMs, QStringLiteral("producer-1: 5,000 -> 20,000 ev/s")});
            recorder.addMarker({f.nowMs, "producer-1: 5,000 -> 20,000 ev/s"});
        }
        recorder.addSample(sampleOf(f));
    }
    REQUIRE(recorder.recording().samples.size() == 60);

    const std::string path = QDir(dir.path()).filePath(QStringLiteral("run.json")).toStdString();
    std::string error;
    REQUIRE(core::saveRun(recorder.recording(), path, &error));
    const auto loaded = core::loadRun(path, &error);
    REQUIRE(loaded);
    CHECK(loaded->samples.size() == 60);
    REQUIRE(loaded->markers.size() == 1);
    CHECK(loaded->markers[0].timeMs - loaded->startMs == 30'000);

    // A new run, an hour later, 40 s long so far.
    ui::OverviewPage page;
    page.resize(1280, 800);
    const std::int64_t secondStart = firstStart + 3600'000;
    for (int i = 0; i < 400; ++i)
        page.updateFrame(frameAt(secondStart + i * 100, 8000));
    CHECK(page.runStartMs() == secondStart);
    page.setComparison(*loaded);
    CHECK(page.throughputChart()->referencePointCount(QStringLiteral("produced")) == 60);
    CHECK(page.throughputChart()->referencePointCount(QStringLiteral("consumed")) == 60);
    CHECK(page.lagChart()->referencePointCount(QStringLiteral("lag")) == 60);
    CHECK(page.watermarkChart()->referencePointCount(QStringLiteral("watermark delay")) == 60);
    CHECK(page.problemChart()->referencePointCount(QStringLiteral("late")) == 60);
    CHECK(page.revenueChart()->referencePointCount(QStringLiteral("revenue")) == 60);

    page.show();
    for (ui::LiveChart *chart : page.charts()) {
        chart->setRangeMs(60'000); // the last minute: both runs readable in the screenshot
        chart->render();
    }
    // Aligned by elapsed time: the recorded line starts where the current run starts, and only
    // the part up to "now" (40 s) is in the following view.
    QLineSeries *ref = page.throughputChart()->referenceSeries(QStringLiteral("produced"));
    REQUIRE(ref);
    CHECK(ref->pen().style() == Qt::DashLine);
    REQUIRE(ref->count() > 0);
    CHECK(ref->at(0).x() == Approx(static_cast<double>(secondStart)));
    CHECK(ref->count() == 40);
    // The recorded marker at 30 s shows, shifted onto the current run.
    bool recordedMarker = false;
    for (const auto &[x, text] : page.throughputChart()->visibleMarkers())
        recordedMarker |= text.contains(QStringLiteral("recorded: producer-1"));
    CHECK(recordedMarker);

    if (const QByteArray shots = qgetenv("STUDIO_SCREENSHOT_DIR"); !shots.isEmpty()) {
        QDir().mkpath(QString::fromLocal8Bit(shots));
        CHECK(page.grab().save(QDir(QString::fromLocal8Bit(shots))
                                   .filePath(QStringLiteral("overview-comparison.png"))));
    }

    page.clearComparison();
    CHECK(page.throughputChart()->referenceNames().isEmpty());
    CHECK(page.throughputChart()->referencePointCount(QStringLiteral("produced")) == 0);
}

TEST_CASE("A corrupt run file gives a clear message and no crash", "[ui][runs]")
{
    QTemporaryDir dir;
    const QString path = QDir(dir.path()).filePath(QStringLiteral("corrupt.json"));
    QFile file(path);
    REQUIRE(file.open(QIODevice::WriteOnly));
    file.write("{\"format\": \"clickstream-studio-run\", \"version\": 1, \"samples\": [[1,");
    file.close();
    std::string error;
    CHECK_FALSE(core::loadRun(path.toStdString(), &error));
    CHECK_FALSE(error.empty());
    CHECK(error.find("not valid JSON") != std::string::npos);
}

TEST_CASE("The main window records the run, saves it and overlays a reopened one", "[ui][runs]")
{
    test::IsolatedSettings isolated;
    QTemporaryDir dir;
    core::StudioEngineSettings settings;
    settings.embeddedOptions.brokers = 1;
    settings.embeddedOptions.partitions = 4;
    settings.monitor = false;
    core::StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));

    ui::MainWindow window(engine);
    core::StudioProducerSettings producer;
    producer.producer.ratePerSecond = 2000;
    const int id = engine.addProducer(producer);
    REQUIRE(engine.startProducer(id, &error));
    REQUIRE(
        test::waitUntil([&] { return window.runRecorder().recording().samples.size() >= 3; }, 30s));
    REQUIRE(engine.setProducerRate(id, 4000));
    REQUIRE(test::waitUntil(
        [&] {
            const core::RunRecording &run = window.runRecorder().recording();
            return run.samples.size() >= 6 && !run.markers.empty() &&
                   run.samples.back().consumedPerSecond > 0;
        },
        60s));
    const core::RunRecording recorded = window.runRecorder().recording();
    REQUIRE(recorded.producers.size() == 1);
    CHECK(recorded.producers[0].ratePerSecond == 2000);

    bool saved = false;
    bool savedOk = false;
    QObject::connect(&window, &ui::MainWindow::runSaved, &window, [&](bool ok, const QString &) {
        saved = true;
        savedOk = ok;
    });
    const QString path = QDir(dir.path()).filePath(QStringLiteral("run.json"));
    window.saveRun(path);
    REQUIRE(test::waitUntil([&] { return saved; }, 10s));
    REQUIRE(savedOk);
    const auto loaded = core::loadRun(path.toStdString(), &error);
    REQUIRE(loaded);
    CHECK(loaded->samples.size() >= recorded.samples.size());
    CHECK(loaded->markers.size() >= recorded.markers.size());

    int opened = 0;
    bool openedOk = false;
    QString openMessage;
    QObject::connect(&window, &ui::MainWindow::comparisonOpened, &window,
                     [&](bool ok, const QString &message) {
                         ++opened;
                         openedOk = ok;
                         openMessage = message;
                     });
    window.openComparison(path);
    REQUIRE(test::waitUntil([&] { return opened == 1; }, 10s));
    CHECK(openedOk);
    auto *overview = qobject_cast<ui::OverviewPage *>(window.page(QStringLiteral("Overview")));
    REQUIRE(overview);
    CHECK(overview->throughputChart()->referencePointCount(QStringLiteral("produced")) ==
          static_cast<int>(loaded->samples.size()));

    // A corrupt file: a clear message, the comparison kept, no crash.
    const QString corrupt = QDir(dir.path()).filePath(QStringLiteral("corrupt.json"));
    QFile file(corrupt);
    REQUIRE(file.open(QIODevice::WriteOnly));
    file.write("not json at all");
    file.close();
    window.openComparison(corrupt);
    REQUIRE(test::waitUntil([&] { return opened == 2; }, 10s));
    CHECK_FALSE(openedOk);
    CHECK(openMessage.contains(QStringLiteral("not valid JSON")));
    CHECK(overview->throughputChart()->referencePointCount(QStringLiteral("produced")) > 0);

    window.clearComparison();
    CHECK(overview->throughputChart()->referenceNames().isEmpty());
    engine.stopProducer(id);
}

// Regression: a run file whose "format" is not a string, or without "version", threw out of the
// parser on the pool thread and again from QFutureWatcher::result() in the window's slot: the
// GUI terminated. Every malformed file goes through the window's own path (File > Open run for
// comparison) and ends in the non-blocking message.
TEST_CASE("Opening a malformed run file in the window gives the message, never a crash",
          "[ui][runs]")
{
    test::IsolatedSettings isolated;
    QTemporaryDir dir;
    core::StudioEngineSettings settings;
    settings.embeddedOptions.brokers = 1;
    settings.embeddedOptions.partitions = 4;
    settings.monitor = false;
    core::StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));
    ui::MainWindow window(engine);
    window.show();

    int opened = 0;
    bool openedOk = true;
    QString openMessage;
    QObject::connect(&window, &ui::MainWindow::comparisonOpened, &window,
                     [&](bool ok, const QString &message) {
                         ++opened;
                         openedOk = ok;
                         openMessage = message;
                     });
    const std::vector<QByteArray> files = {
        R"({"format": 1, "version": 1})",
        R"({"format": {"x": "clickstream-studio-run"}, "version": 1})",
        R"({"format": "clickstream-studio-run"})",
        R"({"format": "clickstream-studio-run", "version": "1"})",
        R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1e300, "producers": [],)"
        R"( "samples": [], "markers": [], "alerts": []})",
        R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1, "producers": [7],)"
        R"( "samples": [["a"]], "markers": {}, "alerts": null})",
        R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1, "producers": [],)"
        R"( "samples": [[1,0,0,0,0,0,0,0,0]], "markers": [{"timeMs": "x", "text": 1}],)"
        R"( "alerts": []})",
        R"({"format": "clickstream-studio-run", "vers)",
        QByteArray(),
        QByteArray("\x7f"
                   "ELF\x02\x01\x01\0\0\0\xff\xfe",
                   14),
    };
    for (std::size_t i = 0; i < files.size(); ++i) {
        INFO("file " << i << ": " << files[i].toStdString());
        const QString path = QDir(dir.path()).filePath(QStringLiteral("bad-%1.json").arg(i));
        QFile file(path);
        REQUIRE(file.open(QIODevice::WriteOnly));
        file.write(files[i]);
        file.close();
        const int before = opened;
        window.openComparison(path);
        REQUIRE(test::waitUntil([&] { return opened == before + 1; }, 10s));
        CHECK_FALSE(openedOk);
        CHECK(openMessage.startsWith(QStringLiteral("Cannot open ")));
        // The message box is open and the window goes on (the box is window-modal, not exec()).
        QMessageBox *box = nullptr;
        REQUIRE(test::waitUntil(
            [&] {
                for (QMessageBox *b : window.findChildren<QMessageBox *>())
                    if (b->isVisible())
                        box = b;
                return box != nullptr;
            },
            5s));
        CHECK(box->text() == openMessage);
        box->close();
        QCoreApplication::processEvents();
    }
    // The window still works: a good run opens after all of them.
    const QString good = QDir(dir.path()).filePath(QStringLiteral("good.json"));
    core::RunRecording run;
    run.startMs = 1'000;
    run.samples.push_back({});
    run.samples.back().timeMs = 1'000;
    REQUIRE(core::saveRun(run, good.toStdString(), &error));
    const int before = opened;
    window.openComparison(good);
    REQUIRE(test::waitUntil([&] { return opened == before + 1; }, 10s));
    CHECK(openedOk);
}
