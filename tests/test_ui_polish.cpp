// Issue 21: charts that read well (nice ticks, SI labels, range since start, open windows, theme),
// the eliding status fields, and the aggregator's summary of the sessions open now.
#include "core/aggregate/aggregator.h"
#include "core/common/recordbatch.h"
#include "core/common/timeutil.h"
#include "ui/charts/barchartview.h"
#include "ui/charts/chartstyle.h"
#include "ui/charts/livechart.h"
#include "ui/common/format.h"
#include "ui/common/theme.h"
#include "ui/widgets/elidedlabel.h"
#include "ui/widgets/tablepanel.h"

#include "uitestsupport.h"

#include <catch2/catch.hpp>

#include <QTest>

#include <QApplication>
#include <QChart>
#include <QHeaderView>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QStyledItemDelegate>
#include <QTableView>

#include <algorithm>
#include <cmath>
#include <string>

using namespace studio;
using namespace studio::ui;

TEST_CASE("nice scales step by 1, 2, 2.5 or 5 x 10^n and label with SI suffixes", "[ui][charts]")
{
    // The axis: 0, 276, 551, 827, 1102 before.
    const NiceScale s = niceScale(0, 1102, 6);
    CHECK(s.min == 0);
    CHECK(s.step == 250);
    CHECK(s.max == 1250);
    CHECK(s.ticks() == 6);
    for (double max : {0.7, 3.0, 9.9, 42.0, 1e3, 7'777.0, 40e6, 123'456'789.0}) {
        const NiceScale n = niceScale(0, max, 6);
        INFO(max);
        CHECK(n.max >= max);
        CHECK(n.ticks() <= 6);
        const double mantissa = n.step / std::pow(10.0, std::floor(std::log10(n.step)));
        CHECK((std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
               std::abs(mantissa - 2.5) < 1e-9 || std::abs(mantissa - 5) < 1e-9));
    }
    const QLocale c(QLocale::C);
    QLocale::setDefault(c);
    CHECK(siLabel(40'000'000, 10'000'000) == QStringLiteral("40M"));
    CHECK(siLabel(1'500'000, 500'000) == QStringLiteral("1.5M"));
    CHECK(siLabel(40'000, 10'000) == QStringLiteral("40k"));
    CHECK(siLabel(1'250, 250) == QStringLiteral("1.25k"));
    CHECK(siLabel(2.5, 0.5) == QStringLiteral("2.5"));
    CHECK(siLabel(0, 0.25) == QStringLiteral("0"));
    CHECK(siLabel(750, 250) == QStringLiteral("750"));
    CHECK(siLabel(3e9, 1e9) == QStringLiteral("3G"));
}

TEST_CASE("an idle chart's labels do not repeat, and the range follows the data until filled",
          "[ui][charts]")
{
    QLocale::setDefault(QLocale(QLocale::C));
    LiveChart chart(QStringLiteral("Rate"));
    chart.resize(600, 300);
    chart.show();
    const std::int64_t t0 = 1'700'000'000'000;
    for (int i = 0; i <= 120; ++i) // two minutes of an idle producer
        chart.setPoint(QStringLiteral("rate"), t0 + i * 1000, 0);
    chart.setNow(t0 + 120'000);
    chart.setRangeMs(15 * 60'000);
    chart.render();
    // Regression (issue 21): read "1, 1, 1, 0, 0" on a 0..1.1 axis with "%.0f" labels.
    const QStringList labels = chart.valueLabels();
    REQUIRE(labels.size() >= 3);
    CHECK(labels.front() == QStringLiteral("0"));
    CHECK(QSet<QString>(labels.begin(), labels.end()).size() == labels.size());
    // Regression (issue 21): a two-minute run was a sliver at the right of 15 minutes.
    CHECK(chart.viewMinMs() == t0);
    CHECK(chart.viewMaxMs() == t0 + 120'000);

    // Large values: SI labels.
    for (int i = 0; i <= 120; ++i)
        chart.setPoint(QStringLiteral("rate"), t0 + i * 1000, 40'000'000.0 * i / 120);
    chart.render();
    CHECK(chart.valueLabels().contains(QStringLiteral("40M")));
}

TEST_CASE("time ticks fall on whole seconds, minutes and hours in local time", "[ui][charts]")
{
    // Regression (issue 21): 03:55:58, 03:56:25, 03:56:52, ... (the span cut in equal parts).
    const double t0 = 1'700'000'000'000.0;                         // 2023-11-14T22:13:20Z
    const TimeTicks a = timeTicks(t0 - 2'000, t0 + 106'000, 5, 0); // 108 s
    CHECK(a.step == 30'000);
    CHECK(std::fmod(a.first, 30'000.0) == 0);
    CHECK(a.first >= t0 - 2'000);
    CHECK(a.count == 4);
    CHECK(a.format == QStringLiteral("HH:mm:ss"));
    const TimeTicks b = timeTicks(t0, t0 + 15 * 60'000, 6, 0); // 15 min: every 5 min, no seconds
    CHECK(b.step == 5 * 60'000);
    CHECK(std::fmod(b.first, 5 * 60'000.0) == 0);
    CHECK(b.format == QStringLiteral("HH:mm"));
    // Whole hours in local time, 5:30 ahead of UTC: ticks at xx:00 local, i.e. xx:30 UTC.
    const TimeTicks c = timeTicks(t0, t0 + 10 * 3'600'000.0, 6, 5 * 3600 + 1800);
    CHECK(c.step == 2 * 3'600'000.0);
    CHECK(std::fmod(c.first + 1800'000.0 * 11, 3'600'000.0) == 0);
    CHECK(timeTicks(t0, t0 + 3 * 86'400'000.0, 4, 0).format == QStringLiteral("dd HH:mm"));

    LiveChart chart(QStringLiteral("Rate"));
    chart.resize(600, 300);
    chart.show();
    const std::int64_t start = 1'700'000'003'000; // 22:13:23 UTC
    for (int i = 0; i <= 108; ++i)
        chart.setPoint(QStringLiteral("rate"), start + i * 1000, i);
    chart.setNow(start + 108'000);
    chart.render();
    const QStringList labels = chart.timeLabels();
    REQUIRE(labels.size() >= 3);
    for (const QString &label : labels) { // HH:mm:ss on a 108 s span: steps of 10, 15 or 30 s
        INFO(label.toStdString());
        REQUIRE(label.size() == 8);
        const int seconds = label.section(QLatin1Char(':'), 2).toInt();
        CHECK((seconds % 10 == 0 || seconds % 15 == 0));
    }
}

TEST_CASE("report cells show numbers with the locale's separators, other text as it is",
          "[ui][reports]")
{
    // Regression (issue 21): the Reports preview showed 10177 and 799962.81.
    QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    CHECK(localizedNumberText(QStringLiteral("10177")) == QStringLiteral("10,177"));
    CHECK(localizedNumberText(QStringLiteral("799962.81")) == QStringLiteral("799,962.81"));
    CHECK(localizedNumberText(QStringLiteral("-2.50")) == QStringLiteral("-2.50"));
    CHECK(localizedNumberText(QStringLiteral("-1234567")) == QStringLiteral("-1,234,567"));
    for (const char *text : {"2026-05-28T20:26:40.000Z", "/product/prod_0042", "1e5", "", "12a"})
        CHECK(localizedNumberText(QString::fromLatin1(text)) == QString::fromLatin1(text));
    QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
    CHECK(localizedNumberText(QStringLiteral("799962.81")) == QStringLiteral("799.962,81"));
    QLocale::setDefault(QLocale(QLocale::C));
}

TEST_CASE("bar labels that do not fit their category drop the prefix they share", "[ui][charts]")
{
    // Regression (issue 21): eight products on a narrow chart read "0...", "0...", "0...".
    BarChartView chart(QStringLiteral("Conversion"), {QStringLiteral("conversion")},
                       BarChartView::Kind::Grouped);
    chart.resize(330, 300);
    chart.show();
    QStringList products;
    QStringList numbers;
    for (int i = 0; i < 8; ++i) {
        numbers << QStringLiteral("%1").arg(i * 8, 4, 10, QLatin1Char('0'));
        products << QStringLiteral("prod_") + numbers.back();
    }
    chart.setData(products, {{1, 12, 11, 12, 12, 11, 12, 12}});
    REQUIRE(test::waitUntil([&] { return chart.shownCategories() == numbers; },
                            std::chrono::seconds(5)));
    CHECK(chart.categories() == products); // the data keeps its names
    if (const QString dir = qEnvironmentVariable("STUDIO_SCREENSHOT_DIR"); !dir.isEmpty())
        chart.grab().save(dir + QStringLiteral("/bar-labels-short.png"));
    chart.resize(1400, 300); // room for every label whole
    CHECK(test::waitUntil([&] { return chart.shownCategories() == products; },
                          std::chrono::seconds(5)));
}

TEST_CASE("histogram bins too wide for a narrow chart show where each bin starts", "[ui][charts]")
{
    // Regression (issue 21): the Sessions page's "10–30" and "11–20" read "10…" and "11…" at
    // 1100x720 and at QT_SCALE_FACTOR=2.
    BarChartView chart(QStringLiteral("Open: length so far (min)"), {QStringLiteral("sessions")},
                       BarChartView::Kind::Grouped);
    const QStringList ranges = {QStringLiteral("0–1"),   QStringLiteral("1–5"),
                                QStringLiteral("5–10"),  QStringLiteral("10–30"),
                                QStringLiteral("30–60"), QStringLiteral("60+")};
    const QStringList starts = {QStringLiteral("0"),  QStringLiteral("1"),  QStringLiteral("5"),
                                QStringLiteral("10"), QStringLiteral("30"), QStringLiteral("60+")};
    chart.setShortCategories(starts, QStringLiteral("bins from (min)"));
    chart.resize(900, 300);
    chart.show();
    chart.setData(ranges, {{3, 9, 4, 2, 1, 0}});
    // Narrower and narrower: the ranges while they fit, then where the bins start; never cut.
    bool startsShown = false;
    for (int width = 600; width >= 300; width -= 20) {
        chart.resize(width, 200);
        QTest::qWait(20);
        INFO(width << " px: " << chart.shownCategories().join(QLatin1Char(' ')).toStdString());
        CHECK(chart.cutCategoryLabels().isEmpty());
        startsShown = startsShown || chart.shownCategories() == starts;
    }
    CHECK(startsShown);
    CHECK(chart.categories() == ranges); // the data keeps its bins
    chart.resize(900, 300);              // room for the ranges
    CHECK(test::waitUntil([&] { return chart.shownCategories() == ranges; },
                          std::chrono::seconds(5)));
    CHECK(chart.cutCategoryLabels().isEmpty());
    // Without short labels a cut label is reported, so the screens test can catch it.
    BarChartView plain(QStringLiteral("plain"), {QStringLiteral("sessions")},
                       BarChartView::Kind::Grouped);
    plain.resize(300, 200);
    plain.show();
    plain.setData(ranges, {{3, 9, 4, 2, 1, 0}});
    CHECK(test::waitUntil([&] { return !plain.cutCategoryLabels().isEmpty(); },
                          std::chrono::seconds(5)));
}

TEST_CASE("a bar label of several words too wide for its category keeps its leading words",
          "[ui][charts]")
{
    // Regression (issue 21): the Geo page's browsers read "Samsu…" at 1100x720.
    BarChartView chart(QStringLiteral("Browsers"), {QStringLiteral("events")},
                       BarChartView::Kind::Grouped);
    chart.resize(520, 260);
    chart.show();
    const QStringList browsers = {QStringLiteral("Chrome"),  QStringLiteral("Safari"),
                                  QStringLiteral("Firefox"), QStringLiteral("Samsung Internet"),
                                  QStringLiteral("Edge"),    QStringLiteral("Opera")};
    chart.setData(browsers, {{40, 12, 5, 2, 1, 1}});
    REQUIRE(test::waitUntil(
        [&] { return chart.shownCategories().value(3) == QStringLiteral("Samsung"); },
        std::chrono::seconds(5)));
    QTest::qWait(100); // the layout settled: still whole
    CHECK(chart.shownCategories().value(3) == QStringLiteral("Samsung"));
    CHECK(chart.cutCategoryLabels().isEmpty());
    CHECK(chart.shownCategories().value(0) == QStringLiteral("Chrome"));
    if (const QString dir = qEnvironmentVariable("STUDIO_SCREENSHOT_DIR"); !dir.isEmpty()) {
        chart.grab().save(dir + QStringLiteral("/bar-labels-words.png"));
    }
    // A ranking asks how many fit with its widest label whole.
    CHECK(chart.categoriesFitting(QStringLiteral("other")) >= 4);
    CHECK(chart.categoriesFitting(QStringLiteral("other")) < 12);
}

TEST_CASE("a window still open is left out of a line once one has closed, or drawn dashed",
          "[ui][charts]")
{
    LiveChart chart(QStringLiteral("Revenue per minute"));
    chart.resize(600, 300);
    chart.show();
    const std::int64_t t0 = 1'700'000'000'000;
    // Only the open window so far: drawn (there is nothing to compare it with).
    chart.setPoint(QStringLiteral("revenue"), t0, 10);
    chart.setOpenFrom(QStringLiteral("revenue"), double(t0));
    chart.setNow(t0 + 30'000);
    chart.render();
    CHECK(chart.lineSeries(QStringLiteral("revenue"))->count() == 1);
    // Three closed minutes at 100 and the current one at 20 so far: the line ends at 100.
    for (int m = 0; m < 3; ++m)
        chart.setPoint(QStringLiteral("revenue"), t0 + m * 60'000, 100);
    chart.setPoint(QStringLiteral("revenue"), t0 + 180'000, 20);
    chart.setOpenFrom(QStringLiteral("revenue"), double(t0 + 180'000));
    chart.setNow(t0 + 200'000);
    chart.render();
    QLineSeries *line = chart.lineSeries(QStringLiteral("revenue"));
    REQUIRE(line->count() == 3);
    CHECK(line->at(2) == QPointF(double(t0 + 120'000), 100)); // no drop at the end
    CHECK(chart.history(QStringLiteral("revenue"))->points().back().y() == 20);
    CHECK(chart.hoverText(double(t0 + 180'000)).contains(QStringLiteral("still open")));
    CHECK(chart.openTail(QStringLiteral("revenue")).isEmpty());
    // Dashed: the tail from the last closed point through the open one.
    chart.setOpenFrom(QStringLiteral("revenue"), double(t0 + 180'000), true);
    chart.render();
    CHECK(chart.openTail(QStringLiteral("revenue")) ==
          QList<QPointF>{QPointF(double(t0 + 120'000), 100), QPointF(double(t0 + 180'000), 20)});
}

TEST_CASE("charts follow the theme, and the funnel's axis is logarithmic", "[ui][charts]")
{
    test::IsolatedSettings isolated;
    LiveChart live(QStringLiteral("Throughput"));
    BarChartView bars(QStringLiteral("Funnel"), {QStringLiteral("views"), QStringLiteral("buys")},
                      BarChartView::Kind::Grouped);
    applyTheme(Theme::Dark);
    QCoreApplication::processEvents();
    // Regression (issue 21): the window turned dark, every chart stayed white.
    CHECK(live.chart()->theme() == QChart::ChartThemeDark);
    CHECK(bars.chart()->theme() == QChart::ChartThemeDark);
    CHECK(live.chart()->backgroundBrush().color().lightness() < 100);
    applyTheme(Theme::Light);
    QCoreApplication::processEvents();
    CHECK(live.chart()->theme() == QChart::ChartThemeLight);
    CHECK(bars.chart()->backgroundBrush().color().lightness() > 200);

    bars.setLogarithmic(true);
    bars.setData({QStringLiteral("a"), QStringLiteral("b")}, {{50'000, 900}, {12, 0}});
    CHECK(bars.isLogarithmic());
    auto *log = qobject_cast<QLogValueAxis *>(bars.chart()->axes(Qt::Vertical).value(0));
    REQUIRE(log);
    CHECK(log->min() == 1);
    CHECK(log->max() == 100'000);
    bars.setLogarithmic(false);
    CHECK(bars.chart()->axes(Qt::Vertical).size() == 1);
}

namespace {
int g_logWarnings = 0;
QtMessageHandler g_previousHandler = nullptr;
void countLogWarnings(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (message.contains(QStringLiteral("Logarithms of zero")))
        ++g_logWarnings;
    else if (g_previousHandler)
        g_previousHandler(type, context, message);
}
} // namespace

TEST_CASE("a logarithmic bar chart takes reordered and resized categories without a warning",
          "[ui][charts]")
{
    // The top products reorder at almost every frame. Emptying a bar set before refilling it
    // made Qt Charts lay out bars of value 0, which a log axis cannot place: a warning per bar,
    // about eight a second on the Products page.
    BarChartView bars(QStringLiteral("Funnel"),
                      {QStringLiteral("views"), QStringLiteral("carts"), QStringLiteral("buys")},
                      BarChartView::Kind::Grouped);
    bars.setLogarithmic(true);
    bars.resize(800, 400);
    bars.show();
    REQUIRE(QTest::qWaitForWindowExposed(&bars));
    bars.setData({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")},
                 {{900, 500, 40}, {30, 20, 2}, {3, 1, 0}});
    QCoreApplication::processEvents();
    g_logWarnings = 0;
    g_previousHandler = qInstallMessageHandler(countLogWarnings);
    bars.setData({QStringLiteral("c"), QStringLiteral("a"), QStringLiteral("b")},
                 {{950, 900, 510}, {31, 30, 21}, {4, 3, 1}});
    QCoreApplication::processEvents();
    bars.setData({QStringLiteral("b"), QStringLiteral("a")}, {{960, 920}, {33, 31}, {5, 0}});
    QCoreApplication::processEvents();
    bars.grab(); // paint it too
    qInstallMessageHandler(g_previousHandler);
    CHECK(g_logWarnings == 0);
    CHECK(bars.shownCategories() == QStringList{QStringLiteral("b"), QStringLiteral("a")});
    REQUIRE(bars.chart()->series().size() == 1);
}

TEST_CASE("a status field elides its text instead of running into the next one", "[ui]")
{
    ElidedLabel label;
    label.setDescription(QStringLiteral("Kafka broker in use"));
    label.setText(QStringLiteral("Broker: embedded (127.0.0.1:39999), a long error text here"));
    label.resize(80, 20);
    label.show();
    label.grab(); // paints
    CHECK(label.isElided());
    CHECK(label.toolTip().contains(QStringLiteral("127.0.0.1:39999")));
    CHECK(label.minimumSizeHint().width() < 80);
    label.resize(1000, 20);
    label.grab();
    CHECK_FALSE(label.isElided());
    CHECK(label.toolTip() == QStringLiteral("Kafka broker in use"));
}

namespace {

/// Counts the cells measured: the work of fitting columns to their contents.
class CountingDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        ++measured;
        return QStyledItemDelegate::sizeHint(option, index);
    }
    mutable int measured = 0;
};

void fillRows(QStandardItemModel &model, int rows, int round, const QString &wide)
{
    model.removeRows(0, model.rowCount());
    for (int r = 0; r < rows; ++r) {
        auto *count = new QStandardItem;
        count->setData((r * 7 + round) % rows, Qt::DisplayRole);
        model.appendRow(
            {new QStandardItem(r == 0 ? wide : QString(1 + (r + round) % 9, QLatin1Char('x'))),
             count});
    }
}

} // namespace

TEST_CASE("a table behind another page is not measured, and fits its rows on screen when shown",
          "[ui]")
{
    QStackedWidget stack;
    auto *front = new QWidget;
    QStandardItemModel model(0, 2);
    auto *panel = new TablePanel(QStringLiteral("rows"), &model);
    CountingDelegate delegate;
    panel->view()->setItemDelegate(&delegate);
    stack.addWidget(front);
    stack.addWidget(panel);
    stack.resize(600, 300);
    stack.show();
    REQUIRE(QTest::qWaitForWindowExposed(&stack));

    // Behind the front page: 5,000 rows replaced three times, sorted, never measured (a plain
    // QTableView measures every row of the model each time, whatever the header's precision).
    const QString wide = QStringLiteral("a rather wide first cell of the table");
    panel->sortBy(1, Qt::AscendingOrder);
    for (int round = 0; round < 3; ++round) {
        fillRows(model, 5'000, round, wide);
        QTest::qWait(50);
    }
    CHECK(delegate.measured < 100);

    // Shown: fitted to the rows on screen, the wide one at the top among them.
    delegate.measured = 0;
    panel->sortBy(1, Qt::AscendingOrder); // row 0 holds count 0 in every round
    stack.setCurrentWidget(panel);
    QTRY_VERIFY_WITH_TIMEOUT(panel->view()->columnWidth(0) >=
                                 panel->view()->fontMetrics().horizontalAdvance(wide),
                             5000);
    CHECK(delegate.measured > 0);
    CHECK(delegate.measured < 1'000);
}

TEST_CASE("the aggregator's snapshot summarises the sessions open now", "[ui][aggregate]")
{
    core::AggregatorConfig config;
    config.sessionGapMs = 30 * 60'000;
    core::Aggregator aggregator(config);
    const std::int64_t t0 = 1'700'000'000'000;
    // u0: 1 event; u1: 3 events over 2 minutes; u2: 12 events over 11 minutes, one a purchase.
    std::vector<std::pair<std::string, std::int64_t>> events = {{"u0", t0}};
    for (int i = 0; i < 3; ++i)
        events.push_back({"u1", t0 + i * 60'000});
    for (int i = 0; i < 12; ++i)
        events.push_back({"u2", t0 + i * 60'000});
    // In event time order: an event behind the watermark would be late, not in a session.
    std::stable_sort(events.begin(), events.end(),
                     [](const auto &a, const auto &b) { return a.second < b.second; });
    core::RecordBatch batch;
    int n = 0;
    for (const auto &[user, ts] : events) {
        const bool buy = user == "u2" && n % 5 == 0;
        batch.add(user, "{\"event_id\":\"e" + std::to_string(n++) + "\",\"event_type\":\"" +
                            (buy ? "purchase" : "page_view") + "\",\"ts\":\"" +
                            core::formatIsoMs(ts) + "\",\"user_id\":\"" + user +
                            "\",\"session_id\":\"s\",\"page\":\"/p\",\"product_id\":\"x\","
                            "\"product_category\":\"c\",\"price\":1.5,\"referrer\":\"direct\","
                            "\"country\":\"C\",\"device_type\":\"mobile\",\"browser\":\"B\"}");
    }
    aggregator.ingestBatch(batch);
    const core::OpenSessionSummary o = aggregator.snapshot().openSessions;
    CHECK(o.count == 3);
    CHECK(o.count == aggregator.counters().openSessions);
    CHECK(o.converted == 1);
    // Length so far: u0 0 min, u1 2 min, u2 11 min -> bins [0,1), [1,5), [10,30).
    CHECK(o.byLength == std::array<std::uint64_t, 6>{1, 1, 0, 1, 0, 0});
    // Events so far: 1, 3, 12 -> bins 1, 2-5, 11-20.
    CHECK(o.byEvents == std::array<std::uint64_t, 6>{1, 1, 0, 1, 0, 0});
}
