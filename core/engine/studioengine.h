#pragma once

#include "core/aggregate/aggregator.h"
#include "core/common/metrics.h"
#include "core/engine/enginestatus.h"
#include "core/kafka/clusterconfig.h"
#include "core/kafka/embeddedbroker.h"
#include "core/monitor/monitor.h"
#include "core/produce/producer.h"
#include "core/store/sinkworker.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace studio::core {

class AggregatorPipeline;
class CsvReportCollector;
class EventSource;
class ProducerPool;

struct StudioEngineSettings
{
    bool embedded = true;                    ///< false: `cluster` below
    EmbeddedBroker::Options embeddedOptions; ///< `topic` is created too
    ClusterConfig cluster;                   ///< a real cluster, when not embedded
    std::string topic = "clickstream";       ///< what the aggregator consumes
    std::string groupId = "clickstream-studio";
    int sessionTimeoutMs = 10'000;   ///< the aggregator's consumer group session
    std::string shard = "main";      ///< this instance's key for its partial aggregates
    int checkpointIntervalMs = 2000; ///< durable mode: results, open state and offsets together
    bool deadLetters = true;         ///< invalid and late events to `<topic>.dlq`
    std::size_t maxBatch = 0;        ///< messages per ingest batch; 0: the pipeline's default
    AggregatorConfig aggregator;
    bool aggregate = true; ///< false: broker and producers only, no pipeline (`produce`)
    /// Durable mode from the start: results, checkpoints and offsets to PostgreSQL and/or Redis
    /// (groupId and shard are the engine's). Unset: none until configureSinks().
    std::optional<SinkSettings> sinks;
    bool archiveRaw = false; ///< durable mode with PostgreSQL: every accepted event to raw_events
    /// Collect every final result for CSV reports (reports()): with reportRows the rows (they grow
    /// for the whole run), else their counts only.
    bool collectReports = false;
    bool reportRows = true;
    bool monitor = true;             ///< cluster view, lag, health and alert rules
    MonitorSettings monitorSettings; ///< cluster and embedded are filled in by the engine
    int tickMs = 100;                ///< period of the engine's own periodic work (see below)
};

/// The parts start() starts, to say which one failed.
enum class EnginePart { Broker, Aggregator, Monitor };

/// The one assembly of the engine, in plain C++: the broker (embedded by default), producers
/// (over the synthetic generator or a source of their own), the aggregator pipeline consuming
/// the topic, optional PostgreSQL/Redis sinks (durable mode), the monitor and the /metrics
/// collectors of all of them. The desktop app, `run`/`headless`, `produce`, `check` and the
/// benchmarks of the whole engine all drive this class.
///
/// Thread-safety:
/// - connect(), start(), stopProducers(), finish() and the destructor block and belong to the
///   owning thread (never two at once). Every other method may be called from any thread.
/// - Control methods (producers, sinks, pausing) return without waiting for the network; work
///   that may wait runs in order on the engine's control thread and shows in a later status().
/// - Periodic work runs on the engine's own tick thread (every settings.tickMs, from start() to
///   finish()): the rate history and, in durable mode, the open windows' live values for Redis
///   once a second. No reader does it, so the GUI and headless write Redis from the same place.
/// - status() copies counters and states under short locks: no I/O, no wait for the
///   aggregator's ingest lock, no effect on the engine: fine on the GUI thread. sample() adds
///   the aggregator's snapshot, taken under the aggregator's lock, which the ingest thread holds
///   for a whole batch: call it off the GUI thread. It changes nothing either; markers are read
///   by sequence number, so any number of readers each get every marker.
class StudioEngine
{
public:
    explicit StudioEngine(StudioEngineSettings settings = {});
    ~StudioEngine();
    StudioEngine(const StudioEngine &) = delete;
    StudioEngine &operator=(const StudioEngine &) = delete;

    /// Starts the embedded broker (with its topics) or takes the settings' cluster. Idempotent.
    /// False with a message when the broker cannot start.
    bool connect(std::string *error);
    /// connect(), then the aggregator pipeline (unless settings.aggregate is off), the monitor
    /// and the tick thread. False with a message (also in status().brokerError) and the part
    /// that failed in `failed`.
    bool start(std::string *error, EnginePart *failed = nullptr);

    /// A new producer, stopped; its id (stable, never reused); 0 for unusable settings. Call it
    /// after connect() (the producer is bound to the cluster).
    int addProducer(StudioProducerSettings settings);
    /// The same over `source` (a file replay, a mirror) instead of the generator:
    /// settings.generator is not used, the hot share cannot change and updateProducer() may
    /// change only the rate. 0 for unusable settings or a null source.
    int addProducer(StudioProducerSettings settings, std::unique_ptr<EventSource> source);
    /// A stopped copy of producer `id` named "<name> copy"; 0 when there is no such producer
    /// (or it has a source of its own).
    int duplicateProducer(int id);
    /// Gone from the next status() on; stopped and freed on the control thread.
    bool removeProducer(int id);
    /// Starts on the control thread; a failure shows in the producer's state and lastError.
    bool startProducer(int id, std::string *error = nullptr);
    bool pauseProducer(int id);
    bool resumeProducer(int id);
    /// Stops on the control thread (deliveries are flushed first).
    bool stopProducer(int id);
    /// Live on a running producer; a marker either way.
    bool setProducerRate(int id, double eventsPerSecond);
    /// Live on a running producer (its hot product's share of events); a marker either way.
    bool setProducerHotShare(int id, double share);
    /// Replaces every setting; a running producer takes the rate and hot share at once and the
    /// rest at its next start. False (with the first bad setting in `error`) for unusable
    /// settings or an unknown id.
    bool updateProducer(int id, StudioProducerSettings settings, std::string *error = nullptr);
    /// Stops every producer, each flushing its deliveries for up to `flushTimeout` (by default
    /// their delivery timeout; blocks). What is not acked by then counts as failed.
    void
    stopProducers(std::chrono::milliseconds flushTimeout = KafkaProducer::kUntilDeliveryTimeout);

    /// Results to PostgreSQL (libpq conninfo or postgresql:// URI without a password) and/or Redis
    /// (redis://HOST[:PORT][/DB]); empty = none. Passwords are separate and never shown. Restarts
    /// the aggregator in durable mode on the control thread (its open windows start over from
    /// PostgreSQL's checkpoint, if any). False with a message for a malformed URI or a password
    /// inside one.
    bool configureSinks(const std::string &postgresUri, const std::string &postgresPassword,
                        const std::string &redisUri, const std::string &redisPassword,
                        std::string *error);

    /// The aggregator's page normalisation and per-window key cap (README "Bounded memory"):
    /// restarts the aggregator with them on the control thread, keeping the sinks it has (as
    /// configureSinks() does; its open windows start over from PostgreSQL's checkpoint, if any).
    /// False with a message for an unusable cap or before start().
    bool configureAggregation(const PageNormalization &pages, std::size_t maxKeysPerWindow,
                              std::string *error);
    /// The aggregator's settings as they are now.
    AggregatorConfig aggregatorConfig() const;

    /// Stops the aggregator's consumption (it keeps its group membership and commits nothing new,
    /// so the group's lag grows) until resumeAggregator(); on the control thread, with a marker.
    /// Also holds across configureSinks(). False before start().
    bool pauseAggregator();
    bool resumeAggregator();
    /// The aggregator's next lag is computed from high watermarks asked of the broker, not the
    /// ones cached from fetches (status().pipeline.lagQueries counts such values): a drain
    /// judged on the lag alone asks this first. Does nothing without a pipeline.
    void requestLagQuery();

    /// The end of a run (blocks): stops the tick thread, the monitor and the pipeline (in durable
    /// mode its last checkpoint holds the open state), flushes the aggregator's open windows and
    /// sessions (to the CSV reports, and in durable mode to the sinks as a last batch of rows),
    /// waits up to `sinkFlush` for the sinks to write everything and stops them. Producers are
    /// left as they are (see stopProducers()). Once; later control calls are refused.
    EngineSummary finish(std::chrono::milliseconds sinkFlush);
    /// With settings.collectReports, every final result (complete after finish()); else null.
    /// The aggregator adds to it: read it after finish().
    const CsvReportCollector *reports() const;

    /// Cheap, never blocks (see the class comment): for status lines and a GUI timer.
    EngineStatus status() const;
    /// status(), the aggregator's snapshot and the markers whose sequence number is above
    /// `markersAfter` (the newest 1,000 are kept). Off the GUI thread.
    EngineSample sample(std::uint64_t markersAfter = 0) const;

    ClusterConfig cluster() const;
    /// The in-process broker once connect() started it; else null.
    EmbeddedBroker *embeddedBroker();
    /// For the monitor and tests; its membership is managed by this engine.
    const ProducerPool &pool() const;
    /// Calls `visit` with the current aggregator pipeline and aggregator (kept alive meanwhile,
    /// even if configureSinks() replaces them); not at all without a pipeline.
    void visitAggregator(
        const std::function<void(const AggregatorPipeline &, const Aggregator &)> &visit) const;
    /// Null when settings.monitor is off or before start().
    Monitor *monitor();
    /// The /metrics collectors of the producers, the pipeline, the aggregator, the sinks and the
    /// monitor, following what configureSinks() replaces: the same families in every mode for
    /// the same configuration. Destroy the registrations before the engine.
    [[nodiscard]] std::vector<MetricsRegistry::Registration>
    registerMetrics(MetricsRegistry &registry) const;
    /// Waits until the control thread has done everything queued so far.
    void waitIdle();

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace studio::core
