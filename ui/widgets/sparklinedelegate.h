#pragma once

#include <QStyledItemDelegate>

namespace studio::ui {

/// Paints the kSparklineRole of a cell: a band of state colors along the bottom (green up,
/// amber degraded, red down, grey unknown) and the latency as a line above it, scaled to the
/// cell's own maximum.
class SparklineDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace studio::ui
