#include "ui/models/reportmodel.h"

#include "ui/common/format.h"

namespace studio::ui {

ReportModel::ReportModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int ReportModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_report.rows.size());
}

int ReportModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_report.columns.size());
}

QVariant ReportModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto &row = m_report.rows[static_cast<std::size_t>(index.row())];
    const auto column = static_cast<std::size_t>(index.column());
    const bool text = column < m_report.textColumn.size() && m_report.textColumn[column];
    if (role == Qt::DisplayRole) {
        if (column >= row.size())
            return QString();
        // Numbers with the locale's separators ("799,962.81"); the export writes them plain.
        const QString cell = QString::fromStdString(row[column]);
        return text ? cell : localizedNumberText(cell);
    }
    if (role == Qt::TextAlignmentRole)
        return text ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                    : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant ReportModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return section + 1;
    if (section < 0 || section >= columnCount())
        return {};
    return QString::fromStdString(m_report.columns[static_cast<std::size_t>(section)]);
}

void ReportModel::setReport(core::ReportData report)
{
    beginResetModel();
    m_report = std::move(report);
    endResetModel();
}

} // namespace studio::ui
