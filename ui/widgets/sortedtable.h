#pragma once

class QAbstractItemModel;
class QTableView;
class QWidget;

namespace studio::ui {

/// A read-only table over `model`, sorted by kSortRole through a QSortFilterProxyModel (both
/// parented to `parent`): whole-row selection, alternating rows, no vertical header, the last
/// column stretched. Callers add their own selection mode and row height.
QTableView *makeSortedTable(QAbstractItemModel *model, QWidget *parent);

} // namespace studio::ui
