#pragma once

#include <QTableView>

class QAbstractItemModel;
class QWidget;

namespace studio::ui {

/// A table view whose columns fitted to their contents (QHeaderView::ResizeToContents) are not
/// measured while the view is hidden in a shown window, and are fitted again when it is shown.
/// Hidden, QTableView::sizeHintForColumn() measures every row of the model whatever the
/// header's resizeContentsPrecision(): a page's table refreshed ten times a second behind
/// another page had each of its thousands of rows laid out as text every time (a third of the
/// GUI thread in bench_gui --unique-paths). A view on its own (no shown window) is measured as
/// Qt does.
class FittedTableView : public QTableView
{
    Q_OBJECT

public:
    using QTableView::QTableView;

protected:
    int sizeHintForColumn(int column) const override;
    void showEvent(QShowEvent *event) override;
};

/// A read-only table over `model`, sorted by kSortRole through a QSortFilterProxyModel (both
/// parented to `parent`): whole-row selection, alternating rows, no vertical header, the last
/// column stretched. Callers add their own selection mode and row height.
QTableView *makeSortedTable(QAbstractItemModel *model, QWidget *parent);

} // namespace studio::ui
