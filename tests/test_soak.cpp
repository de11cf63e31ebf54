// Soak and faults (issue 9), against real processes and servers on loopback: a `broker` process,
// a `produce` process at a fixed rate, and a `headless` aggregator process writing to a real
// PostgreSQL and Redis, while faults come one after another:
//
//   SIGKILL of the aggregator (restarted after its group session lapsed), all brokers down for
//   10 s (SIGUSR1/SIGUSR2 to `broker`: the librdkafka mock's set_down/set_up), a PostgreSQL
//   restart (same port and data directory), a Redis restart.
//
// Then the aggregator's status lines (`--json-status`) must show memory flat after warm-up (the
// least-squares slope of resident memory from kRssWarmUpSeconds to the end below
// kMaxRssSlopeMiBPerMinute), no error counter above zero, and lag bounded;
// and `clickstream-studio verify` must print ALL-RECORDS-ACCOUNTED: every event of the topic
// (as many as the producer acked) counted exactly once in PostgreSQL's merged tables. The events
// come from a tap (kcat -J from the beginning, started before the producer), because the
// embedded broker keeps only the newest ~50,000 messages of each partition.
//
// In ctest: 600 s of producing (about 12 minutes in all); alone, `build/tests/test_soak
// "[faults]"`, and with STUDIO_KEEP_TEMP=1 the logs of every process (the aggregator's
// --json-status lines included) stay in /tmp/studio-soak-*. The long mode is the same test with a
// longer run; the faults stay in the first minute, the rest is steady soak:
//
//   STUDIO_SOAK_SECONDS=3600 STUDIO_SOAK_RPS=10000 build/tests/test_soak "[faults]"
//
// (STUDIO_SOAK_RPS defaults to 5000.) The verifier can also be run by hand against any run:
//
//   kcat -C -b HOST:PORT -t clickstream -o beginning -J -q -u > tap.jsonl &
//   ... produce and aggregate ...
//   PGPASSWORD=... build/bin/clickstream-studio verify --broker HOST:PORT --messages tap.jsonl
//       --postgres postgresql://user@host:port/db --expect-events ACKED --watermark-delay 60s
//
// (without --messages it reads the topic itself, which is enough while nothing has aged out).
//
// The second test case shows that the verifier can fail: a tampered table is reported as lost or
// duplicated events, never as ALL-RECORDS-ACCOUNTED.

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "jsonfields.h"
#include "serversupport.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace sd = studio::test::serverdetail;

const std::string kStudio = STUDIO_EXECUTABLE;

double envNumber(const char *name, double fallback)
{
    const char *v = std::getenv(name);
    return v && *v ? std::atof(v) : fallback;
}

std::string readText(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

/// A clickstream-studio process with stdout and stderr in a log file (serversupport's spawn);
/// killed by the destructor if still running.
class Studio
{
public:
    Studio(const std::string &dir, const std::string &name, std::vector<std::string> args,
           const std::string &program = kStudio)
        : m_log(dir + "/" + name + ".log")
    {
        args.insert(args.begin(), program);
        std::filesystem::remove(m_log); // spawn appends: a rerun under the same name starts empty
        m_pid = sd::spawn(args, m_log, dir, sd::RunAs{});
    }
    ~Studio()
    {
        if (m_pid > 0)
            sd::terminate(m_pid, SIGKILL, 5s);
    }
    Studio(const Studio &) = delete;
    Studio &operator=(const Studio &) = delete;

    bool running() const { return m_pid > 0; }
    std::string log() const { return readText(m_log); }
    void signal(int sig) const
    {
        if (m_pid > 0)
            ::kill(m_pid, sig);
    }
    /// Waits up to `timeout` for the exit; its code (128 + signal when killed), -1 on timeout
    /// (then it is killed).
    int wait(std::chrono::seconds timeout)
    {
        if (m_pid <= 0)
            return m_code;
        const auto code = sd::waitExit(m_pid, timeout);
        if (!code) {
            sd::terminate(m_pid, SIGKILL, 5s);
            return m_code = -1;
        }
        m_pid = 0;
        return m_code = *code;
    }
    void kill9()
    {
        signal(SIGKILL);
        wait(10s);
    }
    /// The first log line matching `re` within `timeout`, or empty.
    std::string waitForLine(const std::regex &re, std::chrono::seconds timeout) const
    {
        const auto until = Clock::now() + timeout;
        while (Clock::now() < until) {
            for (const auto &line : lines(log()))
                if (std::regex_match(line, re))
                    return line;
            std::this_thread::sleep_for(100ms);
        }
        return {};
    }
    /// Lines that are JSON objects starting with `prefix` (e.g. `{"elapsed"`).
    std::vector<std::string> jsonLines(const std::string &prefix) const
    {
        std::vector<std::string> out;
        for (auto &line : lines(log()))
            if (line.rfind(prefix, 0) == 0)
                out.push_back(std::move(line));
        return out;
    }

private:
    std::string m_log;
    pid_t m_pid = 0;
    int m_code = -1;
};

/// Runs clickstream-studio to completion; exit code and everything it printed.
struct Ran
{
    int code = -1;
    std::string out;
};
Ran runStudio(const std::string &dir, const std::string &name, const std::vector<std::string> &args,
              std::chrono::seconds timeout)
{
    Studio s(dir, name, args);
    Ran r;
    r.code = s.wait(timeout);
    r.out = s.log();
    return r;
}

using studio::test::jsonInt;

/// One second of the aggregator's --json-status.
struct Status
{
    double elapsed = 0;
    std::int64_t lag = -1, consumed = 0, rss = 0, invalid = 0, late = 0, deadLettered = 0,
                 deadLetterFailed = 0, duplicates = 0;
    std::string postgres, redis;
};

std::vector<Status> statusesOf(const Studio &aggregator)
{
    simdjson::dom::parser parser;
    std::vector<Status> out;
    for (const auto &line : aggregator.jsonLines("{\"elapsed\"")) {
        simdjson::dom::element doc;
        if (parser.parse(line).get(doc))
            continue;
        Status s;
        if (doc["elapsed"].get(s.elapsed) != simdjson::SUCCESS)
            continue;
        s.lag = jsonInt(parser, line, "lag");
        s.consumed = jsonInt(parser, line, "consumed");
        s.rss = jsonInt(parser, line, "rss_bytes");
        s.invalid = jsonInt(parser, line, "invalid");
        s.late = jsonInt(parser, line, "late");
        s.duplicates = jsonInt(parser, line, "duplicates");
        s.deadLettered = jsonInt(parser, line, "dead_lettered");
        s.deadLetterFailed = jsonInt(parser, line, "dead_letter_failed");
        std::string_view state;
        if (doc["postgresql"]["state"].get(state) == simdjson::SUCCESS)
            s.postgres = std::string(state);
        if (doc["redis"]["state"].get(state) == simdjson::SUCCESS)
            s.redis = std::string(state);
        out.push_back(s);
    }
    return out;
}

/// Resident memory may rise by at most this much per minute after warm-up: the least-squares
/// slope of every status line's RSS from kRssWarmUpSeconds of producing to the end. Memory
/// breathes with each checkpoint (a copy of the open state lives until PostgreSQL has stored it,
/// then the sink gives the pages back) and with the open windows over each minute; a slope over
/// three minutes of lines is what stays. 1.5 MiB a minute is a leak of 5 bytes per event at the
/// default 5,000 events/s; the bound before (growth under 5% between the medians of the first and
/// last 10 s of a 180 s run's last half, about 80 s apart at 80-96 MiB) let 3-3.6 MiB a minute
/// pass. A leak of 8 bytes per event adds 2.3 MiB a minute at 5,000 events/s: over this bound on
/// a flat run, but the runs' own slopes from 420 s were -2.5 to -0.1 MiB a minute (four runs,
/// bench/README.md), so on one still settling it may not trip (not tried with an injected leak).
constexpr double kMaxRssSlopeMiBPerMinute = 1.5;
/// Resident memory still rises for minutes after the faults, with the open state already flat:
/// on the quiet machine until about minute 3, on a loaded one (load 15 on 2 cores) until minute 7
/// (bench/README.md "Soak"). The old bound measured the last half of a 180 s run, all of it
/// warm-up, and failed on it once in two runs (+5.19%). The slope is taken after this many
/// seconds of producing, over at least kRssWindowSeconds.
constexpr double kRssWarmUpSeconds = 420;
constexpr double kRssWindowSeconds = 150;

/// The least-squares slope of y over x; 0 with fewer than two distinct x.
double leastSquaresSlope(const std::vector<double> &x, const std::vector<double> &y)
{
    const std::size_t n = std::min(x.size(), y.size());
    if (n < 2)
        return 0;
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxx > 0 ? sxy / sxx : 0;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Everything a soak run needs on loopback: PostgreSQL, Redis, a `broker` process.
struct Servers
{
    sd::TempDir dir{"studio-soak"};
    studio::test::PostgresServer pg;
    studio::test::RedisServer redis;
    std::unique_ptr<Studio> broker;
    std::string bootstrap;

    void start(int partitions)
    {
        std::string why;
        if (!studio::test::PostgresServer::available(&why))
            FAIL("PostgreSQL is needed: " << why);
        if (!studio::test::RedisServer::available(&why))
            FAIL("Redis is needed: " << why);
        std::string error;
        REQUIRE(pg.start(&error));
        REQUIRE(redis.start(&error));
        // The children (aggregator, verify) read the password from the environment.
        ::setenv("PGPASSWORD", pg.password().c_str(), 1);
        broker = std::make_unique<Studio>(
            dir.path, "broker",
            std::vector<std::string>{"broker", "--partitions", std::to_string(partitions)});
        bootstrap = broker->waitForLine(std::regex(R"(127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)*)"), 30s);
        INFO(broker->log());
        REQUIRE_FALSE(bootstrap.empty());
    }
    std::string postgresUri() const
    {
        return "postgresql://studio@127.0.0.1:" + std::to_string(pg.port()) + "/" + pg.database();
    }
    std::string redisUri() const
    {
        return "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
    }
};

} // namespace

TEST_CASE("verify reports a tampered table as lost or duplicated", "[soak][verify]")
{
    Servers s;
    s.start(4);
    const std::string &dir = s.dir.path;
    simdjson::dom::parser parser;

    const Ran produced = runStudio(dir, "produce",
                                   {"produce", "--broker", s.bootstrap, "--rps", "5000",
                                    "--duration", "2", "--seed", "3", "--late", "0", "--json"},
                                   60s);
    INFO(produced.out);
    REQUIRE(produced.code == 0);
    const auto summary = lines(produced.out);
    const std::int64_t acked = jsonInt(parser, summary.back(), "acked");
    REQUIRE(acked > 5000);

    const Ran aggregated =
        runStudio(dir, "aggregate",
                  {"headless", "--broker", s.bootstrap, "--producers", "0", "--postgres",
                   s.postgresUri(), "--checkpoint-ms", "200", "--session-timeout", "6",
                   "--duration", "4", "--drain-timeout", "60", "--json"},
                  120s);
    INFO(aggregated.out);
    REQUIRE(aggregated.code == 0);

    auto verify = [&](std::int64_t expect) {
        return runStudio(dir, "verify",
                         {"verify", "--broker", s.bootstrap, "--postgres", s.postgresUri(),
                          "--expect-events", std::to_string(expect), "--examples", "3"},
                         120s);
    };
    {
        const Ran v = verify(acked);
        INFO(v.out);
        CHECK(v.code == 0);
        CHECK(contains(v.out, "ALL-RECORDS-ACCOUNTED: " + std::to_string(acked) + " events"));
    }
    std::string error;
    auto sql = [&](const std::string &statement) {
        INFO(error);
        REQUIRE(s.pg.psql(statement, &error));
    };
    // Tampering adds up: one view too many...
    sql("UPDATE page_metrics SET views = views + 1 WHERE ctid = "
        "(SELECT ctid FROM page_metrics WHERE views > 0 LIMIT 1);");
    {
        const Ran v = verify(acked);
        INFO(v.out);
        CHECK(v.code == 1);
        CHECK_FALSE(contains(v.out, "ALL-RECORDS-ACCOUNTED"));
        CHECK(contains(v.out, "lost 0, duplicated 1\n"));
        CHECK(contains(v.out, "NOT ACCOUNTED: lost 0, duplicated 1,"));
        CHECK(contains(v.out, "  e.g. ")); // the key, with the expected and stored counts
    }
    // ...then a geo row gone and a session two events short...
    const auto geoEvents = s.pg.psql(
        "WITH gone AS (DELETE FROM geo_metrics WHERE ctid = (SELECT ctid FROM geo_metrics "
        "LIMIT 1) RETURNING events) SELECT events FROM gone;",
        &error);
    REQUIRE(geoEvents);
    const long long lostGeo = std::atoll(geoEvents->c_str());
    REQUIRE(lostGeo > 0);
    sql("UPDATE sessions SET events = events - 2 WHERE ctid = "
        "(SELECT ctid FROM sessions WHERE events > 2 LIMIT 1);");
    {
        const Ran v = verify(acked);
        INFO(v.out);
        CHECK(v.code == 1);
        CHECK_FALSE(contains(v.out, "ALL-RECORDS-ACCOUNTED"));
        CHECK(contains(v.out, "lost " + std::to_string(lostGeo) + ", duplicated 0\n"));
        CHECK(contains(v.out, "lost 2, duplicated 0\n"));
        CHECK(contains(v.out,
                       "NOT ACCOUNTED: lost " + std::to_string(lostGeo + 2) + ", duplicated 1,"));
    }
    // ...and the producer said it delivered one more than the topic holds.
    {
        const Ran v = verify(acked + 1);
        INFO(v.out);
        CHECK(v.code == 1);
        CHECK(contains(v.out, "kafka lost 1,"));
    }
}

// Memory flat, no errors, lag bounded, ALL-RECORDS-ACCOUNTED through broker down, PostgreSQL and
// Redis restarts and a SIGKILL of the aggregator. In ctest (label soak, run serially: it measures
// memory and lag, so it must not share the 2 cores with other tests), about 12 minutes: the
// memory bound needs three minutes after a seven-minute warm-up (kRssWarmUpSeconds).
TEST_CASE("soak with faults: every record accounted", "[soak][faults]")
{
    const double seconds = std::max(90.0, envNumber("STUDIO_SOAK_SECONDS", 600));
    if (seconds < kRssWarmUpSeconds + kRssWindowSeconds)
        FAIL("STUDIO_SOAK_SECONDS must be at least "
             << kRssWarmUpSeconds + kRssWindowSeconds
             << ": the memory bound is measured after the warm-up (kRssWarmUpSeconds)");
    const double rps = std::max(100.0, envNumber("STUDIO_SOAK_RPS", 5000));
    Servers s;
    s.start(12);
    const std::string &dir = s.dir.path;
    simdjson::dom::parser parser;

    // The watermark waits 60 s: a restarted aggregator or a broker back from an outage catches
    // up on 12 partitions at once, unevenly, and an event behind the watermark is late (sent to
    // the dead-letter topic, not counted). With 20 s, the 10 s broker outage made ~28,000 events
    // late (partitions read up to ~30 s apart after it); 60 s covers that. verify uses the same
    // windows.
    auto aggregatorArgs = [&](const std::string &seconds) {
        return std::vector<std::string>{"headless",
                                        "--broker",
                                        s.bootstrap,
                                        "--producers",
                                        "0",
                                        "--group",
                                        "soak",
                                        "--postgres",
                                        s.postgresUri(),
                                        "--redis",
                                        s.redisUri(),
                                        "--checkpoint-ms",
                                        "5000",
                                        "--watermark-delay",
                                        "60s",
                                        "--session-timeout",
                                        "6",
                                        "--duration",
                                        seconds,
                                        "--drain-timeout",
                                        "120",
                                        "--json",
                                        "--json-status"};
    };
    // The expected events: the embedded broker keeps only the newest ~50,000 messages of each
    // partition, so verify reads a tap, kcat recording every message from the start as it
    // arrives (no group, no commits; it reconnects after the outage like any client).
    const std::string kcat = "/usr/bin/kcat";
    if (::access(kcat.c_str(), X_OK) != 0)
        FAIL("kcat is needed for the tap (scripts/bootstrap.sh installs it)");
    // kcat gives up when every broker is down, so a loop starts it again (from the beginning:
    // verify skips offsets it has seen).
    Studio tap(dir, "tap",
               {"-c", "while :; do " + kcat + " -C -b " + s.bootstrap +
                          " -t clickstream -o beginning -J -q -u; sleep 1; done"},
               "/bin/bash");
    std::this_thread::sleep_for(2s);
    const std::string runFor = std::to_string(static_cast<int>(seconds * 4 + 300));
    auto first = std::make_unique<Studio>(dir, "aggregator-1", aggregatorArgs(runFor));
    std::this_thread::sleep_for(2s);
    Studio producer(dir, "producer",
                    {"produce", "--broker", s.bootstrap, "--rps",
                     std::to_string(static_cast<long long>(rps)), "--duration",
                     std::to_string(static_cast<long long>(seconds)), "--seed", "9", "--late", "0",
                     "--duplicates", "0", "--malformed", "0", "--json"});
    const auto t0 = Clock::now();
    auto at = [&](double second) {
        std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(second)));
    };
    auto now = [&] {
        return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    std::ostringstream timeline;

    // 1. SIGKILL of the aggregator; its successor starts once the group session (6 s) lapsed.
    at(12);
    first->kill9();
    timeline << "aggregator SIGKILL at " << now() << " s; ";
    at(20);
    Studio aggregator(dir, "aggregator-2", aggregatorArgs(runFor));
    const double secondStarted = now();
    timeline << "restarted at " << secondStarted << " s; ";

    // 2. Every broker down for 10 s.
    at(30);
    s.broker->signal(SIGUSR1);
    timeline << "brokers down at " << now() << " s; ";
    at(40);
    s.broker->signal(SIGUSR2);
    timeline << "up at " << now() << " s; ";

    // 3. PostgreSQL restart: same port, same data directory.
    std::string error;
    at(50);
    s.pg.stop();
    timeline << "PostgreSQL stopped at " << now() << " s; ";
    std::this_thread::sleep_for(8s); // longer than a checkpoint interval (5 s): a write must fail
    REQUIRE(s.pg.start(&error));
    timeline << "up at " << now() << " s; ";

    // 4. Redis restart (it keeps nothing: the live keys are rewritten, the record is PostgreSQL).
    at(60);
    s.redis.stop();
    timeline << "Redis stopped at " << now() << " s; ";
    std::this_thread::sleep_for(3s);
    REQUIRE(s.redis.start(&error));
    timeline << "up at " << now() << " s; ";
    INFO("timeline: " << timeline.str());

    // The rest is steady soak until the producer is done.
    INFO("broker log:\n" << s.broker->log());
    const int producedCode =
        producer.wait(std::chrono::seconds(static_cast<long long>(seconds) + 120));
    const std::string producerLog = producer.log();
    INFO(producerLog.substr(producerLog.size() > 3000 ? producerLog.size() - 3000 : 0));
    REQUIRE(producedCode == 0);
    const auto summaryLines = producer.jsonLines("{\"produced\"");
    REQUIRE_FALSE(summaryLines.empty());
    const std::int64_t acked = jsonInt(parser, summaryLines.back(), "acked");
    const std::int64_t failed = jsonInt(parser, summaryLines.back(), "failed");
    const std::int64_t producedCount = jsonInt(parser, summaryLines.back(), "produced");
    CHECK(failed == 0);
    CHECK(producedCount == acked + failed);
    CHECK(acked >= static_cast<std::int64_t>(rps * seconds * 0.9));
    const double producerDone = now();

    // Caught up: three status lines in a row with lag 0 after the producer finished.
    const auto caughtUpBy = Clock::now() + 120s;
    for (;;) {
        const auto st = statusesOf(aggregator);
        int zeros = 0;
        for (auto it = st.rbegin(); it != st.rend() && it->lag == 0; ++it)
            ++zeros;
        if (zeros >= 3 || Clock::now() > caughtUpBy)
            break;
        std::this_thread::sleep_for(500ms);
    }
    aggregator.signal(SIGTERM);
    const int aggregatorCode = aggregator.wait(180s);
    const std::string aggregatorLog = aggregator.log();
    INFO(aggregatorLog.substr(aggregatorLog.size() > 4000 ? aggregatorLog.size() - 4000 : 0));
    CHECK(aggregatorCode == 0);
    const auto finals = aggregator.jsonLines("{\"produced\"");
    REQUIRE_FALSE(finals.empty());
    CHECK(jsonInt(parser, finals.back(), "restored") == 1);
    CHECK(jsonInt(parser, finals.back(), "sinks_written") == 1);
    CHECK(jsonInt(parser, finals.back(), "drained") == 1);

    // The status lines of the second aggregator (it ran from second 20 to the end).
    const std::vector<Status> st = statusesOf(aggregator);
    REQUIRE(st.size() > static_cast<std::size_t>(seconds / 2));
    // Duplicates are not errors here: the producer injects none, but a consumer that rejoins its
    // group after an outage reads again from the last committed offsets, and the aggregator's
    // dedupe drops what it had already counted (verify below checks that nothing was counted
    // twice). Late events would be lost ones: there must be none.
    std::int64_t lagMax = 0, lagMaxLastHalf = 0;
    std::vector<double> rssFirst, rssLast;
    bool sawPostgresDown = false, sawRedisDown = false;
    // "Last half" of the run in the second aggregator's clock: producer seconds [seconds/2,
    // producerDone].
    const double halfAt = seconds / 2 - secondStarted, endAt = producerDone - secondStarted;
    std::vector<const Status *> lastHalf;
    std::int64_t invalid = 0, late = 0, deadLettered = 0, deadLetterFailed = 0;
    for (const Status &x : st) {
        invalid = std::max(invalid, x.invalid);
        late = std::max(late, x.late);
        deadLettered = std::max(deadLettered, x.deadLettered);
        deadLetterFailed = std::max(deadLetterFailed, x.deadLetterFailed);
        lagMax = std::max(lagMax, x.lag);
        sawPostgresDown = sawPostgresDown || x.postgres == "down";
        sawRedisDown = sawRedisDown || x.redis == "down";
        if (x.elapsed >= halfAt && x.elapsed <= endAt)
            lastHalf.push_back(&x);
    }
    REQUIRE(lastHalf.size() >= 20);
    for (const Status *x : lastHalf)
        lagMaxLastHalf = std::max(lagMaxLastHalf, x->lag);
    // The slope of resident memory over every status line after the warm-up (see
    // kMaxRssSlopeMiBPerMinute); the medians of the last half's first and last 10 s (the bound
    // before) are printed beside it.
    const double rssFrom = std::max(seconds / 2, kRssWarmUpSeconds) - secondStarted;
    std::vector<double> minutes, mib;
    for (const Status &x : st) {
        if (x.elapsed < rssFrom || x.elapsed > endAt)
            continue;
        minutes.push_back(x.elapsed / 60.0);
        mib.push_back(static_cast<double>(x.rss) / 1048576.0);
    }
    REQUIRE(minutes.size() >= static_cast<std::size_t>(kRssWindowSeconds * 0.8));
    const double rssSlope = leastSquaresSlope(minutes, mib);
    for (std::size_t i = 0; i < 10; ++i) {
        rssFirst.push_back(static_cast<double>(lastHalf[i]->rss));
        rssLast.push_back(static_cast<double>(lastHalf[lastHalf.size() - 1 - i]->rss));
    }
    const double rssA = median(rssFirst), rssB = median(rssLast);
    const double growth = rssA > 0 ? (rssB - rssA) / rssA : 1;
    std::ostringstream figures;
    figures << "soak " << seconds << " s at " << rps << " events/s: acked " << acked
            << ", RSS slope after " << std::max(seconds / 2, kRssWarmUpSeconds) << " s ("
            << minutes.size() << " lines, " << (minutes.back() - minutes.front()) * 60 << " s) "
            << rssSlope << " MiB/min (bound " << kMaxRssSlopeMiBPerMinute << "), "
            << "first/last line " << mib.front() << " -> " << mib.back()
            << " MiB; RSS at the start of the last half " << rssA / 1048576.0 << " MiB, at the end "
            << rssB / 1048576.0 << " MiB (growth " << growth * 100 << " %), lag max " << lagMax
            << " (last half " << lagMaxLastHalf << "), re-read events dropped by the dedupe "
            << st.back().duplicates << "; " << timeline.str();
    figures << "; late " << late << ", invalid " << invalid << ", dead letters " << deadLettered;
    WARN(figures.str());
    CHECK(invalid == 0);
    CHECK(late == 0); // a late event is not counted: it would be a lost one
    CHECK(deadLettered == 0);
    CHECK(deadLetterFailed == 0);
    CHECK(sawPostgresDown);
    CHECK(sawRedisDown);
    CHECK(rssSlope < kMaxRssSlopeMiBPerMinute);
    // Bounded: in the last half the aggregator is less than 10 s of events behind (it checkpoints
    // every 5 s, and each checkpoint waits for the previous one to be stored).
    CHECK(lagMaxLastHalf < static_cast<std::int64_t>(rps * 10));

    // The tap has every message, then stops (verify counts any offset it skipped).
    // (Lines read again after a restart count too: wait until the count stops growing.)
    const auto tapUntil = Clock::now() + 90s;
    for (std::int64_t before = -1, stable = 0; Clock::now() < tapUntil && stable < 3;) {
        std::this_thread::sleep_for(1s);
        const auto n = static_cast<std::int64_t>(tap.jsonLines("{").size());
        stable = n >= acked && n == before ? stable + 1 : 0;
        before = n;
    }
    tap.signal(SIGTERM);
    tap.wait(30s);

    // Every acked event counted exactly once in PostgreSQL.
    const Ran v = runStudio(dir, "verify",
                            {"verify", "--broker", s.bootstrap, "--messages", dir + "/tap.log",
                             "--postgres", s.postgresUri(), "--expect-events",
                             std::to_string(acked), "--watermark-delay", "60s"},
                            600s);
    INFO(v.out);
    WARN(v.out);
    CHECK(v.code == 0);
    CHECK(contains(v.out, "ALL-RECORDS-ACCOUNTED: " + std::to_string(acked) + " events"));

    s.broker->signal(SIGTERM);
    s.broker->wait(10s);
}
