#pragma once

#include "app/options.h"
#include "core/common/metrics.h"

#include <memory>
#include <string>
#include <vector>

namespace studio::core {
class SinkWorker;
class Aggregator;
class AggregatorPipeline;
class ProducerPool;
} // namespace studio::core

namespace studio::app {

/// Serves a MetricsRegistry over HTTP (cpp-httplib, a small thread pool of its own): `GET
/// /metrics` in the Prometheus text format 0.0.4, `GET /` a pointer to it, 404 for anything
/// else. The registry must outlive the server. Methods are for one owning thread; the handlers
/// run on the server's threads.
class MetricsServer
{
public:
    explicit MetricsServer(core::MetricsRegistry &registry);
    ~MetricsServer();
    MetricsServer(const MetricsServer &) = delete;
    MetricsServer &operator=(const MetricsServer &) = delete;

    /// Listens on `address` (an IPv4 or IPv6 literal, or "localhost") and `port` (0: a free
    /// port, see port()). False with a message for an invalid address or a port in use.
    bool start(const std::string &address, int port, std::string *error);
    /// Stops listening and joins the threads (up to about a second for open keep-alive
    /// connections). Idempotent.
    void stop();

    bool running() const;
    int port() const;
    /// http://ADDRESS:PORT/metrics (IPv6 in brackets); empty when not running.
    std::string url() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

/// What a command serves at /metrics: a registry that always holds the process collector, and,
/// when the options give a port, the server. Commands and the GUI add their own collectors to
/// registry() with registerEngineMetrics() or MetricsRegistry::add().
class MetricsEndpoint
{
public:
    MetricsEndpoint();
    ~MetricsEndpoint();

    /// Starts the server if `options` ask for one and says "metrics: URL" on stderr. False with
    /// a message when it cannot listen (the command should then exit with a usage error).
    bool start(const MetricsOptions &options, std::string *error);
    core::MetricsRegistry &registry() { return m_registry; }
    const MetricsServer &server() const { return m_server; }

private:
    core::MetricsRegistry m_registry;
    MetricsServer m_server{m_registry};
    core::MetricsRegistry::Registration m_process;
};

using MetricsRegistration = core::MetricsRegistry::Registration;

/// Resident memory of this process (VmRSS, from /proc/self/statm) in bytes; -1 when unknown.
double residentBytes();

/// clickstream_build_info, process start time, resident memory and CPU time.
[[nodiscard]] MetricsRegistration registerProcessMetrics(core::MetricsRegistry &registry);
/// Per producer (labels producer_id, producer) and totals over the pool; the totals keep counting
/// producers that were removed, so they never go down.
[[nodiscard]] MetricsRegistration registerProducerMetrics(core::MetricsRegistry &registry,
                                                          const core::ProducerPool &pool);
/// The aggregator's consumer: consumed, dead letters, commits, lag, partitions, state (labels
/// group, topic).
[[nodiscard]] MetricsRegistration registerPipelineMetrics(core::MetricsRegistry &registry,
                                                          const core::AggregatorPipeline &pipeline);
/// The aggregator: events read, valid, invalid by reason, duplicates, late, watermark, state.
[[nodiscard]] MetricsRegistration registerAggregatorMetrics(core::MetricsRegistry &registry,
                                                            const core::Aggregator &aggregator);

/// What registerPipelineMetrics() and registerAggregatorMetrics() collect, for a caller whose
/// pipeline is replaced at runtime (the GUI's engine restarts it when the sinks change).
void collectPipelineMetrics(core::MetricsText &t, const core::AggregatorPipeline &pipeline);
void collectAggregatorMetrics(core::MetricsText &t, const core::Aggregator &aggregator);

/// State, buffered rows, written rows, failures and write latency of the result sinks (label sink).
[[nodiscard]] MetricsRegistration registerSinkMetrics(core::MetricsRegistry &registry,
                                                      const core::SinkWorker &sinks);

/// What the engine of a command has (null: not there).
struct EngineMetricSources
{
    const core::ProducerPool *pool = nullptr;
    const core::AggregatorPipeline *pipeline = nullptr;
    const core::Aggregator *aggregator = nullptr;
};

/// Registers the collectors of every source given. Keep the result declared after (so destroyed
/// before) the objects it reads: destroying a registration waits for a scrape in progress.
[[nodiscard]] std::vector<MetricsRegistration>
registerEngineMetrics(core::MetricsRegistry &registry, const EngineMetricSources &sources);

} // namespace studio::app
