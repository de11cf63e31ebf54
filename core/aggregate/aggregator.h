#pragma once

#include "core/aggregate/aggregates.h"
#include "core/aggregate/eventparser.h"
#include "core/aggregate/pagenormalizer.h"
#include "core/common/recordbatch.h"

#include <array>
#include <chrono>
#include <cstdint>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

namespace internal {
struct PartitionState;
struct FunnelAgg;
} // namespace internal

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
    /// ...and at most this many of their rows per aggregate (pages, geo, funnel), the newest
    /// window always kept: at the key cap a window has 10,001 page rows, and 30 of them in every
    /// snapshot (the GUI takes ten a second) would be 300,000 rows; sites with up to 666 pages
    /// still get all 30 windows.
    std::size_t recentRowsKept = 20'000;
    std::size_t recentSessionsKept = 500;
    std::size_t topPages = 10;
    /// An event more than this ahead of its partition's time is held as a suspect until the
    /// events after it confirm the jump (else refused as future_timestamp); with liveClock also
    /// the bound against the wall clock (design.md "watermark", README "Event time").
    std::int64_t maxFutureMs = 5 * 60'000;
    /// A partition without data for this long stops holding the watermark back (wall time with
    /// liveClock; without, event time: the other partitions moved on this far).
    std::int64_t idleTimeoutMs = 30'000;
    /// Live modes (run, headless, GUI): events ahead of the wall clock by more than maxFutureMs
    /// are invalid, idleness is wall time, held suspects are confirmed after idleTimeoutMs
    /// without a contradicting event. Off for files and offline passes (verify).
    bool liveClock = false;
    /// Aggregation workers, each owning a set of partitions (the pipeline runs one thread per
    /// worker); 0: one per hardware thread (`--workers`). The single-threaded calls
    /// (ingestBatch: files, verify) use one thread whatever this is. Default 1: with two workers
    /// the 10-minute soak's resident memory kept growing (3.3 MiB/min over its last 3 min against
    /// the 1.5 bound) while the counted state stayed flat, and two workers gave only 1.17x on two
    /// cores (bench/README.md, issue 20).
    int workers = 1;
    /// How `page` is normalised before aggregation (PageNormalizer; `--page-query`).
    PageNormalization pageNormalization;
    /// The key cap: distinct pages, geo combinations and products a window holds at most (per
    /// partition, and again when the partitions' rows are merged, for final rows and for the
    /// open windows in snapshot()); the others are counted into that window's kOtherKey row.
    /// 0: no cap (`--max-keys-per-window`).
    std::size_t maxKeysPerWindow = 10'000;

    std::string validate() const;
    /// `workers`, with 0 resolved to the hardware threads.
    int workerCount() const;
};

/// Suspects a partition holds at most; beyond, the oldest is refused.
inline constexpr std::size_t kMaxHeldSuspects = 16;
/// Agreeing suspects (within maxFutureMs of each other) that confirm a jump in time.
inline constexpr std::uint32_t kSuspectConfirmations = 3;
/// Events at the partition's own time, after a suspect, that refuse it.
inline constexpr std::uint32_t kSuspectRefutations = 3;
/// Distinct pages a session counts at most (its page set's bound: at most about 80 KB of page
/// ids, and the names they keep interned, per open session): a session that visits more reports
/// this many.
inline constexpr std::uint32_t kMaxSessionPages = 10'000;

/// What became of one event.
enum class Outcome : std::uint8_t {
    Accepted,
    Duplicate,
    Late,
    Invalid,
    Held ///< decided later (a suspect jump in time, or a partition's first events): see
         ///< Aggregator::takeDeferred for the dead letters that decision may bring
};

struct IngestResult
{
    Outcome outcome = Outcome::Accepted;
    InvalidReason reason = InvalidReason::BadJson; ///< when Invalid
};

/// A dead letter decided after its record's batch: a held suspect refused (future_timestamp),
/// or confirmed and then found late. Carries what the pipeline needs to send it.
struct DeferredDeadLetter
{
    std::int32_t partition = 0;
    std::int64_t offset = -1;
    std::string key;
    std::string payload;
    std::string reason; ///< "future_timestamp" or "late"
};

/// The sessions open now, summarised for the UI (issue 21): how many, how many bought, and their
/// length so far and events so far in fixed bins. Counted by snapshot() in one pass over the
/// open sessions under the locks it already takes, at most once a second (the value between).
struct OpenSessionSummary
{
    /// Upper bounds (exclusive) of the length bins, minutes of event time since the first event:
    /// [0,1), [1,5), [5,10), [10,30), [30,60), 60 and more.
    static constexpr std::array<double, 5> kLengthBoundsMinutes{1, 5, 10, 30, 60};
    /// Upper bounds (inclusive) of the events bins: 1, 2-5, 6-10, 11-20, 21-50, more than 50.
    static constexpr std::array<std::uint64_t, 5> kEventBounds{1, 5, 10, 20, 50};
    std::uint64_t count = 0;
    std::uint64_t converted = 0; ///< with a purchase so far
    std::array<std::uint64_t, kLengthBoundsMinutes.size() + 1> byLength{};
    std::array<std::uint64_t, kEventBounds.size() + 1> byEvents{};
};

/// What the UI reads: counters, open and recently final windows, top pages, recent sessions.
struct AggregatorSnapshot
{
    OpenSessionSummary openSessions; ///< the sessions open now
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
/// in event time, with the open state kept per Kafka partition (a record's partition, else the
/// event's "partition" field, else partition 0).
///
/// Event time (design.md "watermark"): each partition's watermark is the newest event time
/// accepted in it minus the delay; the aggregator's watermark is the minimum over the active
/// partitions (a partition idle for idleTimeoutMs does not hold it back) and never goes back. An
/// event older than max(its partition's watermark, the aggregator's) is late (counted, not
/// merged). A window is final for every partition at once when the aggregator's watermark passes
/// its end; its rows, merged over the partitions (HyperLogLog sketches merged), go to the sink.
/// An event more than maxFutureMs ahead of the wall clock (liveClock) is invalid
/// (future_timestamp); one more than maxFutureMs ahead of its partition's time is held until
/// kSuspectConfirmations agreeing events confirm the jump, or refused after
/// kSuspectRefutations events at the partition's own time. flush() finalizes everything.
///
/// Threads: the single-threaded calls (ingest(), ingestBatch(), flush()) are for one ingest
/// thread. For parallel ingestion (AggregatorPipeline), worker w's partitions are fed by
/// ingestWorker(w, ...) from one thread per worker, and advance(), assign(), revoke() run only
/// while no worker ingests (the pipeline's barrier). snapshot(), counters() and saveState() may
/// be called from any thread: they take each worker's lock in turn for a short copy.
class Aggregator
{
public:
    explicit Aggregator(AggregatorConfig config = {}, AggregateSink *sink = nullptr);
    ~Aggregator();
    Aggregator(const Aggregator &) = delete;
    Aggregator &operator=(const Aggregator &) = delete;

    /// One payload; results that become final are handed to the sink before it returns.
    IngestResult ingest(std::string_view payload, std::int32_t partition = -1);
    /// Many payloads (RecordBatch::partition() of each, -1: from the event), then advance().
    /// `outcomes` (optional) receives one result per record. `nowMs`: the wall clock
    /// (kNoWatermark: read it), used only with liveClock.
    void ingestBatch(const RecordBatch &batch, std::vector<IngestResult> *outcomes = nullptr,
                     std::int64_t nowMs = kNoWatermark);
    /// End of input: every open window and session becomes final; held suspects are refused.
    void flush();

    // ---- parallel ingestion (the pipeline) ----

    int workerCount() const;
    /// Partitions now assigned to this process (Kafka's rebalance): new ones get a state (or
    /// keep the one they had here), spread over the workers. Only while no worker ingests.
    void assign(const std::vector<std::int32_t> &partitions, std::int64_t nowMs);
    /// Partitions taken away: they stop holding the watermark back and get no more records;
    /// their open windows and sessions stay until the watermark closes them (`drop`: removed at
    /// once, for a state handed to another process by a checkpoint). Only while no worker ingests.
    void revoke(const std::vector<std::int32_t> &partitions, bool drop);
    /// Partitions revoked after their pieces were handed out (checkpointPieces(&partitions)):
    /// kept aside whole, neither ingesting, nor holding the watermark, nor closing windows,
    /// so that if the next assignment gives them back unchanged (Kafka's eager protocol
    /// revokes everything at each rebalance) they need not be read back from storage.
    void park(const std::vector<std::int32_t> &partitions);
    /// The parked partitions with the sequence number of their last piece.
    std::map<std::int32_t, std::uint64_t> parked() const;
    /// Brings these parked partitions back, assigned; the others stay parked.
    void unpark(const std::vector<std::int32_t> &partitions, std::int64_t nowMs);
    /// Forgets every parked partition (another member has them now).
    void dropParked();
    /// Where each held partition's state stops: the offset after its last record (partitions
    /// without one are absent).
    std::map<std::int32_t, std::int64_t> nextOffsets() const;
    /// (partition, worker) of every assigned partition (`withRevoked`: also of the revoked ones
    /// still closing their windows, which a worker owns as well).
    std::vector<std::pair<std::int32_t, int>> assignment(bool withRevoked = false) const;
    /// Worker `worker`'s records (all of partitions assign() gave it), on that worker's thread.
    /// No finalization: that is advance()'s.
    void ingestWorker(int worker, const RecordBatch &batch, std::vector<IngestResult> *outcomes,
                      std::int64_t nowMs);
    /// Idleness, the aggregator's watermark, windows and sessions it closes (handed to the sink),
    /// suspects confirmed by time. Only while no worker ingests (or from the one ingest thread).
    void advance(std::int64_t nowMs);
    /// Dead letters decided since the last call, of worker `worker`'s partitions (-1: all).
    std::vector<DeferredDeadLetter> takeDeferred(int worker = -1);
    /// The pipeline: whether unread messages wait in `partition` (such a partition is not idle).
    void setBacklog(std::int32_t partition, bool backlog);

    /// The open state (every partition's windows with their sketches, sessions, dedupe horizon,
    /// watermark, held suspects and counters) as bytes, for a checkpoint stored with the offsets
    /// it covers. Thread-safe.
    std::string saveState() const;
    /// Replaces the open state with one saved by saveState() under the same window, gap and
    /// watermark settings; false with a message (and the state unchanged) otherwise. Call it
    /// before ingesting. `nowMs` (with liveClock): a stored partition time more than maxFutureMs
    /// ahead of it is not brought back.
    bool restoreState(std::string_view bytes, std::string *error,
                      std::int64_t nowMs = kNoWatermark);

    // ---- incremental checkpoints, per partition (issue 19) ----

    /// The checkpoint pieces of the assigned partitions (`only`: of these, assigned or not):
    /// each partition's changes since its last piece, or its whole state (a base) when it has
    /// no stored chain yet (a partition this process started afresh) or `rebase` is set. Each
    /// piece's sequence number is one more than the partition's last. Clears the change marks:
    /// a piece handed out must be stored, in order, or the partition's next piece must be a
    /// base (forceBase). Only while no worker ingests (the pipeline's barrier).
    std::vector<PartitionPiece> checkpointPieces(const std::vector<std::int32_t> *only = nullptr,
                                                 bool rebase = false);
    /// Makes each listed partition's next piece a base (its stored chain was lost or refused).
    void forceBase(const std::vector<std::int32_t> &partitions);
    /// Replaces the state of each partition of `chains` (a base, then its increments in
    /// sequence order) and assigns it; other partitions are untouched. False with a message and
    /// nothing changed when a piece is unreadable or was written under other settings. Only
    /// while no worker ingests. `nowMs` as for restoreState().
    bool restorePieces(const std::map<std::int32_t, std::vector<std::string>> &chains,
                       std::string *error, std::int64_t nowMs = kNoWatermark);
    /// One base from a stored chain (base then increments), without touching this aggregator's
    /// state: compaction, on any thread. nullopt with a message for an unreadable chain.
    std::optional<std::string> compactChain(const std::vector<std::string> &chain,
                                            std::string *error) const;
    /// What is not per partition (windows finalized, the key cap's counters over final
    /// windows), small, stored with every checkpoint; restoreHead() puts it back (false with a
    /// message for other settings or damaged bytes).
    std::string saveHead() const;
    bool restoreHead(std::string_view bytes, std::string *error);

    AggregatorSnapshot snapshot() const;
    AggregateCounters counters() const;
    const AggregatorConfig &config() const { return m_config; }

private:
    struct State;
    struct Worker;
    struct Ingest;
    friend struct Ingest;
    void ingestRecords(Worker &w, const RecordBatch &batch, std::vector<IngestResult> *outcomes,
                       std::int64_t nowMs, bool anyWorker);
    internal::PartitionState &partitionFor(Worker &w, std::int32_t partition, std::int64_t nowMs,
                                           bool anyWorker);
    /// Held suspects: confirmed by time (live), or all refused (end of input).
    void settleHeld(Worker &w, internal::PartitionState &p, std::int64_t nowMs, bool refuseAll);
    // With every worker's lock held:
    void advanceLocked(std::int64_t nowMs, FinalResults &out);
    void collectFinal(FinalResults &out, bool everything);
    AggregateCounters countersLocked() const;
    /// snapshot()'s part with every worker's lock held: the open windows merged over the
    /// partitions and capped again, and the open-session summary.
    void collectOpen(std::vector<PageRow> &pages, std::vector<GeoRow> &geo,
                     std::map<std::int64_t, std::map<std::string, internal::FunnelAgg>> &funnel,
                     OpenSessionSummary &openSessions) const;
    void rebalanceWorkers();
    void emit(FinalResults &&results);
    std::int64_t wallNow(std::int64_t nowMs) const;
    void restoreGuard(std::map<std::int32_t, std::unique_ptr<internal::PartitionState>> &partitions,
                      std::int64_t &global, std::int64_t nowMs) const;

    const AggregatorConfig m_config;
    AggregateSink *m_sink;
    /// snapshot()'s open-session summary and when it was counted; written and read with every
    /// worker's lock held (snapshot() takes them all), refreshed after kOpenSessionsRefresh.
    static constexpr std::chrono::seconds kOpenSessionsRefresh{1};
    mutable OpenSessionSummary m_openSessions;
    mutable std::chrono::steady_clock::time_point m_openSessionsAt{};
    mutable std::mutex m_resultsMutex; // recent final rows (State::recent*) and the watermark
    std::unique_ptr<State> m_state;
};

} // namespace studio::core
