#pragma once

#include "core/common/servicestate.h"
#include "core/store/sinkbatch.h"
#include "core/store/targets.h"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

/// What a failed PostgreSQL connection attempt means, from libpq's message (it has no error code
/// then): "wrong password (...)", "unreachable: ...", "no permission to connect ...", ...
std::string classifyPostgresConnectError(const std::string &message, const PostgresTarget &target,
                                         int timeoutSeconds);

/// Where unique counts of several shards are merged: in PostgreSQL with the postgresql-hll
/// extension's hll_union_agg (when installed in the database), or here with HyperLogLog::merge.
enum class HllMerge { Auto, InPostgres, InApp };

/// The four aggregate tables, as the `report` command names them.
enum class ReportTable { PageMetrics, GeoMetrics, Sessions, ProductFunnel };
/// "page_metrics", "geo_metrics", "sessions", "product_funnel".
std::string_view toString(ReportTable table);
std::optional<ReportTable> reportTableFromName(std::string_view name);

struct PostgresStoreOptions
{
    std::chrono::milliseconds statementTimeout{30'000}; ///< server side, per statement; 0 = none
    bool rawArchive = false; ///< write SinkBatch::rawEvents to raw_events (else they are ignored)
    HllMerge hllMerge = HllMerge::Auto;
};

struct PostgresStoreStats
{
    std::uint64_t batches = 0;   ///< committed write() calls
    std::uint64_t rows = 0;      ///< fact rows in them
    std::uint64_t rawEvents = 0; ///< raw events archived (including ones already there)
    std::uint64_t failures = 0;  ///< write() calls that rolled back
};

/// The PostgreSQL sink (design.md "Persistence contract"): one connection, versioned migrations
/// on connect, and atomic idempotent writes of final results together with the Kafka offsets
/// they cover. Each write() is ONE transaction: the rows go by COPY into per-connection temporary
/// staging tables, then INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE with absolute values
/// into the facts (dimensions upserted first), then the offsets and the checkpoint; so a batch
/// written twice leaves identical rows, and a failure leaves nothing of the batch. Event data
/// only ever travels as COPY data or statement parameters, never as SQL text.
///
/// Errors name the sink ("PostgreSQL at <conninfo>: ...") and never contain the password.
///
/// Threads: NOT thread-safe. Use one PostgresStore from ONE worker thread (all methods but
/// cancel()); every call blocks on the network. cancel() may be called from another thread to
/// make a call that hangs on a dead server fail soon (it shuts the socket down; connect() again
/// afterwards).
class PostgresStore
{
public:
    explicit PostgresStore(PostgresStoreOptions options = {});
    ~PostgresStore();
    PostgresStore(const PostgresStore &) = delete;
    PostgresStore &operator=(const PostgresStore &) = delete;

    /// Connects (libpq connect_timeout from `timeout`, at least 2 s), applies the pending
    /// migrations (each in a transaction, serialised across processes by an advisory lock) and
    /// prepares the staging tables. A database whose schema is newer than this build is refused.
    /// False with a message that says what went wrong: wrong password, unreachable host, database
    /// missing or without permission, ...
    bool connect(const PostgresTarget &target, std::chrono::milliseconds timeout,
                 std::string *error);
    void disconnect();
    /// False after a failure that broke the connection (connect() again).
    bool isConnected() const;
    /// The database's schema version after connect().
    int schemaVersion() const;
    /// Whether the postgresql-hll extension is installed in the database (checked on connect).
    bool hasHllExtension() const;
    /// A round trip (SELECT 1).
    bool ping(std::string *error);

    /// Writes the batch in one transaction (see the class comment). False with a message; then
    /// nothing of the batch is stored and the stored offsets are unchanged. Within a batch a
    /// later row with the same key replaces an earlier one.
    bool write(const SinkBatch &batch, std::string *error);
    /// After a failed write(): true when the same batch may succeed later (not connected, the
    /// connection broke, a timeout, deadlock or serialization failure, a lock, the server short of
    /// resources or shutting down); false when the server refused the data or the statement
    /// (a value out of range, no permission, ...): the same batch would fail again.
    bool lastWriteRetryable() const;

    /// The stored next offsets of `group` for `topic`, by partition; empty when none.
    bool loadOffsets(const std::string &group, const std::string &topic,
                     std::vector<KafkaOffset> *out, std::string *error);
    /// The checkpoint of (group, shard); `out` is reset when there is none.
    bool loadCheckpoint(const std::string &group, const std::string &shard,
                        std::optional<Checkpoint> *out, std::string *error);

    /// The stored chains of `partitions` of (group, topic) (issue 19): each partition's latest
    /// base and the increments after it; a partition without one is absent from `out`.
    bool loadChains(const std::string &group, const std::string &topic,
                    const std::vector<std::int32_t> &partitions,
                    std::map<std::int32_t, StoredChain> *out, std::string *error);
    /// The sequence number of the newest stored piece of each of `partitions` that has one.
    bool lastSequences(const std::string &group, const std::string &topic,
                       const std::vector<std::int32_t> &partitions,
                       std::map<std::int32_t, std::uint64_t> *out, std::string *error);
    /// Partitions of (group, topic) whose increments since their base add up to more than the
    /// base (and at least `minBytes`), or number more than `maxIncrements`: worth compacting.
    bool compactionCandidates(const std::string &group, const std::string &topic,
                              std::uint64_t minBytes, std::uint64_t maxIncrements,
                              std::vector<std::int32_t> *out, std::string *error);
    /// Stores `base` (a piece folding a partition's chain up to its sequence number) and
    /// deletes what it replaces (older bases, increments up to it), in one transaction.
    bool storeCompacted(const std::string &group, const std::string &topic,
                        const PartitionPiece &base, std::string *error);

    /// Final rows merged over shards, windows (sessions: starts) in [fromMs, toMs), sorted as
    /// the CSV reports are. Page rows carry the merged sketches and their estimates.
    bool loadPages(std::int64_t fromMs, std::int64_t toMs, std::vector<PageFinal> *out,
                   std::string *error);
    bool loadGeo(std::int64_t fromMs, std::int64_t toMs, std::vector<GeoRow> *out,
                 std::string *error);
    bool loadSessions(std::int64_t fromMs, std::int64_t toMs, std::vector<SessionRow> *out,
                      std::string *error);
    bool loadFunnel(std::int64_t fromMs, std::int64_t toMs, std::vector<FunnelRow> *out,
                    std::string *error);

    /// One table over [fromMs, toMs) as an RFC 4180 CSV report: the columns, order and format
    /// of the in-memory reports (core/store/csvreport.h), formula cells neutralised.
    bool exportCsv(ReportTable table, std::int64_t fromMs, std::int64_t toMs, std::ostream &out,
                   std::string *error);
    bool exportCsv(ReportTable table, std::int64_t fromMs, std::int64_t toMs,
                   const std::string &path, std::string *error);

    /// Thread-safe: fails a call blocked on the server now (shuts the socket down).
    void cancel();

    PostgresStoreStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace studio::core
