#pragma once

#include "core/store/reporttable.h"

#include <QAbstractTableModel>

namespace studio::ui {

/// A report table for a QTableView: the header and the cells of a core::ReportData, as text
/// (the same text the CSV export writes, before quoting). Replaced whole by setReport().
class ReportModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    explicit ReportModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void setReport(core::ReportData report);
    const core::ReportData &report() const { return m_report; }

private:
    core::ReportData m_report;
};

} // namespace studio::ui
