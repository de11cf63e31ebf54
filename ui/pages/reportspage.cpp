#include "ui/pages/reportspage.h"

#include "ui/models/reportmodel.h"

#include <QComboBox>
#include <QDateTimeEdit>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>

namespace studio::ui {

/// Everything a worker needs, copied on the GUI thread: it never reads a widget.
struct ReportsPage::Request
{
    core::ReportTable table = core::ReportTable::PageMetrics;
    std::int64_t fromMs = 0;
    std::int64_t toMs = 0;
    std::vector<std::string> columns;
    std::string postgresUri;
    std::string postgresPassword;
    // Reading the in-memory results (empty when reading PostgreSQL): called on the worker.
    std::function<core::AggregatorSnapshot()> inMemory;
};

namespace {

constexpr core::ReportTable kTables[] = {core::ReportTable::PageMetrics,
                                         core::ReportTable::GeoMetrics, core::ReportTable::Sessions,
                                         core::ReportTable::ProductFunnel};

struct Outcome
{
    bool ok = false;
    std::string message;
    core::ReportData report;
    std::size_t rows = 0; ///< of the whole report
};

template <class Request>
bool loadReport(const Request &r, core::ReportData *out, std::string *error)
{
    if (r.inMemory) {
        const core::AggregatorSnapshot snapshot = r.inMemory();
        *out = core::reportFromSnapshot(r.table, snapshot, r.fromMs, r.toMs);
        return true;
    }
    core::PostgresStore store;
    if (!store.connect({r.postgresUri, r.postgresPassword}, std::chrono::seconds(5), error))
        return false;
    return core::reportFromPostgres(store, r.table, r.fromMs, r.toMs, out, error);
}

QDateTimeEdit *utcEdit(QWidget *parent)
{
    auto *edit = new QDateTimeEdit(parent);
    edit->setTimeSpec(Qt::UTC);
    edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
    edit->setCalendarPopup(true);
    return edit;
}

} // namespace

ReportsPage::ReportsPage(std::function<core::AggregatorSnapshot()> inMemory, QWidget *parent)
    : QWidget(parent)
    , m_inMemory(std::move(inMemory))
    , m_model(new ReportModel(this))
{
    auto *layout = new QVBoxLayout(this);
    auto *controls = new QHBoxLayout;
    auto *form = new QFormLayout;
    m_table = new QComboBox(this);
    for (const core::ReportTable t : kTables)
        m_table->addItem(QString::fromUtf8(core::toString(t)), static_cast<int>(t));
    m_from = utcEdit(this);
    m_to = utcEdit(this);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    m_from->setDateTime(now.addDays(-1));
    m_to->setDateTime(now.addSecs(3600));
    form->addRow(tr("Table"), m_table);
    form->addRow(tr("From"), m_from);
    form->addRow(tr("To"), m_to);
    m_source = new QLabel(this);
    form->addRow(tr("Source"), m_source);
    controls->addLayout(form);
    m_columns = new QListWidget(this);
    m_columns->setMaximumHeight(160);
    controls->addWidget(m_columns);
    auto *buttons = new QVBoxLayout;
    m_refresh = new QPushButton(tr("Preview"), this);
    m_export = new QPushButton(tr("Export CSV…"), this);
    buttons->addWidget(m_refresh);
    buttons->addWidget(m_export);
    buttons->addStretch();
    controls->addLayout(buttons);
    layout->addLayout(controls);

    m_table->setToolTip(tr("The aggregate table to report"));
    m_from->setToolTip(tr("Windows starting from (UTC)"));
    m_to->setToolTip(tr("Windows starting before (UTC)"));
    m_columns->setAccessibleName(tr("Columns"));
    m_columns->setToolTip(tr("The columns to include: uncheck to leave one out"));
    m_refresh->setToolTip(tr("Read the report and show it below"));
    m_export->setToolTip(tr("Write the report to a CSV file (Ctrl+E)"));
    m_view = new QTableView(this);
    m_view->setAccessibleName(tr("Report preview"));
    m_view->setToolTip(tr("The report's rows, as the CSV will have them"));
    m_view->setModel(m_model);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    layout->addWidget(m_view, 1);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);

    rebuildColumns();
    updateSourceLabel();
    connect(m_table, &QComboBox::currentIndexChanged, this, [this] {
        rebuildColumns();
        m_preview = {};
        m_model->setReport({});
    });
    connect(m_columns, &QListWidget::itemChanged, this, &ReportsPage::applyColumns);
    connect(m_refresh, &QPushButton::clicked, this, &ReportsPage::refresh);
    connect(m_export, &QPushButton::clicked, this, &ReportsPage::chooseExportFile);
}

ReportsPage::~ReportsPage()
{
    // A task reading the in-memory results calls m_inMemory, which uses the engine the window is
    // destroyed before: it must end first. PostgreSQL tasks hold copies of all they use.
    m_inMemoryTasks.waitForFinished();
}

void ReportsPage::setTable(core::ReportTable table)
{
    m_table->setCurrentIndex(m_table->findData(static_cast<int>(table)));
}

core::ReportTable ReportsPage::table() const
{
    return static_cast<core::ReportTable>(m_table->currentData().toInt());
}

void ReportsPage::setRange(const QDateTime &from, const QDateTime &to)
{
    m_from->setDateTime(from.toUTC());
    m_to->setDateTime(to.toUTC());
}

void ReportsPage::setColumns(const QStringList &columns)
{
    const QSignalBlocker block(m_columns);
    for (int i = 0; i < m_columns->count(); ++i) {
        QListWidgetItem *item = m_columns->item(i);
        item->setCheckState(columns.contains(item->text()) ? Qt::Checked : Qt::Unchecked);
    }
    applyColumns();
}

QStringList ReportsPage::selectedColumns() const
{
    QStringList out;
    for (int i = 0; i < m_columns->count(); ++i)
        if (m_columns->item(i)->checkState() == Qt::Checked)
            out << m_columns->item(i)->text();
    return out;
}

void ReportsPage::setPostgres(const QString &uri, const QString &password)
{
    m_postgresUri = uri.trimmed();
    m_postgresPassword = password;
    updateSourceLabel();
}

void ReportsPage::updateSourceLabel()
{
    if (usesPostgres())
        m_source->setText(
            tr("PostgreSQL at %1")
                .arg(QString::fromStdString(
                    core::PostgresTarget{m_postgresUri.toStdString(), {}}.describe())));
    else
        m_source->setText(tr("in-memory results of this session"));
}

void ReportsPage::rebuildColumns()
{
    const QSignalBlocker block(m_columns);
    m_columns->clear();
    for (const std::string &c : core::reportColumns(table())) {
        auto *item = new QListWidgetItem(QString::fromStdString(c), m_columns);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Checked);
    }
}

void ReportsPage::applyColumns()
{
    std::vector<std::string> keep;
    for (const QString &c : selectedColumns())
        keep.push_back(c.toStdString());
    m_model->setReport(core::selectColumns(m_preview, keep));
}

ReportsPage::Request ReportsPage::request() const
{
    Request r;
    r.table = table();
    r.fromMs = m_from->dateTime().toMSecsSinceEpoch();
    r.toMs = m_to->dateTime().toMSecsSinceEpoch();
    for (const QString &c : selectedColumns())
        r.columns.push_back(c.toStdString());
    if (usesPostgres()) {
        r.postgresUri = m_postgresUri.toStdString();
        r.postgresPassword = m_postgresPassword.toStdString();
    } else if (m_inMemory) {
        r.inMemory = m_inMemory; // the snapshot waits for the aggregator's lock: on the worker
    } else {
        r.inMemory = [] {
            return core::AggregatorSnapshot{};
        };
    }
    return r;
}

void ReportsPage::refresh()
{
    const Request r = request();
    m_status->setText(tr("Loading %1…").arg(QString::fromUtf8(core::toString(r.table))));
    const quint64 seq = ++m_previewSeq;
    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, seq] {
        Outcome o = watcher->result();
        watcher->deleteLater();
        if (seq != m_previewSeq)
            return; // a newer preview was asked for meanwhile
        const QString message = QString::fromStdString(o.message);
        if (o.ok) {
            m_preview = std::move(o.report);
            applyColumns();
        }
        m_status->setText(message);
        m_status->setStyleSheet(o.ok ? QString() : QStringLiteral("color: #c62828;"));
        Q_EMIT previewFinished(o.ok, static_cast<int>(o.rows), message);
    });
    const QFuture<Outcome> future = QtConcurrent::run([r] {
        Outcome o;
        o.ok = loadReport(r, &o.report, &o.message);
        if (!o.ok)
            return o;
        o.rows = o.report.rows.size();
        if (o.report.rows.size() > std::size_t(kPreviewRows))
            o.report.rows.resize(kPreviewRows);
        o.message = std::to_string(o.rows) + " rows" +
                    (o.rows > std::size_t(kPreviewRows)
                         ? ", the first " + std::to_string(kPreviewRows) + " shown"
                         : std::string());
        return o;
    });
    if (r.inMemory)
        m_inMemoryTasks.addFuture(future);
    watcher->setFuture(future);
}

void ReportsPage::chooseExportFile()
{
    const QString name = QString::fromUtf8(core::toString(table())) + QStringLiteral(".csv");
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export CSV"), name, tr("CSV files (*.csv)"));
    if (!path.isEmpty())
        exportCsv(path);
}

void ReportsPage::exportCsv(const QString &path)
{
    const Request r = request();
    m_export->setEnabled(false);
    m_status->setText(tr("Exporting to %1…").arg(path));
    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher] {
        const Outcome o = watcher->result();
        watcher->deleteLater();
        m_export->setEnabled(true);
        const QString message = QString::fromStdString(o.message);
        m_status->setText(message);
        m_status->setStyleSheet(o.ok ? QString() : QStringLiteral("color: #c62828;"));
        Q_EMIT exportFinished(o.ok, message);
    });
    const std::string file = QFile::encodeName(path).toStdString();
    const QFuture<Outcome> future = QtConcurrent::run([r, file] {
        Outcome o;
        core::ReportData full;
        if (!loadReport(r, &full, &o.message))
            return o;
        const core::ReportData report = core::selectColumns(full, r.columns);
        o.rows = report.rows.size();
        o.ok = core::writeReportCsv(report, file, &o.message);
        if (o.ok)
            o.message = "wrote " + std::to_string(o.rows) + " rows of " +
                        std::string(core::toString(r.table)) + " to " + file;
        return o;
    });
    if (r.inMemory)
        m_inMemoryTasks.addFuture(future);
    watcher->setFuture(future);
}

} // namespace studio::ui
