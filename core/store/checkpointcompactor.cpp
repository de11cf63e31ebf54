// Background compaction of checkpoint chains (issue 19); see checkpointcompactor.h.
#include "core/store/checkpointcompactor.h"

#include <algorithm>
#include <condition_variable>
#include <malloc.h>
#include <mutex>
#include <pthread.h>
#include <thread>

namespace studio::core {

using Clock = std::chrono::steady_clock;

namespace {
void releaseFreeHeap()
{
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}
} // namespace

struct CheckpointCompactor::Shared
{
    explicit Shared(CompactionSettings s)
        : settings(std::move(s))
        , store(settings.options)
    {
    }
    const CompactionSettings settings;
    PostgresStore store; // the thread's (cancel() from stop())

    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    bool exited = false;
    std::vector<std::int32_t> owned;
    CompactionStatus status;

    void loop();
    bool compactOne(std::int32_t partition);
    void fail(std::string why)
    {
        std::lock_guard lock(mutex);
        ++status.failures;
        status.lastError = std::move(why);
    }
};

CheckpointCompactor::CheckpointCompactor(CompactionSettings settings)
    : m_shared(std::make_shared<Shared>(std::move(settings)))
{
}

CheckpointCompactor::~CheckpointCompactor()
{
    stop();
}

void CheckpointCompactor::start()
{
    std::thread([shared = m_shared] { shared->loop(); }).detach();
}

void CheckpointCompactor::stop(std::chrono::milliseconds grace)
{
    Shared &s = *m_shared;
    {
        std::lock_guard lock(s.mutex);
        if (s.stopping)
            return;
        s.stopping = true;
    }
    s.wake.notify_all();
    s.store.cancel();
    std::unique_lock lock(s.mutex);
    s.wake.wait_for(lock, grace, [&] { return s.exited; });
}

void CheckpointCompactor::setOwned(std::vector<std::int32_t> partitions)
{
    std::lock_guard lock(m_shared->mutex);
    m_shared->owned = std::move(partitions);
}

CompactionStatus CheckpointCompactor::status() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->status;
}

void CheckpointCompactor::Shared::loop()
{
    pthread_setname_np(pthread_self(), "ckpt-compact");
    for (;;) {
        {
            std::unique_lock lock(mutex);
            wake.wait_for(lock, settings.interval, [&] { return stopping; });
            if (stopping)
                break;
        }
        std::string why;
        if (!store.isConnected() &&
            !store.connect(settings.postgres, settings.connectTimeout, &why)) {
            fail(why);
            continue;
        }
        std::vector<std::int32_t> candidates;
        if (!store.compactionCandidates(settings.groupId, settings.topic, settings.minBytes,
                                        settings.maxIncrements, &candidates, &why)) {
            fail(why);
            continue;
        }
        for (const std::int32_t partition : candidates) {
            {
                std::lock_guard lock(mutex);
                if (stopping)
                    break;
                if (std::find(owned.begin(), owned.end(), partition) == owned.end())
                    continue;
            }
            const bool ok = compactOne(partition);
            // A fold holds the chain, the state it rebuilds and the new base at once (about
            // 9 MB for a 4 MB chain in the soak); freed, glibc kept those pages resident until
            // the sink's next trim, seconds later, and the soak saw them as growth. Hand them
            // back at once.
            releaseFreeHeap();
            if (!ok)
                break; // tried again at the next look
        }
    }
    std::lock_guard lock(mutex);
    exited = true;
    wake.notify_all();
}

bool CheckpointCompactor::Shared::compactOne(std::int32_t partition)
{
    const auto started = Clock::now();
    std::string why;
    std::map<std::int32_t, StoredChain> chains;
    if (!store.loadChains(settings.groupId, settings.topic, {partition}, &chains, &why)) {
        fail(why);
        return false;
    }
    const auto it = chains.find(partition);
    if (it == chains.end() || it->second.pieces.size() < 2)
        return true; // compacted meanwhile
    StoredChain &chain = it->second;
    std::optional<std::string> base = settings.compact(chain.pieces, &why);
    if (!base) {
        fail("partition " + std::to_string(partition) + ": " + why);
        return false;
    }
    PartitionPiece piece;
    piece.partition = partition;
    piece.seq = chain.lastSeq;
    piece.base = true;
    piece.nextOffset = chain.nextOffset;
    piece.bytes = std::move(*base);
    const std::uint64_t replaced = chain.bytes;
    chain = {}; // the pieces' memory, before the write
    bool stored = store.storeCompacted(settings.groupId, settings.topic, piece, &why);
    if (!stored && !store.isConnected()) {
        // The connection broke while the chain was folded (seconds for a large one): the
        // fold is not thrown away for that, stored once more on a new connection.
        std::string again;
        stored = store.connect(settings.postgres, settings.connectTimeout, &again) &&
                 store.storeCompacted(settings.groupId, settings.topic, piece, &again);
        if (!stored)
            why += "; again: " + again;
    }
    if (!stored) {
        fail(why);
        return false;
    }
    std::lock_guard lock(mutex);
    ++status.compactions;
    status.lastBytes = piece.bytes.size();
    status.lastChainBytes = replaced;
    status.lastSeconds = std::chrono::duration<double>(Clock::now() - started).count();
    status.lastPartition = partition;
    return true;
}

} // namespace studio::core
