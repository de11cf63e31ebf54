#pragma once

#include <QWidget>

class QAbstractItemModel;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace studio::ui {

/// The rows a view shows (after sorting), as CSV: a header line, then one line per row. Cells whose
/// raw value (Qt::UserRole) is a number are written as numbers, text through core::csvText.
QString modelToCsv(const QAbstractItemModel &model);

/// A titled, sortable table over a model (through a QSortFilterProxyModel sorting by
/// Qt::UserRole) with an "Export CSV…" button that writes the rows in their current order.
class TablePanel : public QWidget
{
    Q_OBJECT

public:
    /// `model` should outlive the panel (typically both belong to the same page).
    TablePanel(const QString &title, QAbstractItemModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    void setTitle(const QString &title);
    QString title() const;
    /// Sorts the view (and its header's indicator) by `column`.
    void sortBy(int column, Qt::SortOrder order);
    /// Writes modelToCsv(proxy) to `path`; false with a message.
    bool exportCsv(const QString &path, QString *error) const;

private:
    void exportInteractively();

    QLabel *m_title = nullptr;
    QTableView *m_view = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
};

} // namespace studio::ui
