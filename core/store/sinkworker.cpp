#include "core/store/sinkworker.h"

#include "core/common/backoff.h"
#include "core/common/text.h"
#include "core/common/timeutil.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace studio::core {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Gives the heap's free pages back to the system. A checkpoint is one large string (megabytes
/// at high cardinality) made on the ingest thread and freed here once stored; its size drifts
/// from one to the next, so a freed block rarely fits the next one exactly and glibc keeps the
/// holes resident. In the soak (5,000 events/s, 10 MB states every 5 s) that was about 1 MB more
/// resident memory each minute, with the open state not growing. malloc_trim(0) releases every
/// free page of every arena (MADV_DONTNEED); it takes well under a millisecond at this heap
/// size, and runs at most once per stored checkpoint, on this thread.
void releaseFreeHeap()
{
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

/// Doubled per failure up to the maximum, each wait +-20% at random so that several instances
/// do not retry in step.
Backoff sinkBackoff(const SinkSettings &settings)
{
    return Backoff({settings.initialBackoff, settings.maxBackoff, 2.0, 0.2});
}

/// Newer offsets replace older ones of the same partition; others are kept.
void mergeOffsets(std::vector<KafkaOffset> &into, const std::vector<KafkaOffset> &newer)
{
    for (const KafkaOffset &o : newer) {
        const auto same = std::find_if(into.begin(), into.end(), [&](const KafkaOffset &x) {
            return x.partition == o.partition && x.topic == o.topic;
        });
        if (same != into.end())
            same->nextOffset = o.nextOffset;
        else
            into.push_back(o);
    }
}

template <typename T> void append(std::vector<T> &into, std::vector<T> &&from)
{
    if (into.empty()) {
        into = std::move(from);
        return;
    }
    into.insert(into.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
}

std::string pageKey(const PageRow &r)
{
    return std::to_string(r.windowStart) + '\x1f' + r.page;
}

std::string funnelKey(const FunnelRow &r)
{
    return std::to_string(r.windowStart) + '\x1f' + r.productId;
}

/// What a batch weighs in the PostgreSQL buffer: fact rows plus raw events.
std::size_t weightOf(const SinkBatch &b)
{
    return b.rowCount() + b.rawEvents.size();
}

} // namespace

struct SinkWorker::Shared
{
    /// One or more consecutive submitted batches, merged into one transaction.
    struct Queued
    {
        std::uint64_t lastSeq = 0;
        std::size_t batches = 0;
        std::size_t rows = 0;
        SinkBatch batch;
    };
    /// Per sink: connection facts that the status derives its state from.
    struct Link
    {
        bool configured = false;
        bool attempted = false; ///< the first connect has ended
        bool connected = false;
        bool failing = false; ///< the last write (or ping) failed
        bool exited = false;  ///< the worker thread has left its loop
        std::thread thread;
        SinkStatus status;
    };

    explicit Shared(SinkSettings s)
        : settings(std::move(s))
    {
        pg.configured = settings.postgres.has_value();
        redis.configured = settings.redis && !settings.redis->host.empty();
        if (pg.configured) {
            pg.status.target = settings.postgres->describe();
            pgStore = std::make_unique<PostgresStore>(settings.postgresOptions);
        }
        if (redis.configured) {
            redis.status.target = redisUri(*settings.redis);
            redisStore = std::make_unique<RedisStore>(settings.redisOptions);
        }
        pg.status.state = redis.status.state = ServiceState::Unknown;
    }

    const SinkSettings settings;

    mutable std::mutex mutex; // everything below but the stores and the callback
    std::condition_variable pgWake;
    std::condition_variable redisWake;
    std::condition_variable progress; // written-through marks moved, or a thread exited
    bool started = false;
    bool stopping = false;
    std::uint64_t lastSeq = 0;

    Link pg;
    std::deque<Queued> pgQueue;
    std::size_t pgQueuedRows = 0;
    std::size_t pgQueuedBatches = 0;
    std::size_t pgInflightRows = 0;
    std::size_t pgInflightBatches = 0;
    std::unique_ptr<PostgresStore> pgStore; // the PostgreSQL thread's (cancel() from stop())

    Link redis;
    std::unordered_map<std::string, PageRow> redisPages; // final rows by key: the newest wins
    std::unordered_map<std::string, FunnelRow> redisFunnel;
    std::uint64_t redisSubmittedSeq = 0;
    std::size_t redisPendingBatches = 0;
    std::size_t redisInflightRows = 0;
    std::size_t redisInflightBatches = 0;
    std::optional<RedisBatch> live;
    std::uint64_t liveGen = 0;
    std::uint64_t liveWrittenGen = 0;
    bool flushLive = false;
    std::unique_ptr<RedisStore> redisStore; // the Redis thread's

    std::deque<std::pair<std::uint64_t, std::vector<KafkaOffset>>> ledger; // not yet durable
    DurablePoint durable;
    std::atomic<std::uint64_t> durableSeq{0};
    std::atomic<bool> pressure{false};

    std::mutex callbackMutex;
    std::function<void(std::uint64_t)> callback;
    std::uint64_t notifiedSeq = 0;
    bool callbacksOff = false;

    // ---- with `mutex` held ----

    std::size_t pgBuffered() const { return pgQueuedRows + pgInflightRows; }
    std::size_t redisBuffered() const
    {
        return redisPages.size() + redisFunnel.size() + redisInflightRows;
    }
    std::size_t resumeMark() const
    {
        const double f = std::clamp(settings.resumeFraction, 0.0, 1.0);
        return static_cast<std::size_t>(double(settings.maxBufferedRows) * f);
    }
    void updatePressure()
    {
        const std::size_t p = pg.configured ? pgBuffered() : 0;
        const std::size_t r = redis.configured ? redisBuffered() : 0;
        if (!pressure && (p > settings.maxBufferedRows || r > settings.maxBufferedRows))
            pressure = true;
        else if (pressure && p <= resumeMark() && r <= resumeMark())
            pressure = false;
    }
    bool redisGatesDurable() const
    {
        return redis.configured && (!pg.configured || settings.durableNeedsRedis);
    }
    /// Moves the durable point to what every gating sink has written; true when it moved.
    bool advanceDurable()
    {
        std::uint64_t target = lastSeq;
        if (pg.configured)
            target = std::min(target, pg.status.writtenThrough);
        if (redisGatesDurable())
            target = std::min(target, redis.status.writtenThrough);
        if (target <= durable.sequence)
            return false;
        while (!ledger.empty() && ledger.front().first <= target) {
            mergeOffsets(durable.offsets, ledger.front().second);
            ledger.pop_front();
        }
        durable.sequence = target;
        durableSeq.store(target);
        return true;
    }
    void fail(Link &link, const std::string &error, const std::string &secret)
    {
        ++link.status.failures;
        link.status.lastError = redact(error, secret);
        link.status.lastErrorAtMs = wallClockMs();
    }
    SinkStatus statusOf(const Link &link, std::size_t buffered, std::size_t batches) const
    {
        if (!link.configured)
            return SinkStatus{};
        SinkStatus st = link.status;
        st.connected = link.connected;
        st.bufferedRows = buffered;
        st.bufferedBatches = batches;
        if (!link.attempted)
            st.state = ServiceState::Unknown;
        else if (!link.connected)
            st.state = ServiceState::Down;
        else if (link.failing || buffered > resumeMark())
            st.state = ServiceState::Degraded; // connected, but retrying or behind
        else
            st.state = ServiceState::Up;
        return st;
    }

    // ---- without `mutex` ----

    void notifyDurable()
    {
        std::lock_guard lock(callbackMutex);
        const std::uint64_t seq = durableSeq.load();
        if (callbacksOff || !callback || seq <= notifiedSeq)
            return;
        notifiedSeq = seq;
        try {
            callback(seq);
        } catch (...) { // the caller's bug must not end the worker (nor the process)
        }
    }

    static void postgresLoop(std::shared_ptr<Shared> self);
    static void redisLoop(std::shared_ptr<Shared> self);
};

// ---- PostgreSQL worker ------------------------------------------------------------------------

void SinkWorker::Shared::postgresLoop(std::shared_ptr<Shared> self)
{
    Shared &s = *self;
    PostgresStore &store = *s.pgStore;
    const std::string &secret = s.settings.postgres->password;
    Backoff backoff = sinkBackoff(s.settings);
    std::optional<Queued> inflight;
    bool retrying = false;
    auto nextPing = Clock::now() + s.settings.pingInterval;
    std::unique_lock lock(s.mutex);
    const auto pause = [&](milliseconds d) {
        s.pgWake.wait_for(lock, d, [&] { return s.stopping; });
    };
    while (!s.stopping) {
        if (!store.isConnected()) {
            lock.unlock();
            std::string error;
            const bool ok = store.connect(*s.settings.postgres, s.settings.connectTimeout, &error);
            lock.lock();
            s.pg.attempted = true;
            s.pg.connected = ok;
            if (!ok) {
                s.fail(s.pg, error, secret);
                pause(backoff.next());
                continue;
            }
            nextPing = Clock::now() + s.settings.pingInterval;
        }
        if (!inflight) {
            s.pgWake.wait_until(lock, nextPing, [&] { return s.stopping || !s.pgQueue.empty(); });
            if (s.stopping)
                break;
            if (s.pgQueue.empty()) { // idle: is the server still there?
                lock.unlock();
                std::string error;
                const bool ok = store.ping(&error);
                lock.lock();
                nextPing = Clock::now() + s.settings.pingInterval;
                s.pg.connected = store.isConnected();
                s.pg.failing = !ok;
                if (!ok) {
                    s.fail(s.pg, error, secret);
                    pause(backoff.next());
                }
                continue;
            }
            inflight = std::move(s.pgQueue.front());
            s.pgQueue.pop_front();
            s.pgQueuedRows -= inflight->rows;
            s.pgQueuedBatches -= inflight->batches;
            s.pgInflightRows = inflight->rows;
            s.pgInflightBatches = inflight->batches;
        }
        if (retrying)
            ++s.pg.status.retries;
        lock.unlock();
        std::string error;
        const auto start = Clock::now();
        const bool ok = store.write(inflight->batch, &error);
        const double latency = msSince(start);
        lock.lock();
        s.pg.connected = store.isConnected();
        if (!ok) {
            retrying = true;
            s.pg.failing = true;
            s.fail(s.pg, error, secret);
            pause(backoff.next());
            continue;
        }
        const bool storedCheckpoint =
            inflight->batch.checkpoint.has_value() || !inflight->batch.pieces.empty();
        SinkStatus &st = s.pg.status;
        if (storedCheckpoint) {
            std::uint64_t bytes =
                inflight->batch.checkpoint ? inflight->batch.checkpoint->size() : 0;
            for (const PartitionPiece &piece : inflight->batch.pieces)
                bytes += piece.bytes.size();
            ++st.checkpointsStored;
            st.lastCheckpointBytes = bytes;
            st.lastCheckpointMs = latency;
        }
        st.writtenRows += inflight->rows;
        st.writtenBatches += inflight->batches;
        ++st.writes;
        st.lastWriteAtMs = wallClockMs();
        st.lastWriteLatencyMs = latency;
        st.writtenThrough = inflight->lastSeq;
        s.pgInflightRows = s.pgInflightBatches = 0;
        inflight.reset();
        retrying = false;
        s.pg.failing = false;
        backoff.reset();
        nextPing = Clock::now() + s.settings.pingInterval;
        s.updatePressure();
        const bool moved = s.advanceDurable();
        s.progress.notify_all();
        if (moved || storedCheckpoint) {
            lock.unlock();
            if (moved)
                s.notifyDurable();
            if (storedCheckpoint)
                releaseFreeHeap(); // the checkpoint's bytes were freed with `inflight`
            lock.lock();
        }
    }
    if (inflight) { // not written: back to the front, still counted as buffered
        s.pgQueuedRows += inflight->rows;
        s.pgQueuedBatches += inflight->batches;
        s.pgInflightRows = s.pgInflightBatches = 0;
        s.pgQueue.push_front(std::move(*inflight));
    }
    s.pg.exited = true;
    s.progress.notify_all();
}

// ---- Redis worker -----------------------------------------------------------------------------

void SinkWorker::Shared::redisLoop(std::shared_ptr<Shared> self)
{
    Shared &s = *self;
    RedisStore &store = *s.redisStore;
    const std::string &secret = s.settings.redis->password;
    const std::size_t maxRows = std::max<std::size_t>(1, s.settings.maxRedisRowsPerWrite);
    Backoff backoff = sinkBackoff(s.settings);
    bool retrying = false;
    auto nextPing = Clock::now() + s.settings.pingInterval;
    Clock::time_point lastLive{};
    std::unique_lock lock(s.mutex);
    const auto pause = [&](milliseconds d) {
        s.redisWake.wait_for(lock, d, [&] { return s.stopping; });
    };
    const auto finalsPending = [&] {
        return !s.redisPages.empty() || !s.redisFunnel.empty();
    };
    const auto liveDue = [&] {
        return s.live && (s.flushLive || Clock::now() >= lastLive + s.settings.liveInterval);
    };
    while (!s.stopping) {
        // Batches without page or funnel rows, and all before them, are written once the map of
        // pending final rows is empty.
        if (!finalsPending() && s.redis.status.writtenThrough < s.redisSubmittedSeq) {
            s.redis.status.writtenThrough = s.redisSubmittedSeq;
            const bool moved = s.advanceDurable();
            s.progress.notify_all();
            if (moved) {
                lock.unlock();
                s.notifyDurable();
                lock.lock();
                continue;
            }
        }
        if (!store.isConnected()) {
            lock.unlock();
            std::string error;
            const bool ok = store.connect(*s.settings.redis, s.settings.connectTimeout, &error);
            lock.lock();
            s.redis.attempted = true;
            s.redis.connected = ok;
            if (!ok) {
                s.fail(s.redis, error, secret);
                pause(backoff.next());
                continue;
            }
            nextPing = Clock::now() + s.settings.pingInterval;
        }
        if (!finalsPending() && !liveDue()) {
            auto until = nextPing;
            if (s.live)
                until = std::min(until, lastLive + s.settings.liveInterval);
            s.redisWake.wait_until(lock, until, [&] {
                return s.stopping || finalsPending() || liveDue() ||
                       s.redis.status.writtenThrough < s.redisSubmittedSeq;
            });
            if (s.stopping)
                break;
            if (!finalsPending() && !liveDue() && Clock::now() >= nextPing) {
                lock.unlock();
                std::string error;
                const bool ok = store.ping(nullptr, &error);
                lock.lock();
                nextPing = Clock::now() + s.settings.pingInterval;
                s.redis.connected = store.isConnected();
                s.redis.failing = !ok;
                if (!ok) {
                    s.fail(s.redis, error, secret);
                    pause(backoff.next());
                }
            }
            continue;
        }

        // Live rows go first, so a final row of the same key, submitted later, wins.
        RedisBatch batch;
        bool hasLive = false;
        const bool wasFlush = s.flushLive;
        std::uint64_t takenLiveGen = 0;
        if (s.live) {
            batch = std::move(*s.live);
            s.live.reset();
            s.flushLive = false;
            hasLive = true;
            takenLiveGen = s.liveGen;
        }
        const std::size_t livePages = batch.pages.size();
        const std::size_t liveFunnel = batch.funnel.size();
        std::size_t finals = 0;
        for (auto it = s.redisPages.begin(); it != s.redisPages.end() && finals < maxRows;
             ++finals) {
            batch.pages.push_back(std::move(it->second));
            it = s.redisPages.erase(it);
        }
        for (auto it = s.redisFunnel.begin(); it != s.redisFunnel.end() && finals < maxRows;
             ++finals) {
            batch.funnel.push_back(std::move(it->second));
            it = s.redisFunnel.erase(it);
        }
        const bool emptied = !finalsPending();
        const std::uint64_t seqAtTake = emptied ? s.redisSubmittedSeq : 0;
        const std::size_t batchesTaken = emptied ? s.redisPendingBatches : 0;
        if (emptied)
            s.redisPendingBatches = 0;
        s.redisInflightRows = finals;
        s.redisInflightBatches = batchesTaken;
        if (retrying && finals > 0)
            ++s.redis.status.retries;
        lock.unlock();
        std::string error;
        RedisWriteResult result;
        const bool ok = store.write(batch, &result, &error);
        lock.lock();
        s.redisInflightRows = s.redisInflightBatches = 0;
        s.redis.connected = store.isConnected();
        SinkStatus &st = s.redis.status;
        if (!ok) {
            // Back into the map unless a newer row of the same key came meanwhile.
            for (std::size_t i = livePages; i < batch.pages.size(); ++i)
                s.redisPages.try_emplace(pageKey(batch.pages[i]), std::move(batch.pages[i]));
            for (std::size_t i = liveFunnel; i < batch.funnel.size(); ++i)
                s.redisFunnel.try_emplace(funnelKey(batch.funnel[i]), std::move(batch.funnel[i]));
            s.redisPendingBatches += batchesTaken;
            if (hasLive && !s.live) { // unless superseded meanwhile
                batch.pages.resize(livePages);
                batch.funnel.resize(liveFunnel);
                s.live = std::move(batch);
                s.flushLive = s.flushLive || wasFlush;
            }
            retrying = finals > 0;
            s.redis.failing = true;
            s.fail(s.redis, error, secret);
            s.updatePressure();
            pause(backoff.next());
            continue;
        }
        st.writtenRows += finals;
        if (finals > 0 || !hasLive)
            ++st.writes;
        if (hasLive) {
            ++st.liveWrites;
            s.liveWrittenGen = std::max(s.liveWrittenGen, takenLiveGen);
            lastLive = Clock::now();
        }
        if (emptied) {
            st.writtenThrough = std::max(st.writtenThrough, seqAtTake);
            st.writtenBatches += batchesTaken;
        }
        st.lastWriteAtMs = wallClockMs();
        st.lastWriteLatencyMs = result.latencyMs;
        retrying = false;
        s.redis.failing = false;
        backoff.reset();
        nextPing = Clock::now() + s.settings.pingInterval;
        s.updatePressure();
        const bool moved = s.advanceDurable();
        s.progress.notify_all();
        if (moved) {
            lock.unlock();
            s.notifyDurable();
            lock.lock();
        }
    }
    s.redis.exited = true;
    s.progress.notify_all();
}

// ---- SinkWorker -------------------------------------------------------------------------------

SinkWorker::SinkWorker(SinkSettings settings)
    : m_shared(std::make_shared<Shared>(std::move(settings)))
{
}

SinkWorker::~SinkWorker()
{
    stop(milliseconds(0));
}

void SinkWorker::start()
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (s.started || s.stopping)
        return;
    s.started = true;
    if (s.pg.configured)
        s.pg.thread = std::thread(&Shared::postgresLoop, m_shared);
    if (s.redis.configured)
        s.redis.thread = std::thread(&Shared::redisLoop, m_shared);
}

bool SinkWorker::stop(milliseconds flushTimeout)
{
    Shared &s = *m_shared;
    {
        std::lock_guard lock(s.mutex);
        if (s.stopping)
            return s.pgBuffered() == 0 && s.redisBuffered() == 0;
    }
    const bool flushed = flush(flushTimeout);
    {
        std::lock_guard lock(s.mutex);
        s.stopping = true;
    }
    s.pgWake.notify_all();
    s.redisWake.notify_all();
    s.progress.notify_all();
    if (s.pgStore)
        s.pgStore->cancel(); // a write hung on a dead server fails now
    {
        std::unique_lock lock(s.mutex);
        s.progress.wait_for(lock, s.settings.stopGrace, [&] {
            return (!s.pg.thread.joinable() || s.pg.exited) &&
                   (!s.redis.thread.joinable() || s.redis.exited);
        });
    }
    for (Shared::Link *link : {&s.pg, &s.redis}) {
        bool exited = false;
        {
            std::lock_guard lock(s.mutex);
            exited = link->exited;
        }
        if (!link->thread.joinable())
            continue;
        if (exited)
            link->thread.join();
        else
            link->thread.detach(); // owns a reference to everything it uses
    }
    {
        std::lock_guard lock(s.callbackMutex);
        s.callbacksOff = true;
    }
    return flushed;
}

std::uint64_t SinkWorker::submit(SinkBatch batch)
{
    Shared &s = *m_shared;
    if (batch.shard.empty())
        batch.shard = s.settings.shard;
    if (batch.groupId.empty())
        batch.groupId = s.settings.groupId;
    // Copies and keys for Redis are made before taking the lock.
    std::vector<std::pair<std::string, PageRow>> pages;
    std::vector<std::pair<std::string, FunnelRow>> funnel;
    if (s.redis.configured) {
        pages.reserve(batch.results.pages.size());
        for (const PageFinal &p : batch.results.pages)
            pages.emplace_back(pageKey(p.row), p.row);
        funnel.reserve(batch.results.funnel.size());
        for (const FunnelRow &f : batch.results.funnel)
            funnel.emplace_back(funnelKey(f), f);
    }
    const std::size_t rows = weightOf(batch);
    const std::size_t cap = s.settings.maxRowsPerTransaction;
    std::uint64_t seq = 0;
    {
        std::lock_guard lock(s.mutex);
        seq = ++s.lastSeq;
        if (!batch.offsets.empty())
            s.ledger.emplace_back(seq, batch.offsets);
        if (s.pg.configured) {
            Shared::Queued *tail = s.pgQueue.empty() ? nullptr : &s.pgQueue.back();
            // A queued checkpoint is paired with its own offsets: only a newer one may follow.
            if (tail && tail->batch.shard == batch.shard && tail->batch.groupId == batch.groupId &&
                (!tail->batch.checkpoint || batch.checkpoint) &&
                (tail->batch.pieces.empty() || batch.pieces.empty() ||
                 tail->batch.piecesTopic == batch.piecesTopic) &&
                (tail->rows == 0 || tail->rows + rows <= cap)) {
                FinalResults &into = tail->batch.results;
                append(into.pages, std::move(batch.results.pages));
                append(into.geo, std::move(batch.results.geo));
                append(into.sessions, std::move(batch.results.sessions));
                append(into.funnel, std::move(batch.results.funnel));
                append(tail->batch.rawEvents, std::move(batch.rawEvents));
                mergeOffsets(tail->batch.offsets, batch.offsets);
                // Increments are not replaceable: every piece is stored, in order.
                if (!batch.pieces.empty()) {
                    tail->batch.piecesTopic = batch.piecesTopic;
                    append(tail->batch.pieces, std::move(batch.pieces));
                }
                if (batch.checkpoint)
                    tail->batch.checkpoint = std::move(batch.checkpoint);
                tail->lastSeq = seq;
                ++tail->batches;
                tail->rows += rows;
            } else {
                s.pgQueue.push_back({seq, 1, rows, std::move(batch)});
            }
            s.pgQueuedRows += rows;
            ++s.pgQueuedBatches;
        }
        if (s.redis.configured) {
            for (auto &[key, row] : pages)
                s.redisPages.insert_or_assign(std::move(key), std::move(row));
            for (auto &[key, row] : funnel)
                s.redisFunnel.insert_or_assign(std::move(key), std::move(row));
            s.redisSubmittedSeq = seq;
            if (!pages.empty() || !funnel.empty())
                ++s.redisPendingBatches;
        }
        s.advanceDurable(); // moves only when no sink gates it
        s.updatePressure();
    }
    s.pgWake.notify_one();
    s.redisWake.notify_one();
    return seq;
}

void SinkWorker::submitLive(RedisBatch live)
{
    Shared &s = *m_shared;
    if (!s.redis.configured)
        return;
    std::optional<RedisBatch> older;
    {
        std::lock_guard lock(s.mutex);
        older = std::move(s.live);
        s.live = std::move(live);
        ++s.liveGen;
    }
    s.redisWake.notify_one();
    // `older` is freed here, outside the lock.
}

bool SinkWorker::backPressure() const
{
    return m_shared->pressure.load();
}

bool SinkWorker::flush(milliseconds timeout)
{
    Shared &s = *m_shared;
    std::unique_lock lock(s.mutex);
    const std::uint64_t target = s.lastSeq;
    const std::uint64_t liveTarget = s.live ? s.liveGen : 0;
    if (s.live) {
        s.flushLive = true;
        s.redisWake.notify_one();
    }
    return s.progress.wait_for(lock, timeout, [&] {
        return (!s.pg.configured || s.pg.status.writtenThrough >= target) &&
               (!s.redis.configured ||
                (s.redis.status.writtenThrough >= target && s.liveWrittenGen >= liveTarget));
    });
}

SinkStatus SinkWorker::postgresStatus() const
{
    const Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    return s.statusOf(s.pg, s.pgBuffered(), s.pgQueuedBatches + s.pgInflightBatches);
}

SinkStatus SinkWorker::redisStatus() const
{
    const Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    SinkStatus st =
        s.statusOf(s.redis, s.redisBuffered(), s.redisPendingBatches + s.redisInflightBatches);
    if (s.redis.configured && s.live)
        st.liveRows = s.live->rows();
    return st;
}

DurablePoint SinkWorker::durableOffsets() const
{
    const Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    return s.durable;
}

std::uint64_t SinkWorker::durableSequence() const
{
    return m_shared->durableSeq.load();
}

void SinkWorker::setDurableCallback(std::function<void(std::uint64_t)> callback)
{
    std::lock_guard lock(m_shared->callbackMutex);
    m_shared->callback = std::move(callback);
}

bool SinkWorker::readStore(const std::function<bool(PostgresStore &, std::string *)> &read,
                           std::string *error) const
{
    const Shared &s = *m_shared;
    PostgresStore store(s.settings.postgresOptions);
    std::string why;
    if (!store.connect(*s.settings.postgres, s.settings.connectTimeout, &why) ||
        !read(store, &why)) {
        if (error)
            *error = redact(why, s.settings.postgres->password);
        return false;
    }
    return true;
}

bool SinkWorker::loadResumePoint(const std::string &group, const std::string &topic,
                                 const std::string &shard, std::optional<Checkpoint> *checkpoint,
                                 std::vector<KafkaOffset> *offsets, std::string *error) const
{
    const Shared &s = *m_shared;
    if (checkpoint)
        checkpoint->reset();
    if (offsets)
        offsets->clear();
    if (!s.pg.configured)
        return true;
    std::vector<KafkaOffset> stored;
    std::optional<Checkpoint> state;
    if (!readStore(
            [&](PostgresStore &store, std::string *why) {
                return store.loadOffsets(group, topic, &stored, why) &&
                       store.loadCheckpoint(group, shard, &state, why);
            },
            error))
        return false;
    if (offsets)
        *offsets = std::move(stored);
    if (checkpoint)
        *checkpoint = std::move(state);
    return true;
}

bool SinkWorker::loadChains(const std::string &group, const std::string &topic,
                            const std::vector<std::int32_t> &partitions,
                            std::map<std::int32_t, StoredChain> *out, std::string *error) const
{
    const Shared &s = *m_shared;
    out->clear();
    if (!s.pg.configured || partitions.empty())
        return true;
    return readStore(
        [&](PostgresStore &store, std::string *why) {
            return store.loadChains(group, topic, partitions, out, why);
        },
        error);
}

bool SinkWorker::lastSequences(const std::string &group, const std::string &topic,
                               const std::vector<std::int32_t> &partitions,
                               std::map<std::int32_t, std::uint64_t> *out, std::string *error) const
{
    const Shared &s = *m_shared;
    out->clear();
    if (!s.pg.configured || partitions.empty())
        return true;
    return readStore(
        [&](PostgresStore &store, std::string *why) {
            return store.lastSequences(group, topic, partitions, out, why);
        },
        error);
}

std::optional<PostgresTarget> SinkWorker::postgresTarget() const
{
    return m_shared->settings.postgres;
}

PostgresStoreOptions SinkWorker::postgresOptions() const
{
    return m_shared->settings.postgresOptions;
}

} // namespace studio::core
