#pragma once

#include "core/aggregate/aggregator.h"
#include "core/monitor/lagstatus.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"
#include "core/store/sinkworker.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace studio::core {

/// What the GUI edits for one producer. While it runs only the rate and the hot share change
/// live; the rest is used from its next start().
struct StudioProducerSettings
{
    ProducerSettings producer;
    GeneratorConfig generator; ///< unused by a producer over a source of its own
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
    std::uint64_t sequence = 0; ///< 1, 2, ... in the order they happened
};

/// Counters and states of every part of the engine (see StudioEngine::status()).
struct EngineStatus
{
    std::int64_t nowMs = 0;
    std::string broker;      ///< "embedded (127.0.0.1:...)" or the cluster's name
    std::string brokerBrief; ///< the same for a status line (ClusterConfig::brief())
    std::string brokerError; ///< why the broker or the aggregator could not start, else ""
    std::vector<ProducerSample> producers; ///< in the order they were added
    PipelineStats pipeline; ///< of the current pipeline (configureSinks() starts a new one)
    /// The aggregator's counters: in status() as of the engine's last tick (at most
    /// StudioEngineSettings::tickMs old); in sample() those of EngineSample::aggregates.
    AggregateCounters counters;
    bool sinksConfigured = false;
    SinkStatus postgres; ///< state NotConfigured when not configured
    SinkStatus redis;
    std::size_t alertsFiring = 0;
    /// The aggregator's consumer group as the monitor rates it; unset without a monitor or before
    /// its first look at the group.
    std::optional<LagStatus> lagStatus;
    // Rates from counter deltas over about the last second, computed on the engine's tick (0
    // before the second tick); they span a pipeline restart without a dip.
    double producedPerSecond = 0;
    double consumedPerSecond = 0;
    double latePerSecond = 0;
    double invalidPerSecond = 0;
    double watermarkDelayMs = -1; ///< nowMs - watermark; -1 while there is no watermark
};

/// One copy of everything the GUI shows (see StudioEngine::sample()).
struct EngineSample : EngineStatus
{
    AggregatorSnapshot aggregates;
    std::vector<EngineMarker> markers; ///< newer than sample()'s argument, oldest first
    /// The newest marker's sequence number so far (0: none yet): pass it to the next sample().
    std::uint64_t markerSequence = 0;
};

/// How a run ended (StudioEngine::finish()).
struct EngineSummary
{
    PipelineStats pipeline;       ///< after its last commit
    AggregateCounters counters;   ///< after the flush of every open window and session
    std::size_t alertsFiring = 0; ///< just before the monitor stopped
    /// Every result reached the configured sinks in time (true without sinks). When false, what
    /// is missing was not committed to Kafka either and is read again by the next run.
    bool sinksWritten = true;
    std::string sinkError; ///< why not, naming the sink (never a password)
    SinkStatus postgres;   ///< after the sinks stopped
    SinkStatus redis;
};

} // namespace studio::core
