#pragma once

#include "core/monitor/groupmonitor.h"

#include <QWidget>

#include <memory>

class QChart;
class QChartView;
class QDateTimeAxis;
class QLabel;
class QLineSeries;
class QSortFilterProxyModel;
class QTableView;
class QValueAxis;

namespace studio::ui {

class GroupModel;
class LagModel;

/// Consumer groups: the followed groups with their state and Burrow-style status, the selected
/// group's lag per partition (committed, end offset, lag, lag seconds) and its lag history
/// chart (total lag in messages, lag in seconds), updated with one replace() per tick.
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

private:
    void showGroup();
    void updateChart();

    const core::GroupMonitor &m_monitor;
    std::shared_ptr<const core::GroupsSnapshot> m_snapshot;
    QString m_selected;
    GroupModel *m_groups = nullptr;
    LagModel *m_lag = nullptr;
    QSortFilterProxyModel *m_groupProxy = nullptr;
    QTableView *m_groupView = nullptr;
    QTableView *m_lagView = nullptr;
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
