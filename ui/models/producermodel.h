#pragma once

#include "core/engine/studioengine.h"

#include <QAbstractTableModel>

#include <vector>

namespace studio::ui {

/// The producers of the latest engine sample, one row each in the order they were added.
/// update() applies the change protocol exactly: removed rows with begin/endRemoveRows, new ones
/// with begin/endInsertRows, and one dataChanged per row over the columns that changed.
class ProducerModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Name,
        Topic,
        State,
        TargetRate,
        AchievedRate,
        Sent,
        Acked,
        Failed,
        InFlight,
        ColumnCount
    };
    static constexpr int IdRole = Qt::UserRole + 1;
    /// Numbers as numbers (display text is grouped), for a QSortFilterProxyModel.
    static constexpr int SortRole = Qt::UserRole + 2;

    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void update(const std::vector<core::ProducerSample> &producers);

    /// The producer id of `row`, or 0.
    int idAt(int row) const;
    /// The row of producer `id`, or -1.
    int rowOf(int id) const;
    /// The latest sample of producer `id`, or null.
    const core::ProducerSample *producer(int id) const;

private:
    QVariant cell(const core::ProducerSample &p, int column) const;
    static QVariant sortKey(const core::ProducerSample &p, int column);

    std::vector<core::ProducerSample> m_rows;
};

} // namespace studio::ui
