#include "core/monitor/clustermonitor.h"

#include "core/common/timeutil.h"
#include "core/kafka/embeddedbroker.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace studio::core {

using Clock = std::chrono::steady_clock;

struct ClusterMonitor::PartitionHistory
{
    std::int64_t lastHigh = -1; // -1: not seen yet
    std::int64_t lastAtNs = 0;  // steady time of lastHigh
    std::int64_t lastMovedSecond = 0;
    std::unique_ptr<TimeSeries> series;
};

struct ClusterMonitor::TopicHistory
{
    std::vector<PartitionHistory> partitions; // indexed by partition id
    std::int64_t lastMovedSecond = 0;
    std::unique_ptr<TimeSeries> series;
    std::uint64_t seenInRefresh = 0;
};

namespace {

constexpr int kMinRequestMs = 50; // less than this left of the deadline: give up the refresh

std::int64_t steadyNs(Clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::size_t seriesBytes(const std::unique_ptr<TimeSeries> &series)
{
    return series ? sizeof(TimeSeries) + series->size() * sizeof(TimeSeries::Sample) : 0;
}

} // namespace

const TopicInfo *ClusterSnapshot::findTopic(const std::string &name) const
{
    auto it = std::lower_bound(topics.begin(), topics.end(), name,
                               [](const TopicInfo &t, const std::string &n) { return t.name < n; });
    return it != topics.end() && it->name == name ? &*it : nullptr;
}

ClusterMonitor::ClusterMonitor(ClusterConfig cluster, EmbeddedBroker *embedded,
                               ClusterMonitorOptions options)
    : m_cluster(std::move(cluster))
    , m_embedded(embedded)
    , m_options(options)
{
    auto initial = std::make_shared<ClusterSnapshot>();
    initial->error = "not refreshed yet";
    initial->embedded = m_embedded != nullptr;
    initial->clusterName = m_cluster.name;
    m_snapshot = std::move(initial);
}

ClusterMonitor::~ClusterMonitor()
{
    stop();
}

bool ClusterMonitor::start(std::string *error)
{
    std::lock_guard lifecycle(m_lifecycleMutex);
    if (m_thread.joinable())
        return true;
    if (std::string e = m_cluster.validate(); !e.empty()) {
        if (error)
            *error = std::move(e);
        return false;
    }
    if (m_options.refreshIntervalMs < 1 || m_options.requestTimeoutMs < 1 ||
        m_options.historySeconds < 1) {
        if (error)
            *error = "refresh interval, request timeout and history must be positive";
        return false;
    }
    m_stop = false;
    m_thread = std::thread([this] { run(); });
    m_running.store(true, std::memory_order_release);
    return true;
}

void ClusterMonitor::stop()
{
    std::lock_guard lifecycle(m_lifecycleMutex);
    if (!m_thread.joinable())
        return;
    m_running.store(false, std::memory_order_release);
    {
        std::lock_guard lock(m_wakeMutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
    m_stop = false;
}

void ClusterMonitor::run()
{
    const auto interval = std::chrono::milliseconds(m_options.refreshIntervalMs);
    while (!m_stop) {
        const auto started = Clock::now();
        if (m_callersWaiting == 0) // a refreshNow() caller waiting for the lock goes first
            refresh(nullptr);
        std::unique_lock lock(m_wakeMutex);
        m_wake.wait_until(lock, started + interval, [this] { return m_stop || m_wakeRequested; });
        m_wakeRequested = false;
    }
}

bool ClusterMonitor::refreshNow(std::string *error)
{
    ++m_callersWaiting;
    return refresh(error, true);
}

std::shared_ptr<const ClusterSnapshot> ClusterMonitor::snapshot() const
{
    std::lock_guard lock(m_mutex);
    return m_snapshot;
}

rd_kafka_t *ClusterMonitor::client(std::string *error)
{
    std::lock_guard lock(m_clientMutex);
    if (m_client)
        return m_client.get();
    // Reconnect quickly once a broker is back, so the view recovers within a refresh or two.
    const Properties props = {
        {"reconnect.backoff.ms", "100"},
        {"reconnect.backoff.max.ms", "1000"},
        {"socket.timeout.ms", std::to_string(std::max(m_options.requestTimeoutMs, 10))},
    };
    KafkaConf conf = makeKafkaConf(m_cluster, props, error);
    if (!conf)
        return nullptr;
    m_client = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), error);
    return m_client.get();
}

bool ClusterMonitor::refresh(std::string *error, bool caller)
{
    std::unique_lock refreshLock(m_refreshMutex);
    if (caller)
        --m_callersWaiting;
    const auto started = Clock::now();
    const auto deadline = started + std::chrono::milliseconds(m_options.requestTimeoutMs);
    const std::int64_t attemptMs = wallClockMs();

    auto snap = std::make_shared<ClusterSnapshot>();
    snap->embedded = m_embedded != nullptr;
    snap->clusterName = m_cluster.name;
    snap->attemptAtMs = attemptMs;

    auto fail = [&](std::string why) {
        ++m_failedRefreshes;
        std::shared_ptr<ClusterSnapshot> kept;
        {
            std::lock_guard lock(m_mutex);
            kept = std::make_shared<ClusterSnapshot>(*m_snapshot); // the last good data, aged
        }
        kept->ok = false;
        kept->error = why;
        kept->attemptAtMs = attemptMs;
        kept->refreshMs = msSince(started);
        kept->refreshCount = m_refreshCount;
        kept->failedRefreshes = m_failedRefreshes;
        {
            std::lock_guard lock(m_mutex);
            m_snapshot = std::move(kept);
        }
        if (error)
            *error = std::move(why);
        return false;
    };

    std::string why;
    rd_kafka_t *rk = client(&why);
    if (!rk)
        return fail(why);

    rd_kafka_resp_err_t mdErr = RD_KAFKA_RESP_ERR_NO_ERROR;
    KafkaMetadata md = requestMetadata(rk, true, nullptr, std::max(msLeft(deadline), 1), &mdErr);
    if (!md)
        return fail(
            withClientError(std::string("unreachable: metadata: ") + rd_kafka_err2str(mdErr), rk));
    snap->metadataMs = msSince(started);

    snap->brokers.reserve(static_cast<std::size_t>(md->broker_cnt));
    for (int b = 0; b < md->broker_cnt; ++b)
        snap->brokers.push_back({md->brokers[b].id, md->brokers[b].host, md->brokers[b].port});
    std::sort(snap->brokers.begin(), snap->brokers.end(),
              [](const BrokerInfo &a, const BrokerInfo &b) { return a.id < b.id; });

    std::vector<TopicPartitionWatermarks> marks;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> where; // (topic, partition) index of marks
    snap->topics.resize(static_cast<std::size_t>(md->topic_cnt));
    for (int t = 0; t < md->topic_cnt; ++t) {
        const rd_kafka_metadata_topic &mt = md->topics[t];
        TopicInfo &topic = snap->topics[static_cast<std::size_t>(t)];
        topic.name = mt.topic;
        topic.internal = topic.name.size() >= 2 && topic.name[0] == '_' && topic.name[1] == '_';
        topic.error = mt.err;
        topic.partitions.resize(static_cast<std::size_t>(mt.partition_cnt));
        for (int p = 0; p < mt.partition_cnt; ++p) {
            const rd_kafka_metadata_partition &mp = mt.partitions[p];
            PartitionInfo &part = topic.partitions[static_cast<std::size_t>(p)];
            part.partition = mp.id;
            part.leader = mp.leader;
            part.replicas.assign(mp.replicas, mp.replicas + mp.replica_cnt);
            part.isr.assign(mp.isrs, mp.isrs + mp.isr_cnt);
            part.error = mp.err;
        }
        std::sort(topic.partitions.begin(), topic.partitions.end(),
                  [](const PartitionInfo &a, const PartitionInfo &b) {
                      return a.partition < b.partition;
                  });
    }
    md.reset();
    std::sort(snap->topics.begin(), snap->topics.end(),
              [](const TopicInfo &a, const TopicInfo &b) { return a.name < b.name; });
    for (std::size_t t = 0; t < snap->topics.size(); ++t) {
        const TopicInfo &topic = snap->topics[t];
        for (std::size_t p = 0; p < topic.partitions.size(); ++p) {
            const PartitionInfo &part = topic.partitions[p];
            if (part.leader < 0)
                continue; // no leader to ask; its metadata error says why
            TopicPartitionWatermarks w;
            w.topic = topic.name;
            w.partition = part.partition;
            marks.push_back(std::move(w));
            where.emplace_back(static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(p));
        }
    }

    // queryWatermarks makes two request rounds, each bounded by the timeout it is given.
    const auto watermarksFrom = Clock::now();
    const int left = msLeft(deadline);
    if (!marks.empty() && left < 2 * kMinRequestMs)
        return fail("unreachable: metadata took the whole request timeout");
    if (!queryWatermarks(rk, marks, left / 2, &why)) {
        // A client-side ("Local: ...": timed out, transport, all brokers down) failure is
        // "unreachable"; a broker that answered with an error ("Broker: ...") is not.
        const bool answered = why.find("Broker: ") != std::string::npos;
        return fail(answered ? "refresh failed: " + why
                             : withClientError("unreachable: " + why, rk));
    }
    const auto measuredAt = Clock::now();
    snap->watermarksMs =
        std::chrono::duration<double, std::milli>(measuredAt - watermarksFrom).count();
    const std::int64_t nowNs = steadyNs(measuredAt);
    const std::int64_t second = wallClockMs() / 1000;

    for (std::size_t i = 0; i < marks.size(); ++i) {
        PartitionInfo &part = snap->topics[where[i].first].partitions[where[i].second];
        part.low = marks[i].low;
        part.high = marks[i].high;
        if (marks[i].error != 0 && part.error == 0)
            part.error = marks[i].error;
        if (part.low >= 0 && part.high >= part.low)
            part.messages = part.high - part.low;
    }

    // Rates and history: O(partitions), under the short lock the readers share.
    const std::uint64_t generation = m_refreshCount + m_failedRefreshes + 1;
    const std::int64_t window = m_options.historySeconds;
    const auto capacity = static_cast<std::size_t>(
        std::max(1, (m_options.historySeconds * 1000 + m_options.refreshIntervalMs - 1) /
                        std::max(m_options.refreshIntervalMs, 1000)));
    std::size_t bytes = 0;
    std::size_t partitionSeries = 0;
    {
        std::lock_guard lock(m_mutex);
        for (TopicInfo &topic : snap->topics) {
            auto &slot = m_history[topic.name];
            if (!slot)
                slot = std::make_unique<TopicHistory>();
            TopicHistory &th = *slot;
            th.seenInRefresh = generation;
            if (!topic.partitions.empty()) {
                const auto maxId =
                    static_cast<std::size_t>(std::max(topic.partitions.back().partition, 0));
                if (th.partitions.size() <= maxId)
                    th.partitions.resize(maxId + 1);
            }
            bool topicHasRate = false;
            bool topicMoved = false;
            for (PartitionInfo &part : topic.partitions) {
                topic.messages += part.messages;
                if (part.high < 0 || part.partition < 0)
                    continue;
                PartitionHistory &ph = th.partitions[static_cast<std::size_t>(part.partition)];
                bool hasRate = false;
                if (ph.lastHigh >= 0 && part.high >= ph.lastHigh && nowNs > ph.lastAtNs) {
                    const std::int64_t delta = part.high - ph.lastHigh;
                    part.rate =
                        static_cast<double>(delta) * 1e9 / static_cast<double>(nowNs - ph.lastAtNs);
                    hasRate = true;
                    if (delta > 0) {
                        ph.lastMovedSecond = second;
                        topicMoved = true;
                        if (!ph.series)
                            ph.series = std::make_unique<TimeSeries>(capacity);
                    }
                }
                ph.lastHigh = part.high;
                ph.lastAtNs = nowNs;
                if (ph.series && second - ph.lastMovedSecond > window)
                    ph.series.reset(); // a whole window of zeros: nothing worth keeping
                if (ph.series && hasRate)
                    ph.series->add(second, part.rate);
                topicHasRate = topicHasRate || hasRate;
                topic.rate += part.rate;
            }
            if (topicMoved) {
                th.lastMovedSecond = second;
                if (!th.series)
                    th.series = std::make_unique<TimeSeries>(capacity);
            }
            if (th.series && second - th.lastMovedSecond > window)
                th.series.reset();
            if (th.series && topicHasRate)
                th.series->add(second, topic.rate);
            snap->totalMessages += topic.messages;
            snap->totalRate += topic.rate;
        }
        // Topics gone from the cluster take their history with them; count what remains.
        for (auto it = m_history.begin(); it != m_history.end();) {
            if (it->second->seenInRefresh != generation) {
                it = m_history.erase(it);
                continue;
            }
            const TopicHistory &th = *it->second;
            bytes += sizeof(TopicHistory) + it->first.capacity() + 64 // map node, roughly
                     + th.partitions.capacity() * sizeof(PartitionHistory) + seriesBytes(th.series);
            for (const PartitionHistory &ph : th.partitions) {
                if (ph.series) {
                    bytes += seriesBytes(ph.series);
                    ++partitionSeries;
                }
            }
            ++it;
        }
    }

    ++m_refreshCount;
    snap->ok = true;
    snap->dataAtMs = attemptMs;
    snap->refreshMs = msSince(started);
    snap->refreshCount = m_refreshCount;
    snap->failedRefreshes = m_failedRefreshes;
    snap->historyBytes = bytes;
    snap->partitionSeries = partitionSeries;
    std::lock_guard lock(m_mutex);
    m_snapshot = std::move(snap);
    return true;
}

std::vector<TimeSeries::Sample> ClusterMonitor::topicRateHistory(const std::string &topic,
                                                                 std::int64_t fromSecond) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_history.find(topic);
    if (it == m_history.end() || !it->second->series)
        return {};
    return it->second->series->since(fromSecond);
}

std::vector<TimeSeries::Sample> ClusterMonitor::partitionRateHistory(const std::string &topic,
                                                                     std::int32_t partition,
                                                                     std::int64_t fromSecond) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_history.find(topic);
    if (it == m_history.end() || partition < 0 ||
        static_cast<std::size_t>(partition) >= it->second->partitions.size())
        return {};
    const auto &series = it->second->partitions[static_cast<std::size_t>(partition)].series;
    return series ? series->since(fromSecond) : std::vector<TimeSeries::Sample>{};
}

std::string ClusterMonitor::validateTopicName(const std::string &name)
{
    if (name.empty())
        return "a topic name cannot be empty";
    if (name.size() > 249)
        return "a topic name can have at most 249 characters (this one has " +
               std::to_string(name.size()) + ")";
    if (name == "." || name == "..")
        return "a topic cannot be named '.' or '..'";
    for (const char c : name) {
        const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!legal)
            return "a topic name may only contain letters, digits, '.', '_' and '-'";
    }
    return {};
}

namespace {

// True once the metadata shows `topic` with `partitions` partitions, each with a leader.
/// How long a created topic's partitions may take to get leaders before the create is reported
/// as incomplete.
constexpr int kLeaderWaitMs = 30'000;

bool waitForLeaders(rd_kafka_t *rk, const std::string &topic, int partitions, int timeoutMs)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (Clock::now() < deadline) {
        if (const KafkaMetadata md =
                requestMetadata(rk, true, nullptr, std::max(msLeft(deadline), 1), nullptr)) {
            bool ready = false;
            for (int t = 0; t < md->topic_cnt; ++t) {
                const rd_kafka_metadata_topic &mt = md->topics[t];
                if (topic != mt.topic || mt.err != RD_KAFKA_RESP_ERR_NO_ERROR ||
                    mt.partition_cnt != partitions)
                    continue;
                ready = std::all_of(mt.partitions, mt.partitions + mt.partition_cnt,
                                    [](const rd_kafka_metadata_partition &p) {
                                        return p.leader >= 0 && p.err == RD_KAFKA_RESP_ERR_NO_ERROR;
                                    });
            }
            if (ready) {
                // The metadata can name a leader a moment before that broker answers for the
                // partition: ask it for the watermarks too.
                std::vector<TopicPartitionWatermarks> marks(static_cast<std::size_t>(partitions));
                for (int p = 0; p < partitions; ++p) {
                    marks[static_cast<std::size_t>(p)].topic = topic;
                    marks[static_cast<std::size_t>(p)].partition = p;
                }
                std::string why;
                if (queryWatermarks(rk, marks, std::max(msLeft(deadline) / 2, 1), &why) &&
                    std::all_of(marks.begin(), marks.end(),
                                [](const TopicPartitionWatermarks &w) { return w.error == 0; }))
                    return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

} // namespace

bool ClusterMonitor::createTopic(const std::string &name, int partitions, int replicationFactor,
                                 std::string *error)
{
    auto fail = [&](std::string message) {
        if (error)
            *error = std::move(message);
        return false;
    };
    if (std::string e = validateTopicName(name); !e.empty())
        return fail(std::move(e));
    if (snapshot()->findTopic(name))
        return fail("topic '" + name + "' already exists");

    if (m_embedded) {
        const int brokers = m_embedded->options().brokers;
        if (partitions < 1 || partitions > 1000)
            return fail("topics on the embedded broker need 1 to 1000 partitions");
        if (replicationFactor < 1 || replicationFactor > brokers)
            return fail("replication factor must be between 1 and " + std::to_string(brokers) +
                        " (the embedded broker's broker count)");
        if (!m_embedded->isRunning())
            return fail("the embedded broker is not running");
        std::string why;
        if (!m_embedded->createTopic(name, partitions, &why))
            return fail(std::move(why));
    } else {
        if (partitions < 1 || partitions > 100'000)
            return fail("a topic needs 1 to 100000 partitions");
        if (replicationFactor < 1 || replicationFactor > 32'767)
            return fail("replication factor must be at least 1");
        const auto known = snapshot();
        if (known->ok && replicationFactor > static_cast<int>(known->brokers.size()))
            return fail("replication factor " + std::to_string(replicationFactor) +
                        " is more than the cluster's " + std::to_string(known->brokers.size()) +
                        " brokers");
        std::string why;
        rd_kafka_t *rk = client(&why);
        if (!rk)
            return fail(std::move(why));
        char errstr[512] = {};
        const KafkaNewTopic topic(rd_kafka_NewTopic_new(name.c_str(), partitions, replicationFactor,
                                                        errstr, sizeof errstr));
        if (!topic)
            return fail("cannot create topic '" + name + "': " + errstr);
        const int timeoutMs = m_options.requestTimeoutMs;
        const KafkaAdminOptions options(
            rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
        rd_kafka_AdminOptions_set_request_timeout(options.get(), timeoutMs, errstr, sizeof errstr);
        rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeoutMs, errstr,
                                                    sizeof errstr);
        const KafkaQueue queue(rd_kafka_queue_new(rk));
        rd_kafka_NewTopic_t *topics[] = {topic.get()};
        rd_kafka_CreateTopics(rk, topics, 1, options.get(), queue.get());
        const KafkaEvent event(rd_kafka_queue_poll(queue.get(), timeoutMs + 1000));
        std::string failure;
        if (!event) {
            failure = "creating topic '" + name + "' timed out after " + std::to_string(timeoutMs) +
                      " ms";
        } else if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            failure =
                "cannot create topic '" + name + "': " + rd_kafka_event_error_string(event.get());
        } else {
            size_t count = 0;
            const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(
                rd_kafka_event_CreateTopics_result(event.get()), &count);
            if (count < 1)
                failure = "cannot create topic '" + name + "': no answer for it";
            else if (rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char *text = rd_kafka_topic_result_error_string(results[0]);
                failure = "cannot create topic '" + name + "': " +
                          (text ? text : rd_kafka_err2str(rd_kafka_topic_result_error(results[0])));
            }
        }
        if (!failure.empty())
            return fail(std::move(failure));
        // CreateTopics answers once the controller took the topic; its partitions get leaders a
        // moment later, and until then the brokers answer "Not leader for partition" (a real
        // cluster's refresh right after the create failed on it). Wait for the leaders, bounded.
        // Not by the request timeout: electing leaders is the controller's work after the answer,
        // and a loaded single node took longer than 5 s for 12 partitions (the topic existed,
        // yet the create was reported as failed).
        const int leaderWaitMs = std::max(timeoutMs, kLeaderWaitMs);
        if (!waitForLeaders(rk, name, partitions, leaderWaitMs))
            return fail("created topic '" + name + "', but its partitions had no leaders within " +
                        std::to_string(leaderWaitMs) + " ms");
    }
    {
        std::lock_guard lock(m_wakeMutex);
        m_wakeRequested = true;
    }
    m_wake.notify_all();
    return true;
}

} // namespace studio::core
