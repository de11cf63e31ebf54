#include "app/commands.h"

#include "app/engine.h"
#include "app/metricsserver.h"
#include "app/signals.h"
#include "core/aggregate/finalscollector.h"
#include "core/common/metrics.h"
#include "core/common/timeutil.h"
#include "core/monitor/monitor.h"
#include "core/pipeline/pipeline.h"
#include "core/store/csvreport.h"
#include "core/store/sinkworker.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <thread>

namespace studio::app {

namespace {

constexpr int kNotDrained = 4;

std::string clock(std::int64_t ms)
{
    return ms == core::kNoWatermark ? std::string("-") : core::formatIsoMs(ms).substr(11, 12);
}

} // namespace

int runPipeline(RunCommand &r, const std::string &announce)
{
    core::AggregatorConfig config;
    if (std::string e = finishAggregatorOptions(r.aggregator, config); !e.empty())
        return usageError(e);
    core::MonitorSettings monitorSettings;
    if (std::string e = buildMonitorSettings(r.produce.monitoring, monitorSettings); !e.empty())
        return usageError(e);
    if (r.archiveRaw && !monitorSettings.postgres)
        return usageError("--archive-raw needs --postgres (the archive is the raw_events table)");
    Engine engine;
    if (auto code = startEngine(r.produce, engine))
        return *code;

    core::CsvReportCollector reports;
    // Persistence: with --postgres or --redis the results go to the sinks, checkpointed with the
    // offsets they cover (durable mode); the CSV reports still get every final row.
    const bool durable = monitorSettings.postgres || monitorSettings.redis;
    core::FinalsCollector finals(&reports);
    std::unique_ptr<core::SinkWorker> sinks;
    if (durable) {
        core::SinkSettings ss;
        ss.postgres = monitorSettings.postgres;
        ss.postgresOptions.rawArchive = r.archiveRaw;
        ss.redis = monitorSettings.redis;
        ss.shard = r.shard;
        ss.groupId = r.groupId;
        sinks = std::make_unique<core::SinkWorker>(std::move(ss));
        sinks->start(); // connects in the background: a server that is down is retried
    }
    core::Aggregator aggregator(config,
                                durable ? static_cast<core::AggregateSink *>(&finals) : &reports);
    core::PipelineSettings settings;
    settings.topic = r.produce.producer.settings.topic;
    settings.groupId = r.groupId;
    settings.extra = {
        {"session.timeout.ms", std::to_string(static_cast<int>(r.sessionTimeoutSeconds * 1000))},
        {"heartbeat.interval.ms",
         std::to_string(std::max(500, static_cast<int>(r.sessionTimeoutSeconds * 1000 / 6)))}};
    settings.checkpointIntervalMs = r.checkpointMs;
    if (durable) {
        settings.sinks = sinks.get();
        settings.finals = &finals;
        settings.shard = r.shard;
        settings.archiveRaw = r.archiveRaw;
    }
    core::AggregatorPipeline pipeline(engine.cluster, settings, aggregator);
    // Declared after what they read, so they are removed (waiting for a scrape) before it goes.
    const auto metrics =
        registerEngineMetrics(engine.metrics.registry(), {&engine.pool, &pipeline, &aggregator});
    std::string error;
    if (!pipeline.start(&error)) {
        fmt::print(stderr, "error: aggregator: {}\n", error);
        return kRuntimeError;
    }
    if (auto code = startProducers(r.produce, engine))
        return *code;

    // Cluster view, group lag and status, health probes and alert rules, over the same engine.
    monitorSettings.cluster = engine.cluster;
    monitorSettings.embedded = engine.broker.isRunning() ? &engine.broker : nullptr;
    core::Monitor monitor(monitorSettings);
    monitor.watchPipeline(&pipeline, &aggregator);
    monitor.watchProducers(&engine.pool);
    if (!monitor.start(&error)) {
        fmt::print(stderr, "error: monitoring: {}\n", error);
        return kUsageError;
    }
    std::optional<MetricsRegistration> sinkMetrics;
    if (sinks)
        sinkMetrics = registerSinkMetrics(engine.metrics.registry(), *sinks);
    const auto monitorMetrics = engine.metrics.registry().add(
        "monitor", [&monitor](core::MetricsText &t) { monitor.collectMetrics(t); });
    std::size_t alertsSeen = 0; // history entries already printed

    const auto &p = r.produce.producer;
    if (!announce.empty())
        fmt::print(stderr, "{}\n", announce);
    fmt::print(
        stderr,
        "Clickstream Studio headless: {} '{}' on {}, aggregating in group '{}' (dead "
        "letters to '{}'){}{}\n",
        p.producers > 0 ? fmt::format("producing {} events/s to",
                                      grouped(static_cast<std::uint64_t>(p.settings.ratePerSecond)))
                        : std::string("reading"),
        settings.topic, engine.cluster.describe(), settings.groupId, settings.dlqTopic(),
        durable ? fmt::format(", results to {}{}{}", monitorSettings.postgres ? "PostgreSQL" : "",
                              monitorSettings.postgres && monitorSettings.redis ? " and " : "",
                              monitorSettings.redis ? "Redis" : "")
                : std::string(),
        p.durationSeconds > 0 ? fmt::format(", for {} s", p.durationSeconds)
                              : std::string(", Ctrl-C to stop"));

    const bool json = r.produce.producer.json;
    std::FILE *statusOut = json ? stderr : stdout;
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(Clock::now() - started).count();
    };
    auto status = [&](const char *phase) {
        const Totals t = totalsOf(engine.pool);
        const core::PipelineStats ps = pipeline.stats();
        const core::AggregateCounters c = aggregator.counters();
        std::string line = fmt::format(
            "[{:6.1f}s]{} produced {:>9}/s consumed {:>9}/s lag {:>7} partitions {} | watermark {} "
            "| valid {} dup {} late {} invalid {} | dead letters {}",
            elapsed(), phase, grouped(static_cast<std::uint64_t>(t.rate)),
            grouped(static_cast<std::uint64_t>(ps.consumedRate)),
            ps.lagMessages < 0 ? std::string("?")
                               : grouped(static_cast<std::uint64_t>(ps.lagMessages)),
            ps.assignedPartitions, clock(c.watermarkMs), grouped(c.valid), grouped(c.duplicates),
            grouped(c.late), grouped(c.invalid), grouped(ps.deadLettered));
        if (!t.keepingUp)
            line += fmt::format(" | producer BEHIND target, limited by {}", t.limitedBy);
        if (!ps.lastError.empty())
            line += " | " + ps.lastError;
        if (auto g = monitor.groups().snapshot()) {
            for (const auto &group : g->groups) {
                if (group.groupId == settings.groupId)
                    line += fmt::format(" | lag status {}", core::lagStatusName(group.status));
            }
        }
        if (sinks) {
            const core::AggregatorSnapshot snap = aggregator.snapshot();
            core::RedisBatch live;
            live.pages = snap.pages;
            live.funnel = snap.funnel;
            sinks->submitLive(std::move(live));
            for (const auto &[name, st] : {std::pair{"postgresql", sinks->postgresStatus()},
                                           std::pair{"redis", sinks->redisStatus()}}) {
                if (st.state == core::ServiceState::NotConfigured)
                    continue;
                line += fmt::format(
                    " | {} {} {} rows{}", name, core::toString(st.state), grouped(st.writtenRows),
                    st.bufferedBatches || st.bufferedRows
                        ? fmt::format(", {} rows in {} batches buffered", grouped(st.bufferedRows),
                                      grouped(st.bufferedBatches))
                        : std::string());
                if (st.state != core::ServiceState::Up && !st.lastError.empty())
                    line += fmt::format(" ({})", st.lastError);
            }
            if (ps.backPressure)
                line += " | PAUSED: sinks behind";
        }
        const core::MonitorStatus ms = monitor.status();
        if (ms.firing > 0)
            line += fmt::format(" | ALERTS FIRING {}", ms.firing);
        fmt::print(statusOut, "{}\n", line);
        if (r.jsonStatus) {
            // The same status for scripts and soak tests: counters only grow within one run.
            nlohmann::ordered_json j = {{"elapsed", elapsed()},
                                        {"phase", *phase ? "draining" : "running"},
                                        {"produced", t.produced},
                                        {"acked", t.acked},
                                        {"failed", t.failed},
                                        {"consumed", ps.consumed},
                                        {"consumed_rate", ps.consumedRate},
                                        {"lag", ps.lagMessages},
                                        {"partitions", ps.assignedPartitions},
                                        {"watermark", c.watermarkMs == core::kNoWatermark
                                                          ? std::string()
                                                          : core::formatIsoMs(c.watermarkMs)},
                                        {"valid", c.valid},
                                        {"duplicates", c.duplicates},
                                        {"late", c.late},
                                        {"invalid", c.invalid},
                                        {"dead_lettered", ps.deadLettered},
                                        {"dead_letter_failed", ps.deadLetterFailed},
                                        {"checkpoints", ps.checkpoints},
                                        {"restored", ps.restored},
                                        {"back_pressure", ps.backPressure},
                                        {"last_error", ps.lastError},
                                        {"open_windows", c.openWindows},
                                        {"open_sessions", c.openSessions},
                                        {"dedupe_entries", c.dedupeEntries},
                                        {"state_bytes", c.stateBytes},
                                        {"rss_bytes", static_cast<std::int64_t>(residentBytes())},
                                        {"alerts_firing", ms.firing}};
            if (sinks) {
                for (const auto &[name, st] : {std::pair{"postgresql", sinks->postgresStatus()},
                                               std::pair{"redis", sinks->redisStatus()}}) {
                    if (st.state == core::ServiceState::NotConfigured)
                        continue;
                    j[name] = {{"state", std::string(core::toString(st.state))},
                               {"written_rows", st.writtenRows},
                               {"buffered_rows", st.bufferedRows},
                               {"buffered_batches", st.bufferedBatches},
                               {"last_error", st.lastError}};
                }
            }
            fmt::print(stdout, "{}\n", j.dump());
            std::fflush(stdout);
        }
        // Alert transitions since the last line, one line each.
        const auto history = monitor.alerts().history();
        if (history.size() < alertsSeen)
            alertsSeen = 0;
        for (std::size_t i = alertsSeen; i < history.size(); ++i) {
            const core::AlertTransition &tr = history[i];
            if (tr.alert.state == core::AlertState::Pending || tr.notifies())
                fmt::print(statusOut, "alert {}: {} ({}) {}\n", core::toString(tr.alert.state),
                           tr.alert.rule, core::toString(tr.alert.severity), tr.alert.summary);
        }
        alertsSeen = history.size();
        std::fflush(statusOut);
    };

    // Until the duration, Ctrl-C, or a replay played once.
    const double producing = runTicking(
        p.durationSeconds, [&](double) { status(""); },
        [&] { return p.producers > 0 && !totalsOf(engine.pool).anyRunning; });
    engine.pool.stopAll();
    const Totals t = totalsOf(engine.pool);

    // Drain: everything acknowledged is consumed and the lag is back to zero.
    bool drained = false;
    const auto drainStart = Clock::now();
    double nextDrainStatus = elapsed() + 1.0;
    while (!drained) {
        const core::PipelineStats ps = pipeline.stats();
        drained =
            ps.lagMessages == 0 && (!r.produce.connection.embedded() || ps.consumed >= t.acked);
        if (drained)
            break;
        if (std::chrono::duration<double>(Clock::now() - drainStart).count() > r.drainSeconds ||
            (stopRequested() &&
             std::chrono::duration<double>(Clock::now() - drainStart).count() > 5))
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (elapsed() >= nextDrainStatus) {
            status(" draining:");
            nextDrainStatus += 1.0;
        }
    }
    const core::MonitorStatus monitorStatus = monitor.status();
    monitor.stop();
    monitor.watchPipeline(nullptr, nullptr);
    pipeline.stop(); // in durable mode its last checkpoint holds the open state, before the flush
    const core::PipelineStats ps = pipeline.stats();
    aggregator.flush();
    const core::AggregateCounters c = aggregator.counters();
    bool sinksWritten = true;
    if (sinks) {
        // What the flush made final goes to the sinks too (rows only: the stored checkpoint
        // keeps the state from before the flush, so a later run continues these windows and
        // rewrites their rows with the full counts).
        core::SinkBatch last;
        last.shard = r.shard;
        last.results = finals.take();
        sinks->submit(std::move(last));
        sinksWritten = sinks->flush(std::chrono::milliseconds(
            static_cast<long long>(std::max(5.0, r.drainSeconds) * 1000)));
        if (!sinksWritten)
            fmt::print(stderr,
                       "warning: the sinks did not write everything in time ({}); what is "
                       "missing was not committed and is read again by the next run\n",
                       sinks->postgresStatus().lastError.empty()
                           ? sinks->redisStatus().lastError
                           : sinks->postgresStatus().lastError);
        sinks->stop(std::chrono::seconds(2));
    }
    if (!r.reportDir.empty() && !reports.write(r.reportDir, &error)) {
        fmt::print(stderr, "error: {}\n", error);
        return kRuntimeError;
    }
    const double seconds = elapsed();
    fmt::print(stderr,
               "done: produced {} acked {} failed {} in {:.1f} s ({} events/s) | consumed {}, lag "
               "{}{} | valid {}, duplicates {}, late {}, invalid {}, dead letters {} | {} page "
               "rows, {} sessions{}\n",
               grouped(t.produced), grouped(t.acked), grouped(t.failed), producing,
               grouped(static_cast<std::uint64_t>(producing > 0 ? t.produced / producing : 0)),
               grouped(ps.consumed), ps.lagMessages, drained ? "" : " (NOT drained)",
               grouped(c.valid), grouped(c.duplicates), grouped(c.late), grouped(c.invalid),
               grouped(ps.deadLettered), reports.pages().size(), reports.sessions().size(),
               r.reportDir.empty() ? std::string() : ", reports in " + r.reportDir);
    if (json) {
        fmt::print("{{\"produced\":{},\"acked\":{},\"failed\":{},\"consumed\":{},\"lag\":{},"
                   "\"drained\":{},\"valid\":{},\"invalid\":{},\"duplicates\":{},\"late\":{},"
                   "\"dead_lettered\":{},\"dead_letter_failed\":{},\"page_rows\":{},"
                   "\"geo_rows\":{},\"sessions\":{},\"funnel_rows\":{},\"seconds\":{:.3f},"
                   "\"producing_seconds\":{:.3f},\"achieved_rps\":{:.1f},\"alerts_firing\":{},"
                   "\"checkpoints\":{},\"restored\":{},\"postgres_rows\":{},\"redis_rows\":{},"
                   "\"sinks_written\":{},\"report_dir\":\"{}\"}}\n",
                   t.produced, t.acked, t.failed, ps.consumed, ps.lagMessages,
                   drained ? "true" : "false", c.valid, c.invalid, c.duplicates, c.late,
                   ps.deadLettered, ps.deadLetterFailed, reports.pages().size(),
                   reports.geo().size(), reports.sessions().size(), reports.funnel().size(),
                   seconds, producing, producing > 0 ? t.produced / producing : 0.0,
                   monitorStatus.firing, ps.checkpoints, ps.restored ? "true" : "false",
                   sinks ? sinks->postgresStatus().writtenRows : 0,
                   sinks ? sinks->redisStatus().writtenRows : 0, sinksWritten ? "true" : "false",
                   r.reportDir);
        std::fflush(stdout);
    }
    if (t.failed > 0)
        return kDeliveryFailures;
    if (!sinksWritten)
        return kRuntimeError;
    return drained ? 0 : kNotDrained;
}

} // namespace studio::app
