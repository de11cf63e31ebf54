// GUI issue 6, reports: the Reports page over in-memory results (a hand-made snapshot and a real
// Aggregator) and over a real PostgreSQL: preview, column choice, CSV export read back.
#include "serversupport.h"

#include "core/aggregate/aggregator.h"
#include "core/common/recordbatch.h"
#include "core/produce/generator.h"
#include "core/store/pgstore.h"
#include "ui/models/reportmodel.h"
#include "ui/pages/reportspage.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <atomic>
#include <mutex>
#include <thread>

using namespace studio;

namespace {

constexpr std::int64_t kT0 = 1'780'000'000'000; // 2026-05-28T20:26:40Z
constexpr std::int64_t kMinute = 60'000;

QDateTime utc(std::int64_t ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

core::PageRow page(std::int64_t start, std::string name, std::uint64_t views,
                   std::int64_t revenueCents = 0)
{
    core::PageRow r;
    r.windowStart = start;
    r.windowEnd = start + kMinute;
    r.page = std::move(name);
    r.views = views;
    r.clicks = views / 2;
    r.revenueCents = revenueCents;
    r.uniqueUsers = 3.4;
    r.uniqueSessions = 4.6;
    return r;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    REQUIRE(f.open(QIODevice::ReadOnly));
    return f.readAll();
}

// Lines of a CSV file without their CRLF; fails when a line ends in a bare LF.
QList<QByteArray> crlfLines(const QByteArray &csv)
{
    REQUIRE(csv.endsWith("\r\n"));
    QList<QByteArray> lines = csv.chopped(2).split('\n');
    for (QByteArray &line : lines) {
        if (&line != &lines.back()) {
            REQUIRE(line.endsWith('\r'));
            line.chop(1);
        }
    }
    return lines;
}

void waitPreview(ui::ReportsPage &page, int expectedRows)
{
    QSignalSpy spy(&page, &ui::ReportsPage::previewFinished);
    page.refresh();
    REQUIRE(spy.wait(20'000));
    const QList<QVariant> args = spy.takeFirst();
    INFO(args.at(2).toString().toStdString());
    REQUIRE(args.at(0).toBool());
    CHECK(args.at(1).toInt() == expectedRows);
}

QString exportTo(ui::ReportsPage &page, const QString &path)
{
    QSignalSpy spy(&page, &ui::ReportsPage::exportFinished);
    page.exportCsv(path);
    REQUIRE(spy.wait(20'000));
    const QList<QVariant> args = spy.takeFirst();
    INFO(args.at(1).toString().toStdString());
    REQUIRE(args.at(0).toBool());
    return args.at(1).toString();
}

} // namespace

TEST_CASE("Reports page exports in-memory results as RFC 4180 CSV", "[ui][reports]")
{
    core::AggregatorSnapshot snapshot;
    snapshot.pages = {
        page(kT0 + kMinute, "/cart", 30, -250), page(kT0, "=cmd|' /C calc'!A0", 12, 1999),
        page(kT0, "/search?q=a,b \"c\"", 7), page(kT0 - kMinute, "/before-the-range", 99),
        page(kT0 + 10 * kMinute, "/after-the-range", 99)};
    int calls = 0;
    ui::ReportsPage reports([&] {
        ++calls;
        return snapshot;
    });
    QAbstractItemModelTester tester(reports.previewModel(),
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    reports.show();
    CHECK_FALSE(reports.usesPostgres());
    reports.setTable(core::ReportTable::PageMetrics);
    reports.setRange(utc(kT0), utc(kT0 + 10 * kMinute)); // [from, to)

    waitPreview(reports, 3);
    CHECK(calls == 1);
    ui::ReportModel *model = reports.previewModel();
    REQUIRE(model->rowCount() == 3);
    REQUIRE(model->columnCount() == 10);
    CHECK(model->headerData(0, Qt::Horizontal).toString() == QStringLiteral("window_start"));
    // Sorted by window, then page; the preview shows the cells before CSV quoting.
    CHECK(model->index(0, 0).data().toString() == QStringLiteral("2026-05-28T20:26:40.000Z"));
    CHECK(model->index(0, 2).data().toString() == QStringLiteral("/search?q=a,b \"c\""));
    CHECK(model->index(1, 2).data().toString() == QStringLiteral("=cmd|' /C calc'!A0"));
    CHECK(model->index(2, 7).data().toString() == QStringLiteral("-2.50"));
    if (const QString dir = qEnvironmentVariable("STUDIO_SCREENSHOT_DIR"); !dir.isEmpty()) {
        reports.resize(1000, 600);
        reports.grab().save(dir + QStringLiteral("/reports-page.png"));
    }

    QTemporaryDir dir;
    SECTION("every column")
    {
        const QString path = dir.filePath(QStringLiteral("pages.csv"));
        exportTo(reports, path);
        const QList<QByteArray> lines = crlfLines(readAll(path));
        REQUIRE(lines.size() == 4);
        CHECK(lines[0] == "window_start,window_end,page,views,clicks,add_to_cart,purchases,"
                          "revenue,unique_users,unique_sessions");
        CHECK(lines[1] == "2026-05-28T20:26:40.000Z,2026-05-28T20:27:40.000Z,"
                          "\"/search?q=a,b \"\"c\"\"\",7,3,0,0,0.00,3,5");
        CHECK(lines[2] == "2026-05-28T20:26:40.000Z,2026-05-28T20:27:40.000Z,"
                          "'=cmd|' /C calc'!A0,12,6,0,0,19.99,3,5");
        CHECK(lines[3] == "2026-05-28T20:27:40.000Z,2026-05-28T20:28:40.000Z,/cart,30,15,0,0,"
                          "-2.50,3,5");
        CHECK_FALSE(QFile::exists(path + QStringLiteral(".part")));
    }
    SECTION("chosen columns, the preview follows")
    {
        reports.setColumns(
            {QStringLiteral("page"), QStringLiteral("views"), QStringLiteral("window_start")});
        CHECK(model->columnCount() == 3);
        CHECK(model->headerData(1, Qt::Horizontal).toString() == QStringLiteral("page"));
        const QString path = dir.filePath(QStringLiteral("chosen.csv"));
        exportTo(reports, path);
        const QList<QByteArray> lines = crlfLines(readAll(path));
        REQUIRE(lines.size() == 4);
        CHECK(lines[0] == "window_start,page,views"); // the report's order
        CHECK(lines[2] == "2026-05-28T20:26:40.000Z,'=cmd|' /C calc'!A0,12");
    }
    SECTION("another table, an empty range")
    {
        reports.setTable(core::ReportTable::GeoMetrics);
        CHECK(model->rowCount() == 0);
        waitPreview(reports, 0);
        const QString path = dir.filePath(QStringLiteral("geo.csv"));
        exportTo(reports, path);
        CHECK(readAll(path) == "window_start,window_end,country,browser,device_type,events\r\n");
    }
    SECTION("a file that cannot be written gives a message, not a crash")
    {
        QSignalSpy spy(&reports, &ui::ReportsPage::exportFinished);
        reports.exportCsv(QStringLiteral("/nonexistent-dir/x.csv"));
        REQUIRE(spy.wait(10'000));
        CHECK_FALSE(spy.at(0).at(0).toBool());
        CHECK(spy.at(0).at(1).toString().contains(QStringLiteral("cannot write")));
    }
}

TEST_CASE("Reports page over a real Aggregator's results", "[ui][reports]")
{
    core::Aggregator aggregator;
    core::EventGenerator generator;
    core::RecordBatch batch;
    const std::int64_t start = kT0;
    for (int i = 0; i < 3000; ++i)
        generator.next(start + i * 100, batch); // 5 minutes of event time
    aggregator.ingestBatch(batch);
    const core::AggregatorSnapshot snapshot = aggregator.snapshot();
    REQUIRE_FALSE(snapshot.geo.empty());

    ui::ReportsPage reports([&] { return aggregator.snapshot(); });
    reports.setTable(core::ReportTable::GeoMetrics);
    reports.setRange(utc(start - 3'600'000), utc(start + 3'600'000));
    waitPreview(reports, static_cast<int>(snapshot.geo.size()));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("geo.csv"));
    exportTo(reports, path);
    const QList<QByteArray> lines = crlfLines(readAll(path));
    REQUIRE(lines.size() == static_cast<int>(snapshot.geo.size()) + 1);
    // Every accepted event counts once in geo_metrics.
    std::uint64_t events = 0;
    for (int i = 1; i < lines.size(); ++i)
        events += lines[i].split(',').last().toULongLong();
    CHECK(events == aggregator.counters().valid);
}

// Regression: the page took the in-memory snapshot on the GUI thread, so a Preview waited for the
// aggregator's lock, which its ingest thread holds for a whole batch: the window froze for it.
TEST_CASE("Reports page Preview does not wait on the GUI thread for the aggregator's lock",
          "[ui][reports]")
{
    core::Aggregator aggregator;
    core::EventGenerator generator;
    core::RecordBatch batch;
    for (int i = 0; i < 600; ++i)
        generator.next(kT0 + i * 100, batch);
    aggregator.ingestBatch(batch);
    const std::size_t pages = aggregator.snapshot().pages.size();
    REQUIRE(pages > 0);

    // What the ingest thread does to the snapshot: the lock is taken for a whole batch. Here a
    // lock in front of the snapshot, held by another thread for 500 ms.
    std::mutex ingestLock;
    std::atomic<int> calls{0};
    ui::ReportsPage reports([&] {
        std::lock_guard lock(ingestLock);
        ++calls;
        return aggregator.snapshot();
    });
    reports.setTable(core::ReportTable::PageMetrics);
    reports.setRange(utc(kT0 - 3'600'000), utc(kT0 + 3'600'000));
    QPushButton *preview = nullptr;
    for (QPushButton *b : reports.findChildren<QPushButton *>())
        if (b->text() == QStringLiteral("Preview"))
            preview = b;
    REQUIRE(preview);

    std::atomic<bool> held{false};
    std::thread ingest([&] {
        std::lock_guard lock(ingestLock);
        held = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    });
    while (!held)
        std::this_thread::yield();

    // The event loop keeps turning while the batch holds the lock: a 10 ms timer keeps ticking.
    QElapsedTimer clock;
    clock.start();
    qint64 lastTick = 0, longestGap = 0;
    int ticks = 0;
    QTimer ticker;
    ticker.setInterval(10);
    QObject::connect(&ticker, &QTimer::timeout, &ticker, [&] {
        const qint64 now = clock.elapsed();
        longestGap = std::max(longestGap, now - lastTick);
        lastTick = now;
        ++ticks;
    });
    ticker.start();
    QSignalSpy spy(&reports, &ui::ReportsPage::previewFinished);
    const qint64 pressedAt = clock.elapsed();
    QTest::mouseClick(preview, Qt::LeftButton);
    const qint64 pressTook = clock.elapsed() - pressedAt;
    REQUIRE(spy.wait(20'000));
    ingest.join();
    const qint64 answeredAfter = clock.elapsed() - pressedAt;
    ticker.stop();
    INFO("press took " << pressTook << " ms, answer after " << answeredAfter << " ms, " << ticks
                       << " ticks, longest gap " << longestGap << " ms");
    CHECK(pressTook < 100);
    CHECK(answeredAfter >= 400); // the answer did wait for the lock, on the worker
    CHECK(longestGap < 200);     // 10 ms ticks; slack for a loaded machine, far below 500
    CHECK(ticks >= 15);
    CHECK(calls == 1);
    const QList<QVariant> args = spy.takeFirst();
    CHECK(args.at(0).toBool());
    CHECK(args.at(1).toInt() == static_cast<int>(pages));
}

// Regression (the same lifetime rule as Create topic): a Preview still waiting for the snapshot
// when the page goes must not call into what the window destroys next.
TEST_CASE("Reports page destroyed during an in-memory Preview waits for the snapshot call",
          "[ui][reports]")
{
    auto aggregator = std::make_unique<core::Aggregator>();
    std::mutex ingestLock;
    std::atomic<bool> held{false}, release{false};
    std::thread ingest([&] {
        std::lock_guard lock(ingestLock);
        held = true;
        while (!release)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    while (!held)
        std::this_thread::yield();
    auto reports = std::make_unique<ui::ReportsPage>([&] {
        std::lock_guard lock(ingestLock);
        return aggregator->snapshot();
    });
    QElapsedTimer clock;
    clock.start();
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        release = true;
    });
    reports->refresh();
    CHECK(clock.elapsed() < 100); // the snapshot waits on the worker, not here
    reports.reset();              // waits for the call under way...
    CHECK(clock.elapsed() >= 250);
    aggregator.reset(); // ...so this is safe (AddressSanitizer would see the use otherwise)
    releaser.join();
    ingest.join();
}

TEST_CASE("Reports page reads PostgreSQL once configured", "[ui][reports][servers]")
{
    std::string why;
    if (!test::PostgresServer::available(&why)) {
        WARN(why);
        return;
    }
    test::PostgresServer pg;
    std::string error;
    REQUIRE(pg.start(&error));
    {
        core::PostgresStore store;
        REQUIRE(store.connect({pg.connectionString(), pg.password()}, std::chrono::seconds(10),
                              &error));
        core::SinkBatch b;
        b.shard = "a";
        b.results.funnel.push_back({kT0, kT0 + kMinute, "prod_1", 100, 10, 1, false, true});
        b.results.funnel.push_back({kT0, kT0 + kMinute, "@SUM(A1)", 50, 5, 0, true, true});
        b.results.funnel.push_back(
            {kT0 + 20 * kMinute, kT0 + 21 * kMinute, "prod_late", 1, 0, 0, false, true});
        core::SinkBatch c = b;
        c.shard = "b"; // a second shard: the report merges them
        c.results.funnel.resize(1);
        INFO(error);
        REQUIRE(store.write(b, &error));
        REQUIRE(store.write(c, &error));
    }
    ui::ReportsPage reports([] { return core::AggregatorSnapshot{}; });
    reports.setPostgres(QString::fromStdString(pg.connectionString()),
                        QString::fromStdString(pg.password()));
    CHECK(reports.usesPostgres());
    reports.setTable(core::ReportTable::ProductFunnel);
    reports.setRange(utc(kT0), utc(kT0 + 10 * kMinute));
    waitPreview(reports, 2);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("funnel.csv"));
    exportTo(reports, path);
    const QList<QByteArray> lines = crlfLines(readAll(path));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "window_start,window_end,product_id,views,add_to_cart,purchases,"
                      "hot_low_conversion");
    CHECK(lines[1] == "2026-05-28T20:26:40.000Z,2026-05-28T20:27:40.000Z,'@SUM(A1),50,5,0,true");
    CHECK(lines[2] == "2026-05-28T20:26:40.000Z,2026-05-28T20:27:40.000Z,prod_1,200,20,2,false");

    SECTION("a wrong password is reported, not thrown")
    {
        reports.setPostgres(QString::fromStdString(pg.connectionString()),
                            QStringLiteral("wrong-password"));
        QSignalSpy spy(&reports, &ui::ReportsPage::previewFinished);
        reports.refresh();
        REQUIRE(spy.wait(20'000));
        CHECK_FALSE(spy.at(0).at(0).toBool());
        CHECK(spy.at(0).at(2).toString().contains(QStringLiteral("wrong password")));
    }
}
