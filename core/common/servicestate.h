#pragma once

#include <string_view>

namespace studio::core {

/// The state of a service (Kafka, PostgreSQL, Redis, a producer, the aggregator) as the health
/// panel, the sinks and the alert rules share it.
enum class ServiceState { Unknown, Up, Degraded, Down, NotConfigured };
/// "unknown", "up", "degraded", "down", "not configured".
std::string_view toString(ServiceState state);
/// The number kept in a state history: up 1, degraded 0.5, down 0, unknown/not configured -1.
double stateValue(ServiceState state);

} // namespace studio::core
