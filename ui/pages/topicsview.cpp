#include "ui/pages/topicsview.h"

#include "ui/common/format.h"
#include "ui/dialogs/addpartitionsdialog.h"
#include "ui/dialogs/createtopicdialog.h"
#include "ui/dialogs/deleterecordsdialog.h"
#include "ui/dialogs/deletetopicdialog.h"
#include "ui/dialogs/producemessagedialog.h"
#include "ui/dialogs/topicconfigdialog.h"
#include "ui/models/kafkamodels.h"
#include "ui/widgets/heatstrip.h"
#include "ui/widgets/sortedtable.h"

#include <QDateTime>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace studio::ui {

namespace {

QTableView *makeTable(QAbstractItemModel *model, QWidget *parent)
{
    QTableView *view = makeSortedTable(model, parent);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->verticalHeader()->setDefaultSectionSize(22);
    return view;
}

} // namespace

TopicsView::TopicsView(core::ClusterMonitor &cluster, QWidget *parent)
    : QWidget(parent)
    , m_cluster(cluster)
{
    m_topics = new TopicModel(this);
    m_partitions = new PartitionModel(this);
    m_topicView = makeTable(m_topics, this);
    m_topicProxy = static_cast<QSortFilterProxyModel *>(m_topicView->model());
    m_topicView->sortByColumn(TopicModel::Name, Qt::AscendingOrder);
    // Every column as wide as its contents, the whole topic name readable (a narrow pane scrolls
    // rather than cutting names to "clickst…"); the last one takes what is left.
    m_topicView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_topicView->horizontalHeader()->setStretchLastSection(true);
    m_partitionView = makeTable(m_partitions, this);
    m_partitionView->sortByColumn(PartitionModel::Partition, Qt::AscendingOrder);
    m_partitionView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_heat = new HeatStrip(this);
    m_status = new QLabel(this);
    m_partitionTitle = new QLabel(tr("Select a topic"), this);
    QFont bold = m_partitionTitle->font();
    bold.setBold(true);
    m_partitionTitle->setFont(bold);
    m_create = new QPushButton(tr("Create topic…"), this);
    m_create->setToolTip(tr("Create a topic with its partitions and replication factor"));
    m_topicView->setAccessibleName(tr("Topics"));
    m_topicView->setToolTip(tr("The cluster's topics: select one to see its partitions"));
    m_partitionView->setAccessibleName(tr("Partitions of the selected topic"));
    m_partitionView->setToolTip(tr("Leader, replicas, in-sync replicas and offsets per partition"));
    m_heat->setAccessibleName(tr("Messages per second per partition"));
    m_heat->setToolTip(tr("Messages per second per partition: hotter is busier"));
    connect(m_create, &QPushButton::clicked, this, &TopicsView::showCreateTopicDialog);
    m_produce = new QPushButton(tr("Produce message…"), this);
    connect(m_produce, &QPushButton::clicked, this, [this] { showProduceDialog(); });
    m_topicView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_topicView, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex index = m_topicView->indexAt(pos);
        if (!index.isValid())
            return;
        m_topicView->setCurrentIndex(index);
        QMenu menu(this);
        QAction *produce = menu.addAction(tr("Produce message…"));
        produce->setEnabled(m_produce->isEnabled());
        QAction *configs = menu.addAction(tr("Configuration…"));
        configs->setEnabled(m_configs->isEnabled());
        menu.addSeparator();
        menu.addActions(m_manage->menu()->actions());
        QAction *chosen = menu.exec(m_topicView->viewport()->mapToGlobal(pos));
        if (chosen == produce)
            showProduceDialog();
        else if (chosen == configs)
            showConfigDialog();
    });
    m_configs = new QPushButton(tr("Configuration…"), this);
    connect(m_configs, &QPushButton::clicked, this, [this] { showConfigDialog(); });
    m_manage = new QPushButton(tr("Manage"), this);
    auto *manage = new QMenu(m_manage);
    connect(manage->addAction(tr("Add partitions…")), &QAction::triggered, this,
            [this] { showAddPartitionsDialog(); });
    connect(manage->addAction(tr("Delete records…")), &QAction::triggered, this,
            [this] { showDeleteRecordsDialog(); });
    connect(manage->addAction(tr("Delete topic…")), &QAction::triggered, this,
            [this] { showDeleteTopicDialog(); });
    m_manage->setMenu(manage);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_create);
    bar->addWidget(m_produce);
    bar->addWidget(m_configs);
    bar->addWidget(m_manage);
    bar->addStretch();
    leftLayout->addLayout(bar);
    leftLayout->addWidget(m_topicView);
    leftLayout->addWidget(m_status);
    m_status->setWordWrap(true);

    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_partitionTitle);
    rightLayout->addWidget(new QLabel(tr("Messages/s per partition (hotter = busier):"), right));
    rightLayout->addWidget(m_heat);
    rightLayout->addWidget(m_partitionView, 1);

    auto *splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    splitter->setSizes({420, 840});
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_topicView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                const QModelIndex source = m_topicProxy->mapToSource(current);
                const TopicRow *row = m_topics->rowAt(source.row());
                m_selected = row ? row->name : QString();
                if (!m_selected.isEmpty()) // the next start selects it again
                    QSettings().setValue(QStringLiteral("kafka/lastTopic"), m_selected);
                showPartitions();
            });
    updateActions();
}

void TopicsView::setAdminCluster(const core::ClusterConfig &cluster)
{
    m_adminCluster = cluster;
    updateActions();
}

void TopicsView::updateActions()
{
    const bool ready = m_adminCluster && !m_selected.isEmpty();
    m_produce->setEnabled(ready);
    m_produce->setToolTip(!m_adminCluster ? tr("No cluster to produce to here")
                          : ready         ? tr("Send a message to %1: key, value, headers, "
                                                       "copies")
                                        .arg(m_selected)
                                  : tr("Select a topic first"));
    m_configs->setEnabled(ready);
    m_configs->setToolTip(!m_adminCluster ? tr("No cluster to configure here")
                          : ready
                              ? tr("The configs of %1: values, sources, changes").arg(m_selected)
                              : tr("Select a topic first"));
    m_manage->setEnabled(ready);
    for (QAction *a : m_manage->menu()->actions())
        a->setEnabled(ready);
    m_manage->setToolTip(!m_adminCluster ? tr("No cluster to change here")
                         : ready ? tr("Add partitions to %1, delete its records or the topic "
                                      "(each asks first)")
                                       .arg(m_selected)
                                 : tr("Select a topic first"));
}

ProduceMessageDialog *TopicsView::showProduceDialog()
{
    if (!m_adminCluster || m_selected.isEmpty())
        return nullptr;
    const core::TopicInfo *topic =
        m_snapshot ? m_snapshot->findTopic(m_selected.toStdString()) : nullptr;
    auto *dialog = new ProduceMessageDialog(*m_adminCluster, m_selected,
                                            topic ? int(topic->partitions.size()) : 0, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

TopicConfigDialog *TopicsView::showConfigDialog()
{
    if (!m_adminCluster || m_selected.isEmpty())
        return nullptr;
    auto *dialog = new TopicConfigDialog(*m_adminCluster, m_selected, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

template <class Dialog> Dialog *TopicsView::openDialog(Dialog *dialog)
{
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

AddPartitionsDialog *TopicsView::showAddPartitionsDialog()
{
    if (!m_adminCluster || m_selected.isEmpty())
        return nullptr;
    const core::TopicInfo *topic =
        m_snapshot ? m_snapshot->findTopic(m_selected.toStdString()) : nullptr;
    return openDialog(new AddPartitionsDialog(*m_adminCluster, m_selected,
                                              topic ? int(topic->partitions.size()) : 0, this));
}

DeleteRecordsDialog *TopicsView::showDeleteRecordsDialog()
{
    if (!m_adminCluster || m_selected.isEmpty())
        return nullptr;
    const core::TopicInfo *topic =
        m_snapshot ? m_snapshot->findTopic(m_selected.toStdString()) : nullptr;
    return openDialog(new DeleteRecordsDialog(
        *m_adminCluster, m_selected, topic ? topic->partitions : std::vector<core::PartitionInfo>{},
        this));
}

DeleteTopicDialog *TopicsView::showDeleteTopicDialog()
{
    if (!m_adminCluster || m_selected.isEmpty())
        return nullptr;
    return openDialog(new DeleteTopicDialog(*m_adminCluster, m_selected, this));
}

TopicsView::~TopicsView()
{
    // A creation on a pool thread uses m_cluster, which the engine destroys soon after the window
    // (app/gui.cpp): it must end first. The late result is dropped with the watcher.
    m_tasks.waitForFinished();
}

void TopicsView::setSnapshot(std::shared_ptr<const core::ClusterSnapshot> snapshot)
{
    if (!snapshot)
        return;
    m_snapshot = std::move(snapshot);
    m_topics->update(*m_snapshot);
    QString status;
    if (!m_snapshot->ok && !m_snapshot->error.empty())
        status = QString::fromStdString(m_snapshot->error) + QLatin1Char(' ');
    if (m_snapshot->dataAtMs > 0)
        status +=
            tr("%1, %2, %3 msg/s; data of %4 UTC")
                .arg(m_snapshot->brokers.size() == 1
                         ? tr("1 broker")
                         : tr("%1 brokers").arg(m_snapshot->brokers.size()))
                .arg(m_snapshot->topics.size() == 1
                         ? tr("1 topic")
                         : tr("%1 topics").arg(groupedNumber(double(m_snapshot->topics.size()))))
                .arg(m_snapshot->totalRate < 10 ? QLocale().toString(m_snapshot->totalRate, 'f', 1)
                                                : groupedNumber(m_snapshot->totalRate))
                .arg(QDateTime::fromMSecsSinceEpoch(m_snapshot->dataAtMs, Qt::UTC)
                         .toString(QStringLiteral("HH:mm:ss")));
    else
        status += tr("waiting for the first cluster refresh…");
    m_status->setText(status);
    m_status->setStyleSheet(m_snapshot->ok ? QString() : QStringLiteral("color: #c62828;"));
    // Nothing selected yet: the topic selected last time, else the only topic there is.
    if (m_selected.isEmpty() && m_topicProxy->rowCount() > 0) {
        const QString last = QSettings().value(QStringLiteral("kafka/lastTopic")).toString();
        if (!(!last.isEmpty() && selectTopic(last)) && m_topicProxy->rowCount() == 1)
            selectTopic(m_topicProxy->index(0, TopicModel::Name).data().toString());
    }
    showPartitions();
}

bool TopicsView::selectTopic(const QString &topic)
{
    for (int r = 0; r < m_topicProxy->rowCount(); ++r) {
        const QModelIndex i = m_topicProxy->index(r, TopicModel::Name);
        if (i.data().toString() == topic) {
            m_topicView->setCurrentIndex(i);
            m_selected = topic; // also when the current row did not change
            showPartitions();
            return true;
        }
    }
    return false;
}

void TopicsView::showPartitions()
{
    const core::TopicInfo *topic = m_snapshot && !m_selected.isEmpty()
                                       ? m_snapshot->findTopic(m_selected.toStdString())
                                       : nullptr;
    m_partitions->update(topic);
    QVector<double> rates;
    if (topic)
        for (const core::PartitionInfo &p : topic->partitions)
            rates.push_back(p.rate);
    m_heat->setValues(rates);
    m_partitionTitle->setText(topic ? tr("%1: %2 partitions, %3 messages")
                                          .arg(m_selected)
                                          .arg(topic->partitions.size())
                                          .arg(groupedNumber(double(topic->messages)))
                                    : tr("Select a topic"));
    updateActions();
}

void TopicsView::showCreateTopicDialog()
{
    CreateTopicDialog dialog(this);
    if (dialog.exec() == QDialog::Accepted)
        createTopic(dialog.name(), dialog.partitions(), dialog.replicationFactor());
}

void TopicsView::createTopic(const QString &name, int partitions, int replicationFactor)
{
    struct Outcome
    {
        bool ok = false;
        std::string error;
    };
    m_create->setEnabled(false);
    m_status->setText(tr("Creating %1…").arg(name));
    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, name] {
        const Outcome o = watcher->result();
        watcher->deleteLater();
        m_create->setEnabled(true);
        const QString message =
            o.ok ? tr("created topic %1").arg(name)
                 : tr("could not create %1: %2").arg(name, QString::fromStdString(o.error));
        m_status->setText(message);
        m_status->setStyleSheet(o.ok ? QString() : QStringLiteral("color: #c62828;"));
        Q_EMIT topicCreated(o.ok, message);
    });
    core::ClusterMonitor *cluster = &m_cluster; // outlives the task: see ~TopicsView()
    const std::string topic = name.toStdString();
    const QFuture<Outcome> future =
        QtConcurrent::run([cluster, topic, partitions, replicationFactor] {
            Outcome o;
            o.ok = cluster->createTopic(topic, partitions, replicationFactor, &o.error);
            return o;
        });
    m_tasks.addFuture(future);
    watcher->setFuture(future);
}

} // namespace studio::ui
