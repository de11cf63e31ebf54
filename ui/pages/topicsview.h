#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/monitor/clustermonitor.h"
#include "ui/common/futuresynchronizer.h"

#include <QWidget>

#include <memory>
#include <optional>

class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace studio::ui {

class HeatStrip;
class PartitionModel;
class AddPartitionsDialog;
class DeleteRecordsDialog;
class DeleteTopicDialog;
class ProduceMessageDialog;
class TopicConfigDialog;
class TopicModel;

/// Topics and partitions: the topic list (name, partitions, messages, rate), the selected topic's
/// partitions (leader, replicas, ISR, watermarks, rate), a heat-map strip of the per-partition
/// rate, "Create topic…", and on the selected topic (once setAdminCluster() said where)
/// "Produce message…", "Configuration…" and Manage's "Add partitions…", "Delete records…",
/// "Delete topic…" (each its dialog, doing its Kafka calls in the background), also from the
/// topic's context menu. The owner feeds snapshots (setSnapshot) from its timer;
/// topic creation runs via QtConcurrent with a watcher parented here. `cluster` must outlive the
/// view: the view's destructor waits for a creation still under way (at most the cluster's request
/// timeout), since it uses `cluster` on a pool thread.
class TopicsView : public QWidget
{
    Q_OBJECT
public:
    explicit TopicsView(core::ClusterMonitor &cluster, QWidget *parent = nullptr);
    ~TopicsView() override;

    void setSnapshot(std::shared_ptr<const core::ClusterSnapshot> snapshot);
    /// Selects `topic` in the list (false when it is not there).
    bool selectTopic(const QString &topic);
    QString selectedTopic() const { return m_selected; }

    TopicModel *topicModel() const { return m_topics; }
    PartitionModel *partitionModel() const { return m_partitions; }
    HeatStrip *heatStrip() const { return m_heat; }

    /// The cluster the console's changes go to; until it is set "Produce message…" stays off.
    void setAdminCluster(const core::ClusterConfig &cluster);
    /// Opens the Produce dialog (window-modal, not blocking) on the selected topic; nullptr
    /// when none is selected or no cluster set. The dialog deletes itself on close.
    ProduceMessageDialog *showProduceDialog();
    /// The same for the selected topic's configuration.
    TopicConfigDialog *showConfigDialog();
    QPushButton *configButton() const { return m_configs; }
    /// "Manage": a menu of Add partitions…, Delete records…, Delete topic… (also in the
    /// topic's context menu); each opens its dialog like showProduceDialog().
    QPushButton *manageButton() const { return m_manage; }
    AddPartitionsDialog *showAddPartitionsDialog();
    DeleteRecordsDialog *showDeleteRecordsDialog();
    DeleteTopicDialog *showDeleteTopicDialog();

public Q_SLOTS:
    /// Opens the Create topic dialog.
    void showCreateTopicDialog();
    /// Creates the topic off the GUI thread; topicCreated() tells how it went.
    void createTopic(const QString &name, int partitions, int replicationFactor);

Q_SIGNALS:
    void topicCreated(bool ok, const QString &message);

private:
    template <class Dialog> Dialog *openDialog(Dialog *dialog);
    void showPartitions();
    void updateActions();

    core::ClusterMonitor &m_cluster;
    std::shared_ptr<const core::ClusterSnapshot> m_snapshot;
    QString m_selected;
    TopicModel *m_topics = nullptr;
    PartitionModel *m_partitions = nullptr;
    QSortFilterProxyModel *m_topicProxy = nullptr;
    QTableView *m_topicView = nullptr;
    QTableView *m_partitionView = nullptr;
    HeatStrip *m_heat = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_partitionTitle = nullptr;
    QPushButton *m_create = nullptr;
    QPushButton *m_produce = nullptr;
    QPushButton *m_configs = nullptr;
    QPushButton *m_manage = nullptr;
    std::optional<core::ClusterConfig> m_adminCluster;
    FutureSynchronizer m_tasks; // topic creations still using m_cluster
};

} // namespace studio::ui
