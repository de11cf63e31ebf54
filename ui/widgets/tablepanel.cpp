#include "ui/widgets/tablepanel.h"

#include "core/store/csvreport.h"
#include "ui/widgets/sortedtable.h"

#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace studio::ui {

namespace {

QString csvField(const QVariant &raw, const QString &display)
{
    switch (raw.typeId()) {
    case QMetaType::Double:
        return QString::number(raw.toDouble(), 'g', 15);
    case QMetaType::Int:
    case QMetaType::LongLong:
    case QMetaType::UInt:
    case QMetaType::ULongLong:
        return raw.toString();
    default:
        return QString::fromStdString(core::csvText(display.toStdString()));
    }
}

} // namespace

QString modelToCsv(const QAbstractItemModel &model)
{
    QString out;
    const int columns = model.columnCount();
    for (int c = 0; c < columns; ++c) {
        const QString title = model.headerData(c, Qt::Horizontal).toString();
        out += (c ? QStringLiteral(",") : QString()) +
               QString::fromStdString(core::csvText(title.toStdString()));
    }
    out += QLatin1Char('\n');
    for (int r = 0; r < model.rowCount(); ++r) {
        for (int c = 0; c < columns; ++c) {
            const QModelIndex index = model.index(r, c);
            out += (c ? QStringLiteral(",") : QString()) +
                   csvField(index.data(Qt::UserRole), index.data(Qt::DisplayRole).toString());
        }
        out += QLatin1Char('\n');
    }
    return out;
}

TablePanel::TablePanel(const QString &title, QAbstractItemModel *model, QWidget *parent)
    : QWidget(parent)
{
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(Qt::UserRole);
    m_proxy->setDynamicSortFilter(true);

    m_view = new FittedTableView(this);
    m_view->setAccessibleName(title);
    m_view->setToolTip(tr("%1: click a header to sort").arg(title));
    m_view->setTabKeyNavigation(false); // Tab leaves the table; the arrows move inside it
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->setVisible(false);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // Fitted to the rows on screen, not to up to 1,000 rows (Qt's default): the header measures
    // them again at every change of the model, and with thousands of rows changing ten times a
    // second (issue 24) that took a quarter of the GUI thread and stalled it for up to 300 ms
    // when a page was shown. (Hidden, Qt ignores the precision and measures every row: the
    // FittedTableView does not measure then.)
    m_view->horizontalHeader()->setResizeContentsPrecision(0);

    m_title = new QLabel(title, this);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    auto *exportButton = new QPushButton(tr("Export CSV…"), this);
    exportButton->setToolTip(tr("Write this table, as sorted, to a CSV file"));
    connect(exportButton, &QPushButton::clicked, this, &TablePanel::exportInteractively);

    auto *header = new QHBoxLayout;
    header->addWidget(m_title);
    header->addStretch();
    header->addWidget(exportButton);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(header);
    layout->addWidget(m_view);
}

void TablePanel::setTitle(const QString &title)
{
    m_title->setText(title);
}

QString TablePanel::title() const
{
    return m_title->text();
}

void TablePanel::sortBy(int column, Qt::SortOrder order)
{
    m_view->sortByColumn(column, order);
}

bool TablePanel::exportCsv(const QString &path, QString *error) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        if (error)
            *error = file.errorString();
        return false;
    }
    const QByteArray bytes = modelToCsv(*m_proxy).toUtf8();
    if (file.write(bytes) != bytes.size()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}

void TablePanel::exportInteractively()
{
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export CSV"), QString(), tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportCsv(path, &error))
        QMessageBox::warning(this, tr("Export CSV"), tr("Could not write %1: %2").arg(path, error));
}

} // namespace studio::ui
