#pragma once

#include "core/aggregate/aggregates.h"
#include "core/aggregate/eventparser.h"
#include "core/common/recordbatch.h"

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

struct AggregatorConfig
{
    std::int64_t pageWindowMs = 60'000;
    std::int64_t geoWindowMs = 300'000;
    std::int64_t funnelWindowMs = 60'000;
    /// Short for a live demo (README: "How the generator behaves"), so closed sessions show within
    /// minutes of a start; the generator's users pause less and stay away longer than this
    /// (GeneratorConfig::sessionTimeoutMs is the same). Real traffic: 30 min (--session-gap 30m).
    std::int64_t sessionGapMs = 2 * 60'000;
    std::int64_t watermarkDelayMs = 10'000;
    double hotViewShare = 0.10;     ///< a product with at least this share of a window's views...
    double hotMaxConversion = 0.02; ///< ...and at most this purchases/views is flagged
    std::size_t maxEventBytes = 64 * 1024;
    int hllLog2m = HyperLogLog::kDefaultLog2m;
    std::size_t recentWindowsKept = 30; ///< finalized windows kept for snapshots
    std::size_t recentSessionsKept = 500;
    std::size_t topPages = 10;

    std::string validate() const;
};

/// What became of one event.
enum class Outcome : std::uint8_t { Accepted, Duplicate, Late, Invalid };

struct IngestResult
{
    Outcome outcome = Outcome::Accepted;
    InvalidReason reason = InvalidReason::BadJson; ///< when Invalid
};

/// What the UI reads: counters, open and recently final windows, top pages, recent sessions.
struct AggregatorSnapshot
{
    AggregateCounters counters;
    std::vector<PageRow> pages;
    std::vector<GeoRow> geo;
    std::vector<FunnelRow> funnel;
    std::vector<SessionRow> recentSessions; ///< most recently closed first
    std::vector<PageRow> topPages;          ///< of the latest page window, by views
};

/// The windowed aggregation core (what Spark Structured Streaming did in the seeds): parse and
/// validate, dedupe by event_id within the watermark horizon, tumbling windows aligned to the
/// epoch for pages, geo and the product funnel, sessions per user closed by an inactivity gap, all
/// in event time. Watermark = max event time seen - delay; an event older than the watermark is
/// late (counted, not merged); a window is final once the watermark passes its end, and is then
/// handed to the sink and evicted. flush() finalizes everything at end of input.
///
/// Threads: ingest(), ingestBatch() and flush() are for one ingest thread; snapshot() and
/// counters() may be called from any thread and take the same lock for a short copy.
class Aggregator
{
public:
    explicit Aggregator(AggregatorConfig config = {}, AggregateSink *sink = nullptr);
    ~Aggregator();
    Aggregator(const Aggregator &) = delete;
    Aggregator &operator=(const Aggregator &) = delete;

    /// One payload; results that become final are handed to the sink before it returns.
    IngestResult ingest(std::string_view payload);
    /// Many payloads under one lock; `outcomes` (optional) receives one result per record.
    void ingestBatch(const RecordBatch &batch, std::vector<IngestResult> *outcomes = nullptr);
    /// End of input: every open window and session becomes final.
    void flush();

    /// The open state (windows with their sketches, sessions, the dedupe horizon, counters and
    /// watermark) as bytes, for a checkpoint stored with the offsets it covers. Thread-safe.
    std::string saveState() const;
    /// Replaces the open state with one saved by saveState() under the same window, gap and
    /// watermark settings; false with a message (and the state unchanged) otherwise. Call it
    /// before ingesting.
    bool restoreState(std::string_view bytes, std::string *error);

    AggregatorSnapshot snapshot() const;
    AggregateCounters counters() const;
    const AggregatorConfig &config() const { return m_config; }

private:
    struct State;
    IngestResult ingestLocked(std::string_view payload, std::size_t readableAfter = 0);
    void collectFinal(FinalResults &out, bool everything);
    void emit(FinalResults &&results);

    const AggregatorConfig m_config;
    AggregateSink *m_sink;
    EventParser m_parser;
    mutable std::mutex m_mutex;
    std::unique_ptr<State> m_state;
};

} // namespace studio::core
