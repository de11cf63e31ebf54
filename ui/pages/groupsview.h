#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/monitor/groupmonitor.h"

#include <QWidget>

#include <functional>
#include <memory>
#include <optional>

class QChart;
class QChartView;
class QDateTimeAxis;
class QLabel;
class QLineSeries;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QValueAxis;

namespace studio::ui {

class GroupModel;
class LagModel;
class ResetOffsetsDialog;

/// Consumer groups: the followed groups with their state and Burrow-style status, the selected
/// group's lag per partition (committed, end offset, lag, lag seconds) and its lag history
/// chart (total lag in messages, lag in seconds), updated with one replace() per tick; "Reset
/// offsets…" (a button and the group list's context menu) opens ResetOffsetsDialog on the
/// selected group once setAdminCluster() said which cluster to change; "Delete group…" deletes
/// a group without members after a confirmation (off, with the reason, on the embedded broker).
/// `groups` must outlive the view.
class GroupsView : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kHistorySeconds = 600;

    explicit GroupsView(const core::GroupMonitor &groups, QWidget *parent = nullptr);

    void setSnapshot(std::shared_ptr<const core::GroupsSnapshot> snapshot);
    bool selectGroup(const QString &group);
    QString selectedGroup() const { return m_selected; }

    GroupModel *groupModel() const { return m_groups; }
    LagModel *lagModel() const { return m_lag; }
    /// Points in the lag history chart's series (messages, seconds).
    int lagPoints() const;

    /// The cluster the console's changes go to (normally the monitored one); until it is set
    /// "Reset offsets…" stays off.
    void setAdminCluster(const core::ClusterConfig &cluster);
    /// Opens the Reset offsets dialog (window-modal, not blocking) on the selected group;
    /// nullptr when no group is selected or no cluster set. The dialog deletes itself on close.
    ResetOffsetsDialog *showResetOffsetsDialog();

    /// Asked before a group is deleted: true goes ahead. The default is a QMessageBox.
    using Confirm = std::function<bool(const QString &text)>;
    void setConfirm(Confirm confirm) { m_confirm = std::move(confirm); }
    QPushButton *deleteGroupButton() const { return m_deleteGroup; }
    QString statusText() const;

public Q_SLOTS:
    /// "Delete group…": asks (showing the group and cluster), then deletes the selected group
    /// off the GUI thread; groupDeleted() tells how it went (Kafka refuses a group with
    /// members: its reason is shown).
    void deleteSelectedGroup();

Q_SIGNALS:
    void groupDeleted(bool ok, const QString &message);

public:
private:
    void showGroup();
    void updateChart();
    void updateActions();

    const core::GroupMonitor &m_monitor;
    std::shared_ptr<const core::GroupsSnapshot> m_snapshot;
    QString m_selected;
    GroupModel *m_groups = nullptr;
    LagModel *m_lag = nullptr;
    QSortFilterProxyModel *m_groupProxy = nullptr;
    QTableView *m_groupView = nullptr;
    QTableView *m_lagView = nullptr;
    std::optional<core::ClusterConfig> m_adminCluster;
    QPushButton *m_resetOffsets = nullptr;
    QPushButton *m_deleteGroup = nullptr;
    Confirm m_confirm;
    bool m_deleting = false;
    bool m_statusError = false;
    QString m_status; // the last deletion's outcome, shown with the snapshot's notes
    QLabel *m_note = nullptr;
    QLabel *m_title = nullptr;
    QChartView *m_chartView = nullptr;
    QLineSeries *m_lagSeries = nullptr;
    QLineSeries *m_secondsSeries = nullptr;
    QDateTimeAxis *m_timeAxis = nullptr;
    QValueAxis *m_lagAxis = nullptr;
    QValueAxis *m_secondsAxis = nullptr;
};

} // namespace studio::ui
