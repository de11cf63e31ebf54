// Aggregator benchmark: events/s of the aggregation core (parse, validate, dedupe, windows,
// sessions) on one thread, and its ratio to the limit of simdjson on the same payloads measured
// in the same run; then the memory the aggregator holds per million open sessions.
//
//   bench_aggregator [--events N] [--repeat K] [--batch B] [--rate R] [--keys M]
//                    [--users U[,U...]] [--session-gap MS] [--only parse|validate|aggregate]
//
// N events (default 2,000,000) come from EventGenerator defaults into memory first, event times
// spaced as if produced at R events/s (default 100,000) from 2026-11-23T12:00:55Z, so the first
// page and funnel window closes and dedupe entries expire while the run goes on. --users sets the
// generator's cap on users, one input per value (default "500,0"): 500 is the cardinality of the
// generator before issue 25 (a fixed 500 users), the like-for-like figure; 0 is the generator's
// default, as many users as the rate needs at human pace (about 300,000 at 100,000 events/s).
// --session-gap sets the aggregator's session gap in ms (default: AggregatorConfig's). For each
// input, three stages run over the same in-memory payloads, alternating K times (default 3);
// medians are compared:
//
//   parse-only limit:  simdjson on-demand over each payload in place, every field visited and
//                      every value read with the type the schema gives it (no checks beyond that);
//   parse+validate:    core's EventParser::parse (what the aggregator runs per event);
//   aggregate:         a fresh Aggregator (default config, no sink), ingestBatch per B records
//                      (default 4096), then flush().
//
// Times are wall (steady_clock) and CPU (CLOCK_THREAD_CPUTIME_ID); "per core" means per CPU
// second. The memory stage feeds M (default 1,000,000) hand-made valid events of M distinct
// users within 5 s of one window, so nothing closes, and reports counters().stateBytes and the
// process RSS growth (/proc/self/statm) per million open sessions. It runs first, on a fresh
// heap, and is printed last. --only runs one stage (for a profiler), --keys 0 skips memory.

#include "core/aggregate/aggregator.h"
#include "core/aggregate/eventparser.h"
#include "core/common/recordbatch.h"
#include "core/common/timeutil.h"
#include "core/produce/generator.h"
#include "parselimit.h"

#include <fmt/core.h>
#include <simdjson.h>

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace studio::core;
using Clock = std::chrono::steady_clock;

namespace {

struct Args
{
    long events = 2'000'000;
    int repeat = 3;
    std::size_t batch = 4096;
    double rate = 100'000;
    long keys = 1'000'000;
    std::vector<int> users{500, 0}; // one input per value; 0: the generator's default (no cap)
    std::int64_t sessionGapMs = 0;  // 0: AggregatorConfig's default
    std::string only;               // empty: every stage
};

constexpr const char *kStart = "2026-11-23T12:00:55.000Z";

double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Wall and CPU time of one measured stretch.
class Stopwatch
{
public:
    Stopwatch()
        : m_wall(Clock::now())
        , m_cpu(threadCpuSeconds())
    {
    }
    double wall() const { return std::chrono::duration<double>(Clock::now() - m_wall).count(); }
    double cpu() const { return threadCpuSeconds() - m_cpu; }

private:
    Clock::time_point m_wall;
    double m_cpu;
};

std::uint64_t rssBytes()
{
    std::FILE *f = std::fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    const int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    return n == 2 ? static_cast<std::uint64_t>(resident) *
                        static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE))
                  : 0;
}

struct Input
{
    std::vector<RecordBatch> batches;
    long events = 0;
    std::size_t valueBytes = 0;
    std::int64_t firstMs = 0, lastMs = 0;
};

struct InputStats
{
    std::size_t users = 0, activeUsers = 0;
};

Input generate(const Args &args, int users, InputStats &stats)
{
    Input in;
    GeneratorConfig config;
    config.users = users;
    EventGenerator generator(config);
    in.firstMs = *parseIsoMs(kStart);
    in.batches.reserve(static_cast<std::size_t>(args.events) / args.batch + 1);
    for (long i = 0; i < args.events; ++i) {
        if (in.batches.empty() || in.batches.back().size() == args.batch)
            in.batches.emplace_back();
        const auto ts =
            in.firstMs + static_cast<std::int64_t>(static_cast<double>(i) * 1000.0 / args.rate);
        generator.next(ts, in.batches.back());
        in.lastMs = ts;
    }
    stats.users = generator.users();
    stats.activeUsers = generator.activeUsers();
    for (RecordBatch &b : in.batches) {
        for (std::size_t i = 0; i < b.size(); ++i)
            in.valueBytes += b.value(i).size();
        // Room for simdjson's padding after the last record, so the parse-only limit can read
        // every payload in place (the records of a batch are contiguous, so the bytes after one
        // payload are the next record's).
        b.buffer().reserve(b.buffer().size() + simdjson::SIMDJSON_PADDING);
    }
    in.events = args.events;
    return in;
}

struct StageResult
{
    double wall = 0, cpu = 0;
    std::uint64_t ok = 0;       // events the stage took as good
    std::uint64_t checksum = 0; // keeps the work observable
    AggregateCounters counters; // aggregate stage only
};

// The parse-only limit: what simdjson on-demand needs to read every value of every event.
StageResult parseOnly(Input &in)
{
    simdjson::ondemand::parser parser;
    StageResult r;
    std::uint64_t sum = 0;
    const Stopwatch sw;
    for (RecordBatch &b : in.batches) {
        const char *base = b.buffer().data();
        const std::size_t capacity = b.buffer().capacity();
        for (std::size_t i = 0; i < b.size(); ++i) {
            const std::string_view v = b.value(i);
            const std::size_t allocated = capacity - static_cast<std::size_t>(v.data() - base);
            r.ok += studio::bench::readEveryField(parser, v.data(), v.size(), allocated, sum);
        }
    }
    r.cpu = sw.cpu();
    r.wall = sw.wall();
    r.checksum = sum;
    return r;
}

StageResult parseValidate(const Input &in)
{
    EventParser parser;
    ParsedEvent e;
    StageResult r;
    std::uint64_t sum = 0;
    const Stopwatch sw;
    for (const RecordBatch &b : in.batches) {
        for (std::size_t i = 0; i < b.size(); ++i) {
            if (!parser.parse(b.value(i), e)) {
                ++r.ok;
                sum += static_cast<std::uint64_t>(e.timestampMs) + e.userId.size() +
                       static_cast<std::uint64_t>(e.priceCents);
            }
        }
    }
    r.cpu = sw.cpu();
    r.wall = sw.wall();
    r.checksum = sum;
    return r;
}

StageResult aggregate(const Input &in, const Args &args)
{
    StageResult r;
    AggregatorConfig config;
    if (args.sessionGapMs > 0)
        config.sessionGapMs = args.sessionGapMs;
    const Stopwatch sw;
    Aggregator aggregator(config); // default config unless --session-gap, no sink
    for (const RecordBatch &b : in.batches)
        aggregator.ingestBatch(b);
    aggregator.flush();
    r.cpu = sw.cpu();
    r.wall = sw.wall();
    r.counters = aggregator.counters();
    r.ok = r.counters.valid;
    return r;
}

// What a UI pays 10 times a second: snapshot() of an aggregator holding an hour of windows
// (30 finalized page/funnel/geo windows kept for display plus the open ones). The lock is held
// for the whole copy, so this is also how long ingestion can be kept waiting.
void snapshotCost()
{
    Aggregator aggregator;
    EventGenerator generator;
    RecordBatch batch;
    const std::int64_t start = 1795435200000LL; // 2026-11-23T12:00:00Z
    for (int i = 0; i < 1'800'000; ++i) {       // one hour at 500 events/s
        generator.next(start + i * 2, batch);
        if (batch.size() == 4096) {
            aggregator.ingestBatch(batch);
            batch.clear();
        }
    }
    aggregator.ingestBatch(batch);
    std::vector<double> micros;
    std::size_t rows = 0;
    for (int i = 0; i < 200; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const AggregatorSnapshot snap = aggregator.snapshot();
        micros.push_back(
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                .count());
        rows =
            snap.pages.size() + snap.geo.size() + snap.funnel.size() + snap.recentSessions.size();
    }
    std::sort(micros.begin(), micros.end());
    fmt::print("snapshot of an hour of windows ({} rows): median {:.0f} us, max {:.0f} us; at 10 "
               "per second the lock is held {:.2f}% of the time\n",
               rows, micros[micros.size() / 2], micros.back(),
               micros[micros.size() / 2] * 10 / 1e4);
}

struct MemoryResult
{
    long events = 0;
    double seconds = 0;
    AggregateCounters counters;
    std::uint64_t rssBefore = 0, rssAfter = 0;
};

// M valid events of M distinct users (and sessions, and event ids) within 5 s of event time in
// one page window: every session stays open, no window closes, no dedupe entry expires.
MemoryResult memoryPerKeys(const Args &args)
{
    static constexpr const char *kPages[] = {"/",       "/category/books", "/category/electronics",
                                             "/search", "/cart",           "/checkout"};
    static constexpr const char *kCountries[] = {"US", "GB", "DE", "IN", "FR", "BR"};
    static constexpr const char *kDevices[] = {"mobile", "desktop", "tablet"};
    static constexpr const char *kBrowsers[] = {"Chrome", "Safari", "Firefox", "Edge"};
    malloc_trim(0);
    MemoryResult m;
    m.events = args.keys;
    m.rssBefore = rssBytes();
    const std::int64_t start = *parseIsoMs("2026-11-23T12:00:00.000Z");
    const Stopwatch sw;
    {
        Aggregator aggregator;
        RecordBatch batch;
        std::string json;
        char ts[kIsoMsLength];
        for (long i = 0; i < args.keys; ++i) {
            const std::int64_t t = start + i * 5000 / std::max(1L, args.keys);
            formatIsoMs(t, ts);
            json.clear();
            fmt::format_to(std::back_inserter(json),
                           R"({{"event_id":"evt_mem_{:010x}","event_type":"page_view","ts":"{}",)"
                           R"("user_id":"user_{:04d}","session_id":"sess_mem_{:010x}",)",
                           i, std::string_view(ts, kIsoMsLength), i, i);
            if (i % 4 == 3) { // a product page, a quarter of the time
                const int product = static_cast<int>(i % 100);
                fmt::format_to(std::back_inserter(json),
                               R"("page":"/product/prod_{:04d}","product_id":"prod_{:04d}",)"
                               R"("product_category":"Books","price":{}.99,)",
                               product, product, 5 + product);
            } else {
                fmt::format_to(std::back_inserter(json),
                               R"("page":"{}","product_id":null,"product_category":null,)"
                               R"("price":null,)",
                               kPages[i % 6]);
            }
            fmt::format_to(std::back_inserter(json),
                           R"("referrer":"direct","country":"{}","device_type":"{}",)"
                           R"("browser":"{}"}})",
                           kCountries[i % 6], kDevices[i % 3], kBrowsers[i % 4]);
            batch.add(fmt::format("user_{:04d}", i), json, t);
            if (batch.size() == args.batch) {
                aggregator.ingestBatch(batch);
                batch.clear();
            }
        }
        if (!batch.empty())
            aggregator.ingestBatch(batch);
        m.seconds = sw.wall();
        m.counters = aggregator.counters();
        m.rssAfter = rssBytes(); // with the aggregator still holding everything open
    }
    malloc_trim(0);
    return m;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct Medians
{
    double wall, cpu;
};

Medians medians(const std::vector<StageResult> &runs)
{
    std::vector<double> w, c;
    for (const StageResult &r : runs) {
        w.push_back(r.wall);
        c.push_back(r.cpu);
    }
    return {median(w), median(c)};
}

void printRow(const char *stage, const StageResult &r, long events)
{
    const double n = static_cast<double>(events);
    fmt::print("  {:<30} {:>8.3f} {:>8.3f} {:>14.0f} {:>14.0f} {:>10.1f}   ({} ok)\n", stage,
               r.wall, r.cpu, n / r.wall, n / r.cpu, r.cpu * 1e9 / n, r.ok);
}

struct InputResult
{
    std::string label;
    double perCore = 0, perCoreWall = 0, ratio = 0, ratioWall = 0;
};

std::string usersLabel(int users, const InputStats &stats)
{
    if (users > 0)
        return fmt::format("users capped at {}", users);
    return fmt::format("users as the rate needs ({} users, {} active at the end)", stats.users,
                       stats.activeUsers);
}

// One input (the generator with this user cap): the three stages alternating, then the medians.
// False with --only (nothing to compare).
bool runInput(const Args &args, int users, InputResult &result)
{
    InputStats stats;
    Input in = generate(args, users, stats);
    result.label = usersLabel(users, stats);
    const double span = static_cast<double>(in.lastMs - in.firstMs) / 1000.0;
    fmt::print("\naggregator benchmark: {} events from EventGenerator defaults, {} ({:.0f} "
               "bytes/event), event time {} + {:.1f} s ({:.0f} events/s), batches of {}, {} "
               "repeats, 1 thread, session gap {} ms\n",
               in.events, result.label,
               static_cast<double>(in.valueBytes) / static_cast<double>(in.events), kStart, span,
               args.rate, args.batch, args.repeat,
               args.sessionGapMs > 0 ? args.sessionGapMs : AggregatorConfig{}.sessionGapMs);
    // Stage 1 (structural index, UTF-8) is dispatched at run time; the on-demand stage 2 code is
    // compiled for the "builtin" kernel the compiler flags allow, in core and here alike.
    fmt::print("simdjson {}.{}.{}: stage 1 kernel {}, on-demand (builtin) kernel {}\n",
               int(simdjson::SIMDJSON_VERSION_MAJOR), int(simdjson::SIMDJSON_VERSION_MINOR),
               int(simdjson::SIMDJSON_VERSION_REVISION),
               simdjson::get_active_implementation()->name(),
               simdjson::builtin_implementation()->name());
    fmt::print("  {:<30} {:>8} {:>8} {:>14} {:>14} {:>10}\n", "stage", "wall s", "cpu s",
               "events/s wall", "events/s cpu", "ns/ev cpu");

    std::vector<StageResult> limit, validate, agg;
    std::uint64_t checksum = 0;
    for (int r = 0; r < args.repeat; ++r) {
        if (args.only.empty() || args.only == "parse") {
            limit.push_back(parseOnly(in));
            printRow("parse-only limit (simdjson)", limit.back(), in.events);
            checksum += limit.back().checksum;
        }
        if (args.only.empty() || args.only == "validate") {
            validate.push_back(parseValidate(in));
            printRow("parse+validate (EventParser)", validate.back(), in.events);
            checksum += validate.back().checksum;
        }
        if (args.only.empty() || args.only == "aggregate") {
            agg.push_back(aggregate(in, args));
            printRow("parse+validate+aggregate", agg.back(), in.events);
        }
    }
    if (!args.only.empty()) {
        fmt::print("(--only {}: no comparison; checksum {:x})\n", args.only, checksum & 0xffff);
        return false;
    }
    const AggregateCounters &c = agg.back().counters;
    fmt::print("  aggregate counters: read {}, valid {}, invalid {}, duplicates {}, late {}, "
               "windows finalized {}, sessions closed {} (checksum {:x})\n",
               c.read, c.valid, c.invalid, c.duplicates, c.late, c.windowsFinalized,
               c.sessionsClosed, checksum & 0xffff);

    const double n = static_cast<double>(in.events);
    const Medians l = medians(limit), v = medians(validate), a = medians(agg);
    fmt::print("medians of {}:\n", args.repeat);
    fmt::print("  {:<30} {:>14} {:>14} {:>10} {:>16}\n", "stage", "events/s wall", "events/s cpu",
               "ns/ev cpu", "of limit (cpu)");
    auto line = [&](const char *stage, const Medians &m) {
        fmt::print("  {:<30} {:>14.0f} {:>14.0f} {:>10.1f} {:>15.1f}%\n", stage, n / m.wall,
                   n / m.cpu, m.cpu * 1e9 / n, 100.0 * l.cpu / m.cpu);
    };
    line("parse-only limit (simdjson)", l);
    line("parse+validate (EventParser)", v);
    line("parse+validate+aggregate", a);
    fmt::print("  cost split per event (cpu): simdjson {:.1f} ns, EventParser extra {:.1f} ns, "
               "aggregation {:.1f} ns\n",
               l.cpu * 1e9 / n, (v.cpu - l.cpu) * 1e9 / n, (a.cpu - v.cpu) * 1e9 / n);
    result.perCore = n / a.cpu;
    result.perCoreWall = n / a.wall;
    result.ratio = l.cpu / a.cpu;
    result.ratioWall = l.wall / a.wall;
    return true;
}

void usage()
{
    fmt::print(stderr, "usage: bench_aggregator [--events N] [--repeat K] [--batch B] [--rate R] "
                       "[--keys M] [--users U[,U...]] [--session-gap MS] "
                       "[--only parse|validate|aggregate]\n");
}

// "500,0" -> {500, 0}; false on anything but a comma list of user caps.
bool parseUsers(std::string_view list, std::vector<int> &out)
{
    out.clear();
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string item(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        char *end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 0 || v > GeneratorConfig::kAutoUserLimit)
            return false;
        out.push_back(static_cast<int>(v));
    }
    return !out.empty();
}

} // namespace

int main(int argc, char **argv)
{
    Args args;
    for (int i = 1; i < argc; i += 2) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        if (flag == "--events")
            args.events = std::max(1L, std::stol(argv[i + 1]));
        else if (flag == "--repeat")
            args.repeat = std::max(1, std::stoi(argv[i + 1]));
        else if (flag == "--batch")
            args.batch = std::max<std::size_t>(1, std::stoul(argv[i + 1]));
        else if (flag == "--rate")
            args.rate = std::max(1.0, std::stod(argv[i + 1]));
        else if (flag == "--keys")
            args.keys = std::max(0L, std::stol(argv[i + 1]));
        else if (flag == "--users" && parseUsers(argv[i + 1], args.users))
            continue;
        else if (flag == "--session-gap")
            args.sessionGapMs = std::max(1000L, std::stol(argv[i + 1]));
        else if (flag == "--only" && (std::string_view(argv[i + 1]) == "parse" ||
                                      std::string_view(argv[i + 1]) == "validate" ||
                                      std::string_view(argv[i + 1]) == "aggregate"))
            args.only = argv[i + 1];
        else {
            usage();
            return 2;
        }
    }

    // Memory first, on a heap no other stage has used yet; printed last.
    if (!args.only.empty())
        args.keys = 0;
    const MemoryResult mem = args.keys > 0 ? memoryPerKeys(args) : MemoryResult{};
    snapshotCost();

    std::vector<InputResult> results;
    for (const int users : args.users) {
        InputResult r;
        if (!runInput(args, users, r))
            return 0; // --only
        results.push_back(r);
    }

    if (args.keys > 0) {
        const AggregateCounters &mc = mem.counters;
        const double open = static_cast<double>(std::max<std::uint64_t>(1, mc.openSessions));
        const double perMillion = 1e6 / open;
        const double rssGrowth =
            static_cast<double>(mem.rssAfter) - static_cast<double>(mem.rssBefore);
        fmt::print("\nmemory: {} events of {} distinct users within 5 s of one window, ingested in "
                   "{:.2f} s; nothing closed (open windows {}, open sessions {}, valid {})\n",
                   mem.events, mem.events, mem.seconds, mc.openWindows, mc.openSessions, mc.valid);
        fmt::print("  dedupe set entries:            {:>12}\n", mc.dedupeEntries);
        fmt::print("  counters().stateBytes:         {:>12.1f} MiB  = {:>7.1f} MiB per million "
                   "open sessions ({:.0f} bytes each)\n",
                   static_cast<double>(mc.stateBytes) / 1048576.0,
                   static_cast<double>(mc.stateBytes) * perMillion / 1048576.0,
                   static_cast<double>(mc.stateBytes) / open);
        fmt::print("  process RSS growth:            {:>12.1f} MiB  = {:>7.1f} MiB per million "
                   "open sessions ({:.0f} bytes each; RSS {:.1f} -> {:.1f} MiB)\n",
                   rssGrowth / 1048576.0, rssGrowth * perMillion / 1048576.0, rssGrowth / open,
                   static_cast<double>(mem.rssBefore) / 1048576.0,
                   static_cast<double>(mem.rssAfter) / 1048576.0);
        fmt::print("  stateBytes / RSS growth:       {:>12.2f}\n",
                   rssGrowth > 0 ? static_cast<double>(mc.stateBytes) / rssGrowth : 0.0);
    }

    for (const InputResult &r : results) {
        fmt::print("\n{}:\n", r.label);
        fmt::print("  ratio aggregate/parse-only = {:.2f} (cpu; wall {:.2f}) (target >= 0.50): "
                   "{}\n",
                   r.ratio, r.ratioWall, r.ratio >= 0.50 ? "met" : "NOT met");
        fmt::print("  aggregate events/s per core = {:.0f} (per cpu second; wall {:.0f}) "
                   "(target >= 3,000,000): {}\n",
                   r.perCore, r.perCoreWall, r.perCore >= 3'000'000 ? "met" : "NOT met");
    }
    return 0;
}
