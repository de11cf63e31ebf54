// `check`: what seed 001's Airflow DAG did (create a topic, produce, run the job, verify the
// stores), as one command that prints each step with PASS or FAIL.
#include "app/commands.h"

#include "app/commandsupport.h"
#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/engine/studioengine.h"
#include "core/monitor/clustermonitor.h"
#include "core/produce/filereplaysource.h"
#include "core/produce/generator.h"
#include "core/produce/producerpool.h"
#include "core/store/csvreport.h"
#include "core/store/redisclient.h"

#include <fmt/core.h>
#include <hiredis/hiredis.h>
#include <pqxx/pqxx>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace studio::app {

using core::groupThousands;

namespace {

using Clock = std::chrono::steady_clock;

class Steps
{
public:
    bool step(const std::string &name, bool ok, const std::string &detail)
    {
        fmt::print("[{}] {}: {}\n", ok ? "PASS" : "FAIL", name, detail);
        std::fflush(stdout);
        m_failed = m_failed || !ok;
        return ok;
    }
    bool failed() const { return m_failed; }

private:
    bool m_failed = false;
};

// Sum of one column of a CSV report (no quoting in numeric columns).
std::uint64_t sumCsvColumn(const std::string &path, const std::string &column)
{
    std::ifstream in(path);
    std::string header, line;
    std::getline(in, header);
    if (!header.empty() && header.back() == '\r') // RFC 4180 lines end in CRLF
        header.pop_back();
    std::size_t index = 0, pos = 0;
    for (std::size_t i = 0;; ++i) {
        const auto comma = header.find(',', pos);
        if (header.substr(pos, comma - pos) == column) {
            index = i;
            break;
        }
        if (comma == std::string::npos)
            return 0;
        pos = comma + 1;
    }
    std::uint64_t sum = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        // Cells before ours may be quoted with commas inside: count fields from the right.
        std::vector<std::string> cells;
        std::string cell;
        bool quoted = false;
        for (char c : line) {
            if (c == '"')
                quoted = !quoted;
            else if (c == ',' && !quoted) {
                cells.push_back(cell);
                cell.clear();
            } else
                cell += c;
        }
        cells.push_back(cell);
        if (index < cells.size())
            sum += std::strtoull(cells[index].c_str(), nullptr, 10);
    }
    return sum;
}

} // namespace

int runCheck(CheckCommand &c)
{
    core::MonitorSettings targets;
    if (std::string e = buildMonitorSettings(c.monitoring, targets); !e.empty())
        return usageError(e);
    if (std::string e = refuseSecretArguments(c.connection); !e.empty())
        return usageError(e);
    Steps steps;
    const std::int64_t stamp = core::wallClockMs();
    const std::string name = "clickstream-check-" + std::to_string(stamp);

    // The one engine, on a fresh topic of its own: no monitor, no dead letters, its own group
    // and shard (so a shared database keeps this check's rows apart), the CSV reports collected.
    const std::string redisPrefix = name + ":";
    core::StudioEngineSettings settings;
    settings.embedded = c.connection.embedded();
    settings.embeddedOptions.partitions = 4;
    settings.embeddedOptions.topics = {name};
    settings.topic = name;
    settings.groupId = name;
    settings.shard = name;
    settings.deadLetters = false;
    settings.monitor = false;
    settings.collectReports = true;
    if (targets.postgres || targets.redis) {
        core::SinkSettings ss;
        ss.postgres = targets.postgres;
        ss.redis = targets.redis;
        ss.redisOptions.keyPrefix = redisPrefix;
        settings.sinks = std::move(ss);
    }
    if (!settings.embedded) {
        if (std::string e = buildClusterConfig(c.connection, settings.cluster); !e.empty())
            return usageError(e);
    }
    core::StudioEngine engine(settings);

    // 1. The cluster and a fresh topic (the embedded broker creates it as it starts).
    std::string error;
    const bool connected = engine.connect(&error);
    if (settings.embedded) {
        if (!steps.step("broker", connected,
                        connected ? "embedded broker at " + engine.embeddedBroker()->bootstrap()
                                  : error))
            return kRuntimeError;
        steps.step("topic", true, "created " + name + " (4 partitions)");
    } else {
        core::ClusterMonitor monitor(engine.cluster(), nullptr);
        const bool ok = monitor.createTopic(name, 4, 1, &error);
        if (!steps.step("topic", ok, ok ? "created " + name + " (4 partitions)" : error))
            return kRuntimeError;
    }

    // 2. N events from a fixed seed, produced once.
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(dir);
    const std::string input = (dir / "events.jsonl").string();
    {
        core::GeneratorConfig g;
        g.seed = 2026;
        core::EventGenerator generator(g);
        core::RecordBatch batch;
        std::ofstream out(input);
        for (long long i = 0; i < c.count; ++i) {
            batch.clear();
            generator.next(stamp + i / 10, batch); // 10,000 events per second of event time
            for (std::size_t k = 0; k < batch.size(); ++k)
                out << batch.value(k) << '\n';
        }
    }
    {
        core::StudioProducerSettings ps;
        ps.producer.topic = name;
        ps.producer.ratePerSecond = 0;
        auto source = core::FileReplaySource::open(input, false, &error);
        const int id = source ? engine.addProducer(ps, std::move(source)) : 0;
        bool finished = id != 0 && engine.startProducer(id, &error);
        if (finished) {
            engine.waitIdle(); // started on the engine's control thread
            for (const auto &[poolId, producer] : engine.pool().entries())
                finished = producer->waitFinished(std::chrono::seconds(120));
        }
        engine.stopProducers();
        core::ProducerStats s;
        for (const core::ProducerSample &p : engine.status().producers)
            s = p.stats;
        if (error.empty())
            error = s.lastError;
        if (!steps.step("produce", finished && s.acked == std::uint64_t(c.count) && s.failed == 0,
                        fmt::format("{} events from seed 2026: {} acked, {} failed{}",
                                    groupThousands(std::uint64_t(c.count)), groupThousands(s.acked),
                                    groupThousands(s.failed),
                                    error.empty() ? "" : " (" + error + ")")))
            return kRuntimeError;
    }

    // 3. Aggregate them through the sinks.
    error.clear();
    bool consumed = engine.start(&error);
    const auto deadline = Clock::now() + std::chrono::duration<double>(c.timeoutSeconds);
    while (consumed && engine.status().pipeline.consumed < std::uint64_t(c.count) &&
           Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    consumed = consumed && engine.status().pipeline.consumed == std::uint64_t(c.count);
    if (!consumed && error.empty())
        error = engine.status().pipeline.lastError;
    const auto flushFor =
        std::chrono::milliseconds(static_cast<long long>(std::min(60.0, c.timeoutSeconds) * 1000));
    const core::EngineSummary end = engine.finish(flushFor);
    steps.step("aggregate", consumed && end.counters.valid == std::uint64_t(c.count),
               fmt::format("consumed {}, valid {}, invalid {}{}",
                           groupThousands(end.pipeline.consumed),
                           groupThousands(end.counters.valid), groupThousands(end.counters.invalid),
                           error.empty() ? "" : " (" + error + ")"));
    if (settings.sinks) {
        steps.step("sinks", end.sinksWritten,
                   end.sinksWritten ? "everything written"
                                    : "not everything written in time: " + end.sinkError);
    }
    const core::CsvReportCollector &reports = *engine.reports();

    // 4. Verify the stores against the expected totals (every event counts once per table).
    const std::uint64_t expected = std::uint64_t(c.count);
    const std::string reportDir = c.reportDir.empty() ? (dir / "reports").string() : c.reportDir;
    if (reports.write(reportDir, &error)) {
        const std::uint64_t geo = sumCsvColumn(reportDir + "/geo_metrics.csv", "events");
        const std::uint64_t sessions = sumCsvColumn(reportDir + "/sessions.csv", "events");
        steps.step("csv", geo == expected && sessions == expected,
                   fmt::format("geo_metrics.csv events {}, sessions.csv events {}, expected {} "
                               "(in {})",
                               groupThousands(geo), groupThousands(sessions),
                               groupThousands(expected), reportDir));
    } else {
        steps.step("csv", false, error);
    }
    if (targets.postgres) {
        try {
            pqxx::connection db(targets.postgres->connectionString(5));
            pqxx::nontransaction tx(db);
            auto sum = [&](const char *sql) {
                const pqxx::row r = tx.exec_params1(sql, name);
                return r[0].is_null() ? std::uint64_t(0) : r[0].as<std::uint64_t>();
            };
            const std::uint64_t geo = sum("SELECT sum(events) FROM geo_metrics WHERE shard = $1");
            const std::uint64_t sessions = sum("SELECT sum(events) FROM sessions WHERE shard = $1");
            const std::uint64_t pages = sum("SELECT sum(views + clicks + add_to_cart + purchases) "
                                            "FROM page_metrics WHERE shard = $1");
            steps.step("postgresql", geo == expected && sessions == expected && pages == expected,
                       fmt::format("shard {}: geo_metrics {}, sessions {}, page_metrics {}, "
                                   "expected {} each",
                                   name, groupThousands(geo), groupThousands(sessions),
                                   groupThousands(pages), groupThousands(expected)));
        } catch (const std::exception &e) {
            steps.step("postgresql", false,
                       std::string("PostgreSQL at ") + targets.postgres->describe() + ": " +
                           e.what());
        }
    }
    if (targets.redis) {
        const core::RedisTarget &t = *targets.redis;
        const core::RedisContextPtr ctx(redisConnect(t.host.c_str(), t.port));
        std::uint64_t total = 0;
        std::string why;
        auto command = [&](const std::vector<std::string> &args) {
            return core::redisCommandArgs(ctx.get(), args);
        };
        if (!ctx || ctx->err) {
            why = ctx ? ctx->errstr : "out of memory";
        } else {
            std::vector<core::RedisReplyPtr> setup;
            if (!t.password.empty())
                setup.push_back(t.user.empty() ? command({"AUTH", t.password})
                                               : command({"AUTH", t.user, t.password}));
            setup.push_back(command({"SELECT", std::to_string(t.db)}));
            for (const core::RedisReplyPtr &r : setup) {
                if (!r || r->type == REDIS_REPLY_ERROR)
                    why = r ? std::string(r->str, r->len) : "no answer";
            }
            const core::RedisReplyPtr keys =
                why.empty() ? command({"KEYS", redisPrefix + "click_count:*"}) : nullptr;
            for (std::size_t i = 0; keys && i < keys->elements; ++i) {
                const core::RedisReplyPtr values =
                    command({"HVALS", std::string(keys->element[i]->str, keys->element[i]->len)});
                for (std::size_t v = 0; values && v < values->elements; ++v)
                    total += std::strtoull(values->element[v]->str, nullptr, 10);
            }
        }
        steps.step("redis", why.empty() && total == expected,
                   why.empty() ? fmt::format("{}click_count:* sum {}, expected {}", redisPrefix,
                                             groupThousands(total), groupThousands(expected))
                               : "Redis " + t.host + ":" + std::to_string(t.port) + ": " + why);
    }
    fmt::print("{}\n", steps.failed() ? "check FAILED" : "check passed");
    return steps.failed() ? kRuntimeError : 0;
}

} // namespace studio::app
