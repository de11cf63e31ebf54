#include "ui/pages/groupsview.h"

#include "ui/dialogs/resetoffsetsdialog.h"
#include "ui/models/kafkamodels.h"
#include "ui/widgets/sortedtable.h"

#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineSeries>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace studio::ui {

namespace {

QTableView *makeTable(QAbstractItemModel *model, QWidget *parent)
{
    QTableView *view = makeSortedTable(model, parent);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->verticalHeader()->setDefaultSectionSize(22);
    return view;
}

// Upper bound of a value axis: a little headroom, never zero.
double niceTop(double max)
{
    return max <= 0 ? 1 : max * 1.15;
}

} // namespace

GroupsView::GroupsView(const core::GroupMonitor &groups, QWidget *parent)
    : QWidget(parent)
    , m_monitor(groups)
{
    m_groups = new GroupModel(this);
    m_lag = new LagModel(this);
    m_groupView = makeTable(m_groups, this);
    m_groupProxy = static_cast<QSortFilterProxyModel *>(m_groupView->model());
    m_groupView->sortByColumn(GroupModel::Group, Qt::AscendingOrder);
    for (int c = 0; c < GroupModel::Reason; ++c)
        m_groupView->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_lagView = makeTable(m_lag, this);
    m_lagView->sortByColumn(LagModel::Partition, Qt::AscendingOrder);
    m_lagView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_lagView->horizontalHeader()->setStretchLastSection(false);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_title = new QLabel(tr("Select a group"), this);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);

    auto *chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignBottom);
    m_lagSeries = new QLineSeries(chart);
    m_lagSeries->setName(tr("lag (messages)"));
    m_secondsSeries = new QLineSeries(chart);
    m_secondsSeries->setName(tr("lag (seconds)"));
    chart->addSeries(m_lagSeries);
    chart->addSeries(m_secondsSeries);
    m_timeAxis = new QDateTimeAxis(chart);
    m_timeAxis->setFormat(QStringLiteral("HH:mm:ss"));
    m_timeAxis->setTickCount(6);
    m_lagAxis = new QValueAxis(chart);
    m_lagAxis->setLabelFormat(QStringLiteral("%.0f"));
    m_secondsAxis = new QValueAxis(chart);
    m_secondsAxis->setLabelFormat(QStringLiteral("%.1f s"));
    chart->addAxis(m_timeAxis, Qt::AlignBottom);
    chart->addAxis(m_lagAxis, Qt::AlignLeft);
    chart->addAxis(m_secondsAxis, Qt::AlignRight);
    m_lagSeries->attachAxis(m_timeAxis);
    m_lagSeries->attachAxis(m_lagAxis);
    m_secondsSeries->attachAxis(m_timeAxis);
    m_secondsSeries->attachAxis(m_secondsAxis);
    m_chartView = new QChartView(chart, this);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumSize(360, 180);

    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    m_resetOffsets = new QPushButton(tr("Reset offsets…"), top);
    m_resetOffsets->setToolTip(tr("Move the selected group's committed offsets: preview first, "
                                  "then confirm"));
    connect(m_resetOffsets, &QPushButton::clicked, this, [this] { showResetOffsetsDialog(); });
    m_deleteGroup = new QPushButton(tr("Delete group…"), top);
    connect(m_deleteGroup, &QPushButton::clicked, this, &GroupsView::deleteSelectedGroup);
    m_confirm = [this](const QString &text) {
        return QMessageBox::warning(this, tr("Delete group"), text,
                                    QMessageBox::Yes | QMessageBox::Cancel,
                                    QMessageBox::Cancel) == QMessageBox::Yes;
    };
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_resetOffsets);
    bar->addWidget(m_deleteGroup);
    bar->addStretch();
    topLayout->addLayout(bar);
    topLayout->addWidget(m_groupView);
    topLayout->addWidget(m_note);
    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addWidget(m_title);
    auto *lower = new QSplitter(Qt::Horizontal, bottom);
    lower->addWidget(m_lagView);
    lower->addWidget(m_chartView);
    lower->setStretchFactor(0, 1);
    lower->setStretchFactor(1, 1);
    lower->setSizes({560, 700});
    bottomLayout->addWidget(lower, 1);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(top);
    splitter->addWidget(bottom);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({220, 520});
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_groupView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                const GroupRow *row = m_groups->rowAt(m_groupProxy->mapToSource(current).row());
                m_selected = row ? row->id : QString();
                showGroup();
            });
    m_groupView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_groupView, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex index = m_groupView->indexAt(pos);
        if (!index.isValid())
            return;
        m_groupView->setCurrentIndex(index);
        QMenu menu(this);
        QAction *reset = menu.addAction(tr("Reset offsets…"));
        reset->setEnabled(m_resetOffsets->isEnabled());
        QAction *remove = menu.addAction(tr("Delete group…"));
        remove->setEnabled(m_deleteGroup->isEnabled());
        QAction *chosen = menu.exec(m_groupView->viewport()->mapToGlobal(pos));
        if (chosen == reset)
            showResetOffsetsDialog();
        else if (chosen == remove)
            deleteSelectedGroup();
    });
    updateActions();
}

void GroupsView::setAdminCluster(const core::ClusterConfig &cluster)
{
    m_adminCluster = cluster;
    updateActions();
}

void GroupsView::updateActions()
{
    const bool ready = m_adminCluster && !m_selected.isEmpty();
    m_resetOffsets->setEnabled(ready);
    m_resetOffsets->setToolTip(!m_adminCluster ? tr("No cluster to change here")
                               : ready ? tr("Move the offsets of group %1: preview first, then "
                                            "confirm")
                                             .arg(m_selected)
                                       : tr("Select a group first"));
    // Deleting: what Kafka would refuse is off with its reason (members come from the monitor's
    // DescribeConsumerGroups; Kafka checks again and its answer is shown).
    const core::GroupLag *group = nullptr;
    if (m_snapshot)
        for (const core::GroupLag &g : m_snapshot->groups)
            if (QString::fromStdString(g.groupId) == m_selected)
                group = &g;
    QString why;
    if (!m_adminCluster)
        why = tr("No cluster to change here");
    else if (m_snapshot && m_snapshot->embedded)
        why = tr("Not on the embedded broker: librdkafka's mock cannot delete groups.");
    else if (m_selected.isEmpty())
        why = tr("Select a group first");
    else if (group && group->described && !group->members.empty())
        why = tr("Group %1 has %2 active member(s): Kafka deletes only a group without members.")
                  .arg(m_selected)
                  .arg(group->members.size());
    else if (m_deleting)
        why = tr("Deleting…");
    m_deleteGroup->setEnabled(why.isEmpty());
    m_deleteGroup->setToolTip(
        why.isEmpty() ? tr("Delete group %1 and its committed offsets (asks first)").arg(m_selected)
                      : why);
}

QString GroupsView::statusText() const
{
    return m_status;
}

void GroupsView::deleteSelectedGroup()
{
    if (!m_adminCluster || m_selected.isEmpty() || m_deleting)
        return;
    const QString group = m_selected;
    if (!m_confirm(tr("Delete consumer group %1 on %2?\n\nIts committed offsets are lost: a "
                      "consumer that joins it again starts from its auto.offset.reset "
                      "position. Kafka refuses a group that still has members.")
                       .arg(group, QString::fromStdString(m_adminCluster->describe()))))
        return;
    m_deleting = true;
    m_statusError = false;
    m_status = tr("Deleting group %1…").arg(group);
    m_note->setText(m_status);
    m_note->setStyleSheet(QString());
    updateActions();
    struct Outcome
    {
        bool ok = false;
        std::string error;
    };
    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, group] {
        const Outcome o = watcher->result();
        watcher->deleteLater();
        m_deleting = false;
        m_statusError = !o.ok;
        m_status =
            o.ok ? tr("Deleted group %1.").arg(group)
                 : tr("Could not delete group %1: %2").arg(group, QString::fromStdString(o.error));
        m_note->setText(m_status);
        m_note->setStyleSheet(o.ok ? QString() : QStringLiteral("color: #c62828;"));
        updateActions();
        Q_EMIT groupDeleted(o.ok, m_status);
    });
    // Copies only: the view can go at any time, its watcher drops the late answer.
    watcher->setFuture(QtConcurrent::run([cluster = *m_adminCluster, id = group.toStdString()] {
        Outcome o;
        core::KafkaAdmin admin(cluster, ResetOffsetsDialog::kAdminTimeoutMs);
        o.ok = admin.connect(&o.error) && admin.deleteGroup(id, &o.error);
        return o;
    }));
}

ResetOffsetsDialog *GroupsView::showResetOffsetsDialog()
{
    if (!m_adminCluster || m_selected.isEmpty())
        return nullptr;
    QStringList topics;
    QList<QPair<QString, int>> partitions;
    if (m_snapshot)
        for (const core::GroupLag &g : m_snapshot->groups) {
            if (QString::fromStdString(g.groupId) != m_selected)
                continue;
            for (const std::string &t : g.topics)
                topics << QString::fromStdString(t);
            for (const core::PartitionLag &p : g.partitions) {
                const QString topic = QString::fromStdString(p.topic);
                if (!topics.contains(topic))
                    topics << topic; // discovered from the committed offsets
                partitions.append({topic, p.partition});
            }
        }
    auto *dialog = new ResetOffsetsDialog(*m_adminCluster, m_selected, topics, partitions, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

void GroupsView::setSnapshot(std::shared_ptr<const core::GroupsSnapshot> snapshot)
{
    if (!snapshot)
        return;
    m_snapshot = std::move(snapshot);
    m_groups->update(*m_snapshot);
    QStringList notes;
    if (!m_snapshot->error.empty())
        notes << QString::fromStdString(m_snapshot->error);
    if (!m_snapshot->note.empty())
        notes << QString::fromStdString(m_snapshot->note);
    if (m_snapshot->takenAtMs == 0)
        notes << tr("waiting for the first refresh…");
    if (!m_status.isEmpty())
        notes.prepend(m_status);
    m_note->setText(notes.join(QLatin1Char(' ')));
    m_note->setStyleSheet(m_snapshot->error.empty() && !m_statusError
                              ? QString()
                              : QStringLiteral("color: #c62828;"));
    if (m_selected.isEmpty() && m_groupProxy->rowCount() > 0)
        m_groupView->setCurrentIndex(m_groupProxy->index(0, 0)); // the obvious one
    showGroup();
}

bool GroupsView::selectGroup(const QString &group)
{
    for (int r = 0; r < m_groupProxy->rowCount(); ++r) {
        const QModelIndex i = m_groupProxy->index(r, GroupModel::Group);
        if (i.data().toString() == group) {
            m_groupView->setCurrentIndex(i);
            m_selected = group;
            showGroup();
            return true;
        }
    }
    return false;
}

int GroupsView::lagPoints() const
{
    return int(m_lagSeries->count());
}

void GroupsView::showGroup()
{
    const core::GroupLag *group = nullptr;
    if (m_snapshot)
        for (const core::GroupLag &g : m_snapshot->groups)
            if (QString::fromStdString(g.groupId) == m_selected)
                group = &g;
    m_lag->update(group);
    m_title->setText(group ? tr("%1: %2 (%3)")
                                 .arg(m_selected,
                                      QString::fromLatin1(core::lagStatusName(group->status)),
                                      QString::fromStdString(group->reason))
                           : tr("Select a group"));
    updateActions();
    updateChart();
}

void GroupsView::updateChart()
{
    const std::int64_t now = QDateTime::currentSecsSinceEpoch();
    core::GroupHistory history;
    if (!m_selected.isEmpty())
        history = m_monitor.history(m_selected.toStdString(), now - kHistorySeconds);
    QList<QPointF> lag;
    QList<QPointF> seconds;
    double maxLag = 0;
    double maxSeconds = 0;
    lag.reserve(qsizetype(history.totalLag.size()));
    for (const auto &s : history.totalLag) {
        lag.append(QPointF(double(s.second) * 1000.0, s.value));
        maxLag = std::max(maxLag, s.value);
    }
    seconds.reserve(qsizetype(history.lagSeconds.size()));
    for (const auto &s : history.lagSeconds) {
        seconds.append(QPointF(double(s.second) * 1000.0, s.value));
        maxSeconds = std::max(maxSeconds, s.value);
    }
    // At most 600 points, one per second: already about one per pixel, no decimation needed.
    m_lagSeries->replace(lag);
    m_secondsSeries->replace(seconds);
    // A young history fills the chart rather than hugging the right edge of a 10 min window.
    std::int64_t from = now - 60;
    if (!history.totalLag.empty())
        from = std::min(from, std::max(now - kHistorySeconds, history.totalLag.front().second - 5));
    m_lagSeries->setPointsVisible(lag.size() < 30);
    m_secondsSeries->setPointsVisible(seconds.size() < 30);
    m_timeAxis->setRange(QDateTime::fromSecsSinceEpoch(from, Qt::UTC),
                         QDateTime::fromSecsSinceEpoch(now, Qt::UTC));
    m_lagAxis->setRange(0, niceTop(maxLag));
    m_secondsAxis->setRange(0, niceTop(maxSeconds));
}

} // namespace studio::ui
