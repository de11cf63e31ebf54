#pragma once

#include "core/aggregate/aggregator.h"
#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"
#include "core/pipeline/deadletters.h"
#include "core/store/checkpointcompactor.h"
#include "core/store/sinkbatch.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace studio::core {

class FinalsCollector;
class SinkWorker;

struct PipelineSettings
{
    std::string topic = "clickstream";
    std::string groupId = "clickstream-studio";
    bool deadLetters = true;     ///< invalid and late events go to `<topic>.dlq`
    std::string deadLetterTopic; ///< empty: topic + ".dlq"
    int fetchWaitMaxMs = 10;     ///< low, for a short produce-to-window latency
    std::size_t maxBatch = 4096;
    int prefetchMegabytes = 256; ///< most fetched-but-unprocessed data held in memory
    int commitIntervalMs = 1000;
    std::string autoOffsetReset = "earliest";
    Properties extra;

    /// Durable mode (persistence): with `sinks` set, every checkpointIntervalMs the pipeline hands
    /// the sinks one batch with the finals collected since the last one (`finals` must be the
    /// aggregator's sink), the aggregator's open state and the offsets both cover; PostgreSQL
    /// stores them in one transaction. Kafka commits then follow what the sinks made durable,
    /// consumption pauses while the sinks push back, and a start resumes from the stored
    /// checkpoint and offsets (consuming waits, retrying, until PostgreSQL answers).
    SinkWorker *sinks = nullptr;
    FinalsCollector *finals = nullptr;
    std::string shard = "main";
    int checkpointIntervalMs = 2000;
    /// Durable mode: also hand every accepted event (not duplicate, late or invalid) to the sinks
    /// with its Kafka coordinates, in the same checkpoint batch (PostgreSQL's raw archive, which
    /// the sink writes only with PostgresStoreOptions::rawArchive). Costs a second parse.
    bool archiveRaw = false;

    std::string dlqTopic() const
    {
        return deadLetterTopic.empty() ? topic + ".dlq" : deadLetterTopic;
    }
};

enum class PipelineState { Stopped, Running, Paused, Failed };

/// One aggregation worker's load (AggregatorConfig::workers; issue 20).
struct PipelineWorkerStats
{
    int partitions = 0;       ///< assigned partitions it owns
    std::uint64_t events = 0; ///< records it ingested
    double busyShare = 0;     ///< share of the last second spent ingesting (0..1)
};

struct PipelineStats
{
    PipelineState state = PipelineState::Stopped;
    std::uint64_t consumed = 0;
    double consumedRate = 0;       ///< messages/s over the last second
    std::int64_t lagMessages = -1; ///< sum over assigned partitions; -1 while unknown
    /// Lag values computed from high watermarks asked of the broker (requestLagQuery(), or while
    /// paused) rather than the ones cached from fetch responses, which may predate the newest
    /// records. A drain that must not stop early waits for this to grow and the lag to be 0.
    std::uint64_t lagQueries = 0;
    /// The lag of the latest of those queries (a cached refresh after it does not change it);
    /// -1 before the first.
    std::int64_t queriedLag = -1;
    int assignedPartitions = 0;
    std::uint64_t deadLettered = 0; ///< handed to the dead-letter producer
    std::uint64_t deadLetterAcked = 0;
    /// Delivery attempts that failed (the dead-letter topic's brokers down, or a refusal); each
    /// is retried until it succeeds, so this counts trouble, not losses.
    std::uint64_t deadLetterFailed = 0;
    std::uint64_t deadLetterPending = 0;   ///< sent, not yet delivered
    std::uint64_t deadLetterTruncated = 0; ///< payloads cut to fit the dead-letter topic
    /// Records the broker deleted (retention) before this consumer read them: librdkafka resets a
    /// fetch position that fell below the log start to it, so they were skipped. Counted from the
    /// gap between the last offset read (or the assigned position) and the log start.
    std::uint64_t deletedUnread = 0;
    std::uint64_t commits = 0;
    std::uint64_t checkpoints = 0; ///< durable mode: batches with the open state and offsets
    /// Durable mode: batches with final rows only, sent while the previous state was not stored
    std::uint64_t finalsOnlyBatches = 0;
    bool backPressure = false; ///< durable mode: paused because the sinks are behind
    bool restored = false;     ///< durable mode: resumed from a stored checkpoint
    /// Durable mode (issue 19): partitions whose stored chain this process restored (a start
    /// or a rebalance), what they held, and how long the last restore took.
    std::uint64_t partitionsRestored = 0;
    std::uint64_t restoredBytes = 0;
    double lastRestoreSeconds = 0;
    std::uint64_t lastCheckpointBytes = 0;  ///< the pieces of the last checkpoint handed out
    std::uint64_t lastCheckpointPieces = 0; ///< partitions in it
    std::uint64_t handedOver = 0;           ///< partitions revoked and handed on by checkpoint
    CompactionStatus compaction;
    std::vector<PipelineWorkerStats> workers; ///< one per aggregation worker
    std::string lastError;
};

/// The Kafka side of the aggregator: a consumer-group member on its own thread that fetches
/// batches, feeds them to the Aggregator with their partitions (which it assigns and revokes
/// there as Kafka does), sends invalid and late events to the dead-letter topic with the reason
/// in a "reason" header (and the source topic/partition/offset; see DeadLetterQueue), and
/// commits offsets manually, never past a dead letter not yet delivered. Offsets are committed only
/// after their batch has been applied and its final results handed to the aggregator's sink; in
/// durable mode (PipelineSettings::sinks) only once the sinks have stored them with a checkpoint of
/// the open state. Public methods are thread-safe.
///
/// With more than one aggregation worker (Aggregator::workerCount()), each polled batch is split by
/// partition into the workers' shares (the aggregator's assignment); the consumer thread ingests
/// worker 0's share itself and hands the others to one thread per worker through a bounded ring
/// of batches in flight. Finished batches are settled in order on the consumer thread (dead
/// letters, next offsets, raw archive). Advancing the watermark, sending deferred dead letters,
/// commits, checkpoints and rebalances happen at a barrier: every batch in flight settled, no
/// worker ingesting; so offsets, checkpoints, watermarks and dead letters are exact per partition
/// as with one worker.
class AggregatorPipeline
{
public:
    AggregatorPipeline(ClusterConfig cluster, PipelineSettings settings, Aggregator &aggregator);
    ~AggregatorPipeline();
    AggregatorPipeline(const AggregatorPipeline &) = delete;
    AggregatorPipeline &operator=(const AggregatorPipeline &) = delete;

    bool start(std::string *error);
    /// Stops consuming (no more fetches; lag then grows), keeping the group membership.
    void pause();
    void resume();
    /// Commits what was applied, leaves the group and waits for dead letters in flight.
    void stop();

    /// The next lag is computed from high watermarks queried from the broker (one round trip per
    /// assigned partition) instead of cached ones; stats().lagQueries counts them.
    void requestLagQuery();

    PipelineStats stats() const;
    const PipelineSettings &settings() const { return m_settings; }

private:
    void run();
    void applyBatch(rd_kafka_message_t **messages, std::size_t count);
    // Parallel ingestion (more than one worker).
    struct Chunk;
    bool parallel() const { return m_workerCount > 1; }
    void startWorkers();
    void stopWorkers();
    void workerLoop(int worker);
    void dispatch(rd_kafka_message_t **messages, std::size_t count);
    /// Settles finished batches in order, waiting until at least `upTo` are.
    void retire(std::uint64_t upTo);
    /// Every batch in flight settled (no worker ingesting) and deferred dead letters sent.
    void barrier();
    void settle(Chunk &chunk);
    void settleRecord(const rd_kafka_message_t *m, const IngestResult &r);
    /// Counts (and says) what the broker deleted before `m`'s partition was read up to it.
    void noteRead(const rd_kafka_message_t *m);
    void refreshRouting();
    int route(std::int32_t partition);
    void sendDeadLetter(const rd_kafka_message_t *message, std::string_view reason);
    void sendDeferred();
    void advance(std::chrono::steady_clock::time_point now);
    void archive(const rd_kafka_message_t *message);
    /// True when every assigned partition's lag is known (and something is assigned).
    bool refreshLag(bool query);
    void stepOverMarkers(std::vector<KafkaOffset> &next);
    /// pastMarkers: also step over transaction markers (stepOverMarkers); only where every
    /// message librdkafka handed out has been noted, never inside a rebalance callback.
    void commitApplied(bool pastMarkers = false);
    std::string subscribe();
    bool loadResumePoint();
    /// Durable mode, in an assignment: the stored chains of `partitions` this process does not
    /// hold, restored (retrying until PostgreSQL answers); their resume offsets set from them.
    void restorePartitions(const std::vector<std::int32_t> &partitions);
    /// Durable mode, in a revocation: the pieces of `partitions` stored (waiting for
    /// PostgreSQL, bounded) before they are dropped here, so their next owner continues them.
    void handOver(const std::vector<std::int32_t> &partitions);
    /// Whether this process holds every partition of the topic (stop: nobody to hand over to).
    bool holdsEveryPartition();
    void checkpoint(bool force = false);
    std::vector<KafkaOffset> appliedOffsets() const;
    void setError(std::string message);
    static void onError(rd_kafka_t *rk, int err, const char *reason, void *opaque);
    static void onRebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *partitions, void *opaque);

    const ClusterConfig m_cluster;
    const PipelineSettings m_settings;
    Aggregator &m_aggregator;

    KafkaHandle m_consumer;
    std::unique_ptr<DeadLetterQueue> m_deadLetters;
    KafkaQueue m_queue;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_paused{false};
    std::atomic<PipelineState> m_state{PipelineState::Stopped};
    std::atomic<std::uint64_t> m_consumed{0};
    std::atomic<std::uint64_t> m_commits{0};
    std::atomic<std::uint64_t> m_checkpoints{0};
    std::atomic<std::uint64_t> m_finalsOnly{0};
    std::uint64_t m_stateSequence = 0; // consumer thread: SinkWorker sequence of the last state
    std::atomic<bool> m_backPressure{false};
    std::atomic<std::uint64_t> m_lagQueryRequests{0};
    std::atomic<bool> m_restored{false};
    std::vector<std::int64_t> m_resumeOffsets; // durable mode: stored next offset per partition
    std::unique_ptr<CheckpointCompactor> m_compactor; // durable mode with PostgreSQL
    std::atomic<std::uint64_t> m_partitionsRestored{0};
    std::atomic<std::uint64_t> m_restoredBytes{0};
    std::atomic<double> m_lastRestoreSeconds{0};
    std::atomic<std::uint64_t> m_lastCheckpointBytes{0};
    std::atomic<std::uint64_t> m_lastCheckpointPieces{0};
    std::atomic<std::uint64_t> m_handedOver{0};
    bool m_stopping = false; // consumer_close() in stop(): revocations may hand over or keep

    // Aggregation workers (fixed at construction: the aggregator's).
    const int m_workerCount;
    std::unique_ptr<std::atomic<std::uint64_t>[]> m_workerEvents;
    std::unique_ptr<std::atomic<std::uint64_t>[]> m_workerBusyNs;
    std::vector<std::unique_ptr<Chunk>> m_chunks; // ring of batches in flight
    std::vector<std::thread> m_workerThreads;     // workers 1..N-1 (0 is the consumer thread)
    std::mutex m_workMutex;                       // guards m_published, m_workersStop, pending
    std::condition_variable m_workReady;
    std::condition_variable m_chunkDone;
    std::uint64_t m_published = 0;
    bool m_workersStop = false;
    std::uint64_t m_retired = 0; // consumer thread
    std::vector<int> m_route;    // consumer thread: partition -> worker, -1 unknown

    // Consumer thread only.
    RecordBatch m_batch;
    std::vector<IngestResult> m_outcomes;
    std::vector<const rd_kafka_message_t *> m_records;
    std::vector<std::int64_t> m_nextOffsets; // per partition: next offset to commit, -1 none
    std::vector<std::int64_t> m_readNext;    // per partition: next offset to read, -1 unknown
    std::vector<std::int64_t> m_steppedTo;   // per partition: last commit past markers, -1 none
    std::atomic<std::uint64_t> m_deletedUnread{0};
    std::unique_ptr<EventParser> m_rawParser; // archiveRaw only
    ParsedEvent m_rawEvent;
    std::vector<RawEvent> m_rawPending; // accepted since the last checkpoint
    bool m_uncommitted = false;
    std::chrono::steady_clock::time_point m_lastAdvance;
    std::chrono::steady_clock::time_point m_lastTrim; // malloc_trim() in advance()

    mutable std::mutex m_mutex; // guards what follows
    std::string m_lastError;
    std::int64_t m_lag = -1;
    DeadLetterStats m_deadLetterTotals; // of the producer, once stop() destroyed it
    std::uint64_t m_lagQueries = 0;
    std::int64_t m_queriedLag = -1;
    int m_assigned = 0;
    std::vector<int> m_workerPartitions;
    std::vector<double> m_busyShare;
    std::vector<std::uint64_t> m_busyAtSample;
    std::chrono::steady_clock::time_point m_busySampledAt{};
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> m_samples;
};

} // namespace studio::core
