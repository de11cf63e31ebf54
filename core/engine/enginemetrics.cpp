#include "core/engine/enginemetrics.h"

#include "core/aggregate/aggregator.h"
#include "core/common/metrics.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/producerpool.h"
#include "core/store/sinkworker.h"

#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

namespace {

double seconds(std::int64_t ms)
{
    return static_cast<double>(ms) / 1000.0;
}

std::string_view toString(PipelineState state)
{
    switch (state) {
    case PipelineState::Stopped:
        return "stopped";
    case PipelineState::Running:
        return "running";
    case PipelineState::Paused:
        return "paused";
    case PipelineState::Failed:
        return "failed";
    }
    return "unknown";
}

} // namespace

void ProducerMetrics::Counts::add(const Counts &o)
{
    produced += o.produced;
    acked += o.acked;
    failed += o.failed;
    shortfall += o.shortfall;
}

void ProducerMetrics::collect(MetricsText &t, const ProducerPool &pool)
{
    std::vector<std::string_view> states;
    for (int s = 0; s <= static_cast<int>(ProducerState::Failed); ++s)
        states.push_back(toString(static_cast<ProducerState>(s)));

    std::map<int, Counts> now;
    double inFlight = 0, target = 0, achieved = 0;
    for (const auto &[id, producer] : pool.entries()) {
        const ProducerStats s = producer->stats();
        const Counts c{static_cast<double>(s.produced), static_cast<double>(s.acked),
                       static_cast<double>(s.failed), static_cast<double>(s.shortfall)};
        now[id] = c;
        inFlight += static_cast<double>(s.inFlight);
        target += s.targetRate;
        achieved += s.achievedRate;
        const MetricLabels l{{"producer_id", std::to_string(id)},
                             {"producer", producer->settings().name}};
        t.counter("clickstream_producer_produced_events_total",
                  "Events handed to Kafka by one producer", l, c.produced);
        t.counter("clickstream_producer_acked_events_total",
                  "Events of one producer whose delivery the brokers confirmed", l, c.acked);
        t.counter("clickstream_producer_failed_events_total",
                  "Events of one producer rejected locally or whose delivery failed", l, c.failed);
        t.counter("clickstream_producer_shortfall_events_total",
                  "Events one producer's schedule called for but that could not be sent", l,
                  c.shortfall);
        t.gauge("clickstream_producer_in_flight_events",
                "Events of one producer awaiting a delivery report", l,
                static_cast<double>(s.inFlight));
        t.gauge("clickstream_producer_target_rate_events_per_second", "Target rate of one producer",
                l, s.targetRate);
        t.gauge("clickstream_producer_achieved_rate_events_per_second",
                "Rate one producer achieved over the last second", l, s.achievedRate);
        t.gauge("clickstream_producer_keeping_up",
                "1 while the producer meets its target rate, else 0", l, s.keepingUp ? 1 : 0);
        t.stateSet("clickstream_producer_state", "State of one producer (1 for the current)", l,
                   "state", states, toString(s.state));
    }

    std::lock_guard lock(m_mutex);
    for (const auto &[id, counts] : m_last)
        if (!now.count(id))
            m_retired.add(counts);
    m_last = now;
    Counts total = m_retired;
    for (const auto &[id, counts] : now)
        total.add(counts);
    t.counter("clickstream_produced_events_total",
              "Events handed to Kafka by all producers, including removed ones", total.produced);
    t.counter("clickstream_acked_events_total",
              "Events whose delivery the brokers confirmed, all producers", total.acked);
    t.counter("clickstream_failed_events_total",
              "Events rejected locally or whose delivery failed, all producers", total.failed);
    t.counter("clickstream_shortfall_events_total",
              "Events the schedules called for but that could not be sent, all producers",
              total.shortfall);
    t.gauge("clickstream_in_flight_events", "Events awaiting a delivery report, all producers",
            inFlight);
    t.gauge("clickstream_target_rate_events_per_second", "Sum of the producers' target rates",
            target);
    t.gauge("clickstream_achieved_rate_events_per_second",
            "Events per second handed to Kafka over the last second, all producers", achieved);
    t.gauge("clickstream_producers", "Producers in the pool", static_cast<double>(now.size()));
}

void collectPipelineMetrics(MetricsText &t, const AggregatorPipeline &pipeline)
{
    const PipelineStats s = pipeline.stats();
    const MetricLabels l{{"group", pipeline.settings().groupId},
                         {"topic", pipeline.settings().topic}};
    t.counter("clickstream_consumed_events_total",
              "Messages the aggregator's consumer fetched and applied", l,
              static_cast<double>(s.consumed));
    t.gauge("clickstream_consumed_rate_events_per_second",
            "Messages consumed per second over the last second", l, s.consumedRate);
    t.counter("clickstream_dead_lettered_events_total",
              "Invalid and late events handed to the dead-letter producer", l,
              static_cast<double>(s.deadLettered));
    t.counter("clickstream_dead_letter_acked_events_total",
              "Dead letters whose delivery the brokers confirmed", l,
              static_cast<double>(s.deadLetterAcked));
    t.counter("clickstream_dead_letter_failed_events_total",
              "Dead-letter delivery attempts that failed (each is retried, none dropped)", l,
              static_cast<double>(s.deadLetterFailed));
    t.gauge("clickstream_dead_letter_pending_events", "Dead letters sent, not yet delivered", l,
            static_cast<double>(s.deadLetterPending));
    t.counter("clickstream_dead_letter_truncated_events_total",
              "Dead letters whose payload was cut to fit the dead-letter topic", l,
              static_cast<double>(s.deadLetterTruncated));
    t.counter("clickstream_deleted_unread_events_total",
              "Records the broker deleted (retention) before the aggregator read them", l,
              static_cast<double>(s.deletedUnread));
    t.counter("clickstream_consumer_commits_total", "Offset commits of the aggregator's consumer",
              l, static_cast<double>(s.commits));
    // Incremental checkpoints per partition (issue 19).
    t.counter("clickstream_checkpoints_total",
              "Checkpoints handed to the sinks (the pieces of every assigned partition)", l,
              static_cast<double>(s.checkpoints));
    t.gauge("clickstream_checkpoint_bytes",
            "Size of the last checkpoint's pieces (what changed since the one before)", l,
            static_cast<double>(s.lastCheckpointBytes));
    t.counter("clickstream_checkpoint_partitions_restored_total",
              "Partitions whose stored chain this process read back (start or rebalance)", l,
              static_cast<double>(s.partitionsRestored));
    t.counter("clickstream_checkpoint_restored_bytes_total", "Bytes of the stored chains read back",
              l, static_cast<double>(s.restoredBytes));
    t.gauge("clickstream_checkpoint_restore_seconds", "Duration of the last restore", l,
            s.lastRestoreSeconds);
    t.counter("clickstream_checkpoint_partitions_handed_over_total",
              "Partitions revoked after their pieces were stored for their next owner", l,
              static_cast<double>(s.handedOver));
    t.counter("clickstream_checkpoint_compactions_total",
              "Chains folded into a new base by the background compactor", l,
              static_cast<double>(s.compaction.compactions));
    t.counter("clickstream_checkpoint_compaction_failures_total",
              "Compactions that failed (retried later; nothing is lost)", l,
              static_cast<double>(s.compaction.failures));
    t.gauge("clickstream_checkpoint_compaction_seconds", "Duration of the last compaction", l,
            s.compaction.lastSeconds);
    if (s.lagMessages >= 0)
        t.gauge("clickstream_consumer_lag_messages",
                "Messages behind the high watermarks, summed over the assigned partitions", l,
                static_cast<double>(s.lagMessages));
    t.gauge("clickstream_consumer_assigned_partitions",
            "Partitions assigned to the aggregator's consumer", l, s.assignedPartitions);
    t.gauge("clickstream_aggregator_workers", "Aggregation workers (threads)", l,
            static_cast<double>(s.workers.size()));
    for (std::size_t w = 0; w < s.workers.size(); ++w) {
        MetricLabels wl = l;
        wl.emplace_back("worker", std::to_string(w));
        t.gauge("clickstream_aggregator_worker_partitions",
                "Assigned partitions each aggregation worker owns", wl, s.workers[w].partitions);
        t.counter("clickstream_aggregator_worker_events_total",
                  "Records each aggregation worker ingested", wl,
                  static_cast<double>(s.workers[w].events));
        t.gauge("clickstream_aggregator_worker_busy_ratio",
                "Share of the last second each aggregation worker spent ingesting", wl,
                s.workers[w].busyShare);
    }
    t.stateSet("clickstream_consumer_state",
               "State of the aggregator's consumer (1 for the "
               "current)",
               l, "state", {"stopped", "running", "paused", "failed"}, toString(s.state));
}

void collectSinkMetrics(MetricsText &t, const SinkWorker &sinks)
{
    static const std::vector<std::string_view> states = {
        toString(ServiceState::Unknown), toString(ServiceState::Up),
        toString(ServiceState::Degraded), toString(ServiceState::Down),
        toString(ServiceState::NotConfigured)};
    for (const auto &[name, st] : {std::pair{"postgresql", sinks.postgresStatus()},
                                   std::pair{"redis", sinks.redisStatus()}}) {
        const MetricLabels l{{"sink", name}};
        t.stateSet("clickstream_sink_state", "state of each result sink", l, "state", states,
                   toString(st.state));
        if (st.state == ServiceState::NotConfigured)
            continue;
        t.gauge("clickstream_sink_up", "1 when the sink is connected and writing", l,
                st.state == ServiceState::Up ? 1 : 0);
        t.gauge("clickstream_sink_buffered_rows",
                "result rows waiting for the sink (not yet written, so not yet committed)", l,
                double(st.bufferedRows));
        t.gauge("clickstream_sink_buffered_batches", "checkpoint batches waiting", l,
                double(st.bufferedBatches));
        t.counter("clickstream_sink_written_rows_total", "result rows the sink stored", l,
                  double(st.writtenRows));
        t.counter("clickstream_sink_writes_total",
                  "transactions (PostgreSQL) or pipelined writes (Redis)", l, double(st.writes));
        t.counter("clickstream_sink_failures_total", "failed connects, writes and pings", l,
                  double(st.failures));
        t.gauge("clickstream_sink_write_latency_seconds", "duration of the last write", l,
                st.lastWriteLatencyMs / 1000.0);
        if (st.checkpointsStored > 0) {
            t.gauge("clickstream_sink_checkpoint_bytes",
                    "state stored by the last transaction with a checkpoint", l,
                    double(st.lastCheckpointBytes));
            t.gauge("clickstream_sink_checkpoint_seconds",
                    "duration of the last transaction with a checkpoint", l,
                    st.lastCheckpointMs / 1000.0);
        }
    }
}

void collectAggregatorMetrics(MetricsText &t, const Aggregator &aggregator)
{
    const AggregateCounters c = aggregator.counters();
    auto d = [](std::uint64_t v) {
        return static_cast<double>(v);
    };
    t.counter("clickstream_aggregator_read_events_total", "Events the aggregator read", d(c.read));
    t.counter("clickstream_valid_events_total",
              "Events accepted into the aggregates (not invalid, duplicate or late)", d(c.valid));
    for (std::size_t r = 0; r < kInvalidReasonCount; ++r)
        t.counter("clickstream_invalid_events_total", "Events refused as invalid, by reason",
                  {{"reason", std::string(toString(static_cast<InvalidReason>(r)))}},
                  d(c.invalidByReason[r]));
    t.counter("clickstream_duplicate_events_total", "Events dropped as duplicates (same event_id)",
              d(c.duplicates));
    t.counter("clickstream_late_events_total", "Events older than the watermark", d(c.late));
    if (c.watermarkMs != kNoWatermark)
        t.gauge("clickstream_aggregator_watermark_seconds",
                "Event-time watermark since the Unix epoch", seconds(c.watermarkMs));
    if (c.maxEventTimeMs != kNoWatermark)
        t.gauge("clickstream_aggregator_max_event_time_seconds",
                "Newest event time seen since the Unix epoch", seconds(c.maxEventTimeMs));
    t.gauge("clickstream_aggregator_open_windows", "Windows not yet final", d(c.openWindows));
    t.gauge("clickstream_aggregator_open_sessions", "Sessions not yet closed", d(c.openSessions));
    t.gauge("clickstream_aggregator_dedupe_entries", "Event ids held to find duplicates",
            d(c.dedupeEntries));
    t.gauge("clickstream_aggregator_state_bytes", "Estimated memory of the open state",
            d(c.stateBytes));
    t.counter("clickstream_aggregator_windows_finalized_total", "Windows made final",
              d(c.windowsFinalized));
    t.counter("clickstream_aggregator_keys_folded_total",
              "Distinct keys (pages, geo combinations, products) counted into a window's (other) "
              "row beyond the per-window key cap, summed over the windows",
              d(c.keysFolded));
    t.counter("clickstream_aggregator_windows_capped_total",
              "Final windows that reached the key cap and folded keys into (other)",
              d(c.windowsCapped));
    t.gauge("clickstream_aggregator_last_window_keys_folded",
            "Keys folded into (other) in the latest capped final window", d(c.lastWindowFolded));
    t.counter("clickstream_aggregator_sessions_closed_total", "Sessions closed",
              d(c.sessionsClosed));
    t.gauge("clickstream_aggregator_held_events",
            "Events held for a decision (a suspect jump in time, or a partition's first events)",
            d(c.held));
    t.gauge("clickstream_aggregator_idle_partitions",
            "Assigned partitions idle past the idle timeout (not holding the watermark back)",
            d(c.idlePartitions));
    // Event time per partition: the aggregator's watermark is the minimum over the active ones.
    for (const PartitionStatus &p : c.partitions) {
        if (!p.assigned)
            continue;
        const MetricLabels l{{"partition", std::to_string(p.partition)}};
        if (p.watermarkMs != kNoWatermark)
            t.gauge("clickstream_partition_watermark_seconds",
                    "Event-time watermark of one partition since the Unix epoch", l,
                    seconds(p.watermarkMs));
        t.gauge("clickstream_partition_idle",
                "1 while the partition is idle (not holding the watermark back)", l,
                p.idle ? 1 : 0);
        t.gauge("clickstream_partition_held_events", "Events of the partition held for a decision",
                l, d(p.held));
        t.gauge("clickstream_partition_state_bytes", "Estimated memory of the partition's state", l,
                d(p.stateBytes));
        if (p.checkpointSeq > 0) {
            t.gauge("clickstream_partition_checkpoint_sequence",
                    "Sequence number of the partition's last checkpoint piece", l,
                    d(p.checkpointSeq));
            t.gauge("clickstream_partition_checkpoint_piece_bytes",
                    "Size of the partition's last checkpoint piece", l, d(p.lastIncrementBytes));
        }
    }
}

} // namespace studio::core
