#include "ui/pages/overviewpage.h"

#include "core/engine/runrecording.h"
#include "ui/charts/charttoolbar.h"
#include "ui/charts/livechart.h"
#include "ui/common/format.h"
#include "ui/widgets/tablepanel.h"

#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace studio::ui {

namespace {

std::vector<TableColumn<core::PageRow>> topPageColumns()
{
    using Row = core::PageRow;
    return {
        {QObject::tr("Page"),
         [](const Row &r) {
             return QVariant(toQString(r.page));
         }},
        {QObject::tr("Views"),
         [](const Row &r) {
             return QVariant(qulonglong(r.views));
         }},
        {QObject::tr("Clicks"),
         [](const Row &r) {
             return QVariant(qulonglong(r.clicks));
         }},
        {QObject::tr("Purchases"),
         [](const Row &r) {
             return QVariant(qulonglong(r.purchases));
         }},
        {QObject::tr("Users"), [](const Row &r) { return QVariant(std::round(r.uniqueUsers)); },
         [](const Row &r) {
             return QLocale().toString(std::llround(r.uniqueUsers));
         }},
    };
}

std::vector<TableColumn<core::PartitionStatus>> partitionColumns()
{
    using Row = core::PartitionStatus;
    auto time = [](std::int64_t ms) {
        return ms == core::kNoWatermark ? QStringLiteral("–") : isoTime(ms);
    };
    return {
        {QObject::tr("Partition"),
         [](const Row &r) {
             return QVariant(r.partition);
         }},
        {QObject::tr("Watermark"), [](const Row &r) { return QVariant(qlonglong(r.watermarkMs)); },
         [time](const Row &r) {
             return time(r.watermarkMs);
         }},
        {QObject::tr("State"), [](const Row &r) { return QVariant(r.idle ? 1 : 0); },
         [](const Row &r) {
             return r.idle ? QObject::tr("idle") : QObject::tr("active");
         }},
        {QObject::tr("Held"),
         [](const Row &r) {
             return QVariant(qulonglong(r.held));
         }},
        {QObject::tr("Valid"), [](const Row &r) { return QVariant(qulonglong(r.valid)); },
         [](const Row &r) {
             return QLocale().toString(qulonglong(r.valid));
         }},
        {QObject::tr("Late"),
         [](const Row &r) {
             return QVariant(qulonglong(r.late));
         }},
        {QObject::tr("Worker"),
         [](const Row &r) {
             return QVariant(r.worker);
         }},
        {QObject::tr("State size (MiB)"),
         [](const Row &r) { return QVariant(double(r.stateBytes) / (1024.0 * 1024.0)); },
         [](const Row &r) {
             return QLocale().toString(double(r.stateBytes) / (1024.0 * 1024.0), 'f', 1);
         }},
        // Durable mode (issue 19): the partition's last checkpoint piece (what changed).
        {QObject::tr("Last piece (KiB)"),
         [](const Row &r) { return QVariant(double(r.lastIncrementBytes) / 1024.0); },
         [](const Row &r) {
             return r.checkpointSeq == 0
                        ? QStringLiteral("–")
                        : QLocale().toString(double(r.lastIncrementBytes) / 1024.0, 'f', 1);
         }},
    };
}

} // namespace

OverviewPage::OverviewPage(QWidget *parent)
    : DashboardPage(parent)
{
    m_toolbar = new ChartToolbar(this);

    // First run: nothing produced yet. Say where the data comes from and start it from here.
    m_firstRun = new QFrame(this);
    m_firstRun->setObjectName(QStringLiteral("firstRunPanel"));
    m_firstRun->setFrameShape(QFrame::StyledPanel);
    m_firstRun->setAutoFillBackground(true);
    m_firstRun->setBackgroundRole(QPalette::AlternateBase);
    auto *firstRunLayout = new QHBoxLayout(m_firstRun);
    auto *firstRunText = new QLabel(
        tr("<b>No events yet.</b> The charts fill once a producer sends clickstream events to "
           "Kafka. One producer is ready (stopped) on the Producers page: start it here, or "
           "change its rate and mix there first."),
        m_firstRun);
    firstRunText->setWordWrap(true);
    firstRunText->setTextFormat(Qt::RichText);
    m_startProducer = new QPushButton(tr("Start producer"), m_firstRun);
    m_startProducer->setObjectName(QStringLiteral("startProducerButton"));
    m_startProducer->setDefault(true);
    m_startProducer->setToolTip(tr("Start the first producer now (F5 on any page)"));
    auto *openProducers = new QPushButton(tr("Producers page"), m_firstRun);
    openProducers->setObjectName(QStringLiteral("openProducersButton"));
    openProducers->setToolTip(tr("Edit the producer's rate, users and event mix first (Ctrl+2)"));
    firstRunLayout->addWidget(firstRunText, 1);
    firstRunLayout->addWidget(m_startProducer);
    firstRunLayout->addWidget(openProducers);
    connect(m_startProducer, &QPushButton::clicked, this, &OverviewPage::startProducerRequested);
    connect(openProducers, &QPushButton::clicked, this, &OverviewPage::producersPageRequested);
    m_firstRun->hide();

    m_counterStrip = new QWidget(this);
    auto *counters = new QHBoxLayout(m_counterStrip);
    counters->setContentsMargins(0, 0, 0, 0);
    for (const QString &title :
         {tr("Read"), tr("Valid"), tr("Late"), tr("Invalid"), tr("Duplicates"), tr("Open windows"),
          tr("Open sessions"), tr("Keys folded"), tr("Deleted unread")})
        counters->addWidget(addCounter(title)->parentWidget());
    // Shown once there are some: records the broker's retention deleted before the aggregator
    // read them (it fell behind by more than the topic keeps).
    m_counters[tr("Deleted unread")]->setToolTip(
        tr("Records the broker deleted (retention) before the aggregator read them: lost to "
           "this run. The aggregator fell behind by more than the topic keeps; raise the topic's "
           "retention or add consumers"));
    m_counters[tr("Deleted unread")]->parentWidget()->hide();
    m_counters[tr("Keys folded")]->setToolTip(
        tr("Distinct keys (pages, geo combinations, products) counted into a window's (other) "
           "row beyond the key cap (Settings > Aggregation), summed over the windows"));

    m_throughput = new LiveChart(tr("Throughput"), this);
    m_throughput->setValueTitle(tr("events/s"));
    m_lag = new LiveChart(tr("Consumer lag"), this);
    m_lag->setValueTitle(tr("messages"));
    m_watermark = new LiveChart(tr("Watermark delay"), this);
    m_watermark->setValueTitle(tr("seconds"));
    m_watermark->setValueLabelFormat(QStringLiteral("%.1f"));
    m_problems = new LiveChart(tr("Late and invalid"), this);
    m_problems->setValueTitle(tr("events/s"));
    m_problems->setValueLabelFormat(QStringLiteral("%.1f"));
    m_revenue = new LiveChart(tr("Revenue per minute (closed windows)"), this);
    m_revenue->setValueTitle(tr("revenue/min"));
    m_revenue->setValueLabelFormat(QStringLiteral("%.0f"));
    m_revenue->setPointsVisible(true); // one point a minute: the first closed one is a dot
    m_throughput->setToolTip(tr("Events handed to Kafka and read by the aggregator per second"));
    m_lag->setToolTip(tr("Messages the aggregator's consumer group has not read yet"));
    m_watermark->setToolTip(tr("Wall clock minus the event-time watermark"));
    m_problems->setToolTip(tr("Events too late for their window, and malformed events"));
    m_revenue->setToolTip(
        tr("Purchases per page window, scaled to a minute; a window still open is left out"));
    for (LiveChart *chart : charts())
        m_toolbar->attach(chart);

    m_topPages = new RowTableModel<core::PageRow>(
        topPageColumns(), [](const core::PageRow &r) { return toQString(r.page); }, this);
    m_topPagesPanel = new TablePanel(tr("Top pages (latest page window)"), m_topPages, this);
    m_topPagesPanel->sortBy(1, Qt::DescendingOrder);

    m_partitions = new RowTableModel<core::PartitionStatus>(
        partitionColumns(),
        [](const core::PartitionStatus &r) { return QString::number(r.partition); }, this);
    m_partitionsPanel = new TablePanel(
        tr("Partitions (the watermark is the minimum over the active ones)"), m_partitions, this);
    m_partitionsPanel->sortBy(0, Qt::AscendingOrder);

    auto *grid = new QGridLayout;
    grid->addWidget(m_throughput, 0, 0);
    grid->addWidget(m_lag, 0, 1);
    grid->addWidget(m_watermark, 0, 2);
    grid->addWidget(m_problems, 1, 0);
    grid->addWidget(m_revenue, 1, 1);
    grid->addWidget(m_topPagesPanel, 1, 2);
    grid->addWidget(m_partitionsPanel, 2, 0, 1, 3);
    for (int c = 0; c < 3; ++c)
        grid->setColumnStretch(c, 1);
    grid->setRowStretch(0, 3);
    grid->setRowStretch(1, 3);
    grid->setRowStretch(2, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_firstRun);
    layout->addWidget(m_toolbar);
    layout->addWidget(m_counterStrip);
    layout->addLayout(grid, 1);
}

QList<LiveChart *> OverviewPage::charts() const
{
    return {m_throughput, m_lag, m_watermark, m_problems, m_revenue};
}

QLabel *OverviewPage::addCounter(const QString &title)
{
    auto *tile = new QFrame(m_counterStrip);
    tile->setFrameShape(QFrame::StyledPanel);
    auto *layout = new QVBoxLayout(tile);
    layout->setContentsMargins(8, 4, 8, 4);
    auto *caption = new QLabel(title, tile);
    auto *value = new QLabel(QStringLiteral("–"), tile);
    QFont big = value->font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setBold(true);
    value->setFont(big);
    layout->addWidget(caption);
    layout->addWidget(value);
    m_counters[title] = value;
    return value;
}

QString OverviewPage::counterText(const QString &title) const
{
    auto it = m_counters.find(title);
    return it == m_counters.end() ? QString() : it->second->text();
}

bool OverviewPage::counterShown(const QString &title) const
{
    auto it = m_counters.find(title);
    return it != m_counters.end() && !it->second->parentWidget()->isHidden();
}

void OverviewPage::setFirstRun(bool firstRun)
{
    m_firstRun->setVisible(firstRun);
}

bool OverviewPage::isFirstRun() const
{
    return !m_firstRun->isHidden();
}

void OverviewPage::setRunStartMs(std::int64_t startMs)
{
    m_runStartMs = startMs;
    for (LiveChart *chart : charts())
        chart->setReferenceOrigin(startMs);
}

void OverviewPage::setComparison(const core::RunRecording &run)
{
    clearComparison();
    QList<QPointF> produced, consumed, lag, watermark, late, invalid, revenue;
    for (const core::RunSample &s : run.samples) {
        const auto t = static_cast<double>(s.timeMs - run.startMs);
        produced.append({t, s.producedPerSecond});
        consumed.append({t, s.consumedPerSecond});
        if (s.lagMessages >= 0)
            lag.append({t, static_cast<double>(s.lagMessages)});
        if (s.watermarkDelayMs >= 0)
            watermark.append({t, s.watermarkDelayMs / 1000.0});
        late.append({t, s.latePerSecond});
        invalid.append({t, s.invalidPerSecond});
        revenue.append({t, s.revenuePerMinute});
    }
    m_throughput->setReference(tr("produced"), produced);
    m_throughput->setReference(tr("consumed"), consumed);
    m_lag->setReference(tr("lag"), lag);
    m_watermark->setReference(tr("watermark delay"), watermark);
    m_problems->setReference(tr("late"), late);
    m_problems->setReference(tr("invalid"), invalid);
    m_revenue->setReference(tr("revenue"), revenue);
    std::vector<ChartMarker> markers;
    for (const core::RunMarker &m : run.markers)
        markers.push_back({m.timeMs - run.startMs, QString::fromStdString(m.text)});
    for (const core::RunAlert &a : run.alerts)
        markers.push_back({a.timeMs - run.startMs, QString::fromStdString(a.rule + " " + a.state)});
    for (LiveChart *chart : charts()) {
        chart->setReferenceOrigin(m_runStartMs);
        chart->setReferenceMarkers(markers);
    }
}

void OverviewPage::clearComparison()
{
    for (LiveChart *chart : charts())
        chart->clearReferences();
}

void OverviewPage::updateFrame(const DashboardFrame &frame)
{
    if (m_runStartMs == 0)
        setRunStartMs(frame.nowMs);
    const core::AggregatorSnapshot &snapshot = frame.aggregates;
    const std::int64_t now = frame.nowMs;
    m_throughput->setPoint(tr("produced"), now, frame.producedPerSecond);
    m_throughput->setPoint(tr("consumed"), now, frame.consumedPerSecond);
    if (frame.lagMessages >= 0)
        m_lag->setPoint(tr("lag"), now, static_cast<double>(frame.lagMessages));
    if (frame.watermarkDelayMs >= 0)
        m_watermark->setPoint(tr("watermark delay"), now, frame.watermarkDelayMs / 1000.0);
    m_problems->setPoint(tr("late"), now, frame.latePerSecond);
    m_problems->setPoint(tr("invalid"), now, frame.invalidPerSecond);

    // Revenue per window start (one point per window, replaced while the window grows), scaled
    // to a minute in case the page window is not one.
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> revenue; // start -> (cents, len)
    std::int64_t openFrom = -1; // the oldest window still open: partial, not drawn
    for (const core::PageRow &row : snapshot.pages) {
        if (!row.final && (openFrom < 0 || row.windowStart < openFrom))
            openFrom = row.windowStart;
        auto &[cents, length] = revenue[row.windowStart];
        cents += row.revenueCents;
        length = row.windowEnd - row.windowStart;
    }
    for (const auto &[start, entry] : revenue) {
        const double perMinute =
            entry.second > 0 ? 60'000.0 / static_cast<double>(entry.second) : 1;
        m_revenue->setPoint(tr("revenue"), start,
                            static_cast<double>(entry.first) / 100.0 * perMinute);
    }
    if (openFrom >= 0)
        m_revenue->setOpenFrom(tr("revenue"), static_cast<double>(openFrom));

    const QLocale locale;
    const core::AggregateCounters &c = snapshot.counters;
    m_counters[tr("Read")]->setText(locale.toString(qulonglong(c.read)));
    m_counters[tr("Valid")]->setText(locale.toString(qulonglong(c.valid)));
    m_counters[tr("Late")]->setText(locale.toString(qulonglong(c.late)));
    m_counters[tr("Invalid")]->setText(locale.toString(qulonglong(c.invalid)));
    m_counters[tr("Duplicates")]->setText(locale.toString(qulonglong(c.duplicates)));
    m_counters[tr("Open windows")]->setText(locale.toString(qulonglong(c.openWindows)));
    m_counters[tr("Open sessions")]->setText(locale.toString(qulonglong(c.openSessions)));
    m_counters[tr("Keys folded")]->setText(
        c.windowsCapped ? tr("%1 in %2 windows")
                              .arg(locale.toString(qulonglong(c.keysFolded)))
                              .arg(locale.toString(qulonglong(c.windowsCapped)))
                        : locale.toString(qulonglong(c.keysFolded)));

    QLabel *deleted = m_counters[tr("Deleted unread")];
    deleted->setText(locale.toString(qulonglong(frame.deletedUnread)));
    deleted->parentWidget()->setVisible(frame.deletedUnread > 0);
    if (frame.deletedUnread > 0)
        deleted->setStyleSheet(QStringLiteral("color: #c62828;"));

    m_topPages->setRows(snapshot.topPages);
    std::vector<core::PartitionStatus> assigned;
    for (const core::PartitionStatus &p : c.partitions) {
        if (p.assigned)
            assigned.push_back(p);
    }
    m_partitions->setRows(std::move(assigned));

    for (LiveChart *chart : charts()) {
        chart->addMarkers(frame.markers);
        chart->setNow(now);
        chart->requestRender();
    }
}

} // namespace studio::ui
