#include "ui/models/producermodel.h"

#include "ui/common/format.h"

#include <algorithm>

namespace studio::ui {

int ProducerModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int ProducerModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ProducerModel::cell(const core::ProducerSample &p, int column) const
{
    const core::ProducerStats &s = p.stats;
    switch (column) {
    case Name:
        return QString::fromStdString(p.settings.producer.name);
    case Topic:
        return QString::fromStdString(p.settings.producer.topic);
    case State:
        return QString::fromStdString(std::string(core::toString(s.state)));
    case TargetRate:
        return groupedNumber(s.targetRate);
    case AchievedRate:
        return groupedNumber(s.achievedRate);
    case Sent:
        return groupedNumber(static_cast<double>(s.produced));
    case Acked:
        return groupedNumber(static_cast<double>(s.acked));
    case Failed:
        return groupedNumber(static_cast<double>(s.failed));
    case InFlight:
        return groupedNumber(static_cast<double>(s.inFlight));
    default:
        return {};
    }
}

QVariant ProducerModel::sortKey(const core::ProducerSample &p, int column)
{
    const core::ProducerStats &s = p.stats;
    switch (column) {
    case TargetRate:
        return s.targetRate;
    case AchievedRate:
        return s.achievedRate;
    case Sent:
        return static_cast<qulonglong>(s.produced);
    case Acked:
        return static_cast<qulonglong>(s.acked);
    case Failed:
        return static_cast<qulonglong>(s.failed);
    case InFlight:
        return static_cast<qulonglong>(s.inFlight);
    default:
        return {};
    }
}

QVariant ProducerModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const core::ProducerSample &p = m_rows[static_cast<std::size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return cell(p, index.column());
    case Qt::TextAlignmentRole:
        if (index.column() >= TargetRate)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        if (!p.stats.lastError.empty())
            return QString::fromStdString(p.stats.lastError);
        return {};
    case IdRole:
        return p.id;
    case SortRole:
        if (const QVariant key = sortKey(p, index.column()); key.isValid())
            return key;
        return cell(p, index.column());
    default:
        return {};
    }
}

QVariant ProducerModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Name:
        return tr("Name");
    case Topic:
        return tr("Topic");
    case State:
        return tr("State");
    case TargetRate:
        return tr("Target ev/s");
    case AchievedRate:
        return tr("Achieved ev/s");
    case Sent:
        return tr("Sent");
    case Acked:
        return tr("Acked");
    case Failed:
        return tr("Failed");
    case InFlight:
        return tr("In flight");
    default:
        return {};
    }
}

void ProducerModel::update(const std::vector<core::ProducerSample> &producers)
{
    auto contains = [&producers](int id) {
        return std::any_of(producers.begin(), producers.end(),
                           [id](const core::ProducerSample &p) { return p.id == id; });
    };
    // Removed producers, from the bottom so the rows above keep their numbers.
    for (int row = static_cast<int>(m_rows.size()) - 1; row >= 0; --row) {
        if (contains(m_rows[static_cast<std::size_t>(row)].id))
            continue;
        beginRemoveRows({}, row, row);
        m_rows.erase(m_rows.begin() + row);
        endRemoveRows();
    }
    // Both lists are in the order of addition: walk them together, inserting what is new.
    for (std::size_t i = 0; i < producers.size(); ++i) {
        const core::ProducerSample &p = producers[i];
        const int row = static_cast<int>(i);
        if (i >= m_rows.size() || m_rows[i].id != p.id) {
            beginInsertRows({}, row, row);
            m_rows.insert(m_rows.begin() + row, p);
            endInsertRows();
            continue;
        }
        int first = -1, last = -1;
        for (int column = 0; column < ColumnCount; ++column) {
            if (cell(m_rows[i], column) != cell(p, column)) {
                if (first < 0)
                    first = column;
                last = column;
            }
        }
        const bool errorChanged = m_rows[i].stats.lastError != p.stats.lastError;
        m_rows[i] = p;
        if (errorChanged) {
            first = 0;
            last = std::max(last, 0);
        }
        if (first >= 0)
            Q_EMIT dataChanged(index(row, first), index(row, last));
    }
}

int ProducerModel::idAt(int row) const
{
    if (row < 0 || row >= static_cast<int>(m_rows.size()))
        return 0;
    return m_rows[static_cast<std::size_t>(row)].id;
}

int ProducerModel::rowOf(int id) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].id == id)
            return static_cast<int>(i);
    }
    return -1;
}

const core::ProducerSample *ProducerModel::producer(int id) const
{
    const int row = rowOf(id);
    return row < 0 ? nullptr : &m_rows[static_cast<std::size_t>(row)];
}

} // namespace studio::ui
