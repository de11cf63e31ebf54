#pragma once

#include "app/commands.h"
#include "app/metricsserver.h"
#include "core/kafka/embeddedbroker.h"
#include "core/produce/producerpool.h"

#include <cstdint>
#include <optional>
#include <string>

namespace studio::app {

inline constexpr int kUsageError = 2;
inline constexpr int kRuntimeError = 1;
inline constexpr int kDeliveryFailures = 3;

/// What a command runs on: the embedded broker (when chosen) or a real cluster, and producers.
/// Members are destroyed in reverse order: producers first, then the broker, then the /metrics
/// endpoint (whose collectors of engine objects are registrations held by the command, declared
/// after the engine so they go first).
struct Engine
{
    MetricsEndpoint metrics;
    core::EmbeddedBroker broker;
    core::ClusterConfig cluster;
    core::ProducerPool pool;
};

/// Checks the options, starts the /metrics endpoint when asked for, installs the stop signals and
/// connects (starting the embedded broker when chosen). An exit code when the command cannot go
/// on, having said why on stderr.
std::optional<int> startEngine(ProduceCommand &command, Engine &engine);
/// Starts the producers the options ask for into engine.pool.
std::optional<int> startProducers(ProduceCommand &command, Engine &engine);

/// Producer counters summed over the pool.
struct Totals
{
    std::uint64_t produced = 0, acked = 0, failed = 0, inFlight = 0, shortfall = 0;
    double rate = 0, target = 0;
    bool keepingUp = true, anyRunning = false;
    std::string limitedBy, lastError;
};
Totals totalsOf(const core::ProducerPool &pool);

/// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t v);
/// Prints "error: message" and returns kUsageError.
int usageError(const std::string &message);

} // namespace studio::app
