// `run --headless` / `headless`: a driver over the engine the desktop app uses. Options become
// engine settings, the engine starts, a status line is printed every second until the duration,
// Ctrl-C or the end of a replay, then the aggregator drains and a summary follows.
#include "app/commands.h"

#include "app/commandsupport.h"
#include "app/enginesetup.h"
#include "app/metricsserver.h"
#include "app/signals.h"
#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/engine/studioengine.h"
#include "core/monitor/monitor.h"
#include "core/store/csvreport.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

namespace studio::app {

using core::groupThousands;

namespace {

constexpr int kNotDrained = 4;

std::string clock(std::int64_t ms)
{
    return ms == core::kNoWatermark ? std::string("-") : core::formatIsoMs(ms).substr(11, 12);
}

/// One sink's part of the status line, or "" when it is not configured.
std::string sinkText(const char *name, const core::SinkStatus &st)
{
    if (st.state == core::ServiceState::NotConfigured)
        return {};
    std::string text = fmt::format(
        " | {} {} {} rows{}", name, core::toString(st.state), groupThousands(st.writtenRows),
        st.bufferedBatches || st.bufferedRows
            ? fmt::format(", {} rows in {} batches buffered", groupThousands(st.bufferedRows),
                          groupThousands(st.bufferedBatches))
            : std::string());
    if (st.state != core::ServiceState::Up && !st.lastError.empty())
        text += fmt::format(" ({})", st.lastError);
    return text;
}

/// The status line of one second (`phase` is "" or " draining:").
std::string statusLine(const core::EngineStatus &s, const Totals &t, double elapsed,
                       const char *phase)
{
    const core::PipelineStats &ps = s.pipeline;
    const core::AggregateCounters &c = s.counters;
    std::string line = fmt::format(
        "[{:6.1f}s]{} produced {:>9}/s consumed {:>9}/s lag {:>7} partitions {} | watermark {}{} "
        "| valid {} dup {} late {} invalid {} | dead letters {}",
        elapsed, phase, groupThousands(static_cast<std::uint64_t>(t.rate)),
        groupThousands(static_cast<std::uint64_t>(ps.consumedRate)),
        ps.lagMessages < 0 ? std::string("?")
                           : groupThousands(static_cast<std::uint64_t>(ps.lagMessages)),
        ps.assignedPartitions, clock(c.watermarkMs),
        c.idlePartitions ? fmt::format(" ({} idle)", c.idlePartitions) : std::string(),
        groupThousands(c.valid), groupThousands(c.duplicates), groupThousands(c.late),
        groupThousands(c.invalid), groupThousands(ps.deadLettered));
    if (c.keysFolded > 0)
        line += fmt::format(" | key cap: {} keys into (other) in {} windows",
                            groupThousands(c.keysFolded), groupThousands(c.windowsCapped));
    if (ps.deletedUnread > 0)
        line += fmt::format(" | DELETED UNREAD by retention: {}", groupThousands(ps.deletedUnread));
    if (!t.keepingUp)
        line += fmt::format(" | producer BEHIND target, limited by {}", t.limitedBy);
    if (!ps.lastError.empty())
        line += " | " + ps.lastError;
    if (s.lagStatus)
        line += fmt::format(" | lag status {}", core::lagStatusName(*s.lagStatus));
    if (s.sinksConfigured) {
        line += sinkText("postgresql", s.postgres) + sinkText("redis", s.redis);
        if (ps.backPressure)
            line += " | PAUSED: sinks behind";
    }
    if (s.alertsFiring > 0)
        line += fmt::format(" | ALERTS FIRING {}", s.alertsFiring);
    return line;
}

/// The same status for scripts and soak tests: counters only grow within one run.
std::string statusJson(const core::EngineStatus &s, const Totals &t, double elapsed,
                       const char *phase)
{
    const core::PipelineStats &ps = s.pipeline;
    const core::AggregateCounters &c = s.counters;
    nlohmann::ordered_json j = {{"elapsed", elapsed},
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
                                {"keys_folded", c.keysFolded},
                                {"windows_capped", c.windowsCapped},
                                {"last_window_keys_folded", c.lastWindowFolded},
                                {"rss_bytes", static_cast<std::int64_t>(residentBytes())},
                                {"alerts_firing", s.alertsFiring},
                                {"held", c.held},
                                {"idle_partitions", c.idlePartitions},
                                {"dead_letter_pending", ps.deadLetterPending},
                                {"dead_letter_truncated", ps.deadLetterTruncated},
                                {"deleted_unread", ps.deletedUnread},
                                {"partitions_restored", ps.partitionsRestored},
                                {"restored_bytes", ps.restoredBytes},
                                {"last_restore_seconds", ps.lastRestoreSeconds},
                                {"handed_over", ps.handedOver},
                                {"checkpoint_bytes", ps.lastCheckpointBytes},
                                {"checkpoint_pieces", ps.lastCheckpointPieces},
                                {"compactions", ps.compaction.compactions},
                                {"compaction_failures", ps.compaction.failures}};
    // The aggregation workers (issue 20): each one's partitions, events and busy share.
    nlohmann::ordered_json workers = nlohmann::ordered_json::array();
    for (const core::PipelineWorkerStats &w : ps.workers)
        workers.push_back(
            {{"partitions", w.partitions}, {"events", w.events}, {"busy", w.busyShare}});
    j["workers"] = std::move(workers);
    nlohmann::ordered_json reasons = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < core::kInvalidReasonCount; ++i)
        reasons[std::string(core::toString(static_cast<core::InvalidReason>(i)))] =
            c.invalidByReason[i];
    j["invalid_by_reason"] = std::move(reasons);
    // Event time per partition: which ones hold the watermark back, which are idle.
    nlohmann::ordered_json parts = nlohmann::ordered_json::array();
    for (const core::PartitionStatus &pt : c.partitions) {
        if (!pt.assigned)
            continue;
        parts.push_back({{"partition", pt.partition},
                         {"watermark", pt.watermarkMs == core::kNoWatermark
                                           ? std::string()
                                           : core::formatIsoMs(pt.watermarkMs)},
                         {"idle", pt.idle},
                         {"held", pt.held},
                         {"valid", pt.valid},
                         {"late", pt.late},
                         {"invalid", pt.invalid},
                         {"open_sessions", pt.openSessions},
                         {"state_bytes", pt.stateBytes},
                         {"checkpoint_seq", pt.checkpointSeq},
                         {"last_piece_bytes", pt.lastIncrementBytes}});
    }
    j["partition_status"] = std::move(parts);
    if (s.sinksConfigured) {
        for (const auto &[name, st] :
             {std::pair{"postgresql", s.postgres}, std::pair{"redis", s.redis}}) {
            if (st.state == core::ServiceState::NotConfigured)
                continue;
            j[name] = {{"state", std::string(core::toString(st.state))},
                       {"written_rows", st.writtenRows},
                       {"buffered_rows", st.bufferedRows},
                       {"buffered_batches", st.bufferedBatches},
                       {"checkpoints_stored", st.checkpointsStored},
                       {"last_checkpoint_bytes", st.lastCheckpointBytes},
                       {"last_checkpoint_ms", st.lastCheckpointMs},
                       {"last_error", st.lastError}};
        }
    }
    return j.dump();
}

} // namespace

int runPipeline(RunCommand &r, const std::string &announce)
{
    core::StudioEngineSettings settings;
    if (std::string e = buildEngineSettings(r, settings); !e.empty())
        return usageError(e);
    if (std::string e = checkProducerOptions(r.produce); !e.empty())
        return usageError(e);
    // The summary counts report rows; only --report-dir needs the rows themselves (kept, a server
    // running for days would hold every row it ever made).
    settings.collectReports = true;
    settings.reportRows = !r.reportDir.empty();
    // Before the broker, so a port in use is reported at once.
    MetricsEndpoint metrics;
    std::string error;
    if (!metrics.start(r.produce.metrics, &error))
        return usageError(error);
    // Before anything slow starts, so an early Ctrl-C still ends with a summary.
    installStopSignals();
    core::StudioEngine engine(settings);
    // Declared after the engine, so removed (waiting for a scrape) before it goes.
    const auto registrations = engine.registerMetrics(metrics.registry());
    if (auto code = startEngine(engine))
        return *code;
    if (auto code = startProducers(r.produce, engine))
        return *code;
    std::string deadLetters;
    engine.visitAggregator(
        [&deadLetters](const core::AggregatorPipeline &p, const core::Aggregator &) {
            deadLetters = p.settings().dlqTopic();
        });
    const core::MonitorSettings &targets = settings.monitorSettings;
    const bool durable = settings.sinks.has_value();

    const auto &p = r.produce.producer;
    if (!announce.empty())
        fmt::print(stderr, "{}\n", announce);
    fmt::print(
        stderr,
        "Clickstream Studio headless: {} '{}' on {}, aggregating in group '{}' (dead "
        "letters to '{}'){}{}\n",
        p.producers > 0
            ? fmt::format("producing {} events/s to",
                          groupThousands(static_cast<std::uint64_t>(p.settings.ratePerSecond)))
            : std::string("reading"),
        settings.topic, engine.cluster().describe(), settings.groupId, deadLetters,
        durable ? fmt::format(", results to {}{}{}", targets.postgres ? "PostgreSQL" : "",
                              targets.postgres && targets.redis ? " and " : "",
                              targets.redis ? "Redis" : "")
                : std::string(),
        p.durationSeconds > 0 ? fmt::format(", for {} s", p.durationSeconds)
                              : std::string(", Ctrl-C to stop"));

    const bool json = p.json;
    std::FILE *statusOut = json ? stderr : stdout;
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(Clock::now() - started).count();
    };
    std::size_t alertsSeen = 0; // history entries already printed
    auto status = [&](const char *phase) {
        const core::EngineStatus s = engine.status();
        const Totals t = totalsOf(s.producers);
        const double at = elapsed();
        fmt::print(statusOut, "{}\n", statusLine(s, t, at, phase));
        if (r.jsonStatus) {
            fmt::print(stdout, "{}\n", statusJson(s, t, at, phase));
            std::fflush(stdout);
        }
        // Alert transitions since the last line, one line each.
        if (core::Monitor *monitor = engine.monitor()) {
            const auto history = monitor->alerts().history();
            if (history.size() < alertsSeen)
                alertsSeen = 0;
            for (std::size_t i = alertsSeen; i < history.size(); ++i) {
                const core::AlertTransition &tr = history[i];
                if (tr.alert.state == core::AlertState::Pending || tr.notifies())
                    fmt::print(statusOut, "alert {}: {} ({}) {}\n", core::toString(tr.alert.state),
                               tr.alert.rule, core::toString(tr.alert.severity), tr.alert.summary);
            }
            alertsSeen = history.size();
        }
        std::fflush(statusOut);
    };

    // Until the duration, Ctrl-C, or a replay played once.
    const double producing = runTicking(
        p.durationSeconds, [&](double) { status(""); },
        [&] { return p.producers > 0 && !totalsOf(engine.status().producers).anyRunning; });
    engine.stopProducers();
    const Totals t = totalsOf(engine.status().producers);

    // Drain: everything acknowledged is consumed and the lag is back to zero. The lag must come
    // from high watermarks asked of the broker after the producers stopped: the ones cached from
    // fetches can predate the last records, and a lag of 0 from them ended drains early. A query
    // costs the consumer thread one round trip per partition, so while a backlog drains it is
    // asked again only once the cached lag reads 0, or after a second.
    bool drained = false;
    const auto drainStart = Clock::now();
    double nextDrainStatus = elapsed() + 1.0;
    std::uint64_t queriesBefore = engine.status().pipeline.lagQueries;
    engine.requestLagQuery();
    bool queryPending = true;
    auto lastRequest = Clock::now();
    while (!drained) {
        const core::PipelineStats ps = engine.status().pipeline;
        if (queryPending && ps.lagQueries > queriesBefore) {
            queryPending = false;
            drained =
                ps.queriedLag == 0 && (!r.produce.connection.embedded() || ps.consumed >= t.acked);
            if (drained)
                break;
            queriesBefore = ps.lagQueries;
        }
        if (!queryPending &&
            (ps.lagMessages == 0 || Clock::now() - lastRequest >= std::chrono::seconds(1))) {
            engine.requestLagQuery();
            queryPending = true;
            lastRequest = Clock::now();
        }
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
    const core::EngineSummary end = engine.finish(
        std::chrono::milliseconds(static_cast<long long>(std::max(5.0, r.drainSeconds) * 1000)));
    const core::PipelineStats &ps = end.pipeline;
    const core::AggregateCounters &c = end.counters;
    if (!end.sinksWritten)
        fmt::print(stderr,
                   "warning: the sinks did not write everything in time ({}); what is "
                   "missing was not committed and is read again by the next run\n",
                   end.sinkError);
    const core::CsvReportCollector &reports = *engine.reports();
    if (!r.reportDir.empty() && !reports.write(r.reportDir, &error)) {
        fmt::print(stderr, "error: {}\n", error);
        return kRuntimeError;
    }
    const double seconds = elapsed();
    fmt::print(
        stderr,
        "done: produced {} acked {} failed {} in {:.1f} s ({} events/s) | consumed {}, lag "
        "{}{} | valid {}, duplicates {}, late {}, invalid {}, dead letters {} | {} page "
        "rows, {} sessions{}\n",
        groupThousands(t.produced), groupThousands(t.acked), groupThousands(t.failed), producing,
        groupThousands(static_cast<std::uint64_t>(producing > 0 ? t.produced / producing : 0)),
        groupThousands(ps.consumed), ps.lagMessages, drained ? "" : " (NOT drained)",
        groupThousands(c.valid), groupThousands(c.duplicates), groupThousands(c.late),
        groupThousands(c.invalid), groupThousands(ps.deadLettered), reports.pageRows(),
        reports.sessionRows(), r.reportDir.empty() ? std::string() : ", reports in " + r.reportDir);
    if (json) {
        fmt::print("{{\"produced\":{},\"acked\":{},\"failed\":{},\"consumed\":{},\"lag\":{},"
                   "\"drained\":{},\"valid\":{},\"invalid\":{},\"duplicates\":{},\"late\":{},"
                   "\"dead_lettered\":{},\"dead_letter_failed\":{},\"page_rows\":{},"
                   "\"geo_rows\":{},\"sessions\":{},\"funnel_rows\":{},\"keys_folded\":{},"
                   "\"windows_capped\":{},\"seconds\":{:.3f},\"producing_seconds\":{:.3f},"
                   "\"achieved_rps\":{:.1f},\"alerts_firing\":{},"
                   "\"checkpoints\":{},\"restored\":{},\"partitions_restored\":{},"
                   "\"restored_bytes\":{},\"handed_over\":{},\"postgres_rows\":{},"
                   "\"redis_rows\":{},\"sinks_written\":{},\"report_dir\":\"{}\"}}\n",
                   t.produced, t.acked, t.failed, ps.consumed, ps.lagMessages,
                   drained ? "true" : "false", c.valid, c.invalid, c.duplicates, c.late,
                   ps.deadLettered, ps.deadLetterFailed, reports.pageRows(), reports.geoRows(),
                   reports.sessionRows(), reports.funnelRows(), c.keysFolded, c.windowsCapped,
                   seconds, producing, producing > 0 ? t.produced / producing : 0.0,
                   end.alertsFiring, ps.checkpoints, ps.restored ? "true" : "false",
                   ps.partitionsRestored, ps.restoredBytes, ps.handedOver, end.postgres.writtenRows,
                   end.redis.writtenRows, end.sinksWritten ? "true" : "false", r.reportDir);
        std::fflush(stdout);
    }
    if (t.failed > 0)
        return kDeliveryFailures;
    if (!end.sinksWritten)
        return kRuntimeError;
    return drained ? 0 : kNotDrained;
}

} // namespace studio::app
