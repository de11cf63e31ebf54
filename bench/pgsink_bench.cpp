// PostgreSQL sink throughput: final rows (page, geo, session, funnel) written by
// PostgresStore::write (COPY into staging tables, dimension upserts, INSERT ... ON CONFLICT DO
// UPDATE into the facts, offsets, one transaction per batch) against the server's own bulk path
// measured in the same run: a plain COPY of the same rows, same columns and primary keys, into
// fresh tables, one transaction per batch as well. Prints rows/s of both and their ratio.
//
//   bench_pgsink [--rows N] [--batch B] [--users U] [--conninfo "host=... dbname=... user=..."]
//
// Without --conninfo it starts a throwaway PostgreSQL cluster (initdb into a temp dir, loopback,
// random port; tests/serversupport.h); with it, the password comes from PGPASSWORD.

#include "core/common/timeutil.h"
#include "core/store/pgstore.h"

#include "serversupport.h"

#include <fmt/core.h>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace studio::core;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kT0 = 1767225600000; // 2026-01-01T00:00:00Z
constexpr std::int64_t kMinute = 60'000;

double since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

/// Batches of final rows, a quarter each of page, geo, session and funnel rows; page rows carry
/// user and session sketches of `users` distinct values (EXPLICIT up to 512, FULL above).
std::vector<SinkBatch> makeBatches(long rows, long batchRows, int users)
{
    std::vector<SinkBatch> batches;
    HyperLogLog usersHll, sessionsHll;
    for (int i = 0; i < users; ++i) {
        usersHll.add("user_" + std::to_string(i));
        sessionsHll.add("session_" + std::to_string(i));
    }
    long made = 0;
    while (made < rows) {
        SinkBatch b;
        b.shard = "bench";
        b.groupId = "clickstream-studio";
        const long n = std::min(batchRows, rows - made);
        for (long i = 0; i < n; ++i, ++made) {
            const long k = made / 4; // key number within its table
            const std::int64_t start = kT0 + (k / 100) * kMinute;
            const std::string key = std::to_string(k % 100);
            switch (made % 4) {
            case 0: {
                PageFinal p;
                p.row = {start,  start + kMinute,     "/product/prod_" + key, 900, 300, 40, 9,
                         123456, usersHll.estimate(), sessionsHll.estimate(), true};
                p.users = usersHll;
                p.sessions = sessionsHll;
                b.results.pages.push_back(std::move(p));
                break;
            }
            case 1:
                b.results.geo.push_back(
                    {start, start + 5 * kMinute, "country_" + key, "Firefox", "desktop", 77, true});
                break;
            case 2:
                b.results.sessions.push_back(
                    {"user_" + std::to_string(k), start, start + 25'000, 14, 6, 1999, true});
                break;
            default:
                b.results.funnel.push_back(
                    {start, start + kMinute, "prod_" + key, 900, 36, 9, false, true});
            }
        }
        b.offsets = {{"clickstream", 0, made}};
        batches.push_back(std::move(b));
    }
    return batches;
}

// ---- the baseline: COPY of the same rows into fresh tables --------------------------------------

void appendHex(std::string &out, const std::string &bytes)
{
    static const char hex[] = "0123456789abcdef";
    out += "\\\\x";
    for (const char c : bytes) {
        out += hex[static_cast<unsigned char>(c) >> 4];
        out += hex[static_cast<unsigned char>(c) & 15];
    }
}

std::string money(std::int64_t cents)
{
    return std::to_string(cents / 100) + '.' + char('0' + (cents % 100) / 10) +
           char('0' + cents % 10);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void copyRows(pqxx::work &tx, const std::string &table, const std::vector<std::string> &columns,
              std::string &lines)
{
    if (lines.empty())
        return;
    pqxx::tablewriter writer(tx, table, columns.begin(), columns.end());
    lines.pop_back();
    writer.write_raw_line(lines);
    writer.complete();
    lines.clear();
}
#pragma GCC diagnostic pop

void copyBatch(pqxx::connection &c, const SinkBatch &b)
{
    pqxx::work tx(c);
    std::string lines;
    for (const PageFinal &p : b.results.pages) {
        const PageRow &r = p.row;
        lines += formatIsoMs(r.windowStart) + '\t' + formatIsoMs(r.windowEnd) + '\t' + r.page +
                 "\tbench\t" + std::to_string(r.views) + '\t' + std::to_string(r.clicks) + '\t' +
                 std::to_string(r.addToCart) + '\t' + std::to_string(r.purchases) + '\t' +
                 money(r.revenueCents) + '\t' + std::to_string(r.uniqueUsers) + '\t' +
                 std::to_string(r.uniqueSessions) + '\t';
        appendHex(lines, p.users.toHllBytes());
        lines += '\t';
        appendHex(lines, p.sessions.toHllBytes());
        lines += "\t20260101\t1\n";
    }
    copyRows(tx, "copy_page_metrics",
             {"window_start", "window_end", "page", "shard", "views", "clicks", "add_to_cart",
              "purchases", "revenue", "unique_users", "unique_sessions", "users_hll",
              "sessions_hll", "date_key", "page_key"},
             lines);
    for (const GeoRow &g : b.results.geo)
        lines += formatIsoMs(g.windowStart) + '\t' + formatIsoMs(g.windowEnd) + '\t' + g.country +
                 '\t' + g.browser + '\t' + g.deviceType + "\tbench\t" + std::to_string(g.events) +
                 "\t20260101\t1\t1\n";
    copyRows(tx, "copy_geo_metrics",
             {"window_start", "window_end", "country", "browser", "device_type", "shard", "events",
              "date_key", "country_key", "device_key"},
             lines);
    for (const SessionRow &s : b.results.sessions)
        lines += s.userId + '\t' + formatIsoMs(s.start) + '\t' + formatIsoMs(s.end) + "\tbench\t" +
                 std::to_string(s.events) + '\t' + std::to_string(s.distinctPages) + '\t' +
                 money(s.revenueCents) + '\t' + (s.converted ? "t" : "f") + "\t20260101\n";
    copyRows(tx, "copy_sessions",
             {"user_id", "session_start", "session_end", "shard", "events", "distinct_pages",
              "revenue", "converted", "date_key"},
             lines);
    for (const FunnelRow &f : b.results.funnel)
        lines += formatIsoMs(f.windowStart) + '\t' + formatIsoMs(f.windowEnd) + '\t' + f.productId +
                 "\tbench\t" + std::to_string(f.views) + '\t' + std::to_string(f.addToCart) + '\t' +
                 std::to_string(f.purchases) + '\t' + (f.hotLowConversion ? "t" : "f") +
                 "\t20260101\t1\n";
    copyRows(tx, "copy_product_funnel",
             {"window_start", "window_end", "product_id", "shard", "views", "add_to_cart",
              "purchases", "hot_low_conversion", "date_key", "product_key"},
             lines);
    tx.commit();
}

void freshCopyTables(pqxx::connection &c)
{
    pqxx::work tx(c);
    for (const char *t : {"page_metrics", "geo_metrics", "sessions", "product_funnel"})
        tx.exec(std::string("DROP TABLE IF EXISTS copy_") + t + "; CREATE TABLE copy_" + t +
                " (LIKE " + t +
                " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING STORAGE)");
    tx.commit();
}

void freshFacts(pqxx::connection &c)
{
    pqxx::work tx(c);
    tx.exec("TRUNCATE page_metrics, geo_metrics, sessions, product_funnel, consumer_offsets");
    tx.commit();
}

void vacuum(pqxx::connection &c)
{
    pqxx::nontransaction tx(c);
    tx.exec("VACUUM ANALYZE");
}

} // namespace

int main(int argc, char **argv)
{
    long rows = 200'000;
    long batchRows = 5'000;
    int users = 100;
    std::string conninfo;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                fmt::print(stderr, "{} needs a value\n", arg);
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--rows")
            rows = std::atol(value().c_str());
        else if (arg == "--batch")
            batchRows = std::atol(value().c_str());
        else if (arg == "--users")
            users = std::atoi(value().c_str());
        else if (arg == "--conninfo")
            conninfo = value();
        else {
            fmt::print(stderr, "usage: bench_pgsink [--rows N] [--batch B] [--users U] "
                               "[--conninfo CONNINFO]\n");
            return 2;
        }
    }
    if (rows <= 0 || batchRows <= 0 || users < 0) {
        fmt::print(stderr, "--rows and --batch must be positive\n");
        return 2;
    }

    std::unique_ptr<studio::test::PostgresServer> server;
    PostgresTarget target;
    if (conninfo.empty()) {
        std::string why;
        if (!studio::test::PostgresServer::available(&why)) {
            fmt::print(stderr, "bench_pgsink: {}\n", why);
            return 1;
        }
        server = std::make_unique<studio::test::PostgresServer>();
        if (!server->start(&why)) {
            fmt::print(stderr, "bench_pgsink: {}\n", why);
            return 1;
        }
        target = {server->connectionString(), server->password()};
    } else {
        const char *password = std::getenv("PGPASSWORD");
        target = {conninfo, password ? password : ""};
    }

    PostgresStore store;
    std::string error;
    if (!store.connect(target, 10s, &error)) {
        fmt::print(stderr, "bench_pgsink: {}\n", error);
        return 1;
    }
    pqxx::connection plain(target.connectionString(10));
    freshCopyTables(plain);
    freshFacts(plain);

    const auto batches = makeBatches(rows, batchRows, users);
    const auto warmup = makeBatches(4 * 500, 4 * 500, users);
    fmt::print("bench_pgsink: {} rows (a quarter each of page, geo, session and funnel rows; page "
               "rows with 2 sketches of {} values), {} batches of {}\n",
               rows, users, batches.size(), batchRows);

    // Warm both paths (plans, caches), then start from empty tables.
    if (!store.write(warmup[0], &error)) {
        fmt::print(stderr, "bench_pgsink: {}\n", error);
        return 1;
    }
    copyBatch(plain, warmup[0]);
    freshCopyTables(plain);
    freshFacts(plain);
    vacuum(plain);

    auto t0 = Clock::now();
    for (const SinkBatch &b : batches)
        copyBatch(plain, b);
    const double copySeconds = since(t0);

    t0 = Clock::now();
    for (const SinkBatch &b : batches) {
        if (!store.write(b, &error)) {
            fmt::print(stderr, "bench_pgsink: {}\n", error);
            return 1;
        }
    }
    const double insertSeconds = since(t0);

    // A replay: every row exists already, so every row takes the ON CONFLICT DO UPDATE path.
    t0 = Clock::now();
    for (const SinkBatch &b : batches) {
        if (!store.write(b, &error)) {
            fmt::print(stderr, "bench_pgsink: {}\n", error);
            return 1;
        }
    }
    const double replaySeconds = since(t0);

    const double copyRate = rows / copySeconds;
    const double insertRate = rows / insertSeconds;
    const double replayRate = rows / replaySeconds;
    fmt::print("  COPY into fresh tables (same columns and keys) : {:>9.0f} rows/s ({:.2f} s)\n",
               copyRate, copySeconds);
    fmt::print("  PostgresStore::write, new rows (upsert)         : {:>9.0f} rows/s ({:.2f} s)  "
               "ratio {:.2f} of COPY (target >= 0.5)\n",
               insertRate, insertSeconds, insertRate / copyRate);
    fmt::print("  PostgresStore::write, replayed rows (update)    : {:>9.0f} rows/s ({:.2f} s)  "
               "ratio {:.2f} of COPY\n",
               replayRate, replaySeconds, replayRate / copyRate);
    return 0;
}
