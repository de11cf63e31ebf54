#pragma once

#include "core/aggregate/aggregator.h"
#include "core/kafka/clusterconfig.h"
#include "core/kafka/embeddedbroker.h"
#include "core/monitor/monitor.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"
#include "core/store/sinkworker.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace studio::core {

class ProducerPool;

struct StudioEngineSettings
{
    bool embedded = true; ///< false: `cluster` below
    EmbeddedBroker::Options embeddedOptions;
    ClusterConfig cluster;             ///< a real cluster, when not embedded
    std::string topic = "clickstream"; ///< what the aggregator consumes
    std::string groupId = "clickstream-studio";
    int sessionTimeoutMs = 10'000; ///< the aggregator's consumer group session (as `run`)
    AggregatorConfig aggregator;
    bool monitor = true;             ///< cluster view, lag, health and alert rules
    MonitorSettings monitorSettings; ///< cluster and embedded are filled in by the engine
};

/// What the GUI edits for one producer. While it runs only the rate and the hot share change
/// live; the rest is used from its next start().
struct StudioProducerSettings
{
    ProducerSettings producer;
    GeneratorConfig generator;
};

struct ProducerSample
{
    int id = 0;
    StudioProducerSettings settings;
    ProducerStats stats;
};

/// A cause to draw on time axes: a rate or skew change, a producer started, paused or stopped.
struct EngineMarker
{
    std::int64_t timeMs = 0; ///< wall clock, ms since the epoch
    std::string text;
};

/// One cheap copy of everything the GUI shows (see StudioEngine::sample()).
struct EngineSample
{
    std::int64_t nowMs = 0;
    std::string broker;      ///< "embedded (127.0.0.1:...)" or the cluster's name
    std::string brokerError; ///< why the broker or the aggregator could not start, else ""
    std::vector<ProducerSample> producers; ///< in the order they were added
    PipelineStats pipeline;
    AggregatorSnapshot aggregates;
    bool sinksConfigured = false;
    SinkStatus postgres; ///< state NotConfigured when not configured
    SinkStatus redis;
    std::size_t alertsFiring = 0;
    // Rates from counter deltas over about the last second (0 on the first sample).
    double producedPerSecond = 0;
    double consumedPerSecond = 0;
    double latePerSecond = 0;
    double invalidPerSecond = 0;
    double watermarkDelayMs = -1;      ///< nowMs - watermark; -1 while there is no watermark
    std::vector<EngineMarker> markers; ///< new since the previous sample()
};

/// The engine the desktop app drives, in plain C++: the broker (embedded by default), producers
/// over the synthetic generator, the aggregator consuming the topic from the start, optional
/// PostgreSQL/Redis sinks (durable mode) and the monitor.
///
/// Thread-safety: every public method may be called from any thread and returns without waiting
/// for the network. Work that may wait (stopping a producer flushes its deliveries, removing
/// one, restarting the pipeline for new sinks) runs in order on the engine's own control thread;
/// its effect shows in a later sample(). sample() copies counters and snapshots under short
/// locks. The destructor stops everything and may block for a few seconds.
class StudioEngine
{
public:
    explicit StudioEngine(StudioEngineSettings settings = {});
    ~StudioEngine();
    StudioEngine(const StudioEngine &) = delete;
    StudioEngine &operator=(const StudioEngine &) = delete;

    /// Starts the broker (when embedded), the aggregator pipeline and the monitor. False with a
    /// message when something could not start (also in sample().brokerError).
    bool start(std::string *error);

    /// A new producer, stopped; its id (stable, never reused).
    int addProducer(StudioProducerSettings settings);
    /// A stopped copy of producer `id` named "<name> copy"; 0 when there is no such producer.
    int duplicateProducer(int id);
    /// Gone from the next sample() on; stopped and freed on the control thread.
    bool removeProducer(int id);
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

    /// Results to PostgreSQL (libpq conninfo or postgresql:// URI without a password) and/or Redis
    /// (redis://HOST[:PORT][/DB]); empty = none. Passwords are separate and never shown. Restarts
    /// the aggregator in durable mode on the control thread (its open windows start over from
    /// PostgreSQL's checkpoint, if any). False with a message for a malformed URI or a password
    /// inside one.
    bool configureSinks(const std::string &postgresUri, const std::string &postgresPassword,
                        const std::string &redisUri, const std::string &redisPassword,
                        std::string *error);

    /// Stops the aggregator's consumption (it keeps its group membership and commits nothing new,
    /// so the group's lag grows) until resumeAggregator(); on the control thread, with a marker.
    /// Also holds across configureSinks(). False before start().
    bool pauseAggregator();
    bool resumeAggregator();

    /// Cheap, never blocks on the network: meant for a 10 Hz GUI timer.
    EngineSample sample();

    ClusterConfig cluster() const;
    /// For /metrics and the monitor; its membership is managed by this engine.
    const ProducerPool &pool() const;
    /// Calls `visit` with the current aggregator pipeline and aggregator (kept alive meanwhile,
    /// even if configureSinks() replaces them); not at all before start(). For /metrics.
    void visitAggregator(
        const std::function<void(const AggregatorPipeline &, const Aggregator &)> &visit) const;
    /// Null when settings.monitor is off or before start().
    Monitor *monitor();
    /// Waits until the control thread has done everything queued so far (tests).
    void waitIdle();

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace studio::core
