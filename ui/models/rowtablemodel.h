#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QLocale>

#include <algorithm>
#include <functional>
#include <vector>

namespace studio::ui {

/// One column of a RowTableModel: the raw value (numbers stay numbers: they sort as numbers and
/// export as numbers, under Qt::UserRole) and an optional display text.
template <typename Row> struct TableColumn
{
    using Value = std::function<QVariant(const Row &)>;
    using Text = std::function<QString(const Row &)>;

    TableColumn(QString title, Value value, Text text = nullptr)
        : title(std::move(title))
        , value(std::move(value))
        , text(std::move(text))
    {
    }

    QString title;
    Value value;
    Text text;
};

/// A table over the rows of the latest snapshot. setRows() diffs by key so views keep their
/// selection and scroll position: rows that vanished are removed (beginRemoveRows), rows still
/// there are updated in place (dataChanged over the changed rows and columns), new ones appended
/// (beginInsertRows). Sorting is left to a QSortFilterProxyModel with sortRole Qt::UserRole.
template <typename Row> class RowTableModel : public QAbstractTableModel
{
public:
    using Key = std::function<QString(const Row &)>;
    /// Extra roles per row (Qt::BackgroundRole, Qt::ToolTipRole...): an invalid QVariant = none.
    using Decoration = std::function<QVariant(const Row &, int role)>;

    RowTableModel(std::vector<TableColumn<Row>> columns, Key key, QObject *parent = nullptr)
        : QAbstractTableModel(parent)
        , m_columns(std::move(columns))
        , m_key(std::move(key))
    {
    }

    void setDecoration(Decoration decoration) { m_decoration = std::move(decoration); }
    const std::vector<Row> &rows() const { return m_rows; }

    void setRows(std::vector<Row> rows)
    {
        QHash<QString, int> incoming;
        for (int i = 0; i < static_cast<int>(rows.size()); ++i)
            incoming.insert(m_key(rows[i]), i);
        // Remove vanished rows, in contiguous runs from the end.
        for (int last = static_cast<int>(m_rows.size()) - 1; last >= 0;) {
            if (incoming.contains(m_key(m_rows[last]))) {
                --last;
                continue;
            }
            int first = last;
            while (first > 0 && !incoming.contains(m_key(m_rows[first - 1])))
                --first;
            beginRemoveRows({}, first, last);
            m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
            endRemoveRows();
            last = first - 1;
        }
        // Update the rows still there: one dataChanged per run of adjacent changed rows (open
        // windows sit together), so a sorting proxy is not re-sorted once per row.
        std::vector<bool> used(rows.size(), false);
        int runFirst = -1;
        int runFirstColumn = 0;
        int runLastColumn = 0;
        const auto flush = [&](int lastRow) {
            if (runFirst >= 0)
                Q_EMIT dataChanged(index(runFirst, runFirstColumn), index(lastRow, runLastColumn));
            runFirst = -1;
        };
        for (int r = 0; r < static_cast<int>(m_rows.size()); ++r) {
            const int i = incoming.value(m_key(m_rows[r]));
            used[i] = true;
            int firstChanged = -1;
            int lastChanged = -1;
            for (int c = 0; c < columnCount(); ++c) {
                if (m_columns[c].value(m_rows[r]) != m_columns[c].value(rows[i])) {
                    firstChanged = firstChanged < 0 ? c : firstChanged;
                    lastChanged = c;
                }
            }
            m_rows[r] = std::move(rows[i]);
            if (firstChanged < 0) {
                flush(r - 1);
                continue;
            }
            if (runFirst < 0) {
                runFirst = r;
                runFirstColumn = firstChanged;
                runLastColumn = lastChanged;
            } else {
                runFirstColumn = std::min(runFirstColumn, firstChanged);
                runLastColumn = std::max(runLastColumn, lastChanged);
            }
        }
        flush(static_cast<int>(m_rows.size()) - 1);
        // Append the new ones.
        std::vector<Row> added;
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (!used[i])
                added.push_back(std::move(rows[i]));
        if (added.empty())
            return;
        const int first = static_cast<int>(m_rows.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        for (Row &row : added)
            m_rows.push_back(std::move(row));
        endInsertRows();
    }

    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
    }
    int columnCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : static_cast<int>(m_columns.size());
    }

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
            return {};
        const Row &row = m_rows[index.row()];
        const TableColumn<Row> &column = m_columns[index.column()];
        switch (role) {
        case Qt::DisplayRole:
            return column.text ? column.text(row) : defaultText(column.value(row));
        case Qt::UserRole:
            return column.value(row);
        case Qt::TextAlignmentRole: {
            const QVariant v = column.value(row);
            const bool numeric = v.typeId() != QMetaType::QString && v.typeId() != QMetaType::Bool;
            return QVariant::fromValue(numeric ? Qt::AlignRight | Qt::AlignVCenter
                                               : Qt::AlignLeft | Qt::AlignVCenter);
        }
        default:
            return m_decoration ? m_decoration(row, role) : QVariant();
        }
    }

    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override
    {
        if (orientation == Qt::Horizontal && role == Qt::DisplayRole && section >= 0 &&
            section < columnCount())
            return m_columns[section].title;
        return QAbstractTableModel::headerData(section, orientation, role);
    }

private:
    static QString defaultText(const QVariant &v)
    {
        const QLocale locale;
        switch (v.typeId()) {
        case QMetaType::Double:
            return locale.toString(v.toDouble(), 'f', 1);
        case QMetaType::LongLong:
        case QMetaType::Int:
            return locale.toString(v.toLongLong());
        case QMetaType::ULongLong:
        case QMetaType::UInt:
            return locale.toString(v.toULongLong());
        case QMetaType::Bool:
            return v.toBool() ? QObject::tr("yes") : QObject::tr("no");
        default:
            return v.toString();
        }
    }

    std::vector<TableColumn<Row>> m_columns;
    Key m_key;
    Decoration m_decoration;
    std::vector<Row> m_rows;
};

} // namespace studio::ui
