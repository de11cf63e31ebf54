#pragma once

#include "core/monitor/clustermonitor.h"
#include "core/monitor/groupmonitor.h"
#include "ui/models/keyedtablemodel.h"

#include <QColor>
#include <QString>

namespace studio::ui {

struct TopicRow
{
    QString name;
    int partitions = 0;
    qint64 messages = 0;
    double rate = 0;
    bool internal = false;
    bool operator==(const TopicRow &) const = default;
};

/// Topics of a ClusterSnapshot: name, partitions, messages, rate (msg/s).
class TopicModel final : public KeyedTableModel<TopicRow>
{
    Q_OBJECT
public:
    enum Column { Name, Partitions, Messages, Rate, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    void update(const core::ClusterSnapshot &snapshot);
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

protected:
    QString keyOf(const TopicRow &row) const override { return row.name; }
};

struct PartitionRow
{
    int partition = 0;
    int leader = -1;
    QString replicas;
    QString isr;
    bool underReplicated = false;
    qint64 low = -1;
    qint64 high = -1;
    qint64 messages = 0;
    double rate = 0;
    int error = 0;
    bool operator==(const PartitionRow &) const = default;
};

/// Partitions of one topic: partition, leader, replicas, ISR, low/high watermark, messages, rate.
class PartitionModel final : public KeyedTableModel<PartitionRow>
{
    Q_OBJECT
public:
    enum Column { Partition, Leader, Replicas, Isr, Low, High, Messages, Rate, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    /// Rows of `topic` (none when it is null).
    void update(const core::TopicInfo *topic);
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

protected:
    QString keyOf(const PartitionRow &row) const override { return QString::number(row.partition); }
};

struct GroupRow
{
    QString id;
    QString state;
    QString status; ///< Burrow-style: OK, WARN, ...
    int severity = 0;
    qint64 totalLag = -1;
    double lagSeconds = -1;
    QString reason;
    QString error;
    bool operator==(const GroupRow &) const = default;
};

/// Consumer groups: id, state, status, total lag, lag seconds, reason.
class GroupModel final : public KeyedTableModel<GroupRow>
{
    Q_OBJECT
public:
    enum Column { Group, State, Status, Lag, LagSeconds, Reason, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    void update(const core::GroupsSnapshot &snapshot);
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

protected:
    QString keyOf(const GroupRow &row) const override { return row.id; }
};

struct LagRow
{
    QString topic;
    int partition = 0;
    qint64 committed = -1;
    qint64 high = -1;
    qint64 lag = -1;
    double lagSeconds = -1;
    QString status;
    int severity = 0;
    bool operator==(const LagRow &) const = default;
};

/// One group's partitions: topic, partition, committed, end offset, lag, lag seconds, status.
class LagModel final : public KeyedTableModel<LagRow>
{
    Q_OBJECT
public:
    enum Column { Topic, Partition, Committed, EndOffset, Lag, LagSeconds, Status, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    /// Rows of `group` (none when it is null).
    void update(const core::GroupLag *group);
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

protected:
    QString keyOf(const LagRow &row) const override
    {
        return row.topic + QLatin1Char('/') + QString::number(row.partition);
    }
};

} // namespace studio::ui
