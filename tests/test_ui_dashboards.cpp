#include "core/aggregate/aggregates.h"
#include "core/common/recordbatch.h"
#include "core/produce/generator.h"
#include "ui/charts/barchartview.h"
#include "ui/charts/charttoolbar.h"
#include "ui/charts/decimate.h"
#include "ui/charts/livechart.h"
#include "ui/charts/pointhistory.h"
#include "ui/models/rowtablemodel.h"
#include "ui/pages/geopage.h"
#include "ui/pages/overviewpage.h"
#include "ui/pages/pagespage.h"
#include "ui/pages/productspage.h"
#include "ui/pages/sessionspage.h"
#include "ui/widgets/tablepanel.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QBarSet>
#include <QDateTimeAxis>
#include <QDir>
#include <QFile>
#include <QGraphicsTextItem>
#include <QLineSeries>
#include <QLocale>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QValueAxis>

#include <cmath>
#include <vector>

using namespace studio;
using namespace studio::ui;

TEST_CASE("decimate keeps sparse data as it is, with one neighbour each side", "[ui]")
{
    std::vector<QPointF> points;
    for (int i = 0; i < 100; ++i)
        points.emplace_back(i * 10.0, i);
    const QList<QPointF> all = decimate(points, 0, 990, 800);
    CHECK(all.size() == 100);
    const QList<QPointF> middle = decimate(points, 200, 400, 800);
    REQUIRE(middle.size() == 23); // 200..400 (21 points) plus 190 and 410
    CHECK(middle.front().x() == 190);
    CHECK(middle.back().x() == 410);
    CHECK(decimate(points, 2000, 3000, 800).size() == 1); // only the left neighbour
    CHECK(decimate({}, 0, 1, 10).isEmpty());
}

TEST_CASE("decimate keeps a min/max envelope when denser than the pixels", "[ui]")
{
    std::vector<QPointF> points;
    for (int i = 0; i < 100'000; ++i)
        points.emplace_back(i, std::sin(i / 50.0) * 10);
    points[54'321].setY(1000); // a spike must survive
    points[76'543].setY(-1000);
    const int buckets = 300;
    const QList<QPointF> out = decimate(points, 0, 99'999, buckets);
    CHECK(out.size() <= 2 * buckets + 4);
    CHECK(out.size() >= buckets);
    double maxY = -1e9;
    double minY = 1e9;
    for (int i = 1; i < out.size(); ++i)
        REQUIRE(out[i - 1].x() <= out[i].x());
    for (const QPointF &p : out) {
        maxY = std::max(maxY, p.y());
        minY = std::min(minY, p.y());
    }
    CHECK(maxY == 1000);
    CHECK(minY == -1000);
    CHECK(out.front().x() == 0);
    CHECK(out.back().x() == 99'999);
}

TEST_CASE("point history replaces a window's point and stays bounded", "[ui]")
{
    PointHistory history(100);
    history.upsert(1000, 1);
    history.upsert(1000, 5); // the same window, counts grew
    history.upsert(2000, 2);
    REQUIRE(history.size() == 2);
    CHECK(history.points()[0].y() == 5);
    history.upsert(1000, 7); // an older window still open
    CHECK(history.points()[0].y() == 7);
    history.upsert(500, 9); // older and absent: dropped, history is never reordered
    CHECK(history.size() == 2);
    for (int i = 0; i < 1000; ++i)
        history.upsert(3000 + i, i);
    CHECK(history.size() == 100);
    CHECK(history.points().back().x() == 3999);
    CHECK(history.points().front().x() == 3900);
    REQUIRE(history.nearest(3950.4));
    CHECK(history.nearest(3950.4)->x() == 3950);
}

TEST_CASE("live chart: one line per series, range, pause, markers and hover", "[ui]")
{
    LiveChart chart(QStringLiteral("Rate"));
    chart.resize(800, 400);
    ChartToolbar toolbar;
    toolbar.attach(&chart);
    toolbar.setRangeMs(5 * 60'000);
    CHECK(chart.rangeMs() == 5 * 60'000);

    const std::int64_t t0 = 1'700'000'000'000;
    for (int i = 0; i <= 600; ++i) { // 10 minutes at 1 s
        chart.setPoint(QStringLiteral("produced"), t0 + i * 1000, 100 + i);
        chart.setPoint(QStringLiteral("consumed"), t0 + i * 1000, 90 + i);
    }
    chart.setNow(t0 + 600'000);
    chart.addMarkers({{t0 + 450'000, QStringLiteral("producer-1: 5,000 -> 20,000 ev/s")},
                      {t0 + 100'000, QStringLiteral("outside the range")}});
    chart.show();
    chart.render();

    REQUIRE(chart.seriesNames() ==
            QStringList{QStringLiteral("produced"), QStringLiteral("consumed")});
    QLineSeries *produced = chart.lineSeries(QStringLiteral("produced"));
    REQUIRE(produced);
    // The last 5 minutes (301 points) plus the left neighbour, under the pixel budget.
    CHECK(produced->count() == 302);
    CHECK(produced->at(produced->count() - 1) == QPointF(t0 + 600'000, 700));
    CHECK(chart.viewMaxMs() == t0 + 600'000);
    CHECK(chart.viewMinMs() == t0 + 300'000);
    const auto markers = chart.visibleMarkers();
    REQUIRE(markers.size() == 1);
    CHECK(markers[0].second.startsWith(QStringLiteral("producer-1")));
    // The marker sits where the time axis puts its time.
    const QPointF onAxis =
        chart.chart()->mapToScene(chart.chart()->mapToPosition(QPointF(t0 + 450'000, 0), produced));
    CHECK(std::abs(markers[0].first - onAxis.x()) < 1.0);

    const QString hover = chart.hoverText(t0 + 450'400);
    CHECK(hover.contains(QStringLiteral("produced: 550")));
    CHECK(hover.contains(QStringLiteral("consumed: 540")));

    // Paused: the view stays put while data keeps arriving.
    toolbar.setPaused(true);
    chart.setPoint(QStringLiteral("produced"), t0 + 700'000, 5);
    chart.setNow(t0 + 700'000);
    chart.render();
    CHECK(chart.viewMaxMs() == t0 + 600'000);
    CHECK(chart.history(QStringLiteral("produced"))->points().back().x() == t0 + 700'000);
    toolbar.setPaused(false);
    chart.render();
    CHECK(chart.viewMaxMs() == t0 + 700'000);

    // All: the whole history, decimated to the pixel width when denser.
    toolbar.setRangeMs(0);
    for (int i = 0; i < 50'000; ++i)
        chart.setPoint(QStringLiteral("consumed"), t0 + 700'000 + i * 10, i % 97);
    chart.render();
    const int width = static_cast<int>(chart.chart()->plotArea().width());
    CHECK(chart.lineSeries(QStringLiteral("consumed"))->count() <= 2 * width + 4);
    CHECK(chart.viewMinMs() == t0);

    // Only shown lines have a series.
    chart.setShownSeries({QStringLiteral("consumed")});
    CHECK(chart.lineSeries(QStringLiteral("produced")) == nullptr);
    CHECK(chart.chart()->series().size() == 1);
    // Several new names at once (they get empty lines).
    chart.setShownSeries(
        {QStringLiteral("new-1"), QStringLiteral("new-2"), QStringLiteral("consumed")});
    CHECK(chart.chart()->series().size() == 3);
    chart.render();
    CHECK(chart.lineSeries(QStringLiteral("new-2"))->count() == 0);
}

TEST_CASE("live chart repaints only while visible, at most 10 Hz", "[ui]")
{
    LiveChart chart(QStringLiteral("Hidden"));
    for (int i = 0; i < 10; ++i) {
        chart.setPoint(QStringLiteral("a"), 1000 * i, i);
        chart.requestRender();
    }
    QApplication::processEvents();
    CHECK(chart.renderCount() == 0);
    chart.show();
    QElapsedTimer clock;
    clock.start();
    while (chart.renderCount() == 0 && clock.elapsed() < 2000)
        QApplication::processEvents();
    CHECK(chart.renderCount() == 1);
    for (int i = 0; i < 50; ++i) {
        chart.setPoint(QStringLiteral("a"), 20'000 + 1000 * i, i);
        chart.requestRender();
        QApplication::processEvents();
    }
    const int before = chart.renderCount();
    clock.restart();
    while (clock.elapsed() < 350) {
        chart.requestRender();
        QApplication::processEvents();
    }
    CHECK(chart.renderCount() - before <= 5);
}

namespace {
struct Item
{
    QString name;
    qint64 count = 0;
};
} // namespace

TEST_CASE("row table model diffs by key with the exact change protocol", "[ui]")
{
    RowTableModel<Item> model({{QStringLiteral("Name"),
                                [](const Item &i) {
                                    return QVariant(i.name);
                                }},
                               {QStringLiteral("Count"),
                                [](const Item &i) {
                                    return QVariant(i.count);
                                }}},
                              [](const Item &i) { return i.name; });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(Qt::UserRole);
    proxy.sort(1, Qt::DescendingOrder);
    QAbstractItemModelTester proxyTester(&proxy,
                                         QAbstractItemModelTester::FailureReportingMode::Fatal);

    model.setRows({{QStringLiteral("a"), 1}, {QStringLiteral("b"), 20}, {QStringLiteral("c"), 3}});
    CHECK(proxy.index(0, 0).data().toString() == QStringLiteral("b"));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.setRows(
        {{QStringLiteral("c"), 300}, {QStringLiteral("b"), 20}, {QStringLiteral("d"), 1}});
    CHECK(changed.size() == 1); // only c changed, and only its count
    CHECK(changed[0][0].toModelIndex().column() == 1);
    CHECK(removed.size() == 1);
    CHECK(inserted.size() == 1);
    CHECK(model.rowCount() == 3);
    CHECK(proxy.index(0, 0).data().toString() == QStringLiteral("c"));
    CHECK(proxy.index(0, 1).data().toString() == QLocale().toString(300));
    const QString csv = modelToCsv(proxy);
    CHECK(csv.startsWith(QStringLiteral("Name,Count\nc,300\nb,20\nd,1\n")));

    // Export CSV of the panel's rows in their current order; formula-like text is neutralised.
    model.setRows({{QStringLiteral("=cmd"), 5}, {QStringLiteral("x,y"), 7}});
    TablePanel panel(QStringLiteral("Items"), &model);
    panel.sortBy(1, Qt::DescendingOrder);
    QTemporaryDir dir;
    REQUIRE(dir.isValid());
    QString error;
    REQUIRE(panel.exportCsv(dir.filePath(QStringLiteral("items.csv")), &error));
    QFile file(dir.filePath(QStringLiteral("items.csv")));
    REQUIRE(file.open(QIODevice::ReadOnly));
    CHECK(QString::fromUtf8(file.readAll()) == QStringLiteral("Name,Count\n\"x,y\",7\n'=cmd,5\n"));
    CHECK_FALSE(panel.exportCsv(dir.filePath(QStringLiteral("missing/dir/items.csv")), &error));
    CHECK_FALSE(error.isEmpty());
}

// ---- Pages, fed by a real aggregator over generated events ----

namespace {

constexpr std::int64_t kStart = 1'764'000'000'000; // 2025-11-24T16:00:00Z

struct Pages
{
    OverviewPage overview;
    PagesPage pages;
    GeoPage geo;
    SessionsPage sessions;
    ProductsPage products;
    QList<DashboardPage *> all() { return {&overview, &pages, &geo, &sessions, &products}; }
};

/// `minutes` of event time at `rate` events/s through a core::Aggregator, one frame every 10 s of
/// event time handed to every page (the main window's ticks, compressed). Returns the last frame.
DashboardFrame feed(Pages &pages, int minutes, double rate)
{
    core::GeneratorConfig generatorConfig;
    generatorConfig.users = 2000;
    generatorConfig.lateFraction = 0.01;
    generatorConfig.duplicateFraction = 0.01;
    generatorConfig.malformedFraction = 0.005;
    generatorConfig.lateByMs = 60'000;
    core::EventGenerator generator(generatorConfig);
    core::AggregatorConfig config;
    config.sessionGapMs = 3 * 60'000;
    core::Aggregator aggregator(config);
    core::RecordBatch batch;
    DashboardFrame frame;
    const std::int64_t total = static_cast<std::int64_t>(minutes * 60 * rate);
    std::uint64_t lastLate = 0;
    std::uint64_t lastInvalid = 0;
    for (std::int64_t i = 0; i < total; ++i) {
        const std::int64_t t = kStart + static_cast<std::int64_t>(i * 1000.0 / rate);
        generator.next(t, batch);
        const bool tick = (i + 1) % static_cast<std::int64_t>(10 * rate) == 0;
        if (!tick)
            continue;
        aggregator.ingestBatch(batch);
        batch.clear();
        frame = {};
        frame.nowMs = t + 500;
        frame.aggregates = aggregator.snapshot();
        const auto &c = frame.aggregates.counters;
        const double wave = std::sin(static_cast<double>(i) / (rate * 60.0));
        frame.producedPerSecond = rate * (1.0 + 0.2 * wave);
        frame.consumedPerSecond = rate * (1.0 + 0.15 * wave);
        frame.lagMessages = static_cast<std::int64_t>(50 + 40 * wave);
        frame.watermarkDelayMs = c.watermarkMs == core::kNoWatermark
                                     ? -1
                                     : static_cast<double>(frame.nowMs - c.watermarkMs);
        frame.latePerSecond = static_cast<double>(c.late - lastLate) / 10.0;
        frame.invalidPerSecond = static_cast<double>(c.invalid - lastInvalid) / 10.0;
        lastLate = c.late;
        lastInvalid = c.invalid;
        if ((i + 1) == total / 2)
            frame.markers.push_back({frame.nowMs, QStringLiteral("producer-1: 20 -> 40 ev/s")});
        if ((i + 1) == total * 5 / 6)
            frame.markers.push_back({frame.nowMs, QStringLiteral("producer-2 stopped")});
        for (DashboardPage *page : pages.all())
            page->updateFrame(frame);
    }
    return frame;
}

QImage shoot(DashboardPage *page, const QString &name)
{
    page->resize(1280, 800);
    page->show();
    QApplication::processEvents();
    for (LiveChart *chart : page->findChildren<LiveChart *>())
        chart->render();
    QApplication::processEvents();
    const QImage image = page->grab().toImage();
    QDir().mkpath(QStringLiteral(STUDIO_SCREENSHOT_DIR));
    image.save(QStringLiteral(STUDIO_SCREENSHOT_DIR "/") + name + QStringLiteral(".png"));
    return image;
}

// Time labels the chart actually draws ("16:21:00", or "16:21" on ranges over 10 min): none when
// the time axis is hidden.
int visibleTimeLabels(LiveChart *chart)
{
    static const QRegularExpression time(QStringLiteral("^\\d\\d:\\d\\d(:\\d\\d)?$"));
    int count = 0;
    for (QGraphicsItem *item : chart->scene()->items()) {
        auto *text = qgraphicsitem_cast<QGraphicsTextItem *>(item);
        if (text && text->isVisible() && time.match(text->toPlainText()).hasMatch())
            ++count;
    }
    return count;
}

void testModel(QAbstractItemModel *model)
{
    new QAbstractItemModelTester(model, QAbstractItemModelTester::FailureReportingMode::Fatal,
                                 model);
}

void testViews(DashboardPage *page)
{
    for (QTableView *view : page->findChildren<QTableView *>()) {
        testModel(view->model());
        auto *proxy = qobject_cast<QSortFilterProxyModel *>(view->model());
        REQUIRE(proxy);
        testModel(proxy->sourceModel());
    }
}

} // namespace

TEST_CASE("every page follows frames from a real aggregator and renders at 1280x800", "[ui]")
{
    Pages pages;
    for (DashboardPage *page : pages.all())
        testViews(page);
    const DashboardFrame last = feed(pages, 30, 20);
    const auto &snapshot = last.aggregates;
    REQUIRE(snapshot.counters.read > 30'000);

    { // overview
        OverviewPage &p = pages.overview;
        const PointHistory *produced = p.throughputChart()->history(QStringLiteral("produced"));
        REQUIRE(produced);
        CHECK(produced->size() == 30 * 60 / 10); // one point per frame
        CHECK(produced->points().back().x() == double(last.nowMs));
        CHECK(p.lagChart()->history(QStringLiteral("lag"))->size() == 180);
        CHECK(p.watermarkChart()->history(QStringLiteral("watermark delay"))->points().back().y() ==
              Approx(last.watermarkDelayMs / 1000.0));
        CHECK(p.problemChart()->seriesNames() ==
              QStringList{QStringLiteral("late"), QStringLiteral("invalid")});
        // Revenue: one point per page window, not per frame.
        const PointHistory *revenue = p.revenueChart()->history(QStringLiteral("revenue"));
        REQUIRE(revenue);
        CHECK(revenue->size() >= 25);
        CHECK(revenue->size() <= 31);
        std::int64_t cents = 0;
        const std::int64_t lastWindow = snapshot.pages.back().windowStart;
        std::int64_t latestStart = 0;
        for (const auto &row : snapshot.pages)
            latestStart = std::max(latestStart, row.windowStart);
        for (const auto &row : snapshot.pages)
            if (row.windowStart == latestStart)
                cents += row.revenueCents;
        (void)lastWindow;
        CHECK(revenue->points().back() == QPointF(double(latestStart), cents / 100.0));
        CHECK(p.counterText(QStringLiteral("Read")) ==
              QLocale().toString(qulonglong(snapshot.counters.read)));
        CHECK(p.counterText(QStringLiteral("Late")) ==
              QLocale().toString(qulonglong(snapshot.counters.late)));
        CHECK(p.topPagesModel()->rowCount() == int(snapshot.topPages.size()));
        const QImage shot = shoot(&p, QStringLiteral("overview"));
        CHECK_FALSE(shot.isNull());
        // Regression: Qt 6.4 hid the QDateTimeAxis of lines attached while empty (no labels).
        for (LiveChart *chart : p.charts())
            CHECK(visibleTimeLabels(chart) >= 3);
        CHECK(p.throughputChart()->visibleMarkers().size() == 2);
        CHECK(p.throughputChart()->lineSeries(QStringLiteral("produced"))->count() > 80);
    }
    { // pages
        PagesPage &p = pages.pages;
        CHECK(p.viewsChart()->shownSeries().size() == 5);
        CHECK(p.viewsChart()->chart()->series().size() == 5); // not one per page seen
        p.setTopN(8);
        CHECK(p.viewsChart()->shownSeries().size() == 8);
        CHECK(p.windowsModel()->rowCount() == int(snapshot.pages.size()));
        // The top page's line: one point per window, the last one equal to the latest counts.
        const QString top = p.viewsChart()->shownSeries().front();
        const PointHistory *history = p.viewsChart()->history(top);
        REQUIRE(history);
        CHECK(history->size() >= 25);
        for (const auto &row : snapshot.pages)
            if (QString::fromStdString(row.page) == top && !history->empty() &&
                row.windowStart == history->points().back().x())
                CHECK(history->points().back().y() == double(row.views));
        const QAbstractItemModel *table = p.windowsPanel()->view()->model();
        CHECK(table->headerData(0, Qt::Horizontal).toString() == QStringLiteral("Window start"));
        CHECK(table->index(0, 0).data().toString().endsWith(QLatin1Char('Z')));
        CHECK(table->index(0, 9).data().toString() == QStringLiteral("no")); // newest window open
        const QString csv = modelToCsv(*table);
        CHECK(csv.count(QLatin1Char('\n')) == int(snapshot.pages.size()) + 1);
        CHECK_FALSE(shoot(&p, QStringLiteral("pages")).isNull());
        CHECK(p.viewsChart()->visibleMarkers().size() >= 1);
    }
    { // geo
        GeoPage &p = pages.geo;
        CHECK(p.windowsModel()->rowCount() == int(snapshot.geo.size()));
        CHECK_FALSE(shoot(&p, QStringLiteral("geo")).isNull());
        std::uint64_t events = 0;
        for (const auto &row : snapshot.geo)
            events += row.events;
        double bars = 0;
        QBarSet *countries = p.countryChart()->barSet(0);
        REQUIRE(countries);
        for (int i = 0; i < countries->count(); ++i)
            bars += countries->at(i);
        CHECK(bars == double(events));
        CHECK(p.browserChart()->setCount() >= 2); // device types
        CHECK(p.browserChart()->categories().size() >= 2);
    }
    { // sessions
        SessionsPage &p = pages.sessions;
        CHECK(snapshot.counters.sessionsClosed > 0);
        const PointHistory *closed = p.closedChart()->history(QStringLiteral("closed"));
        REQUIRE(closed);
        CHECK(closed->size() >= 30); // wall-clock minutes, the last one just begun
        CHECK(closed->size() <= 31);
        double sum = 0;
        for (const QPointF &point : closed->points())
            sum += point.y();
        CHECK(sum <= double(snapshot.counters.sessionsClosed));
        CHECK(sum > 0);
        CHECK(p.sessionsModel()->rowCount() == int(snapshot.recentSessions.size()));
        CHECK(p.conversionText().contains(QLatin1Char('%')));
        CHECK_FALSE(shoot(&p, QStringLiteral("sessions")).isNull());
        double lengthTotal = 0;
        for (int i = 0; i < p.lengthChart()->barSet(0)->count(); ++i)
            lengthTotal += p.lengthChart()->barSet(0)->at(i);
        CHECK(lengthTotal == double(snapshot.recentSessions.size()));
    }
    { // products
        ProductsPage &p = pages.products;
        CHECK_FALSE(shoot(&p, QStringLiteral("products")).isNull());
        const auto funnels = productFunnels(snapshot.funnel);
        CHECK(p.productsModel()->rowCount() == int(funnels.size()));
        REQUIRE_FALSE(funnels.empty());
        CHECK(funnels.front().productId == QStringLiteral("prod_0042"));
        CHECK(funnels.front().hotLowConversion);
        CHECK(p.hotText().contains(QStringLiteral("prod_0042")));
        CHECK(p.funnelChart()->categories().size() == 8);
        CHECK(p.funnelChart()->categories().front() == QStringLiteral("prod_0042"));
        CHECK(p.conversionChart()->categories().front() == QStringLiteral("0042"));
        CHECK(p.funnelChart()->barSet(0)->isBarSelected(0));
        CHECK(p.conversionChart()->barSet(0)->at(0) == Approx(funnels.front().conversion()));
        CHECK(p.conversionChart()->barSet(0)->isBarSelected(0));
        const QAbstractItemModel *table = p.productsPanel()->view()->model();
        CHECK(table->index(0, 0).data().toString() == QStringLiteral("prod_0042"));
        CHECK(table->index(0, 0).data(Qt::BackgroundRole).isValid());
        CHECK_FALSE(table->index(1, 0).data(Qt::BackgroundRole).isValid());
    }
}

TEST_CASE("a window repeated across frames is one point, replaced as its counts grow", "[ui]")
{
    PagesPage page;
    OverviewPage overview;
    testViews(&page);
    DashboardFrame frame;
    frame.nowMs = kStart + 30'000;
    core::PageRow row;
    row.windowStart = kStart;
    row.windowEnd = kStart + 60'000;
    row.page = "/home";
    row.views = 10;
    row.revenueCents = 1000;
    frame.aggregates.pages = {row};
    page.updateFrame(frame);
    overview.updateFrame(frame);
    row.views = 25;
    row.revenueCents = 2500;
    frame.aggregates.pages = {row};
    frame.nowMs += 100;
    page.updateFrame(frame);
    overview.updateFrame(frame);
    const PointHistory *home = page.viewsChart()->history(QStringLiteral("/home"));
    REQUIRE(home);
    REQUIRE(home->size() == 1);
    CHECK(home->points()[0] == QPointF(double(kStart), 25));
    CHECK(overview.revenueChart()->history(QStringLiteral("revenue"))->points()[0].y() == 25.0);
    CHECK(page.windowsModel()->rowCount() == 1);

    core::PageRow next = row;
    next.windowStart += 60'000;
    next.windowEnd += 60'000;
    next.views = 3;
    row.final = true;
    frame.aggregates.pages = {row, next};
    page.updateFrame(frame);
    REQUIRE(home->size() == 2);
    CHECK(home->points()[1] == QPointF(double(kStart + 60'000), 3));
    CHECK(page.windowsModel()->rowCount() == 2);
    CHECK(page.windowsModel()->rows()[0].final);
    frame.aggregates.pages = {next};
    page.updateFrame(frame); // the final window was evicted from the snapshot: gone from the table
    CHECK(page.windowsModel()->rowCount() == 1);
    CHECK(home->size() == 2); // but not from the history
}

TEST_CASE("the Pages chart keeps a bounded set of lines when every page is new", "[ui]")
{
    // Issue 24: with a page per event every frame brings thousands of pages never seen again;
    // a line (and history) per page seen grew without bound and froze the GUI thread.
    PagesPage page;
    testViews(&page);
    std::uint64_t next = 0;
    for (int f = 0; f < 40; ++f) {
        DashboardFrame frame;
        frame.nowMs = kStart + f * 60'000;
        core::PageRow hot;
        hot.windowStart = kStart + f * 60'000;
        hot.windowEnd = hot.windowStart + 60'000;
        hot.page = "/home";
        hot.views = 1'000;
        frame.aggregates.pages.push_back(hot);
        for (int i = 0; i < 2'000; ++i) {
            core::PageRow row = hot;
            row.page = "/p/" + std::to_string(++next);
            row.views = 1;
            frame.aggregates.pages.push_back(row);
        }
        page.updateFrame(frame);
    }
    CHECK(page.viewsChart()->seriesNames().size() <= 100);
    CHECK(page.viewsChart()->chart()->series().size() == 5);
    CHECK(page.viewsChart()->shownSeries().front() == QStringLiteral("/home"));
    const PointHistory *home = page.viewsChart()->history(QStringLiteral("/home"));
    REQUIRE(home);
    CHECK(home->size() == 40); // the page that stays on top keeps its whole history
}

TEST_CASE("the Pages table lists the 1,000 most viewed pages of each window and (other)", "[ui]")
{
    // Issue 24: the table diffs and re-sorts its rows at every frame; with 10,001 rows for each
    // open and recent window, showing the page stalled the GUI thread for 250-450 ms.
    PagesPage page;
    testViews(&page);
    DashboardFrame frame;
    frame.nowMs = kStart + 120'000;
    for (int w = 0; w < 2; ++w) {
        core::PageRow other;
        other.windowStart = kStart + w * 60'000;
        other.windowEnd = other.windowStart + 60'000;
        other.page = std::string(core::kOtherKey);
        other.views = 50'000;
        frame.aggregates.pages.push_back(other);
        for (int i = 0; i < 1'499; ++i) {
            core::PageRow row = other;
            row.page = "/p/" + std::to_string(i);
            row.views = static_cast<std::uint64_t>(i % 7 == 0 ? 100 + i : 1);
            frame.aggregates.pages.push_back(row);
        }
    }
    page.updateFrame(frame);
    QAbstractItemModel *model = page.windowsPanel()->proxy();
    REQUIRE(model->rowCount() == 2 * 1'001);
    int others = 0;
    int heavy = 0;
    for (int r = 0; r < model->rowCount(); ++r) {
        const QString name = model->index(r, 2).data().toString();
        others += name == QStringLiteral("(other)") ? 1 : 0;
        heavy += name.startsWith(QStringLiteral("/p/")) && name.mid(3).toInt() % 7 == 0 ? 1 : 0;
    }
    CHECK(others == 2);
    CHECK(heavy == 2 * 215); // every page viewed more than once is listed (215 per window)
    const QString title = page.windowsPanel()->title();
    CHECK(title.contains(QLocale().toString(1000) + QStringLiteral(" most viewed")));
    CHECK(title.contains(QStringLiteral(" 998 less viewed rows")));

    // Below the budget nothing is left out, and the title says nothing about it.
    frame.aggregates.pages.resize(300);
    page.updateFrame(frame);
    CHECK(model->rowCount() == 300);
    CHECK_FALSE(page.windowsPanel()->title().contains(QStringLiteral("not listed")));
}

TEST_CASE("the overview shows each partition's watermark: the slow one holds the aggregator's",
          "[ui][eventtime]")
{
    // Partitions 0 and 1 in step, partition 2 ten minutes behind (a slow producer); the
    // aggregator's watermark follows partition 2.
    core::AggregatorConfig config;
    core::Aggregator aggregator(config);
    core::EventGenerator generator;
    const std::int64_t start = 1767225600000LL; // 2026-01-01T00:00:00Z
    core::RecordBatch generated, batch;
    for (int i = 0; i < 3000; ++i)
        generator.next(start + i * 10, generated);
    for (std::size_t i = 0; i < generated.size(); ++i) {
        std::string payload(generated.value(i));
        const auto partition = static_cast<std::int32_t>(i % 3);
        if (partition == 2) {
            const std::size_t at = payload.find("\"ts\":\"");
            payload.replace(at + 6, 24, "2025-12-31T23:50:00.000Z");
        }
        batch.addFrom(partition, static_cast<std::int64_t>(i / 3), generated.key(i), payload);
    }
    aggregator.ingestBatch(batch);

    OverviewPage overview;
    QAbstractItemModelTester tester(overview.partitionsModel(),
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    DashboardFrame frame;
    frame.nowMs = start + 60'000;
    frame.aggregates = aggregator.snapshot();
    overview.updateFrame(frame);
    const auto &rows = overview.partitionsModel()->rows();
    REQUIRE(rows.size() == 3);
    const core::AggregateCounters &c = frame.aggregates.counters;
    CHECK(c.watermarkMs == rows[2].watermarkMs);
    CHECK(rows[0].watermarkMs > rows[2].watermarkMs + 9 * 60'000);
    // Shown as times of day, the held back one the earliest.
    auto *model = overview.partitionsModel();
    const QString slow = model->data(model->index(2, 1), Qt::DisplayRole).toString();
    const QString fast = model->data(model->index(0, 1), Qt::DisplayRole).toString();
    CHECK(slow.contains(QStringLiteral("23:49")));
    CHECK(fast.contains(QStringLiteral("00:00")));
    CHECK(model->data(model->index(2, 2), Qt::DisplayRole).toString() == QStringLiteral("active"));
}

TEST_CASE("records deleted unread show on the Overview in red once there are some", "[ui]")
{
    OverviewPage overview;
    DashboardFrame frame;
    frame.nowMs = 1'700'000'000'000;
    overview.updateFrame(frame);
    CHECK_FALSE(overview.counterShown(QObject::tr("Deleted unread")));
    CHECK(overview.counterShown(QObject::tr("Keys folded")));
    frame.deletedUnread = 45'789;
    overview.updateFrame(frame);
    CHECK(overview.counterShown(QObject::tr("Deleted unread")));
    CHECK(overview.counterText(QObject::tr("Deleted unread")) == QStringLiteral("45,789"));
}

// Issue 25: with the generator's and the aggregator's defaults (users as the rate needs, a 2 min
// session gap), sessions close and the Sessions page shows a conversion rate within 5 minutes of
// event time. Before issue 25 the 500 users never paused for 30 min, and this page said "no closed
// sessions yet" for as long as the producer ran. Virtual clock: event times spaced at 1,000
// events/s, one frame every 10 s of event time.
TEST_CASE("with the defaults the Sessions page shows closed sessions and conversion within 5 min "
          "of event time",
          "[ui]")
{
    const double rate = 1000;
    core::EventGenerator generator; // defaults
    core::Aggregator aggregator;    // defaults
    REQUIRE(core::AggregatorConfig{}.sessionGapMs == core::GeneratorConfig{}.sessionTimeoutMs);
    SessionsPage page;
    page.resize(1280, 800);
    core::RecordBatch batch;
    std::int64_t shownAtMs = -1;
    DashboardFrame frame;
    const auto total = static_cast<std::int64_t>(5 * 60 * rate);
    for (std::int64_t i = 0; i < total && shownAtMs < 0; ++i) {
        const std::int64_t t =
            kStart + static_cast<std::int64_t>(static_cast<double>(i) * 1000.0 / rate);
        generator.next(t, batch);
        if ((i + 1) % static_cast<std::int64_t>(10 * rate) != 0)
            continue;
        aggregator.ingestBatch(batch);
        batch.clear();
        frame = {};
        frame.nowMs = t;
        frame.aggregates = aggregator.snapshot();
        page.updateFrame(frame);
        if (frame.aggregates.counters.sessionsClosed > 0 &&
            page.conversionText().contains(QLatin1Char('%')))
            shownAtMs = t - kStart;
    }
    INFO(page.conversionText().toStdString());
    REQUIRE(shownAtMs > 0);
    CHECK(shownAtMs <= 5 * 60'000);
    // Sessions of users who paused at most the gap: none closes before the gap has passed.
    CHECK(shownAtMs >= core::AggregatorConfig{}.sessionGapMs);
    CHECK(page.sessionsModel()->rowCount() == int(frame.aggregates.recentSessions.size()));
    CHECK(page.conversionText().contains(QStringLiteral("most recently closed sessions bought")));
    WARN("closed sessions and conversion shown after "
         << shownAtMs / 1000 << " s of event time: " << page.conversionText().toStdString());
}
