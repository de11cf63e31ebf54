#pragma once

#include "core/common/timeseries.h"
#include "core/kafka/clusterconfig.h"
#include "core/monitor/lagstatus.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace studio::core {

struct GroupMonitorOptions
{
    int refreshIntervalMs = 1000;
    std::size_t windowSize = 10;       ///< samples per partition in Burrow's window
    int historySeconds = 3600;         ///< lag history per group, at 1 s resolution
    int requestTimeoutMs = 5000;       ///< per Kafka request
    int timestampReadsPerRefresh = 16; ///< partitions whose next message is read per refresh
    int timestampReadTimeoutMs = 500;  ///< for all of one refresh's reads together
    int listIntervalMs = 10'000;       ///< how often a real cluster's groups are listed
    bool watchListedGroups = false;    ///< follow every listed group, not only the watched ones
};

/// How a lag in seconds was obtained.
enum class LagSecondsMethod { None, NextMessageTimestamp, ConsumeRate };
/// "none", "next-message timestamp", "consume rate".
const char *lagSecondsMethodName(LagSecondsMethod method);

struct PartitionLag
{
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t committed = -1; ///< -1: the group has committed nothing here
    std::int64_t low = -1;
    std::int64_t high = -1;
    /// high - committed; high - low when nothing is committed (as if the group started at the
    /// earliest offset); -1 while unknown.
    std::int64_t lag = -1;
    double lagSeconds = -1; ///< -1 while unknown; 0 when lag is 0
    LagSecondsMethod lagSecondsMethod = LagSecondsMethod::None;
    LagStatus status = LagStatus::Unknown;
    std::string reason;
};

/// One member of a consumer group, as the group coordinator describes it (real clusters only).
struct GroupMember
{
    std::string memberId;
    std::string clientId;
    std::string host;
    std::vector<std::pair<std::string, std::int32_t>> assignment; ///< topic, partition
};

struct GroupLag
{
    std::string groupId;
    std::vector<std::string> topics;      ///< as watched; empty: discovered from committed offsets
    bool watched = false;                 ///< registered with watchGroup()
    bool listed = false;                  ///< returned by the cluster's group listing
    std::string state;                    ///< the cluster's group state, or a note saying why not
    bool described = false;               ///< members/coordinator below come from the cluster
    std::vector<GroupMember> members;     ///< by member id; empty when not described
    std::int32_t coordinator = -1;        ///< the group coordinator's broker id
    std::string assignor;                 ///< partition assignor ("range", "cooperative-sticky")
    std::vector<PartitionLag> partitions; ///< by topic, then partition
    std::int64_t totalLag = -1;
    double lagSeconds = -1;                                     ///< the largest partition's
    LagSecondsMethod lagSecondsMethod = LagSecondsMethod::None; ///< of the partition that gave it
    LagStatus status = LagStatus::Unknown;
    std::string reason;                 ///< names the worst partition and its numbers
    std::int64_t lastCommitSeenMs = -1; ///< Unix ms of the last offset move or counted commit
    std::string error;                  ///< empty when the last refresh of this group worked
};

struct GroupListing
{
    std::string groupId;
    std::string state; ///< "Stable", "Empty", ... on a real cluster; empty when not listed
    bool simple = false;
    bool watched = false;
    bool listed = false;
};

struct GroupsSnapshot
{
    std::int64_t takenAtMs = 0; ///< Unix ms of the refresh; 0 before the first
    std::uint64_t refreshes = 0;
    bool embedded = false;
    bool listingSupported = false; ///< false on the embedded broker, which cannot list groups
    bool listingAnswered = false;  ///< the cluster answered a group listing (a real cluster)
    std::string note;              ///< says so when only the app's own groups can be shown
    std::string error;             ///< cluster-level failure of the last refresh, else empty
    std::string listingError;
    std::vector<GroupListing> listing; ///< listed groups merged with the watched ones
    std::vector<GroupLag> groups;      ///< the followed groups, by id
};

struct GroupHistory
{
    std::vector<TimeSeries::Sample> totalLag;
    std::vector<TimeSeries::Sample> lagSeconds;
};

/// Follows consumer groups: committed offsets per partition, lag in messages and seconds, and
/// Burrow's lag status (lagstatus.h), refreshed on a worker thread. It never joins a group:
/// offsets come from the admin API (ListConsumerGroupOffsets with the partitions named, which
/// is all the embedded broker answers), next-message timestamps from an assign()-only reader
/// whose private group.id is never committed or joined. It lists groups (ListConsumerGroups) and
/// describes the followed ones that the listing returned (DescribeConsumerGroups: state,
/// members, their assignments) only on a real cluster: against the embedded broker
/// DescribeConsumerGroups deadlocks librdkafka 2.0.2, which answers ListConsumerGroups with
/// "unsupported", so a group is never described there.
///
/// Thread-safety: every public method may be called from any thread and returns quickly; the
/// snapshot is immutable once published. stop() returns within ~250 ms of a request finishing:
/// Kafka calls are sliced or asynchronous, except one watermark query, which can hold it for up
/// to 2 x requestTimeoutMs when a partition leader is down while the rest of the cluster is up.
class GroupMonitor
{
public:
    GroupMonitor(ClusterConfig cluster, bool embedded, GroupMonitorOptions options = {});
    ~GroupMonitor();
    GroupMonitor(const GroupMonitor &) = delete;
    GroupMonitor &operator=(const GroupMonitor &) = delete;

    /// Starts the worker. False with a message if the cluster config is unusable; an
    /// unreachable cluster is not an error here (the snapshot says so).
    bool start(std::string *error);
    void stop();
    bool isRunning() const;
    /// Wakes the worker for a refresh now.
    void refreshNow();

    /// Follows `groupId` on `topics` (the app's own groups; on the embedded broker the only
    /// groups that can be known). Empty topics: discovered from the group's committed offsets,
    /// which only a real cluster can answer. Calling it again replaces the topics.
    void watchGroup(const std::string &groupId, std::vector<std::string> topics);
    void unwatchGroup(const std::string &groupId);
    /// Tells the monitor how many commits the app's own member of `groupId` made, so a commit
    /// of an unchanged offset is seen (STALL rather than STOP). Called on the worker thread
    /// under an internal lock: it must be quick and thread-safe, and must not call back into the
    /// monitor. After this returns with an empty function the old one is never called again.
    void setCommitCounter(const std::string &groupId, std::function<std::uint64_t()> counter);

    /// The last listing (real cluster, refreshed every listIntervalMs) merged with the watched
    /// groups; on the embedded broker only the watched ones (snapshot()->note says why).
    std::vector<GroupListing> listGroups() const;
    std::shared_ptr<const GroupsSnapshot> snapshot() const;
    /// Total lag and lag seconds of `groupId` since `sinceSecond` (Unix seconds).
    GroupHistory history(const std::string &groupId, std::int64_t sinceSecond) const;

    const GroupMonitorOptions &options() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace studio::core
