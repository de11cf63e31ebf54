#pragma once

#include "core/common/servicestate.h"
#include "core/store/pgstore.h"
#include "core/store/redisstore.h"
#include "core/store/sinkbatch.h"
#include "core/store/targets.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace studio::core {

struct SinkSettings
{
    std::optional<PostgresTarget> postgres; ///< nullopt: no PostgreSQL sink
    PostgresStoreOptions postgresOptions;
    std::optional<RedisTarget> redis; ///< nullopt or an empty host: no Redis sink
    RedisStoreOptions redisOptions;
    std::string shard;   ///< for batches whose shard is empty
    std::string groupId; ///< for batches whose groupId is empty
    /// Back-pressure above this many buffered rows per sink (fact rows plus raw events; for Redis
    /// the distinct final keys), released at or below resumeFraction of it.
    std::size_t maxBufferedRows = 1'000'000;
    double resumeFraction = 0.8;
    std::size_t maxRowsPerTransaction = 50'000; ///< queued batches are merged up to this
    std::size_t maxRedisRowsPerWrite = 20'000;
    std::chrono::milliseconds liveInterval{1000};   ///< live Redis values at most this often
    std::chrono::milliseconds connectTimeout{5000}; ///< also Redis' command timeout
    std::chrono::milliseconds initialBackoff{200};  ///< doubled per failure, +-20% jitter
    std::chrono::milliseconds maxBackoff{10'000};
    std::chrono::milliseconds pingInterval{5000}; ///< an idle sink checks its connection
    std::chrono::milliseconds stopGrace{2000};    ///< stop() waits this long for the threads
    /// Whether durableOffsets() also waits for Redis when PostgreSQL is configured. (Without
    /// PostgreSQL it always follows Redis.) Off: PostgreSQL, which stores the offsets with the
    /// results, is the system of record, and a Redis that is down does not hold Kafka commits.
    bool durableNeedsRedis = false;
};

/// One sink's state for the UI and /metrics. `lastError` names the sink, never a password.
struct SinkStatus
{
    ServiceState state = ServiceState::NotConfigured; ///< Unknown until the first connect ends
    bool connected = false;
    std::string target;                ///< where to, without the password
    std::uint64_t bufferedRows = 0;    ///< submitted, not yet written (in flight included)
    std::uint64_t bufferedBatches = 0; ///< submit() calls not yet fully written
    std::uint64_t liveRows = 0;        ///< Redis: rows of the pending live batch
    std::uint64_t writtenRows = 0;
    std::uint64_t writtenBatches = 0;
    std::uint64_t writes = 0;       ///< successful transactions (PostgreSQL) or writes (Redis)
    std::uint64_t liveWrites = 0;   ///< Redis: live batches written
    std::uint64_t failures = 0;     ///< failed connects, writes and pings
    std::uint64_t retries = 0;      ///< writes that repeated a failed one
    std::string lastError;          ///< kept after recovery
    std::int64_t lastErrorAtMs = 0; ///< wall clock, ms since the epoch
    std::int64_t lastWriteAtMs = 0;
    double lastWriteLatencyMs = 0;
    std::uint64_t writtenThrough = 0;      ///< newest submit() sequence number fully written
    std::uint64_t checkpointsStored = 0;   ///< PostgreSQL: transactions with a checkpoint
    std::uint64_t lastCheckpointBytes = 0; ///< the last one's state (head and pieces)
    double lastCheckpointMs = 0;           ///< and how long its transaction took
};

/// What the sinks have made durable: the Kafka offsets of every batch up to `sequence`.
struct DurablePoint
{
    std::uint64_t sequence = 0;
    std::vector<KafkaOffset> offsets; ///< newest next offset per (topic, partition)
};

/// Writes the pipeline's results to PostgreSQL and Redis on two worker threads of its own, so the
/// consumer thread never waits for a server (issue 4 "When a sink is down or slow"). A sink that
/// is down keeps what was submitted (bounded by rows and counted, see backPressure()), reconnects
/// with exponential backoff and writes everything once it is back. Nothing is ever dropped: when
/// the buffer is full, submit() still takes the batch (the buffer may exceed maxBufferedRows by
/// what is submitted before the pipeline pauses), and the pipeline is expected to pause.
///
/// Threads: every public method is thread-safe and returns at once except flush(), stop() and
/// loadResumePoint(), which block. submit()/submitLive() take one short lock and never do I/O.
/// Status reads copy under that lock. The durable callback runs on a worker thread, serialised;
/// it must not call stop() or the destructor.
class SinkWorker
{
public:
    explicit SinkWorker(SinkSettings settings);
    /// stop() with no flush time.
    ~SinkWorker();
    SinkWorker(const SinkWorker &) = delete;
    SinkWorker &operator=(const SinkWorker &) = delete;

    /// Starts the worker threads, which connect in the background: a server that is down is no
    /// error here (the status says so). Once only; batches submitted before are kept.
    void start();
    /// Flushes for up to `flushTimeout`, then stops the threads promptly (a call hung on a dead
    /// server is cancelled; a thread still stuck after stopGrace is left to finish detached). What
    /// was not written stays reported in the status. Nothing is lost: its offsets were not stored
    /// in PostgreSQL (they go in the same transaction as its rows) and, as durableOffsets() never
    /// went past it, not committed to Kafka, so a restart reads it again. True when everything
    /// was written. Later submits are counted but not written.
    bool stop(std::chrono::milliseconds flushTimeout = std::chrono::seconds(10));

    /// Queues a batch for PostgreSQL and its final page and funnel rows for Redis; its sequence
    /// number (1, 2, ...). Consecutive batches may be merged into one transaction (a later row
    /// with the same key wins, the newest offsets win; a checkpoint only ends a merge).
    std::uint64_t submit(SinkBatch batch);
    /// The newest live (open-window) values for Redis; replaces a pending older one.
    void submitLive(RedisBatch live);
    /// True once a sink's buffered rows exceed maxBufferedRows, false again when every sink is
    /// at or below the resume mark. The pipeline pauses consumption while it is true.
    bool backPressure() const;
    /// Waits until everything submitted before the call (and the pending live batch) is written
    /// to every configured sink; false on timeout.
    bool flush(std::chrono::milliseconds timeout);

    /// Cheap copies (one short lock), for the UI timer, /metrics and a health probe.
    SinkStatus postgresStatus() const;
    SinkStatus redisStatus() const;
    /// The offsets the pipeline may commit to Kafka: of the batches PostgreSQL has committed (and
    /// Redis written, with durableNeedsRedis or without PostgreSQL; with no sink: all submitted,
    /// without a callback).
    /// Redis counts a batch written once every final row submitted up to it is written.
    DurablePoint durableOffsets() const;
    /// durableOffsets().sequence, without a lock.
    std::uint64_t durableSequence() const;
    /// Called on a worker thread after the durable point advanced, once per write at most, with
    /// its sequence (increasing). Set before start().
    void setDurableCallback(std::function<void(std::uint64_t sequence)> callback);

    /// Start-up, any thread, blocking: the stored offsets of (group, topic) and the checkpoint of
    /// (group, shard), on a connection of its own. True with nothing when PostgreSQL is not
    /// configured; false with a message when it cannot be read.
    bool loadResumePoint(const std::string &group, const std::string &topic,
                         const std::string &shard, std::optional<Checkpoint> *checkpoint,
                         std::vector<KafkaOffset> *offsets, std::string *error) const;

    /// Any thread, blocking: the stored checkpoint chains of `partitions` of (group, topic)
    /// (issue 19), on a connection of its own. True with nothing when PostgreSQL is not
    /// configured; false with a message when they cannot be read.
    bool loadChains(const std::string &group, const std::string &topic,
                    const std::vector<std::int32_t> &partitions,
                    std::map<std::int32_t, StoredChain> *out, std::string *error) const;
    /// Any thread, blocking: the newest stored piece's sequence number of each of `partitions`
    /// (PostgresStore::lastSequences), on a connection of its own.
    bool lastSequences(const std::string &group, const std::string &topic,
                       const std::vector<std::int32_t> &partitions,
                       std::map<std::int32_t, std::uint64_t> *out, std::string *error) const;
    /// The PostgreSQL target and options (for a compactor of the same database); nullopt
    /// without PostgreSQL.
    std::optional<PostgresTarget> postgresTarget() const;
    PostgresStoreOptions postgresOptions() const;

private:
    /// Connects a store of its own to the configured PostgreSQL and runs `read` on it; false
    /// with the reason, the password redacted, when either fails.
    bool readStore(const std::function<bool(PostgresStore &, std::string *why)> &read,
                   std::string *error) const;

    struct Shared;
    std::shared_ptr<Shared> m_shared; // shared with the worker threads, which may outlive us
};

} // namespace studio::core
