#include "ui/pages/healthpage.h"

#include "core/monitor/monitor.h"
#include "ui/dialogs/alertruleseditor.h"
#include "ui/models/alertmodels.h"
#include "ui/models/kafkamodels.h"
#include "ui/models/servicemodel.h"
#include "ui/widgets/sortedtable.h"
#include "ui/widgets/sparklinedelegate.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace studio::ui {

namespace {

QTableView *makeTable(QAbstractItemModel *model, QWidget *parent)
{
    QTableView *view = makeSortedTable(model, parent);
    view->verticalHeader()->setDefaultSectionSize(24);
    view->setWordWrap(false);
    return view;
}

QString firingSummary(const std::vector<core::Alert> &firing)
{
    if (firing.empty())
        return HealthPage::tr("No alerts firing");
    QStringList parts;
    for (const core::Alert &a : firing) {
        if (parts.size() == 3) {
            parts << HealthPage::tr("…");
            break;
        }
        const QString rule = QString::fromStdString(a.rule);
        parts << (a.summary.empty()
                      ? rule
                      : rule + QStringLiteral(": ") + QString::fromStdString(a.summary));
    }
    return HealthPage::tr("%n alert(s) firing", nullptr, int(firing.size())) +
           QStringLiteral(" — ") + parts.join(QStringLiteral("; "));
}

} // namespace

HealthPage::HealthPage(core::Monitor &monitor, QWidget *parent)
    : QWidget(parent)
    , m_monitor(monitor)
{
    m_services = new ServiceModel(this);
    m_active = new ActiveAlertModel(this);
    m_history = new AlertHistoryModel(this);

    m_serviceView = makeTable(m_services, this);
    m_serviceView->setItemDelegateForColumn(ServiceModel::History,
                                            new SparklineDelegate(m_serviceView));
    m_serviceView->sortByColumn(-1, Qt::AscendingOrder); // the monitor's order: Kafka first
    auto *header = m_serviceView->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    m_serviceView->setColumnWidth(ServiceModel::Service, 170);
    m_serviceView->setColumnWidth(ServiceModel::Kind, 100);
    m_serviceView->setColumnWidth(ServiceModel::State, 110);
    m_serviceView->setColumnWidth(ServiceModel::Latency, 80);
    m_serviceView->setColumnWidth(ServiceModel::History, 220);

    auto *activeView = makeTable(m_active, this);
    activeView->sortByColumn(ActiveAlertModel::Since, Qt::DescendingOrder);
    activeView->setColumnWidth(ActiveAlertModel::Rule, 170);
    activeView->setColumnWidth(ActiveAlertModel::Since, 170);
    activeView->setColumnWidth(ActiveAlertModel::Summary, 380);
    auto *historyView = makeTable(m_history, this);
    historyView->sortByColumn(AlertHistoryModel::Time, Qt::DescendingOrder); // newest first
    historyView->setColumnWidth(AlertHistoryModel::Time, 170);
    historyView->setColumnWidth(AlertHistoryModel::Rule, 170);
    historyView->setColumnWidth(AlertHistoryModel::Summary, 420);
    m_editor = new AlertRulesEditor(monitor.alerts(), this);
    m_serviceView->setAccessibleName(tr("Services"));
    m_serviceView->setToolTip(tr("Kafka, producers, aggregator, PostgreSQL and Redis: state, "
                                 "latency and the last minutes of history"));
    activeView->setAccessibleName(tr("Active alerts"));
    activeView->setToolTip(tr("The alerts firing now, newest first"));
    historyView->setAccessibleName(tr("Alert history"));
    historyView->setToolTip(tr("Every alert transition, newest first"));

    m_tabs = new QTabWidget(this);
    m_tabs->addTab(activeView, {});
    m_tabs->addTab(historyView, {});
    m_tabs->addTab(m_editor, tr("Rules"));
    m_status = new QLabel(this);

    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    auto *title = new QLabel(tr("Services"), top);
    QFont bold = title->font();
    bold.setBold(true);
    title->setFont(bold);
    topLayout->addWidget(title);
    topLayout->addWidget(m_serviceView);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(top);
    splitter->addWidget(m_tabs);
    splitter->setSizes({300, 450});
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);
    updateTabTitles();

    m_timer = new QTimer(this);
    m_timer->setInterval(kRefreshMs);
    connect(m_timer, &QTimer::timeout, this, &HealthPage::refresh);
    m_firingTimer = new QTimer(this);
    m_firingTimer->setInterval(kFiringCheckMs);
    connect(m_firingTimer, &QTimer::timeout, this, &HealthPage::checkFiring);
    m_firingTimer->start();
}

bool HealthPage::isPolling() const
{
    return m_timer->isActive();
}

void HealthPage::refresh()
{
    const auto health = m_monitor.health().snapshot();
    if (health)
        m_services->update(*health);
    m_active->update(m_monitor.alerts().active());
    m_history->update(m_monitor.alerts().history());
    const core::MonitorStatus status = m_monitor.status();
    QString text = tr("%1 services; %2 pending, %3 firing; alert evaluations: %4")
                       .arg(m_services->rowCount())
                       .arg(status.pending)
                       .arg(status.firing)
                       .arg(status.ticks);
    if (!status.rulesError.empty())
        text += tr("; rules file not loaded: %1").arg(QString::fromStdString(status.rulesError));
    m_status->setText(text);
    m_status->setStyleSheet(status.rulesError.empty() ? QString()
                                                      : QStringLiteral("color: #c62828;"));
    checkFiring();
    updateTabTitles();
}

void HealthPage::checkFiring()
{
    std::vector<core::Alert> firing;
    for (core::Alert &a : m_monitor.alerts().active())
        if (a.state == core::AlertState::Firing)
            firing.push_back(std::move(a));
    const int count = int(firing.size());
    if (count == m_firing)
        return;
    m_firing = count;
    updateTabTitles();
    Q_EMIT firingChanged(count, firingSummary(firing));
}

void HealthPage::updateTabTitles()
{
    m_tabs->setTabText(0, m_firing > 0 ? tr("Active alerts (%1 firing)").arg(m_firing)
                                       : tr("Active alerts"));
    m_tabs->setTabText(1, tr("History (%1)").arg(m_history->rowCount()));
}

void HealthPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
    m_timer->start();
}

void HealthPage::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_timer->stop();
}

} // namespace studio::ui
