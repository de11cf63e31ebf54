#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/monitor/alerts.h"
#include "core/monitor/clustermonitor.h"
#include "core/monitor/groupmonitor.h"
#include "core/monitor/health.h"
#include "core/monitor/webhook.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace studio::core {

class Aggregator;
class AggregatorPipeline;
class EmbeddedBroker;
class MetricsText;
class ProducerPool;

struct MonitorSettings
{
    ClusterConfig cluster;
    EmbeddedBroker *embedded = nullptr;     ///< the in-process broker, when that is what runs
    std::optional<PostgresTarget> postgres; ///< unset: "not configured"
    std::optional<RedisTarget> redis;       ///< unset: "not configured"
    std::string alertRulesPath;             ///< loaded at start when it exists; empty: defaults
    std::optional<WebhookSettings> webhook; ///< firing and resolved alerts are POSTed there
    bool alertHistoryInPostgres = true;     ///< when postgres is set: alert_history table
    int tickMs = 1000;                      ///< alert evaluation period
    std::chrono::milliseconds healthInterval{2000};
    std::chrono::milliseconds probeTimeout{2000};
    ClusterMonitorOptions clusterOptions;
    GroupMonitorOptions groupOptions;
};

/// One more Kafka cluster followed beside the engine's own (the Kafka page's cluster selector):
/// its own ClusterMonitor and GroupMonitor, each on its own thread, over its own clients. The
/// aggregator never reads it. Its health probe is "kafka:<name>" in the monitor's HealthMonitor,
/// so it has its own health row and the service rules' alerts name it; its groups' lag signals
/// carry a "cluster" label beside "group".
struct WatchedCluster
{
    WatchedCluster(ClusterConfig config, const MonitorSettings &settings);
    const std::string name; ///< config.name: unique among the watched clusters
    const ClusterConfig config;
    ClusterMonitor cluster;
    GroupMonitor groups;
};

/// What the monitor itself did, for the status bar and /metrics.
struct MonitorStatus
{
    std::uint64_t ticks = 0;
    std::size_t pending = 0; ///< alerts pending
    std::size_t firing = 0;  ///< alerts firing
    std::optional<WebhookStats> webhook;
    std::optional<AlertHistoryStats> history;
    std::string rulesError; ///< a rules file that could not be loaded (defaults used)
};

/// The monitoring side of the engine in one object: the cluster view (ClusterMonitor), consumer
/// groups and Burrow-style lag status (GroupMonitor), health probes of Kafka, PostgreSQL, Redis,
/// every producer and the aggregator (HealthMonitor), and alert rules evaluated once a tick over
/// the signals those produce (AlertEngine), with notifications to a webhook and history in
/// PostgreSQL. Every part runs on its own threads; nothing here blocks a caller for I/O.
///
/// Thread-safety: public methods may be called from any thread. watchPipeline()/watchProducers()
/// take plain pointers: the watched objects must outlive the monitor or be unwatched (pass null)
/// first; after that call returns the monitor never touches them again.
class Monitor
{
public:
    explicit Monitor(MonitorSettings settings);
    ~Monitor();
    Monitor(const Monitor &) = delete;
    Monitor &operator=(const Monitor &) = delete;

    /// Starts every part. False with a message only for unusable settings (a bad webhook URL, an
    /// unusable cluster config); servers that are down are reported by health, not here.
    bool start(std::string *error);
    void stop();

    /// The aggregator's consumer and core: its group is followed (lag, status), it gets a health
    /// probe, and its dead-letter rate and hot products feed the alert rules.
    void watchPipeline(const AggregatorPipeline *pipeline, const Aggregator *aggregator);
    /// Each producer of the pool gets a health probe ("producer-<id>"), kept in step with the
    /// pool as producers come and go.
    void watchProducers(const ProducerPool *pool);

    /// Follows one more cluster (a saved profile beside the engine's own): starts its monitors at
    /// once (they answer from their own threads; a dead cluster shows in its snapshots and in its
    /// health row "kafka:<name>", never here). Null with a message for an unusable config, an
    /// empty name, or a name already shown (the engine's own cluster's included). Never blocks on
    /// the network.
    std::shared_ptr<WatchedCluster> addCluster(ClusterConfig config, std::string *error);
    /// Stops following `name` without waiting: it leaves watchedClusters() and its health row goes
    /// at once (so the name can be added again); its threads are stopped on a thread of their own
    /// (a dead cluster's refresh can hold that for a request timeout), joined by stop(). False
    /// when no such cluster is watched. Holders of the pointer keep its last snapshots readable.
    bool removeCluster(const std::string &name);
    /// The watched clusters in the order they were added (the engine's own is not among them).
    std::vector<std::shared_ptr<WatchedCluster>> watchedClusters() const;
    /// "kafka" for settings().cluster's name, else "kafka:<name>": the health row's name.
    std::string kafkaProbeName(const std::string &clusterName) const;

    ClusterMonitor &cluster();
    GroupMonitor &groups();
    HealthMonitor &health();
    AlertEngine &alerts();
    const ClusterMonitor &cluster() const;
    const GroupMonitor &groups() const;
    const HealthMonitor &health() const;
    const AlertEngine &alerts() const;
    const MonitorSettings &settings() const;

    /// Runs one alert evaluation now at `nowMs` (ticks also run on their own); the transitions.
    std::vector<AlertTransition> evaluateNow(std::int64_t nowMs);
    /// The signals of the latest tick (what the rules saw).
    std::vector<Signal> lastSignals() const;
    MonitorStatus status() const;
    /// Saves the current rules to settings().alertRulesPath.
    bool saveRules(std::string *error);

    /// Prometheus families for groups, lag status, services, alerts, topics and the notifier.
    void collectMetrics(MetricsText &out) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace studio::core
