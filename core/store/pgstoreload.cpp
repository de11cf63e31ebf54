// PostgresStore's read side: final rows merged over shards, and CSV reports from them.

#include "core/common/timeutil.h"
#include "core/store/csvreport.h"
#include "core/store/pgstore.h"
#include "core/store/pgstoreimpl.h"
#include "core/store/reporttable.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <tuple>

namespace studio::core {

using pgdetail::setError;

namespace pgdetail {

std::string timestampText(std::int64_t ms)
{
    // formatIsoMs covers years 0000..9999; PostgreSQL has no year 0.
    constexpr std::int64_t kMinMs = -62135596800000; // 0001-01-01T00:00:00.000Z
    return formatIsoMs(std::clamp(ms, kMinMs, kLastIsoMs));
}

} // namespace pgdetail

namespace {

std::string whereRange(const std::string &column)
{
    return " WHERE " + column + " >= $1::timestamptz AND " + column + " < $2::timestamptz";
}

// Epoch milliseconds of a timestamptz column (extract gives numeric: exact).
std::string ms(const std::string &column)
{
    return "(extract(epoch FROM " + column + ") * 1000)::bigint";
}

HyperLogLog sketchFrom(const pqxx::field &field, const std::string &what)
{
    const pqxx::binarystring bytes(field);
    std::string error;
    auto hll = HyperLogLog::fromHllBytes(std::string_view(bytes.get(), bytes.size()), &error);
    if (!hll)
        throw std::runtime_error(what + ": " + error);
    return std::move(*hll);
}

// (Impl is a template parameter: PostgresStore::Impl is private, its members can name it.)
template <class Impl, class Fn>
bool guarded(Impl &d, const std::string &what, std::string *error, Fn &&fn)
{
    if (!d.requireConnection(error))
        return false;
    try {
        fn();
        return true;
    } catch (const std::exception &e) {
        setError(error, d.failure(what + " failed", e));
        d.noteBroken(e);
        return false;
    }
}

} // namespace

bool PostgresStore::loadPages(std::int64_t fromMs, std::int64_t toMs, std::vector<PageFinal> *out,
                              std::string *error)
{
    out->clear();
    Impl &d = *m_impl;
    return guarded(d, "loading page_metrics", error, [&] {
        pqxx::read_transaction tx(*d.connection);
        const std::string from = pgdetail::timestampText(fromMs);
        const std::string to = pgdetail::timestampText(toMs);
        if (d.mergeInPostgres()) {
            // The sketches are unioned by postgresql-hll: the bytes cast to its hll type.
            const pqxx::result r = tx.exec_params(
                "SELECT " + ms("window_start") + ", " + ms("window_end") +
                    ", page, views, clicks,"
                    " add_to_cart, purchases, revenue_cents,"
                    // hll's text form is the storage format in hex: "\\x...".
                    " decode(substr(u::text, 3), 'hex'), decode(substr(s::text, 3), 'hex'),"
                    " coalesce(hll_cardinality(u), 0), coalesce(hll_cardinality(s), 0)"
                    " FROM (SELECT window_start, max(window_end) AS window_end, page,"
                    "  sum(views)::bigint AS views, sum(clicks)::bigint AS clicks,"
                    "  sum(add_to_cart)::bigint AS add_to_cart, sum(purchases)::bigint AS "
                    "purchases,"
                    "  (sum(revenue) * 100)::bigint AS revenue_cents,"
                    "  hll_union_agg(users_hll::hll) AS u, hll_union_agg(sessions_hll::hll) AS s"
                    "  FROM page_metrics" +
                    whereRange("window_start") + "  GROUP BY window_start, page) m",
                from, to);
            out->reserve(r.size());
            for (const auto &row : r) {
                PageFinal p;
                p.row.windowStart = row[0].as<std::int64_t>();
                p.row.windowEnd = row[1].as<std::int64_t>();
                p.row.page = row[2].as<std::string>();
                p.row.views = row[3].as<std::uint64_t>();
                p.row.clicks = row[4].as<std::uint64_t>();
                p.row.addToCart = row[5].as<std::uint64_t>();
                p.row.purchases = row[6].as<std::uint64_t>();
                p.row.revenueCents = row[7].as<std::int64_t>();
                p.users = sketchFrom(row[8], "page_metrics.users_hll");
                p.sessions = sketchFrom(row[9], "page_metrics.sessions_hll");
                p.row.uniqueUsers = row[10].as<double>();
                p.row.uniqueSessions = row[11].as<double>();
                p.row.final = true;
                out->push_back(std::move(p));
            }
        } else {
            // Every shard's row, grouped here: counts add up, sketches merge register-wise.
            const pqxx::result r = tx.exec_params(
                "SELECT " + ms("window_start") + ", " + ms("window_end") +
                    ", page, views, clicks,"
                    " add_to_cart, purchases, (revenue * 100)::bigint, users_hll, sessions_hll"
                    " FROM page_metrics" +
                    whereRange("window_start") + " ORDER BY window_start, page, shard",
                from, to);
            for (const auto &row : r) {
                const std::int64_t start = row[0].as<std::int64_t>();
                const std::string page = row[2].as<std::string>();
                if (out->empty() || out->back().row.windowStart != start ||
                    out->back().row.page != page) {
                    PageFinal p;
                    p.row.windowStart = start;
                    p.row.page = page;
                    p.row.final = true;
                    out->push_back(std::move(p));
                }
                PageRow &m = out->back().row;
                m.windowEnd = std::max(m.windowEnd, row[1].as<std::int64_t>());
                m.views += row[3].as<std::uint64_t>();
                m.clicks += row[4].as<std::uint64_t>();
                m.addToCart += row[5].as<std::uint64_t>();
                m.purchases += row[6].as<std::uint64_t>();
                m.revenueCents += row[7].as<std::int64_t>();
                const HyperLogLog users = sketchFrom(row[8], "page_metrics.users_hll");
                const HyperLogLog sessions = sketchFrom(row[9], "page_metrics.sessions_hll");
                PageFinal &p = out->back();
                if (p.users.empty() && p.users.log2m() != users.log2m())
                    p.users = HyperLogLog(users.log2m());
                if (p.sessions.empty() && p.sessions.log2m() != sessions.log2m())
                    p.sessions = HyperLogLog(sessions.log2m());
                p.users.merge(users);
                p.sessions.merge(sessions);
            }
            for (PageFinal &p : *out) {
                p.row.uniqueUsers = p.users.estimate();
                p.row.uniqueSessions = p.sessions.estimate();
            }
        }
        std::sort(out->begin(), out->end(), [](const PageFinal &a, const PageFinal &b) {
            return std::tie(a.row.windowStart, a.row.page) <
                   std::tie(b.row.windowStart, b.row.page);
        });
    });
}

bool PostgresStore::loadGeo(std::int64_t fromMs, std::int64_t toMs, std::vector<GeoRow> *out,
                            std::string *error)
{
    out->clear();
    Impl &d = *m_impl;
    return guarded(d, "loading geo_metrics", error, [&] {
        pqxx::read_transaction tx(*d.connection);
        const pqxx::result r =
            tx.exec_params("SELECT " + ms("window_start") + ", " + ms("window_end") +
                               ", country, browser, device_type, events FROM geo_metrics_merged" +
                               whereRange("window_start"),
                           pgdetail::timestampText(fromMs), pgdetail::timestampText(toMs));
        out->reserve(r.size());
        for (const auto &row : r) {
            GeoRow g;
            g.windowStart = row[0].as<std::int64_t>();
            g.windowEnd = row[1].as<std::int64_t>();
            g.country = row[2].as<std::string>();
            g.browser = row[3].as<std::string>();
            g.deviceType = row[4].as<std::string>();
            g.events = row[5].as<std::uint64_t>();
            g.final = true;
            out->push_back(std::move(g));
        }
        std::sort(out->begin(), out->end(), [](const GeoRow &a, const GeoRow &b) {
            return std::tie(a.windowStart, a.country, a.browser, a.deviceType) <
                   std::tie(b.windowStart, b.country, b.browser, b.deviceType);
        });
    });
}

bool PostgresStore::loadSessions(std::int64_t fromMs, std::int64_t toMs,
                                 std::vector<SessionRow> *out, std::string *error)
{
    out->clear();
    Impl &d = *m_impl;
    return guarded(d, "loading sessions", error, [&] {
        pqxx::read_transaction tx(*d.connection);
        const pqxx::result r =
            tx.exec_params("SELECT user_id, " + ms("session_start") + ", " + ms("session_end") +
                               ", events, distinct_pages, (revenue * 100)::bigint, converted"
                               " FROM sessions_merged" +
                               whereRange("session_start"),
                           pgdetail::timestampText(fromMs), pgdetail::timestampText(toMs));
        out->reserve(r.size());
        for (const auto &row : r) {
            SessionRow s;
            s.userId = row[0].as<std::string>();
            s.start = row[1].as<std::int64_t>();
            s.end = row[2].as<std::int64_t>();
            s.events = row[3].as<std::uint64_t>();
            s.distinctPages = row[4].as<std::uint32_t>();
            s.revenueCents = row[5].as<std::int64_t>();
            s.converted = row[6].as<bool>();
            out->push_back(std::move(s));
        }
        std::sort(out->begin(), out->end(), [](const SessionRow &a, const SessionRow &b) {
            return std::tie(a.start, a.userId, a.end) < std::tie(b.start, b.userId, b.end);
        });
    });
}

bool PostgresStore::loadFunnel(std::int64_t fromMs, std::int64_t toMs, std::vector<FunnelRow> *out,
                               std::string *error)
{
    out->clear();
    Impl &d = *m_impl;
    return guarded(d, "loading product_funnel", error, [&] {
        pqxx::read_transaction tx(*d.connection);
        const pqxx::result r =
            tx.exec_params("SELECT " + ms("window_start") + ", " + ms("window_end") +
                               ", product_id, views, add_to_cart, purchases, hot_low_conversion"
                               " FROM product_funnel_merged" +
                               whereRange("window_start"),
                           pgdetail::timestampText(fromMs), pgdetail::timestampText(toMs));
        out->reserve(r.size());
        for (const auto &row : r) {
            FunnelRow f;
            f.windowStart = row[0].as<std::int64_t>();
            f.windowEnd = row[1].as<std::int64_t>();
            f.productId = row[2].as<std::string>();
            f.views = row[3].as<std::uint64_t>();
            f.addToCart = row[4].as<std::uint64_t>();
            f.purchases = row[5].as<std::uint64_t>();
            f.hotLowConversion = row[6].as<bool>();
            f.final = true;
            out->push_back(std::move(f));
        }
        std::sort(out->begin(), out->end(), [](const FunnelRow &a, const FunnelRow &b) {
            return std::tie(a.windowStart, a.productId) < std::tie(b.windowStart, b.productId);
        });
    });
}

bool PostgresStore::exportCsv(ReportTable table, std::int64_t fromMs, std::int64_t toMs,
                              std::ostream &out, std::string *error)
{
    // The cells and CSV rules of every report (core/store/reporttable.h), so the CLI's report, the
    // in-memory reports and the GUI's export read the same.
    ReportData report;
    if (!reportFromPostgres(*this, table, fromMs, toMs, &report, error))
        return false;
    writeReportCsv(report, out);
    out.flush();
    if (!out) {
        setError(error, "cannot write the " + std::string(toString(table)) + " report");
        return false;
    }
    return true;
}

bool PostgresStore::exportCsv(ReportTable table, std::int64_t fromMs, std::int64_t toMs,
                              const std::string &path, std::string *error)
{
    // Into a temporary file renamed at the end, so a failed export leaves no half report.
    const std::string temporary = path + ".part";
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        if (!file) {
            setError(error, "cannot write " + temporary);
            return false;
        }
        if (!exportCsv(table, fromMs, toMs, file, error)) {
            file.close();
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::filesystem::remove(temporary, ec);
        setError(error, "cannot write " + path + ": " + ec.message());
        return false;
    }
    return true;
}

} // namespace studio::core
