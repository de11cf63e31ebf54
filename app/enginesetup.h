#pragma once

#include "app/commands.h"
#include "core/common/metrics.h"
#include "core/engine/studioengine.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace studio::app {

/// The engine's settings from the options of `run` (the desktop app takes the same): the broker
/// or cluster, the aggregator and its consumer group, the sinks (--postgres/--redis: durable
/// mode from the start) and the monitor. Empty or a message for the user. Asks for a cluster
/// password on a terminal when the environment has none (buildClusterConfig()).
std::string buildEngineSettings(RunCommand &command, core::StudioEngineSettings &settings);

/// The broker or cluster of `produce` (no aggregator, no monitor), after refusing secrets in the
/// arguments and checking the generator options. Empty or a message.
std::string buildProducerEngineSettings(ProduceCommand &command,
                                        core::StudioEngineSettings &settings);

/// Checks what the producers of `produce`/`run` need (sources, counts, their settings). Empty
/// or a message for the user.
std::string checkProducerOptions(const ProduceCommand &command);

/// Connects (saying where the embedded broker is) and starts the engine. An exit code, having
/// said why on stderr, when it cannot start.
std::optional<int> startEngine(core::StudioEngine &engine);

/// Adds to the engine the producers the options ask for (generated, replayed or mirrored, the
/// rate split between them) and starts them. An exit code, having said why on stderr, when one
/// cannot start.
std::optional<int> startProducers(const ProduceCommand &command, core::StudioEngine &engine);

/// The desktop app's engine as runGui() hands it to the window: started (a failure is said on
/// stderr and shown by the window), one producer from the options added stopped, and its
/// collectors in the /metrics registry. Tests start this to compare it with headless.
struct GuiEngine
{
    std::unique_ptr<core::StudioEngine> engine;
    int firstProducer = 0; ///< 0 when the engine did not start
    /// Declared after the engine, so they go first (waiting for a scrape in progress).
    std::vector<core::MetricsRegistry::Registration> metrics;
};
GuiEngine startGuiEngine(const core::StudioEngineSettings &settings, const ProduceCommand &command,
                         core::MetricsRegistry &registry);

} // namespace studio::app
