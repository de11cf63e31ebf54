#pragma once

#include "core/aggregate/aggregator.h"
#include "core/store/pgstore.h"
#include "core/store/reporttable.h"
#include "ui/common/futuresynchronizer.h"

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <functional>

class QComboBox;
class QDateTimeEdit;
class QLabel;
class QListWidget;
class QPushButton;
class QTableView;

namespace studio::ui {

class ReportModel;

/// Reports: one aggregate table (page_metrics, geo_metrics, sessions, product_funnel) over a UTC
/// time range, the columns to keep, a preview of the first 200 rows and "Export CSV…" (RFC 4180,
/// UTF-8, header, ISO-8601 UTC, formula cells neutralised: core/store/reporttable.h).
///
/// Source: PostgreSQL (merged over shards) once setPostgres() gave a URI and password, else the
/// in-memory results of `inMemory` (a snapshot copy such as Aggregator::snapshot()), which is
/// called on a pool thread: the aggregator's lock is held by its ingest thread for a whole
/// batch, a wait the GUI thread must not make. What `inMemory` uses must outlive the page; the
/// page's destructor waits for a call still under way. Queries and exports run via QtConcurrent
/// with watchers parented to the page; the GUI thread never waits on the database, the disk or
/// the aggregator.
class ReportsPage : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kPreviewRows = 200;

    explicit ReportsPage(std::function<core::AggregatorSnapshot()> inMemory,
                         QWidget *parent = nullptr);
    ~ReportsPage() override;

    void setTable(core::ReportTable table);
    core::ReportTable table() const;
    /// [from, to), UTC.
    void setRange(const QDateTime &from, const QDateTime &to);
    /// Keeps these columns checked (the others unchecked).
    void setColumns(const QStringList &columns);
    QStringList selectedColumns() const;
    /// Whether reports come from PostgreSQL.
    bool usesPostgres() const { return !m_postgresUri.isEmpty(); }
    ReportModel *previewModel() const { return m_model; }

public Q_SLOTS:
    /// Asks for a file name and exports the current report there (File > Export report, Ctrl+E).
    void chooseExportFile();
    /// Reads from PostgreSQL from now on; an empty URI goes back to the in-memory results.
    void setPostgres(const QString &uri, const QString &password);
    /// Loads the preview again (the table, range and source as they are now).
    void refresh();
    /// Writes the report with the selected columns to `path`, off the GUI thread.
    void exportCsv(const QString &path);

Q_SIGNALS:
    /// After refresh(): `rows` is the report's row count (the preview shows at most 200).
    void previewFinished(bool ok, int rows, const QString &message);
    void exportFinished(bool ok, const QString &message);

private:
    struct Request;
    Request request() const;
    void rebuildColumns();
    void applyColumns();
    void updateSourceLabel();

    std::function<core::AggregatorSnapshot()> m_inMemory;
    QString m_postgresUri;
    QString m_postgresPassword;
    ReportModel *m_model = nullptr;
    core::ReportData m_preview; // first rows, every column; the model shows the selected ones
    QComboBox *m_table = nullptr;
    QDateTimeEdit *m_from = nullptr;
    QDateTimeEdit *m_to = nullptr;
    QListWidget *m_columns = nullptr;
    QTableView *m_view = nullptr;
    QPushButton *m_refresh = nullptr;
    QPushButton *m_export = nullptr;
    QLabel *m_source = nullptr;
    QLabel *m_status = nullptr;
    quint64 m_previewSeq = 0;           // the newest preview asked for; older answers are dropped
    FutureSynchronizer m_inMemoryTasks; // tasks calling m_inMemory: waited for on destruction
};

} // namespace studio::ui
