// `verify`: are all records accounted for? Reads every message of the topic (no consumer group),
// aggregates them offline with the same windows as the streaming aggregator, and compares the
// result per key with what PostgreSQL holds (merged over shards). Prints ALL-RECORDS-ACCOUNTED
// only when every event is counted exactly once; otherwise lost and duplicated counts per table
// with a few example keys. The soak test (tests/test_soak.cpp) ends with it.

#include "app/commands.h"

#include "app/commandsupport.h"

#include "core/aggregate/aggregator.h"
#include "core/common/timeutil.h"
#include "core/kafka/messagebrowser.h"
#include "core/monitor/monitor.h"
#include "core/store/csvreport.h"
#include "core/store/pgstore.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

namespace studio::app {

CLI::App *addVerifyCommand(CLI::App &app, VerifyCommand &command)
{
    auto *cmd = app.add_subcommand(
        "verify",
        "Check that every event of a topic is counted exactly once in PostgreSQL: read the whole "
        "topic (no consumer group), aggregate it offline with the same windows, compare per key "
        "with the stored rows (merged over shards). Prints ALL-RECORDS-ACCOUNTED and exits 0 when "
        "nothing is lost or duplicated; otherwise lost/duplicated per table with example keys, "
        "exit 1.");
    addConnectionOptions(*cmd, command.connection);
    cmd->add_option("--topic", command.topic, "topic the aggregator read")->capture_default_str();
    cmd->add_option("--messages", command.messagesFile,
                    "read the events from this file instead of the topic: JSON lines with "
                    "partition, offset and the payload, as `kcat -C -J -o beginning` or "
                    "`messages --follow --json` print them, recorded from before the producer "
                    "started (a tap keeps every message even when the broker's retention drops "
                    "old ones); other lines are skipped");
    addAggregatorOptions(*cmd, command.aggregator);
    cmd->add_option("--postgres", command.postgres,
                    "PostgreSQL to check, as a libpq conninfo or postgresql:// URI without a "
                    "password (the password comes from PGPASSWORD, ~/.pgpass or "
                    "CLICKSTREAM_PG_PASSWORD)")
        ->required();
    cmd->add_option("--expect-events", command.expectEvents,
                    "the producer's acked count: the topic must hold exactly this many valid, "
                    "distinct events (with no malformed or duplicate injection)");
    cmd->add_option("--examples", command.examples, "example keys shown per table on a mismatch")
        ->capture_default_str();
    cmd->add_option("--dump", command.dump,
                    "also write the topic's events as JSON Lines here, in the order aggregated "
                    "(input for `aggregate`)");
    cmd->add_option("--timeout", command.timeoutSeconds,
                    "seconds a read from Kafka or the connection to PostgreSQL may take")
        ->check(CLI::Range(1.0, 3600.0))
        ->capture_default_str();
    for (const char *name : {"--postgres-password", "--pg-password"})
        cmd->add_option(name, command.rejectedSecret)->group("");
    return cmd;
}

namespace {

/// One partition read in chunks, for a merge of all partitions by message timestamp.
struct PartitionReader
{
    std::int32_t partition = 0;
    std::int64_t next = 0; ///< next offset to read
    bool done = false;
    std::vector<core::BrowsedMessage> buffer;
    std::size_t at = 0;
};

constexpr std::size_t kChunk = 50'000;

/// The event's own time (its "ts" field) when it has one, else the message's timestamp: within a
/// partition events come in about time order, so merging partitions by it gives the offline
/// aggregator the events in about the order they happened.
std::int64_t eventTimeOf(std::string_view v, std::int64_t fallback)
{
    const std::size_t at = v.find("\"ts\":\"");
    if (at != std::string_view::npos && at + 6 + 24 <= v.size())
        if (const auto ms = core::parseIsoMs(v.substr(at + 6, 24)))
            return *ms;
    return fallback;
}

std::int64_t eventTimeOf(const core::BrowsedMessage &m)
{
    return eventTimeOf(m.value, m.timestampMs);
}

/// A tap file (`kcat -J` or `messages --json` lines) in event-time order: a message is handed on
/// once the newest event time seen is kReorderMs past it, so disorder of up to a minute between
/// partitions (a catch-up after an outage) is undone with bounded memory. Each partition's
/// offsets are taken once, in order; a gap (a message the tap skipped) is counted.
constexpr std::int64_t kReorderMs = 60'000;

struct TapStats
{
    std::uint64_t messages = 0, repeated = 0, gaps = 0, otherLines = 0;
};

bool readTap(const std::string &path, const std::function<void(const std::string &)> &feed,
             TapStats &stats, std::string *error)
{
    std::ifstream in(path);
    if (!in) {
        *error = "cannot read '" + path + "'";
        return false;
    }
    using Item = std::tuple<std::int64_t, std::uint64_t, std::string>; // time, sequence, value
    std::priority_queue<Item, std::vector<Item>, std::greater<>> pending;
    std::map<std::int64_t, std::int64_t> nextOffset; // per partition
    std::int64_t newest = INT64_MIN;
    std::uint64_t seq = 0;
    for (std::string line; std::getline(in, line);) {
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        // `messages --json` names the payload "value", `kcat -J` names it "payload".
        const char *field = j.is_object() && j.contains("payload") ? "payload" : "value";
        if (j.is_discarded() || !j.is_object() || !j.contains(field) || !j[field].is_string() ||
            !j.contains("partition") || !j.contains("offset")) {
            ++stats.otherLines;
            continue;
        }
        const std::int64_t partition = j["partition"].get<std::int64_t>();
        const std::int64_t offset = j["offset"].get<std::int64_t>();
        auto [it, fresh] = nextOffset.try_emplace(partition, 0);
        if (!fresh || offset != 0) {
            if (offset < it->second) {
                ++stats.repeated;
                continue;
            }
            stats.gaps += static_cast<std::uint64_t>(offset - it->second);
        }
        it->second = offset + 1;
        ++stats.messages;
        std::string value = j[field].get<std::string>();
        const std::int64_t t = eventTimeOf(value, newest == INT64_MIN ? 0 : newest);
        newest = std::max(newest, t);
        pending.emplace(t, seq++, std::move(value));
        while (!pending.empty() && std::get<0>(pending.top()) <= newest - kReorderMs) {
            feed(std::get<2>(pending.top()));
            pending.pop();
        }
    }
    while (!pending.empty()) {
        feed(std::get<2>(pending.top()));
        pending.pop();
    }
    return true;
}

/// Refills `r` when its buffer is used up; false with a message when a read failed.
bool refill(core::MessageBrowser &browser, const std::string &topic, PartitionReader &r,
            std::chrono::milliseconds timeout, std::string *error)
{
    if (r.done || r.at < r.buffer.size())
        return true;
    core::BrowseResult res = browser.readFromOffset(topic, r.partition, r.next, kChunk, timeout);
    if (!res.ok || res.timedOut) {
        *error = fmt::format("reading partition {} from offset {}: {}", r.partition, r.next,
                             res.ok ? "timed out" : res.error);
        return false;
    }
    r.buffer = std::move(res.messages);
    r.at = 0;
    if (!r.buffer.empty())
        r.next = r.buffer.back().offset + 1;
    // Done once a read reached the high watermark as of that read. Not when it found fewer
    // messages than it asked for: transaction markers and aborted records take offsets too.
    const auto upTo = res.readUpTo.find(r.partition);
    const auto high = res.highWatermarks.find(r.partition);
    if (upTo == res.readUpTo.end() || high == res.highWatermarks.end() ||
        upTo->second >= high->second) {
        r.done = true;
    } else {
        r.next = std::max(r.next, upTo->second);
    }
    return true;
}

/// Per key, the counts that each event adds one to (an event adds to exactly one of a table's
/// measures), and revenue, which must match too.
struct Counts
{
    std::vector<std::int64_t> measures;
    std::int64_t revenueCents = 0;
};

using Table = std::map<std::string, Counts>;

struct Tally
{
    std::string name;
    std::vector<std::string> measureNames;
    std::int64_t expectedEvents = 0, storedEvents = 0;
    std::int64_t lost = 0, duplicated = 0, revenueMismatches = 0;
    std::size_t expectedKeys = 0, storedKeys = 0;
    std::vector<std::string> examples;
};

Tally compare(const std::string &name, std::vector<std::string> measureNames, const Table &expected,
              const Table &stored, std::size_t maxExamples)
{
    Tally t;
    t.name = name;
    t.measureNames = std::move(measureNames);
    t.expectedKeys = expected.size();
    t.storedKeys = stored.size();
    const Counts zero{std::vector<std::int64_t>(t.measureNames.size(), 0), 0};
    auto visit = [&](const std::string &key, const Counts &e, const Counts &s) {
        std::string diff;
        for (std::size_t m = 0; m < t.measureNames.size(); ++m) {
            t.expectedEvents += e.measures[m];
            t.storedEvents += s.measures[m];
            const std::int64_t d = s.measures[m] - e.measures[m];
            if (d < 0)
                t.lost += -d;
            else
                t.duplicated += d;
            if (d != 0)
                diff += fmt::format(" {} expected {} stored {};", t.measureNames[m], e.measures[m],
                                    s.measures[m]);
        }
        if (e.revenueCents != s.revenueCents) {
            ++t.revenueMismatches;
            diff += fmt::format(" revenue expected {:.2f} stored {:.2f};", e.revenueCents / 100.0,
                                s.revenueCents / 100.0);
        }
        if (!diff.empty() && t.examples.size() < maxExamples)
            t.examples.push_back(key + ":" + diff);
    };
    for (const auto &[key, e] : expected) {
        const auto it = stored.find(key);
        visit(key, e, it == stored.end() ? zero : it->second);
    }
    for (const auto &[key, s] : stored)
        if (!expected.count(key))
            visit(key, zero, s);
    return t;
}

std::string iso(std::int64_t ms)
{
    return core::formatIsoMs(ms);
}

Table pagesTable(const std::vector<core::PageRow> &rows)
{
    Table t;
    for (const auto &r : rows) {
        Counts &c = t[iso(r.windowStart) + " " + r.page];
        c.measures = {std::int64_t(r.views), std::int64_t(r.clicks), std::int64_t(r.addToCart),
                      std::int64_t(r.purchases)};
        c.revenueCents = r.revenueCents;
    }
    return t;
}

Table geoTable(const std::vector<core::GeoRow> &rows)
{
    Table t;
    for (const auto &r : rows)
        t[iso(r.windowStart) + " " + r.country + "/" + r.browser + "/" + r.deviceType].measures = {
            std::int64_t(r.events)};
    return t;
}

Table funnelTable(const std::vector<core::FunnelRow> &rows)
{
    Table t;
    for (const auto &r : rows)
        t[iso(r.windowStart) + " " + r.productId].measures = {
            std::int64_t(r.views), std::int64_t(r.addToCart), std::int64_t(r.purchases)};
    return t;
}

Table sessionsTable(const std::vector<core::SessionRow> &rows)
{
    Table t;
    for (const auto &r : rows) {
        Counts &c = t[r.userId + " " + iso(r.start)];
        c.measures = {std::int64_t(r.events)};
        c.revenueCents = r.revenueCents;
    }
    return t;
}

} // namespace

int runVerify(const VerifyCommand &command)
{
    core::AggregatorConfig config;
    if (std::string e = finishAggregatorOptions(command.aggregator, config); !e.empty())
        return usageError(e);
    if (command.connection.embedded())
        return usageError("verify reads a running cluster: give --broker HOST:PORT,...");
    core::ClusterConfig cluster;
    if (std::string e = buildClusterConfig(command.connection, cluster); !e.empty())
        return usageError(e);
    MonitoringOptions monitoring;
    monitoring.postgres = command.postgres;
    monitoring.rejectedSecret = command.rejectedSecret;
    core::MonitorSettings settings;
    if (std::string e = buildMonitorSettings(monitoring, settings); !e.empty())
        return usageError(e);
    const auto timeout =
        std::chrono::milliseconds(static_cast<long long>(command.timeoutSeconds * 1000));

    // 1. The topic, every partition from its start to its high watermark, merged by event time
    //    so that the offline watermark sees the events in about the order they happened; a
    //    user's events stay in their partition's order.
    std::string error;
    std::FILE *dump = nullptr;
    if (!command.dump.empty()) {
        dump = std::fopen(command.dump.c_str(), "wb");
        if (!dump) {
            fmt::print(stderr, "verify: cannot write '{}'\n", command.dump);
            return kRuntimeError;
        }
    }
    core::CsvReportCollector offline;
    core::Aggregator aggregator(config, &offline);
    std::uint64_t messages = 0;
    std::size_t partitions = 0;
    auto feed = [&](const std::string &value) {
        aggregator.ingest(value);
        if (dump) {
            std::fwrite(value.data(), 1, value.size(), dump);
            std::fputc('\n', dump);
        }
        ++messages;
    };
    TapStats tap;
    bool readOk = true;
    std::string source;
    if (!command.messagesFile.empty()) {
        readOk = readTap(command.messagesFile, feed, tap, &error);
        source =
            fmt::format("tap {}: {} message(s) ({} repeated, {} missed by the tap, {} other "
                        "line(s) skipped)",
                        command.messagesFile, tap.messages, tap.repeated, tap.gaps, tap.otherLines);
    } else {
        core::MessageBrowser browser(cluster);
        core::BrowseResult first = browser.readFromOffset(command.topic, -1, 0, 1, timeout);
        if (!first.ok) {
            fmt::print(stderr, "verify: reading topic '{}': {}\n", command.topic, first.error);
            return kRuntimeError;
        }
        std::vector<PartitionReader> readers;
        for (const auto &m : first.messages) {
            PartitionReader r;
            r.partition = m.partition;
            r.next = m.offset; // the low watermark: read it again with the rest
            if (m.offset > 0)
                fmt::print("verify: partition {} starts at offset {}: older messages are gone "
                           "(retention); verify from a tap (--messages) instead\n",
                           m.partition, m.offset);
            tap.gaps += static_cast<std::uint64_t>(m.offset);
            readers.push_back(std::move(r));
        }
        partitions = readers.size();
        using Head = std::tuple<std::int64_t, std::int32_t, std::size_t>; // time, partition, reader
        std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
        auto push = [&](std::size_t i) -> bool {
            PartitionReader &r = readers[i];
            if (!refill(browser, command.topic, r, timeout, &error))
                return false;
            if (r.at < r.buffer.size())
                heads.emplace(eventTimeOf(r.buffer[r.at]), r.partition, i);
            return true;
        };
        for (std::size_t i = 0; i < readers.size() && readOk; ++i)
            readOk = push(i);
        while (readOk && !heads.empty()) {
            const std::size_t i = std::get<2>(heads.top());
            heads.pop();
            PartitionReader &r = readers[i];
            feed(r.buffer[r.at].value);
            ++r.at;
            readOk = push(i);
        }
        source = fmt::format("topic {}: {} partition(s), {} message(s)", command.topic, partitions,
                             messages);
    }
    if (dump)
        std::fclose(dump);
    if (!readOk) {
        fmt::print(stderr, "verify: {}\n", error);
        return kRuntimeError;
    }
    aggregator.flush();
    const core::AggregateCounters c = aggregator.counters();
    fmt::print("verify: {}: {} valid events, {} invalid, {} duplicates, {} late in event-time "
               "order\n",
               source, c.valid, c.invalid, c.duplicates, c.late);

    // 2. What PostgreSQL holds, merged over shards.
    core::PostgresStore store;
    if (!store.connect(*settings.postgres, timeout, &error)) {
        fmt::print(stderr, "verify: {}\n", error);
        return kRuntimeError;
    }
    std::vector<core::PageFinal> pages;
    std::vector<core::GeoRow> geo;
    std::vector<core::SessionRow> sessions;
    std::vector<core::FunnelRow> funnel;
    if (!store.loadPages(INT64_MIN, INT64_MAX, &pages, &error) ||
        !store.loadGeo(INT64_MIN, INT64_MAX, &geo, &error) ||
        !store.loadSessions(INT64_MIN, INT64_MAX, &sessions, &error) ||
        !store.loadFunnel(INT64_MIN, INT64_MAX, &funnel, &error)) {
        fmt::print(stderr, "verify: {}\n", error);
        return kRuntimeError;
    }
    std::vector<core::PageRow> pageRows;
    for (const auto &p : pages)
        pageRows.push_back(p.row);

    // 3. Per key and measure: lost = what PostgreSQL lacks, duplicated = what it has too much.
    const std::size_t ex = command.examples;
    const std::vector<Tally> tallies = {
        compare("page_metrics", {"views", "clicks", "add_to_cart", "purchases"},
                pagesTable(offline.pages()), pagesTable(pageRows), ex),
        compare("geo_metrics", {"events"}, geoTable(offline.geo()), geoTable(geo), ex),
        compare("product_funnel", {"views", "add_to_cart", "purchases"},
                funnelTable(offline.funnel()), funnelTable(funnel), ex),
        compare("sessions", {"events"}, sessionsTable(offline.sessions()), sessionsTable(sessions),
                ex),
    };
    std::int64_t lost = 0, duplicated = 0, mismatched = 0;
    for (const Tally &t : tallies) {
        fmt::print("{}: {} key(s) expected, {} stored; {} event count(s) expected, {} stored: "
                   "lost {}, duplicated {}{}\n",
                   t.name, t.expectedKeys, t.storedKeys, t.expectedEvents, t.storedEvents, t.lost,
                   t.duplicated,
                   t.revenueMismatches
                       ? fmt::format(", revenue differs on {} key(s)", t.revenueMismatches)
                       : std::string());
        for (const std::string &e : t.examples)
            fmt::print("  e.g. {}\n", e);
        lost += t.lost;
        duplicated += t.duplicated;
        mismatched += t.revenueMismatches;
    }
    // The topic itself against the producer's count, and events the offline pass could not count.
    std::int64_t kafkaLost = 0, kafkaExtra = 0;
    if (command.expectEvents >= 0) {
        const std::int64_t valid = static_cast<std::int64_t>(c.valid);
        kafkaLost = std::max<std::int64_t>(0, command.expectEvents - valid);
        kafkaExtra = std::max<std::int64_t>(0, valid - command.expectEvents);
        fmt::print("kafka: {} acked by the producer, {} valid distinct events in the topic: lost "
                   "{}, extra {}\n",
                   command.expectEvents, valid, kafkaLost, kafkaExtra);
    }
    const bool accounted = lost == 0 && duplicated == 0 && mismatched == 0 && kafkaLost == 0 &&
                           kafkaExtra == 0 && c.late == 0 && c.valid > 0 && tap.gaps == 0;
    if (accounted) {
        fmt::print("ALL-RECORDS-ACCOUNTED: {} events, each counted exactly once in page_metrics, "
                   "geo_metrics, product_funnel and sessions\n",
                   c.valid);
        return 0;
    }
    fmt::print("NOT ACCOUNTED: lost {}, duplicated {}, revenue mismatches {}, kafka lost {}, "
               "kafka extra {}, late in the offline pass {}, messages not read {}{}\n",
               lost, duplicated, mismatched, kafkaLost, kafkaExtra, c.late, tap.gaps,
               c.valid == 0 ? " (no valid events at all)" : "");
    return 1;
}

} // namespace studio::app
