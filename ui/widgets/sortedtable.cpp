#include "ui/widgets/sortedtable.h"

#include "ui/models/keyedtablemodel.h"

#include <QHeaderView>
#include <QSortFilterProxyModel>

namespace studio::ui {

int FittedTableView::sizeHintForColumn(int column) const
{
    if (!isVisible() && window() != this && window()->isVisible())
        return columnWidth(column); // keep the width it had; fitted again on show
    return QTableView::sizeHintForColumn(column);
}

void FittedTableView::showEvent(QShowEvent *event)
{
    QTableView::showEvent(event);
    scheduleDelayedItemsLayout(); // the rows on screen now, measured once the event loop runs
}

QTableView *makeSortedTable(QAbstractItemModel *model, QWidget *parent)
{
    auto *proxy = new QSortFilterProxyModel(parent);
    proxy->setSourceModel(model);
    proxy->setSortRole(kSortRole);
    auto *view = new FittedTableView(parent);
    view->setTabKeyNavigation(false); // Tab leaves the table; the arrows move inside it
    view->setModel(proxy);
    view->setSortingEnabled(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setAlternatingRowColors(true);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    return view;
}

} // namespace studio::ui
