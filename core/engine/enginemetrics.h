#pragma once

#include <map>
#include <mutex>

namespace studio::core {

class Aggregator;
class AggregatorPipeline;
class MetricsText;
class ProducerPool;
class SinkWorker;

/// The Prometheus families of the engine's parts, written into one scrape's MetricsText. The
/// engine registers them (StudioEngine::registerMetrics()), so every mode that runs an engine
/// exposes the same families for the same configuration. Each reads counters under the part's
/// own short locks; none does I/O.

/// Per producer (labels producer_id, producer) and totals over the pool. The totals keep counting
/// producers that were removed, so they never go down: the object remembers what it saw.
/// Thread-safe (scrapes may overlap).
class ProducerMetrics
{
public:
    void collect(MetricsText &out, const ProducerPool &pool);

private:
    struct Counts
    {
        double produced = 0, acked = 0, failed = 0, shortfall = 0;
        void add(const Counts &o);
    };
    std::mutex m_mutex;
    std::map<int, Counts> m_last; // per producer id, as of the last scrape
    Counts m_retired;             // producers removed since
};

/// The aggregator's consumer: consumed, dead letters, commits, lag, partitions, state (labels
/// group, topic).
void collectPipelineMetrics(MetricsText &out, const AggregatorPipeline &pipeline);
/// The aggregator: events read, valid, invalid by reason, duplicates, late, watermark, state.
void collectAggregatorMetrics(MetricsText &out, const Aggregator &aggregator);
/// State, buffered rows, written rows, failures and write latency of the result sinks (label
/// sink).
void collectSinkMetrics(MetricsText &out, const SinkWorker &sinks);

} // namespace studio::core
