// `report`: one aggregate table over a time range as an RFC 4180 CSV file, from PostgreSQL.

#include "app/commands.h"

#include "core/common/timeutil.h"
#include "core/monitor/monitor.h"
#include "core/store/pgstore.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <tuple>

namespace studio::app {

CLI::App *addReportCommand(CLI::App &app, ReportCommand &command)
{
    auto *cmd = app.add_subcommand(
        "report", "Export one aggregate table over a time range as an RFC 4180 CSV report, read "
                  "from PostgreSQL (merged over the shards of every aggregator instance).");
    cmd->add_option("--table", command.table,
                    "page_metrics, geo_metrics, sessions or "
                    "product_funnel")
        ->required()
        ->check(CLI::IsMember({"page_metrics", "geo_metrics", "sessions", "product_funnel"}));
    cmd->add_option("--from", command.from,
                    "first window start (sessions: session start), ISO-8601 UTC; default: all");
    cmd->add_option("--to", command.to, "end of the range, exclusive, ISO-8601 UTC; default: all");
    cmd->add_option("--out", command.out, "CSV file to write, or - for stdout")->required();
    cmd->add_option("--postgres", command.postgres,
                    "PostgreSQL to read, as a libpq conninfo (\"host=... dbname=... user=...\") "
                    "or postgresql:// URI without a password; the password comes from "
                    "PGPASSWORD, ~/.pgpass or CLICKSTREAM_PG_PASSWORD");
    cmd->add_option("--timeout", command.timeoutSeconds, "seconds to wait for the connection")
        ->check(CLI::Range(1.0, 600.0))
        ->capture_default_str();
    for (const char *name : {"--postgres-password", "--pg-password"})
        cmd->add_option(name, command.rejectedSecret)->group("");
    return cmd;
}

int runReport(const ReportCommand &command)
{
    if (command.postgres.empty() && command.rejectedSecret.empty()) {
        fmt::print(stderr, "report: reads PostgreSQL, so give --postgres (\"host=... dbname=... "
                           "user=...\").\nIn-memory reports come from `run --report-dir DIR` or "
                           "`aggregate --out DIR`, which write all four CSV files at the end.\n");
        return 2;
    }
    std::int64_t from = INT64_MIN;
    std::int64_t to = INT64_MAX;
    for (auto [name, text, value] :
         {std::tuple{"--from", &command.from, &from}, std::tuple{"--to", &command.to, &to}}) {
        if (text->empty())
            continue;
        const auto ms = core::parseIsoMs(*text);
        if (!ms) {
            fmt::print(stderr,
                       "report: {} '{}' is not an ISO-8601 UTC time (like "
                       "2026-01-01T00:00:00Z)\n",
                       name, *text);
            return 2;
        }
        *value = *ms;
    }
    const auto table = core::reportTableFromName(command.table);
    if (!table) { // CLI11 checked it already
        fmt::print(stderr, "report: unknown table '{}'\n", command.table);
        return 2;
    }

    // The same rules as the monitoring options: no password on the command line or in the URI.
    MonitoringOptions monitoring;
    monitoring.postgres = command.postgres;
    monitoring.rejectedSecret = command.rejectedSecret;
    core::MonitorSettings settings;
    if (std::string e = buildMonitorSettings(monitoring, settings); !e.empty()) {
        fmt::print(stderr, "report: {}\n", e);
        return 2;
    }

    core::PostgresStore store;
    std::string error;
    const auto timeout =
        std::chrono::milliseconds(static_cast<long long>(command.timeoutSeconds * 1000));
    if (!store.connect(*settings.postgres, timeout, &error)) {
        fmt::print(stderr, "report: {}\n", error);
        return 1;
    }
    const bool ok = command.out == "-" ? store.exportCsv(*table, from, to, std::cout, &error)
                                       : store.exportCsv(*table, from, to, command.out, &error);
    if (!ok) {
        fmt::print(stderr, "report: {}\n", error);
        return 1;
    }
    if (command.out != "-")
        fmt::print(stderr, "report: wrote {} to {}\n", command.table, command.out);
    return 0;
}

} // namespace studio::app
