#pragma once

#include "core/common/servicestate.h"
#include "core/common/timeseries.h"
#include "core/kafka/clusterconfig.h"
#include "core/monitor/lagstatus.h"
#include "core/store/targets.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

/// One probe's answer. `error` never holds a secret (passwords are redacted by the probes).
struct ProbeResult
{
    ServiceState state = ServiceState::Unknown;
    double latencyMs = 0;  ///< the round trip measured (the whole call if the probe sets none)
    std::string error;     ///< empty when up
    std::int64_t atMs = 0; ///< wall clock, ms since the epoch (the monitor fills it when 0)
};

/// A health check of one service. probe() blocks for up to about `timeout` and is called from one
/// thread at a time (a HealthMonitor worker); abort() may be called from another thread while a
/// call overruns its timeout and should make it return soon (best effort, default: nothing).
class Probe
{
public:
    virtual ~Probe() = default;
    virtual std::string name() const = 0; ///< unique service name: "kafka", "postgresql", ...
    virtual std::string kind() const = 0; ///< "kafka", "postgresql", "redis", "producer", ...
    virtual ProbeResult probe(std::chrono::milliseconds timeout) = 0;
    virtual void abort() {}
};

/// Kafka: a metadata round trip on a client of its own. Up when it answers and lists every broker
/// seen so far, degraded when some are missing, down when no broker answers in time. (The
/// embedded broker lists all its brokers even when some are down; only "all down" shows there.)
std::unique_ptr<Probe> makeKafkaProbe(std::string name, ClusterConfig cluster);
/// PostgreSQL: connect (connect_timeout) and `SELECT 1`, a fresh connection per call.
std::unique_ptr<Probe> makePostgresProbe(std::string name, PostgresTarget target);
/// Redis: connect, AUTH [user] password when given, PING, every step within the timeout.
std::unique_ptr<Probe> makeRedisProbe(std::string name, RedisTarget target);
/// Any check given as a function (producers, the aggregator); an exception counts as down.
std::unique_ptr<Probe> makeFunctionProbe(std::string name, std::string kind,
                                         std::function<ProbeResult()> check);
/// A service the user has not set up: always NotConfigured.
std::unique_ptr<Probe> makeNotConfiguredProbe(std::string name, std::string kind);

/// A producer from its delivery counts over the last interval: down when deliveries failed and
/// none succeeded, degraded when some failed, else up.
ProbeResult producerHealth(std::uint64_t ackedDelta, std::uint64_t failedDelta,
                           const std::string &lastError);
/// The aggregator: down on lag status STOP, degraded on WARN/STALL/REWIND or when the invalid
/// or late events per second exceed `maxBadPerSecond`, else up.
ProbeResult aggregatorHealth(LagStatus lagStatus, double invalidPerSecond, double latePerSecond,
                             double maxBadPerSecond = 100);

/// What the monitor knows of one service.
struct ServiceHealth
{
    std::string name;
    std::string kind;
    ProbeResult current;   ///< state Unknown until the first answer
    std::string lastError; ///< the last non-empty error, kept after recovery
    std::int64_t lastErrorAtMs = 0;
    std::int64_t lastChangeAtMs = 0; ///< when the state last changed
    std::uint64_t probes = 0;        ///< answers recorded
    std::uint64_t timeouts = 0;      ///< calls that overran their timeout
    TimeSeries stateHistory;         ///< stateValue() per second (the worst of it), 1 h
    TimeSeries latencyHistory;       ///< latency in ms per second (the longest), 1 h
};

/// An immutable picture of every service, in the order the probes were added.
struct HealthSnapshot
{
    std::int64_t atMs = 0;
    std::vector<std::shared_ptr<const ServiceHealth>> services;
    /// The service of that name, or null.
    const ServiceHealth *find(std::string_view name) const;
};

/// Runs every probe on its own worker thread, so a slow or hung service never delays the others.
/// A call that overruns its timeout is reported down ("timed out after N ms") by a watchdog while
/// it is still blocked, and no second call of that probe starts until it returns. All public
/// methods are thread-safe; snapshot() is cheap (a shared_ptr copy under a short lock). stop() does
/// not wait for a hung call: it is left to finish on a detached thread that owns what it uses.
class HealthMonitor
{
public:
    HealthMonitor();
    ~HealthMonitor();
    HealthMonitor(const HealthMonitor &) = delete;
    HealthMonitor &operator=(const HealthMonitor &) = delete;

    /// Adds a probe (also while running). False with a message when the name is taken or empty.
    bool addProbe(std::shared_ptr<Probe> probe,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                  std::string *error = nullptr);
    /// Removes a probe and its service from the snapshot. False when unknown. A call in flight
    /// is waited for briefly (200 ms), or not at all with `waitForCall` false; either way one
    /// still blocked is left to finish on its own thread.
    bool removeProbe(const std::string &name, bool waitForCall = true);

    /// Probes every `interval` (each probe on its own schedule). Restarting changes the interval.
    void start(std::chrono::milliseconds interval = std::chrono::seconds(2));
    void stop();
    bool isRunning() const;

    std::shared_ptr<const HealthSnapshot> snapshot() const;
    /// Asks that probe to run now (after its current call, if one is in flight). False when the
    /// probe is unknown or the monitor is not running.
    bool probeNow(const std::string &name);

private:
    struct Shared;
    struct Worker;
    static void workerLoop(std::shared_ptr<Shared> shared, std::shared_ptr<Worker> worker,
                           std::uint64_t generation);
    static void watchdogLoop(std::shared_ptr<Shared> shared, std::uint64_t generation);

    std::shared_ptr<Shared> m_shared; // shared with the worker threads, which may outlive us
};

} // namespace studio::core
