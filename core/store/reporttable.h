#pragma once

#include "core/aggregate/aggregator.h"
#include "core/store/pgstore.h"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace studio::core {

/// One aggregate table as text cells, formatted as the CSV reports write them (ISO-8601 UTC
/// times, money with two decimals, unique counts rounded), before any CSV quoting. The preview
/// of the Reports page and its CSV export both read this, so what is shown is what is written.
struct ReportData
{
    std::vector<std::string> columns; ///< the report's header names, in report order
    std::vector<bool> textColumn;     ///< per column: free text (neutralised in CSV)
    std::vector<std::vector<std::string>> rows;
};

/// The columns of a table, as the CSV reports name them.
std::vector<std::string> reportColumns(ReportTable table);

/// Rows as a report, sorted as the CSV reports are (window or session start, then key).
ReportData reportOf(std::vector<PageRow> rows);
ReportData reportOf(std::vector<GeoRow> rows);
ReportData reportOf(std::vector<SessionRow> rows);
ReportData reportOf(std::vector<FunnelRow> rows);

/// Rows of `table` whose window start (sessions: session start) lies in [fromMs, toMs), sorted
/// as the CSV reports are. Sessions come from the snapshot's recently closed sessions.
ReportData reportFromSnapshot(ReportTable table, const AggregatorSnapshot &snapshot,
                              std::int64_t fromMs, std::int64_t toMs);

/// The same table read from PostgreSQL (merged over shards). False with the store's message.
/// Blocks on the network: call it from a worker thread.
bool reportFromPostgres(PostgresStore &store, ReportTable table, std::int64_t fromMs,
                        std::int64_t toMs, ReportData *out, std::string *error);

/// Keeps only the columns named in `columns` (in the report's order; unknown names ignored).
ReportData selectColumns(const ReportData &report, const std::vector<std::string> &columns);

/// RFC 4180: header line, CRLF line ends, text cells through csvText() (quoted as needed,
/// formulas neutralised), numbers and times as they are. UTF-8 in, UTF-8 out.
void writeReportCsv(const ReportData &report, std::ostream &out);
/// Into `path` through a temporary file renamed at the end. False with a message.
bool writeReportCsv(const ReportData &report, const std::string &path, std::string *error);

} // namespace studio::core
