#pragma once

#include "core/aggregate/aggregates.h"
#include "core/common/servicestate.h"
#include "core/store/targets.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

/// Rows for one RedisStore::write(): live (open window, from Aggregator::snapshot()) and final
/// rows in any mix and order. Within a batch a later row for the same key wins.
struct RedisBatch
{
    std::vector<PageRow> pages;
    std::vector<FunnelRow> funnel;

    void add(const FinalResults &results); ///< copies the page and funnel rows
    bool empty() const { return pages.empty() && funnel.empty(); }
    std::size_t rows() const { return pages.size() + funnel.size(); }
};

struct RedisStoreOptions
{
    std::string keyPrefix;               ///< put before every key, e.g. "app1:"; "" = none
    std::chrono::seconds ttl{24 * 3600}; ///< EXPIRE on every key written; 0 = keep forever
    std::size_t pipelineDepth = 1024;    ///< commands in flight before their replies are read
    std::size_t fieldsPerCommand = 512;  ///< a bigger HSET/ZADD group is split
};

/// What one call sent. `commands` and `bytes` count what went out, also for a failed call.
struct RedisWriteResult
{
    std::size_t rows = 0;
    std::size_t commands = 0;
    std::size_t bytes = 0; ///< RESP bytes of the commands
    double latencyMs = 0;  ///< the whole call, connect and retry included
};

/// Totals since construction.
struct RedisStoreStats
{
    bool connected = false;
    std::uint64_t writes = 0; ///< successful write calls
    std::uint64_t failedWrites = 0;
    std::uint64_t rows = 0;     ///< rows of successful calls
    std::uint64_t commands = 0; ///< every command sent, also by failed calls
    std::uint64_t bytes = 0;
    std::uint64_t connects = 0; ///< successful connections, the first one included
    double lastLatencyMs = 0;   ///< of the last write or ping
    std::string lastError;      ///< of the last failed call; never holds the password
};

/// The Redis feature store of live values (issue 4), over one hiredis connection.
///
/// Key layout (P = keyPrefix, W = window start as seed 001 wrote it: UTC "2025-06-10T05:04:00",
/// no zone suffix, ".mmm" only when the start is not a whole second):
/// - `P click_count:<page>` hash, field W, value = events on that page in the window (views,
///   clicks, carts and purchases: what seed 001 counted with groupBy(window, page).count());
/// - `P top_pages:<W>` sorted set, member page, score views;
/// - `P product:<product_id>` hash: window_start, window_end, views, add_to_cart, purchases,
///   conversion (purchases/views, shortest decimal), hot_low_conversion and final (0/1) of the
///   newest window written; an older window never replaces a newer one (a Lua guard).
/// Values are absolute, so writing the same rows again leaves the same contents. Every key gets
/// EXPIRE ttl in the same pipeline; `click_count` fields older than ttl (by window start,
/// relative to the newest window of that page) are pruned now and then, since Redis 7.0 has no
/// field TTL. Keys and values go out as binary-safe argv, never as format strings.
///
/// Not thread-safe: one store is one connection, used from ONE worker thread (the sink worker).
/// Only stats() may be called from other threads. Calls block for at most about the timeout per
/// network step; SIGPIPE is blocked on the calling thread while it does I/O.
class RedisStore
{
public:
    explicit RedisStore(RedisStoreOptions options = {});
    ~RedisStore();
    RedisStore(const RedisStore &) = delete;
    RedisStore &operator=(const RedisStore &) = delete;

    /// Connects (redisConnectWithTimeout), sets `timeout` as the command timeout, AUTHs (with
    /// the user when set), SELECTs target.db, loads the scripts and PINGs. Remembers the target,
    /// so later calls reconnect on demand after a failure. False with a message that names Redis
    /// and never the password (wrong password or user, NOAUTH, refused, timed out, bad db).
    bool connect(const RedisTarget &target, std::chrono::milliseconds timeout,
                 std::string *error = nullptr);
    void disconnect();
    bool isConnected() const;

    /// Writes the batch pipelined; connects first when needed and, when a reused connection
    /// turns out dead, reconnects and sends the whole batch once more (values are absolute, so a
    /// repeat is harmless). False on any failure: the caller keeps the batch and retries later.
    bool write(const RedisBatch &batch, RedisWriteResult *result = nullptr,
               std::string *error = nullptr);
    bool writePages(const std::vector<PageRow> &rows, RedisWriteResult *result = nullptr,
                    std::string *error = nullptr);
    bool writeFunnel(const std::vector<FunnelRow> &rows, RedisWriteResult *result = nullptr,
                     std::string *error = nullptr);

    /// PING (connecting first when needed); the round trip in `latencyMs`.
    bool ping(double *latencyMs = nullptr, std::string *error = nullptr);

    /// Thread-safe copy.
    RedisStoreStats stats() const;
    const RedisStoreOptions &options() const;

    /// The keys and the window field this store writes, for readers and tests.
    std::string clickCountKey(std::string_view page) const;
    std::string topPagesKey(std::int64_t windowStartMs) const;
    std::string productKey(std::string_view productId) const;
    static std::string windowText(std::int64_t windowStartMs);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl; // keeps hiredis out of this header
};

} // namespace studio::core
