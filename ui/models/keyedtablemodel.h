#pragma once

#include <QAbstractTableModel>
#include <QSet>
#include <QString>

#include <vector>

namespace studio::ui {

/// Qt::UserRole on every table model: the raw value to sort by (a proxy sorts on it).
inline constexpr int kSortRole = Qt::UserRole;

/// A table model over rows that carry a stable key, updated from engine snapshots with the exact
/// change protocol: rows whose key disappeared are removed (contiguous runs per
/// beginRemoveRows), new keys are inserted where they belong, and rows whose content changed get
/// one dataChanged over their columns. Rows must come in a consistent key order between updates
/// (snapshots sorted by key, or append-only logs); when they do not, the model resets instead.
/// `Row` needs operator==. GUI thread only.
template <typename Row> class KeyedTableModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_rows.size());
    }
    const std::vector<Row> &rows() const { return m_rows; }
    const Row *rowAt(int row) const
    {
        return row >= 0 && row < int(m_rows.size()) ? &m_rows[std::size_t(row)] : nullptr;
    }

    void setRows(std::vector<Row> rows)
    {
        QSet<QString> newKeys;
        for (const Row &r : rows)
            newKeys.insert(keyOf(r));
        if (!sameOrder(rows, newKeys)) {
            beginResetModel();
            m_rows = std::move(rows);
            endResetModel();
            return;
        }
        for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
            if (newKeys.contains(keyOf(m_rows[std::size_t(i)])))
                continue;
            const int last = i;
            while (i > 0 && !newKeys.contains(keyOf(m_rows[std::size_t(i - 1)])))
                --i;
            beginRemoveRows({}, i, last);
            m_rows.erase(m_rows.begin() + i, m_rows.begin() + last + 1);
            endRemoveRows();
        }
        const int columns = columnCount();
        for (std::size_t n = 0; n < rows.size(); ++n) {
            if (n < m_rows.size() && keyOf(m_rows[n]) == keyOf(rows[n])) {
                if (!(m_rows[n] == rows[n])) {
                    m_rows[n] = std::move(rows[n]);
                    Q_EMIT dataChanged(index(int(n), 0), index(int(n), columns - 1));
                }
                continue;
            }
            beginInsertRows({}, int(n), int(n));
            m_rows.insert(m_rows.begin() + std::ptrdiff_t(n), std::move(rows[n]));
            endInsertRows();
        }
    }

protected:
    virtual QString keyOf(const Row &row) const = 0;

private:
    // True when the keys kept from the old rows appear in the new rows in the same order.
    bool sameOrder(const std::vector<Row> &rows, const QSet<QString> &newKeys) const
    {
        QSet<QString> oldKeys;
        std::vector<QString> kept;
        for (const Row &r : m_rows) {
            const QString k = keyOf(r);
            if (oldKeys.contains(k))
                return false; // duplicate keys: no precise protocol possible
            oldKeys.insert(k);
            if (newKeys.contains(k))
                kept.push_back(k);
        }
        if (newKeys.size() != qsizetype(rows.size()))
            return false;
        std::size_t next = 0;
        for (const Row &r : rows) {
            const QString k = keyOf(r);
            if (!oldKeys.contains(k))
                continue;
            if (next >= kept.size() || kept[next] != k)
                return false;
            ++next;
        }
        return true;
    }

    std::vector<Row> m_rows;
};

} // namespace studio::ui
