#pragma once

#include "core/store/pgstore.h"
#include "core/store/targets.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace studio::core {

/// What a compaction did, for the status line, the GUI and /metrics.
struct CompactionStatus
{
    std::uint64_t compactions = 0;    ///< bases stored by compaction
    std::uint64_t failures = 0;       ///< chains that could not be read, folded or stored
    std::uint64_t lastBytes = 0;      ///< the last base stored
    std::uint64_t lastChainBytes = 0; ///< what it replaced
    double lastSeconds = 0;           ///< read + fold + store of the last one
    std::int32_t lastPartition = -1;
    std::string lastError; ///< names PostgreSQL and the partition, never the password
};

struct CompactionSettings
{
    PostgresTarget postgres;
    PostgresStoreOptions options;
    std::string groupId;
    std::string topic;
    /// Folds a chain (base, then increments) into one base (Aggregator::compactChain).
    std::function<std::optional<std::string>(const std::vector<std::string> &, std::string *)>
        compact;
    std::chrono::milliseconds interval{2000}; ///< between looks for chains worth compacting
    std::chrono::milliseconds connectTimeout{5000};
    /// Increments below this stay as they are. A fold holds its chain, the state it rebuilds and
    /// the new base at once, and glibc keeps part of the largest such peak resident: at 4 MB the
    /// soak's second round (a 2 MB base plus 4 MB of increments) left 3 MB more for good.
    std::uint64_t minBytes = std::uint64_t{1} << 20;
    std::uint64_t maxIncrements = 300; ///< more than this are always compacted
};

/// Compacts checkpoint chains in the background (issue 19): on a thread and a PostgreSQL
/// connection of its own, it looks for partitions whose increments since their base outweigh
/// the base, reads such a chain, folds it into one base (off the aggregator's state) and stores
/// that base in place of what it replaces. So storage stays within about twice the state and a
/// restore reads at most that, while the checkpoints themselves write only what changed. Only
/// the partitions this process owns (setOwned()) are compacted: scale-out instances never fold
/// the same chain twice. Errors are counted and shown, and compaction tries again later; a
/// chain is never left half-replaced (one transaction).
///
/// Threads: every method is thread-safe; stop() blocks up to `grace`.
class CheckpointCompactor
{
public:
    explicit CheckpointCompactor(CompactionSettings settings);
    ~CheckpointCompactor(); ///< stop()
    CheckpointCompactor(const CheckpointCompactor &) = delete;
    CheckpointCompactor &operator=(const CheckpointCompactor &) = delete;

    void start();
    /// Stops the thread: a statement in flight is cancelled; a fold in progress is left to end
    /// detached (it owns everything it uses) when it takes longer than `grace`.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
    /// The partitions this process holds now (after each rebalance).
    void setOwned(std::vector<std::int32_t> partitions);
    CompactionStatus status() const;

private:
    struct Shared;
    std::shared_ptr<Shared> m_shared;
};

} // namespace studio::core
