#include "ui/pages/sessionspage.h"

#include "ui/charts/barchartview.h"
#include "ui/charts/charttoolbar.h"
#include "ui/charts/livechart.h"
#include "ui/common/format.h"
#include "ui/widgets/tablepanel.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

#include <array>

namespace studio::ui {

namespace {

// Upper bounds (exclusive) of the length bins in minutes, and (inclusive) of the event bins: the
// aggregator's, so open and closed sessions share their bins.
constexpr auto kLengthBounds = core::OpenSessionSummary::kLengthBoundsMinutes;
constexpr auto kEventBounds = core::OpenSessionSummary::kEventBounds;

std::vector<TableColumn<core::SessionRow>> sessionColumns()
{
    using Row = core::SessionRow;
    return {
        {QObject::tr("User"),
         [](const Row &r) {
             return QVariant(toQString(r.userId));
         }},
        {QObject::tr("Start"), [](const Row &r) { return QVariant(qlonglong(r.start)); },
         [](const Row &r) {
             return isoTime(r.start);
         }},
        {QObject::tr("End"), [](const Row &r) { return QVariant(qlonglong(r.end)); },
         [](const Row &r) {
             return isoTime(r.end);
         }},
        {QObject::tr("Length (min)"),
         [](const Row &r) {
             return QVariant((r.end - r.start) / 60'000.0);
         }},
        {QObject::tr("Events"),
         [](const Row &r) {
             return QVariant(qulonglong(r.events));
         }},
        {QObject::tr("Pages"),
         [](const Row &r) {
             return QVariant(uint(r.distinctPages));
         }},
        {QObject::tr("Revenue"), [](const Row &r) { return QVariant(r.revenueCents / 100.0); },
         [](const Row &r) {
             return QLocale().toString(r.revenueCents / 100.0, 'f', 2);
         }},
        {QObject::tr("Converted"),
         [](const Row &r) {
             return QVariant(r.converted);
         }},
    };
}

} // namespace

QStringList SessionsPage::lengthBins()
{
    // Plain text: the category axis reads labels as rich text, so no "<".
    return {QStringLiteral("0–1"),   QStringLiteral("1–5"),   QStringLiteral("5–10"),
            QStringLiteral("10–30"), QStringLiteral("30–60"), QStringLiteral("60+")};
}

QStringList SessionsPage::eventBins()
{
    return {QStringLiteral("1"),     QStringLiteral("2–5"),   QStringLiteral("6–10"),
            QStringLiteral("11–20"), QStringLiteral("21–50"), QStringLiteral(">50")};
}

SessionsPage::SessionsPage(QWidget *parent)
    : DashboardPage(parent)
{
    m_toolbar = new ChartToolbar(this);
    m_closed = new LiveChart(tr("Sessions closed per minute"), this);
    m_closed->setValueTitle(tr("sessions/min"));
    m_toolbar->attach(m_closed);
    m_lengths = new BarChartView(tr("Closed: length (min)"), {tr("sessions")},
                                 BarChartView::Kind::Grouped, this);
    m_lengths->setValueTitle(tr("sessions"));
    m_events = new BarChartView(tr("Closed: events per session"), {tr("sessions")},
                                BarChartView::Kind::Grouped, this);
    m_events->setValueTitle(tr("sessions"));
    m_open = new LiveChart(tr("Sessions open now"), this);
    m_open->setValueTitle(tr("sessions"));
    m_toolbar->attach(m_open);
    m_openLengths = new BarChartView(tr("Open: length so far (min)"), {tr("sessions")},
                                     BarChartView::Kind::Grouped, this);
    m_openLengths->setValueTitle(tr("sessions"));
    m_openEvents = new BarChartView(tr("Open: events so far"), {tr("sessions")},
                                    BarChartView::Kind::Grouped, this);
    m_openEvents->setValueTitle(tr("sessions"));
    // Narrow histograms show each bin by where it starts ("10" for "10–30"): Qt Charts would cut
    // the ranges to "10…".
    const QStringList lengthStarts = {QStringLiteral("0"),  QStringLiteral("1"),
                                      QStringLiteral("5"),  QStringLiteral("10"),
                                      QStringLiteral("30"), QStringLiteral("60+")};
    const QStringList eventStarts = {QStringLiteral("1"),  QStringLiteral("2"),
                                     QStringLiteral("6"),  QStringLiteral("11"),
                                     QStringLiteral("21"), QStringLiteral("51+")};
    for (BarChartView *chart : {m_lengths, m_openLengths})
        chart->setShortCategories(lengthStarts, tr("bins from (min)"));
    for (BarChartView *chart : {m_events, m_openEvents})
        chart->setShortCategories(eventStarts, tr("bins from (events)"));
    m_openText = new QLabel(tr("Open now: no session yet"), this);
    m_openText->setObjectName(QStringLiteral("openSessionsLabel"));
    m_conversion = new QLabel(tr("Conversion: no closed sessions yet"), this);
    QFont big = m_conversion->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_conversion->setFont(big);
    m_openText->setFont(big);

    m_sessions = new RowTableModel<core::SessionRow>(
        sessionColumns(),
        [](const core::SessionRow &r) { return windowKey(r.start, toQString(r.userId)); }, this);
    auto *panel = new TablePanel(tr("Recently closed sessions"), m_sessions, this);
    panel->sortBy(2, Qt::DescendingOrder);

    auto *grid = new QGridLayout;
    grid->addWidget(m_open, 0, 0);
    grid->addWidget(m_openLengths, 0, 1);
    grid->addWidget(m_openEvents, 0, 2);
    grid->addWidget(m_closed, 1, 0);
    grid->addWidget(m_lengths, 1, 1);
    grid->addWidget(m_events, 1, 2);
    grid->addWidget(panel, 2, 0, 1, 3);
    for (int row = 0; row < 3; ++row)
        grid->setRowStretch(row, 1);
    auto *labels = new QHBoxLayout;
    labels->addWidget(m_openText);
    labels->addStretch();
    labels->addWidget(m_conversion);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_toolbar);
    layout->addLayout(labels);
    layout->addLayout(grid, 1);
}

QString SessionsPage::openText() const
{
    return m_openText->text();
}

QString SessionsPage::conversionText() const
{
    return m_conversion->text();
}

void SessionsPage::updateFrame(const DashboardFrame &frame)
{
    // Closed per wall-clock minute, from the counter's growth between frames.
    const std::uint64_t closed = frame.aggregates.counters.sessionsClosed;
    const std::int64_t minute = frame.nowMs - frame.nowMs % 60'000;
    if (minute != m_minuteStart) {
        m_minuteStart = minute;
        m_minuteCount = 0;
    }
    if (m_lastClosed && closed >= *m_lastClosed)
        m_minuteCount += static_cast<double>(closed - *m_lastClosed);
    m_lastClosed = closed;
    m_closed->setPoint(tr("closed"), m_minuteStart, m_minuteCount);
    m_closed->addMarkers(frame.markers);
    m_closed->setNow(frame.nowMs);
    m_closed->requestRender();

    // Open now: the aggregator's summary, cheap (bins, not sessions).
    m_openSummary = frame.aggregates.openSessions;
    m_open->setPoint(tr("open"), frame.nowMs, static_cast<double>(m_openSummary.count));
    m_open->addMarkers(frame.markers);
    m_open->setNow(frame.nowMs);
    m_open->requestRender();
    {
        const QLocale locale;
        const auto &o = m_openSummary;
        m_openText->setText(
            o.count == 0
                ? tr("Open now: no session yet")
                : tr("Open now: %1 sessions, %2% with a purchase so far")
                      .arg(locale.toString(qulonglong(o.count)),
                           locale.toString(percent(double(o.converted), double(o.count)), 'f', 1)));
    }

    const auto &sessions = frame.aggregates.recentSessions;
    m_sessions->setRows(sessions);
    std::size_t converted = 0;
    for (const core::SessionRow &s : sessions)
        converted += s.converted ? 1 : 0;
    const QLocale locale;
    m_conversion->setText(
        sessions.empty()
            ? tr("Conversion: no closed sessions yet")
            : tr("Conversion: %1% (%2 of the %3 most recently closed sessions bought)")
                  .arg(locale.toString(percent(double(converted), double(sessions.size())), 'f', 1),
                       locale.toString(qulonglong(converted)),
                       locale.toString(qulonglong(sessions.size()))));
    m_barsStale = true;
    if (isVisible())
        renderBars();
}

void SessionsPage::showEvent(QShowEvent *event)
{
    DashboardPage::showEvent(event);
    if (m_barsStale)
        renderBars();
}

void SessionsPage::renderBars()
{
    QList<qreal> lengths(lengthBins().size(), 0);
    QList<qreal> events(eventBins().size(), 0);
    for (const core::SessionRow &s : m_sessions->rows()) {
        const double minutes = (s.end - s.start) / 60'000.0;
        std::size_t l = 0;
        while (l < kLengthBounds.size() && minutes >= kLengthBounds[l])
            ++l;
        lengths[static_cast<qsizetype>(l)] += 1;
        std::size_t e = 0;
        while (e < kEventBounds.size() && s.events > kEventBounds[e])
            ++e;
        events[static_cast<qsizetype>(e)] += 1;
    }
    m_lengths->setData(lengthBins(), {lengths});
    m_events->setData(eventBins(), {events});
    QList<qreal> openLengths, openEvents;
    for (std::uint64_t n : m_openSummary.byLength)
        openLengths.append(static_cast<qreal>(n));
    for (std::uint64_t n : m_openSummary.byEvents)
        openEvents.append(static_cast<qreal>(n));
    m_openLengths->setData(lengthBins(), {openLengths});
    m_openEvents->setData(eventBins(), {openEvents});
    m_barsStale = false;
}

} // namespace studio::ui
