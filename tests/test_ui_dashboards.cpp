#include "ui/charttoolbar.h"
#include "ui/decimate.h"
#include "ui/livechart.h"
#include "ui/pointhistory.h"
#include "ui/rowtablemodel.h"
#include "ui/tablepanel.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLineSeries>
#include <QSignalSpy>
#include <QSortFilterProxyModel>

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

    REQUIRE(chart.seriesNames() == QStringList{QStringLiteral("produced"), QStringLiteral("consumed")});
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
    const QPointF onAxis = chart.chart()->mapToScene(
        chart.chart()->mapToPosition(QPointF(t0 + 450'000, 0), produced));
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
    RowTableModel<Item> model({{QStringLiteral("Name"), [](const Item &i) { return QVariant(i.name); }},
                               {QStringLiteral("Count"), [](const Item &i) { return QVariant(i.count); }}},
                              [](const Item &i) { return i.name; });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(Qt::UserRole);
    proxy.sort(1, Qt::DescendingOrder);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);

    model.setRows({{QStringLiteral("a"), 1}, {QStringLiteral("b"), 20}, {QStringLiteral("c"), 3}});
    CHECK(proxy.index(0, 0).data().toString() == QStringLiteral("b"));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.setRows({{QStringLiteral("c"), 300}, {QStringLiteral("b"), 20}, {QStringLiteral("d"), 1}});
    CHECK(changed.size() == 1); // only c changed, and only its count
    CHECK(changed[0][0].toModelIndex().column() == 1);
    CHECK(removed.size() == 1);
    CHECK(inserted.size() == 1);
    CHECK(model.rowCount() == 3);
    CHECK(proxy.index(0, 0).data().toString() == QStringLiteral("c"));
    CHECK(proxy.index(0, 1).data().toString() == QLocale().toString(300));
    const QString csv = modelToCsv(proxy);
    CHECK(csv.startsWith(QStringLiteral("Name,Count\nc,300\nb,20\nd,1\n")));
}
