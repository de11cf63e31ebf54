#include "ui/models/kafkamodels.h"

#include "ui/common/format.h"
#include "ui/common/theme.h"

#include <QLocale>
#include <QStringList>

namespace studio::ui {

namespace {

QString idList(const std::vector<std::int32_t> &ids)
{
    QStringList parts;
    for (std::int32_t id : ids)
        parts << QString::number(id);
    return parts.join(QLatin1Char(','));
}

QString rateText(double rate)
{
    return rate < 10 ? QString::number(rate, 'f', 1) : compactNumber(rate);
}

QString offsetText(qint64 offset)
{
    return offset < 0 ? QStringLiteral("–") : QLocale().toString(offset);
}

QString secondsText(double seconds)
{
    return seconds < 0 ? QStringLiteral("–")
                       : QString::fromStdString(core::formatLagDuration(seconds));
}

QVariant alignRight(int role)
{
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

} // namespace

// --- topics

void TopicModel::update(const core::ClusterSnapshot &snapshot)
{
    std::vector<TopicRow> rows;
    rows.reserve(snapshot.topics.size());
    for (const core::TopicInfo &t : snapshot.topics)
        rows.push_back({QString::fromStdString(t.name), int(t.partitions.size()), t.messages,
                        t.rate, t.internal});
    setRows(std::move(rows));
}

int TopicModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TopicModel::data(const QModelIndex &index, int role) const
{
    const TopicRow *r = rowAt(index.row());
    if (!r || !index.isValid())
        return {};
    const int c = index.column();
    if (role == Qt::DisplayRole) {
        switch (c) {
        case Name:
            return r->name;
        case Partitions:
            return r->partitions;
        case Messages:
            return compactNumber(double(r->messages));
        case Rate:
            return rateText(r->rate);
        }
    } else if (role == kSortRole) {
        switch (c) {
        case Name:
            return r->name;
        case Partitions:
            return r->partitions;
        case Messages:
            return r->messages;
        case Rate:
            return r->rate;
        }
    } else if (role == Qt::ToolTipRole && c == Messages) {
        return QString::number(r->messages);
    } else if (role == Qt::ForegroundRole && r->internal) {
        return QColor(0x75, 0x75, 0x75);
    } else if (c != Name) {
        return alignRight(role);
    }
    return {};
}

QVariant TopicModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Topic");
    case Partitions:
        return tr("Partitions");
    case Messages:
        return tr("Messages");
    case Rate:
        return tr("msg/s");
    }
    return {};
}

// --- partitions

void PartitionModel::update(const core::TopicInfo *topic)
{
    std::vector<PartitionRow> rows;
    if (topic) {
        rows.reserve(topic->partitions.size());
        for (const core::PartitionInfo &p : topic->partitions)
            rows.push_back({p.partition, p.leader, idList(p.replicas), idList(p.isr),
                            p.isr.size() < p.replicas.size(), p.low, p.high, p.messages, p.rate,
                            p.error});
    }
    setRows(std::move(rows));
}

int PartitionModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PartitionModel::data(const QModelIndex &index, int role) const
{
    const PartitionRow *r = rowAt(index.row());
    if (!r || !index.isValid())
        return {};
    const int c = index.column();
    if (role == Qt::DisplayRole || role == kSortRole) {
        const bool sort = role == kSortRole;
        switch (c) {
        case Partition:
            return r->partition;
        case Leader:
            return r->leader < 0 && !sort ? QVariant(QStringLiteral("none")) : r->leader;
        case Replicas:
            return r->replicas;
        case Isr:
            return r->isr;
        case Low:
            return sort ? QVariant(r->low) : offsetText(r->low);
        case High:
            return sort ? QVariant(r->high) : offsetText(r->high);
        case Messages:
            return sort ? QVariant(r->messages) : QVariant(groupedNumber(double(r->messages)));
        case Rate:
            return sort ? QVariant(r->rate) : rateText(r->rate);
        }
    } else if (role == Qt::ForegroundRole) {
        if ((c == Isr && r->underReplicated) || (c == Leader && r->leader < 0) || r->error)
            return QColor(0xc6, 0x28, 0x28);
    } else if (role == Qt::ToolTipRole && r->error) {
        return tr("Kafka error %1").arg(r->error);
    } else if (c != Replicas && c != Isr) {
        return alignRight(role);
    }
    return {};
}

QVariant PartitionModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o == Qt::Horizontal && role == Qt::ToolTipRole) {
        if (section == Low)
            return tr("Low watermark: the first offset still in the log");
        if (section == High)
            return tr("High watermark: the offset the next message will get");
    }
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Partition:
        return tr("Partition");
    case Leader:
        return tr("Leader");
    case Replicas:
        return tr("Replicas");
    case Isr:
        return tr("ISR");
    case Low:
        return tr("Low");
    case High:
        return tr("High");
    case Messages:
        return tr("Messages");
    case Rate:
        return tr("msg/s");
    }
    return {};
}

// --- groups

void GroupModel::update(const core::GroupsSnapshot &snapshot)
{
    std::vector<GroupRow> rows;
    rows.reserve(snapshot.groups.size());
    for (const core::GroupLag &g : snapshot.groups)
        rows.push_back({QString::fromStdString(g.groupId), QString::fromStdString(g.state),
                        QString::fromLatin1(core::lagStatusName(g.status)),
                        core::lagStatusSeverity(g.status), g.totalLag, g.lagSeconds,
                        QString::fromStdString(g.reason), QString::fromStdString(g.error)});
    setRows(std::move(rows));
}

int GroupModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant GroupModel::data(const QModelIndex &index, int role) const
{
    const GroupRow *r = rowAt(index.row());
    if (!r || !index.isValid())
        return {};
    const int c = index.column();
    if (role == Qt::DisplayRole) {
        switch (c) {
        case Group:
            return r->id;
        case State:
            return r->state;
        case Status:
            return r->status;
        case Lag:
            return r->totalLag < 0 ? QStringLiteral("–") : compactNumber(double(r->totalLag));
        case LagSeconds:
            return secondsText(r->lagSeconds);
        case Reason:
            return r->error.isEmpty() ? r->reason : r->error;
        }
    } else if (role == kSortRole) {
        switch (c) {
        case Group:
            return r->id;
        case State:
            return r->state;
        case Status:
            return r->severity;
        case Lag:
            return r->totalLag;
        case LagSeconds:
            return r->lagSeconds;
        case Reason:
            return r->reason;
        }
    } else if (role == Qt::ForegroundRole && c == Status) {
        return lagStatusColor(r->status);
    } else if (role == Qt::ToolTipRole && c == Reason) {
        return r->error.isEmpty() ? r->reason : r->error;
    } else if (c == Lag || c == LagSeconds) {
        return alignRight(role);
    }
    return {};
}

QVariant GroupModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Group:
        return tr("Group");
    case State:
        return tr("State");
    case Status:
        return tr("Status");
    case Lag:
        return tr("Lag");
    case LagSeconds:
        return tr("Lag (s)");
    case Reason:
        return tr("Reason");
    }
    return {};
}

// --- lag per partition

void LagModel::update(const core::GroupLag *group)
{
    std::vector<LagRow> rows;
    if (group) {
        rows.reserve(group->partitions.size());
        for (const core::PartitionLag &p : group->partitions)
            rows.push_back({QString::fromStdString(p.topic), p.partition, p.committed, p.high,
                            p.lag, p.lagSeconds, QString::fromLatin1(core::lagStatusName(p.status)),
                            core::lagStatusSeverity(p.status)});
    }
    setRows(std::move(rows));
}

int LagModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LagModel::data(const QModelIndex &index, int role) const
{
    const LagRow *r = rowAt(index.row());
    if (!r || !index.isValid())
        return {};
    const int c = index.column();
    if (role == Qt::DisplayRole || role == kSortRole) {
        const bool sort = role == kSortRole;
        switch (c) {
        case Topic:
            return r->topic;
        case Partition:
            return r->partition;
        case Committed:
            return sort ? QVariant(r->committed) : offsetText(r->committed);
        case EndOffset:
            return sort ? QVariant(r->high) : offsetText(r->high);
        case Lag:
            return sort ? QVariant(r->lag) : offsetText(r->lag);
        case LagSeconds:
            return sort ? QVariant(r->lagSeconds) : secondsText(r->lagSeconds);
        case Status:
            return sort ? QVariant(r->severity) : r->status;
        }
    } else if (role == Qt::ForegroundRole && c == Status) {
        return lagStatusColor(r->status);
    } else if (c != Topic && c != Status) {
        return alignRight(role);
    }
    return {};
}

QVariant LagModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Topic:
        return tr("Topic");
    case Partition:
        return tr("Partition");
    case Committed:
        return tr("Committed");
    case EndOffset:
        return tr("End offset");
    case Lag:
        return tr("Lag");
    case LagSeconds:
        return tr("Lag (s)");
    case Status:
        return tr("Status");
    }
    return {};
}

} // namespace studio::ui
