#pragma once

#include "core/common/timeseries.h"
#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace studio::core {

class EmbeddedBroker;

struct ClusterMonitorOptions
{
    int refreshIntervalMs = 1000;
    int historySeconds = 3600;   ///< throughput history kept per topic and moving partition
    int requestTimeoutMs = 5000; ///< bound on one whole refresh (metadata + watermarks)
};

struct BrokerInfo
{
    std::int32_t id = -1;
    std::string host;
    int port = 0;
};

struct PartitionInfo
{
    std::int32_t partition = 0;
    std::int32_t leader = -1;
    std::vector<std::int32_t> replicas;
    std::vector<std::int32_t> isr;
    std::int64_t low = -1; ///< -1 when unknown (see error)
    std::int64_t high = -1;
    std::int64_t messages = 0; ///< high - low
    double rate = 0;           ///< messages/s appended over the last refresh
    int error = 0;             ///< rd_kafka_resp_err_t from metadata or watermarks; 0 = fine
};

struct TopicInfo
{
    std::string name;
    bool internal = false;                 ///< a Kafka-internal topic (name starts with "__")
    int error = 0;                         ///< rd_kafka_resp_err_t of the topic's metadata
    std::vector<PartitionInfo> partitions; ///< sorted by partition id
    std::int64_t messages = 0;             ///< sum over partitions
    double rate = 0;                       ///< messages/s, sum over partitions
};

/// One immutable picture of the cluster. When a refresh fails, ok is false, error says why
/// ("unreachable: <reason>") and the rest is the last good data, dataAtMs telling its age.
struct ClusterSnapshot
{
    bool ok = false;
    std::string error;
    bool embedded = false; ///< the in-process embedded broker, not a real cluster
    std::string clusterName;
    std::vector<BrokerInfo> brokers;
    std::vector<TopicInfo> topics; ///< sorted by name
    std::int64_t totalMessages = 0;
    double totalRate = 0;
    std::int64_t dataAtMs = 0;      ///< Unix ms when the data shown was taken; 0 = never
    std::int64_t attemptAtMs = 0;   ///< Unix ms of the latest refresh attempt
    double refreshMs = 0;           ///< duration of the latest refresh attempt
    double metadataMs = 0;          ///< of the data shown: the Metadata round trip
    double watermarksMs = 0;        ///< of the data shown: the ListOffsets rounds
    std::uint64_t refreshCount = 0; ///< successful refreshes
    std::uint64_t failedRefreshes = 0;
    std::size_t historyBytes = 0;    ///< memory held by the throughput history
    std::size_t partitionSeries = 0; ///< partitions with a history (those that have moved)

    const TopicInfo *findTopic(const std::string &name) const;
};

/// The cluster view: a worker thread refreshes brokers, topics, partitions (leader, replicas,
/// ISR) and watermarks every interval, and derives throughput from watermark movement, kept at
/// 1 s resolution for the history window. Topic and partition histories are allocated when they
/// first move and released after a whole window without movement, so idle partitions cost nothing.
/// Thread-safety: every public method may be called from any thread. snapshot() and the history
/// accessors take one short lock; refreshNow() and createTopic() block on the network (up to the
/// request timeout): call them from a worker, never the GUI thread. stop() waits for a refresh in
/// progress, so it returns within about one request timeout even when the cluster is dead.
class ClusterMonitor
{
public:
    ClusterMonitor(ClusterConfig cluster, EmbeddedBroker *embedded = nullptr,
                   ClusterMonitorOptions options = {});
    ~ClusterMonitor();
    ClusterMonitor(const ClusterMonitor &) = delete;
    ClusterMonitor &operator=(const ClusterMonitor &) = delete;

    /// Starts the refresh thread (the first refresh runs at once). False if the config is unusable.
    bool start(std::string *error);
    void stop();
    /// Between a successful start() and the next stop(); never waits (stop() may be joining).
    bool isRunning() const { return m_running.load(std::memory_order_acquire); }

    /// A refresh on the caller's thread, serialised with the worker's (the worker lets a waiting
    /// caller go first, so this returns within about twice the request timeout). False with the
    /// reason.
    bool refreshNow(std::string *error);

    /// The latest snapshot (never null); cheap: a shared pointer copied under a short lock.
    std::shared_ptr<const ClusterSnapshot> snapshot() const;

    /// Rate samples (messages/s, Unix seconds) with second >= fromSecond, oldest first. Empty for
    /// an unknown topic or one that has not moved within the history window.
    std::vector<TimeSeries::Sample> topicRateHistory(const std::string &topic,
                                                     std::int64_t fromSecond) const;
    std::vector<TimeSeries::Sample> partitionRateHistory(const std::string &topic,
                                                         std::int32_t partition,
                                                         std::int64_t fromSecond) const;

    /// Creates a topic. Name: 1..249 of [a-zA-Z0-9._-], not "." or "..". On the embedded broker
    /// it goes through EmbeddedBroker::createTopic (the mock has no controller, so the
    /// CreateTopics admin request would only time out; and the mock gives every partition
    /// min(3, brokers) replicas whatever factor is asked); on a real cluster through
    /// rd_kafka_CreateTopics, bounded by the request timeout. Blocks (on the mock, occasionally
    /// about 1 s): call it from a worker thread. Wakes the refresh thread.
    bool createTopic(const std::string &name, int partitions, int replicationFactor,
                     std::string *error);

    /// Empty when `name` is a legal Kafka topic name, else why not.
    static std::string validateTopicName(const std::string &name);

    const ClusterMonitorOptions &options() const { return m_options; }

private:
    struct PartitionHistory;
    struct TopicHistory;

    void run();
    bool refresh(std::string *error, bool caller = false);
    rd_kafka_t *client(std::string *error);

    const ClusterConfig m_cluster;
    EmbeddedBroker *const m_embedded;
    const ClusterMonitorOptions m_options;

    std::mutex m_lifecycleMutex; // serialises start() and stop(); guards m_thread
    std::thread m_thread;
    std::atomic<bool> m_running{false}; // what isRunning() says, without m_lifecycleMutex
    std::atomic<bool> m_stop{false};
    std::mutex m_wakeMutex;
    std::condition_variable m_wake;
    bool m_wakeRequested = false; // guarded by m_wakeMutex

    std::atomic<int> m_callersWaiting{0}; // refreshNow() callers waiting for m_refreshMutex
    std::mutex m_refreshMutex;            // serialises refreshes; guards the counters
    std::mutex m_clientMutex;             // guards m_client creation
    KafkaHandle m_client;
    std::uint64_t m_refreshCount = 0;
    std::uint64_t m_failedRefreshes = 0;
    std::int64_t m_lastRefreshSteadyNs = 0;

    mutable std::mutex m_mutex; // short lock: the snapshot pointer and the history
    std::shared_ptr<const ClusterSnapshot> m_snapshot;
    std::unordered_map<std::string, std::unique_ptr<TopicHistory>> m_history;
};

} // namespace studio::core
