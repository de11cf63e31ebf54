#include "core/store/reporttable.h"

#include "core/common/timeutil.h"
#include "core/store/csvreport.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <tuple>

namespace studio::core {

namespace {

// The CSV reports' number formats (core/store/csvreport.cpp, core/store/pgstoreload.cpp).
std::string money(std::int64_t cents)
{
    const bool negative = cents < 0;
    const std::uint64_t v =
        negative ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
    std::string s = std::to_string(v / 100) + '.';
    s += static_cast<char>('0' + (v % 100) / 10);
    s += static_cast<char>('0' + v % 10);
    return negative ? '-' + s : s;
}

std::string count(double estimate)
{
    return std::to_string(std::llround(estimate));
}

const char *flag(bool value)
{
    return value ? "true" : "false";
}

bool inRange(std::int64_t t, std::int64_t fromMs, std::int64_t toMs)
{
    return t >= fromMs && t < toMs;
}

ReportData empty(ReportTable table)
{
    ReportData r;
    r.columns = reportColumns(table);
    r.textColumn.assign(r.columns.size(), false);
    for (std::size_t i = 0; i < r.columns.size(); ++i) {
        const std::string &c = r.columns[i];
        r.textColumn[i] = c == "page" || c == "country" || c == "browser" || c == "device_type" ||
                          c == "user_id" || c == "product_id";
    }
    return r;
}

} // namespace

ReportData reportOf(std::vector<PageRow> rows)
{
    std::sort(rows.begin(), rows.end(), [](const PageRow &a, const PageRow &b) {
        return std::tie(a.windowStart, a.page) < std::tie(b.windowStart, b.page);
    });
    ReportData out = empty(ReportTable::PageMetrics);
    for (const PageRow &r : rows)
        out.rows.push_back({formatIsoMs(r.windowStart), formatIsoMs(r.windowEnd), r.page,
                            std::to_string(r.views), std::to_string(r.clicks),
                            std::to_string(r.addToCart), std::to_string(r.purchases),
                            money(r.revenueCents), count(r.uniqueUsers), count(r.uniqueSessions)});
    return out;
}

ReportData reportOf(std::vector<GeoRow> rows)
{
    std::sort(rows.begin(), rows.end(), [](const GeoRow &a, const GeoRow &b) {
        return std::tie(a.windowStart, a.country, a.browser, a.deviceType) <
               std::tie(b.windowStart, b.country, b.browser, b.deviceType);
    });
    ReportData out = empty(ReportTable::GeoMetrics);
    for (const GeoRow &r : rows)
        out.rows.push_back({formatIsoMs(r.windowStart), formatIsoMs(r.windowEnd), r.country,
                            r.browser, r.deviceType, std::to_string(r.events)});
    return out;
}

ReportData reportOf(std::vector<SessionRow> rows)
{
    std::sort(rows.begin(), rows.end(), [](const SessionRow &a, const SessionRow &b) {
        return std::tie(a.start, a.userId, a.end) < std::tie(b.start, b.userId, b.end);
    });
    ReportData out = empty(ReportTable::Sessions);
    for (const SessionRow &r : rows)
        out.rows.push_back({r.userId, formatIsoMs(r.start), formatIsoMs(r.end),
                            std::to_string(r.events), std::to_string(r.distinctPages),
                            money(r.revenueCents), flag(r.converted)});
    return out;
}

ReportData reportOf(std::vector<FunnelRow> rows)
{
    std::sort(rows.begin(), rows.end(), [](const FunnelRow &a, const FunnelRow &b) {
        return std::tie(a.windowStart, a.productId) < std::tie(b.windowStart, b.productId);
    });
    ReportData out = empty(ReportTable::ProductFunnel);
    for (const FunnelRow &r : rows)
        out.rows.push_back({formatIsoMs(r.windowStart), formatIsoMs(r.windowEnd), r.productId,
                            std::to_string(r.views), std::to_string(r.addToCart),
                            std::to_string(r.purchases), flag(r.hotLowConversion)});
    return out;
}

namespace {

template <class Row, class Start>
std::vector<Row> filtered(const std::vector<Row> &rows, std::int64_t fromMs, std::int64_t toMs,
                          Start start)
{
    std::vector<Row> out;
    for (const Row &r : rows)
        if (inRange(start(r), fromMs, toMs))
            out.push_back(r);
    return out;
}

} // namespace

std::vector<std::string> reportColumns(ReportTable table)
{
    switch (table) {
    case ReportTable::PageMetrics:
        return {"window_start", "window_end", "page",    "views",        "clicks",
                "add_to_cart",  "purchases",  "revenue", "unique_users", "unique_sessions"};
    case ReportTable::GeoMetrics:
        return {"window_start", "window_end", "country", "browser", "device_type", "events"};
    case ReportTable::Sessions:
        return {"user_id",        "session_start", "session_end", "events",
                "distinct_pages", "revenue",       "converted"};
    case ReportTable::ProductFunnel:
        return {"window_start", "window_end", "product_id",        "views",
                "add_to_cart",  "purchases",  "hot_low_conversion"};
    }
    return {};
}

ReportData reportFromSnapshot(ReportTable table, const AggregatorSnapshot &snapshot,
                              std::int64_t fromMs, std::int64_t toMs)
{
    switch (table) {
    case ReportTable::PageMetrics:
        return reportOf(
            filtered(snapshot.pages, fromMs, toMs, [](const PageRow &r) { return r.windowStart; }));
    case ReportTable::GeoMetrics:
        return reportOf(
            filtered(snapshot.geo, fromMs, toMs, [](const GeoRow &r) { return r.windowStart; }));
    case ReportTable::Sessions:
        return reportOf(filtered(snapshot.recentSessions, fromMs, toMs,
                                 [](const SessionRow &r) { return r.start; }));
    case ReportTable::ProductFunnel:
        return reportOf(filtered(snapshot.funnel, fromMs, toMs,
                                 [](const FunnelRow &r) { return r.windowStart; }));
    }
    return empty(table);
}

bool reportFromPostgres(PostgresStore &store, ReportTable table, std::int64_t fromMs,
                        std::int64_t toMs, ReportData *out, std::string *error)
{
    switch (table) {
    case ReportTable::PageMetrics: {
        std::vector<PageFinal> finals;
        if (!store.loadPages(fromMs, toMs, &finals, error))
            return false;
        std::vector<PageRow> rows;
        rows.reserve(finals.size());
        for (PageFinal &p : finals)
            rows.push_back(std::move(p.row));
        *out = reportOf(std::move(rows));
        return true;
    }
    case ReportTable::GeoMetrics: {
        std::vector<GeoRow> rows;
        if (!store.loadGeo(fromMs, toMs, &rows, error))
            return false;
        *out = reportOf(std::move(rows));
        return true;
    }
    case ReportTable::Sessions: {
        std::vector<SessionRow> rows;
        if (!store.loadSessions(fromMs, toMs, &rows, error))
            return false;
        *out = reportOf(std::move(rows));
        return true;
    }
    case ReportTable::ProductFunnel: {
        std::vector<FunnelRow> rows;
        if (!store.loadFunnel(fromMs, toMs, &rows, error))
            return false;
        *out = reportOf(std::move(rows));
        return true;
    }
    }
    return false;
}

ReportData selectColumns(const ReportData &report, const std::vector<std::string> &columns)
{
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < report.columns.size(); ++i)
        if (std::find(columns.begin(), columns.end(), report.columns[i]) != columns.end())
            keep.push_back(i);
    ReportData out;
    for (std::size_t i : keep) {
        out.columns.push_back(report.columns[i]);
        out.textColumn.push_back(report.textColumn[i]);
    }
    out.rows.reserve(report.rows.size());
    for (const auto &row : report.rows) {
        std::vector<std::string> cells;
        cells.reserve(keep.size());
        for (std::size_t i : keep)
            cells.push_back(i < row.size() ? row[i] : std::string());
        out.rows.push_back(std::move(cells));
    }
    return out;
}

void writeReportCsv(const ReportData &report, std::ostream &out)
{
    const char *crlf = "\r\n"; // RFC 4180 line ends
    std::string line;
    for (std::size_t i = 0; i < report.columns.size(); ++i)
        line += (i ? "," : "") + report.columns[i];
    out << line << crlf;
    for (const auto &row : report.rows) {
        line.clear();
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i)
                line += ',';
            const bool text = i < report.textColumn.size() && report.textColumn[i];
            line += text ? csvText(row[i]) : row[i];
        }
        out << line << crlf;
    }
}

bool writeReportCsv(const ReportData &report, const std::string &path, std::string *error)
{
    // A failed export leaves no half report behind.
    const std::string temporary = path + ".part";
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        if (file)
            writeReportCsv(report, file);
        file.close();
        if (!file) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            if (error)
                *error = "cannot write " + temporary;
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::filesystem::remove(temporary, ec);
        if (error)
            *error = "cannot write " + path + ": " + ec.message();
        return false;
    }
    return true;
}

} // namespace studio::core
