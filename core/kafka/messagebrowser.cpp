#include "core/kafka/messagebrowser.h"

#include "core/common/timeutil.h"
#include "core/kafka/kafkaclient.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <functional>
#include <random>
#include <thread>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

/// Closed without consumer_close(): the browser never joins a group, so there is nothing to
/// leave or commit, and a dead cluster cannot stall the close.
using Consumer = KafkaAssignOnlyConsumer;

std::string uniqueGroupId()
{
    static std::atomic<std::uint64_t> counter{0};
    std::random_device random;
    return "clickstream-studio-browser-" + std::to_string(random()) + "-" +
           std::to_string(++counter);
}

/// A consumer that can only assign(): librdkafka wants a group.id for assign() and
/// consumer_poll(), so it gets a unique one that never subscribes, stores or commits anything.
Consumer makeConsumer(const ClusterConfig &cluster, bool partitionEof, std::string *error)
{
    const Properties props = {
        {"group.id", uniqueGroupId()},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", partitionEof ? "true" : "false"},
        {"allow.auto.create.topics", "false"},
        {"fetch.wait.max.ms", "10"},
        {"queued.max.messages.kbytes", "16384"},
        {"reconnect.backoff.ms", "100"},
        {"reconnect.backoff.max.ms", "1000"},
    };
    KafkaConf conf = makeKafkaConf(cluster, props, error);
    if (!conf)
        return nullptr;
    return Consumer(createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), error).release());
}

BrowsedMessage toBrowsed(const rd_kafka_message_t &m)
{
    BrowsedMessage out;
    out.topic = rd_kafka_topic_name(m.rkt);
    out.partition = m.partition;
    out.offset = m.offset;
    rd_kafka_timestamp_type_t type;
    out.timestampMs = rd_kafka_message_timestamp(&m, &type);
    if (m.key)
        out.key.assign(static_cast<const char *>(m.key), m.key_len);
    if (m.payload)
        out.value.assign(static_cast<const char *>(m.payload), m.len);
    rd_kafka_headers_t *headers = nullptr;
    if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
        const char *name = nullptr;
        const void *value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i)
            out.headers.emplace_back(
                name, value ? std::string(static_cast<const char *>(value), size) : std::string());
    }
    return out;
}

/// [start, end) of one partition.
struct Range
{
    std::int32_t partition = 0;
    std::int64_t start = 0;
    std::int64_t end = 0;
};

/// The partitions of `topic` (or just `partition` when >= 0) with their watermarks.
bool topicWatermarks(rd_kafka_t *rk, const std::string &topic, std::int32_t partition,
                     Clock::time_point deadline, std::vector<TopicPartitionWatermarks> &out,
                     std::string *error)
{
    if (topic.empty()) {
        *error = "no topic given";
        return false;
    }
    // Metadata of all topics: asking for one by name makes the embedded broker (and a cluster
    // with auto.create.topics.enable) create it when it does not exist.
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    const KafkaMetadata md =
        requestMetadata(rk, true, nullptr, std::max(msLeft(deadline), 1), &err);
    if (!md) {
        *error = withClientError("metadata for '" + topic + "': " + rd_kafka_err2str(err), rk);
        return false;
    }
    out.clear();
    std::string failure = "topic '" + topic + "' does not exist";
    for (int t = 0; t < md->topic_cnt; ++t) {
        const rd_kafka_metadata_topic &mt = md->topics[t];
        if (topic != mt.topic)
            continue;
        if (mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            failure = "topic '" + topic + "': " + rd_kafka_err2str(mt.err);
            break;
        }
        for (int p = 0; p < mt.partition_cnt; ++p) {
            if (partition >= 0 && mt.partitions[p].id != partition)
                continue;
            TopicPartitionWatermarks w;
            w.topic = topic;
            w.partition = mt.partitions[p].id;
            out.push_back(std::move(w));
        }
        if (out.empty())
            failure = "topic '" + topic + "' has no partition " + std::to_string(partition);
    }
    if (out.empty()) {
        *error = failure;
        return false;
    }
    std::sort(out.begin(), out.end(),
              [](const auto &a, const auto &b) { return a.partition < b.partition; });
    if (!queryWatermarks(rk, out, std::max(msLeft(deadline) / 2, 1), error))
        return false;
    for (const auto &w : out) {
        if (w.error != 0) {
            *error = "watermarks of " + topic + "[" + std::to_string(w.partition) +
                     "]: " + rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(w.error));
            return false;
        }
    }
    return true;
}

enum class ScanEnd { Done, TimedOut, Stopped, Failed };

/// Reads every range with one consumer, handing each message inside its range to `onMessage`
/// (which returns false to stop early). Messages arrive in offset order per partition.
ScanEnd scan(rd_kafka_t *rk, const std::string &topic, const std::vector<Range> &ranges,
             Clock::time_point deadline,
             const std::function<bool(const rd_kafka_message_t &)> &onMessage, std::string *error)
{
    struct State
    {
        Range range;
        bool done = false;
    };
    std::map<std::int32_t, State> states;
    const KafkaPartitionList list = makePartitionList(static_cast<int>(ranges.size()));
    for (const Range &r : ranges) {
        if (r.start >= r.end)
            continue;
        states[r.partition] = {r, false};
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), r.partition)->offset = r.start;
    }
    std::size_t open = states.size();
    ScanEnd end = ScanEnd::Done;
    if (open > 0) {
        if (rd_kafka_resp_err_t err = rd_kafka_assign(rk, list.get())) {
            *error = std::string("cannot assign partitions: ") + rd_kafka_err2str(err);
            open = 0;
            end = ScanEnd::Failed;
        }
    }
    while (open > 0) {
        const int left = msLeft(deadline);
        if (left <= 0) {
            end = ScanEnd::TimedOut;
            break;
        }
        const KafkaMessage m(rd_kafka_consumer_poll(rk, std::min(left, 100)));
        if (!m)
            continue;
        auto it = states.find(m->partition);
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (it != states.end() && !it->second.done) {
                it->second.done = true;
                --open;
            }
        } else if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                   m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            *error = "reading '" + topic + "': " + rd_kafka_message_errstr(m.get());
            end = ScanEnd::Failed;
            open = 0;
        } else if (m->err) {
            *error =
                rd_kafka_message_errstr(m.get()); // transient: kept in case the deadline passes
        } else if (it != states.end() && !it->second.done && m->offset >= it->second.range.start) {
            State &s = it->second;
            const bool inside = m->offset < s.range.end;
            if (!inside || m->offset + 1 >= s.range.end) {
                s.done = true;
                --open;
            }
            if (inside && !onMessage(*m)) {
                end = ScanEnd::Stopped;
                open = 0;
            }
        }
    }
    rd_kafka_assign(rk, nullptr);
    if (end == ScanEnd::TimedOut)
        *error = "timed out" + (error->empty() ? std::string() : " (last error: " + *error + ")");
    return end;
}

/// The timestamp of the first message at or after `offset` in [offset, end), or -2 if none.
std::int64_t timestampAt(rd_kafka_t *rk, const std::string &topic, std::int32_t partition,
                         std::int64_t offset, std::int64_t end, std::int64_t *foundOffset,
                         Clock::time_point deadline, ScanEnd *outcome, std::string *error)
{
    std::int64_t ts = -2;
    *outcome = scan(
        rk, topic, {{partition, offset, end}}, deadline,
        [&](const rd_kafka_message_t &m) {
            rd_kafka_timestamp_type_t type;
            ts = rd_kafka_message_timestamp(&m, &type);
            *foundOffset = m.offset;
            return false;
        },
        error);
    return ts;
}

/// See MessageBrowser::offsetForTimestamp; `w` holds the partition's watermarks.
std::optional<std::int64_t> findOffset(rd_kafka_t *rk, const TopicPartitionWatermarks &w,
                                       std::int64_t timestampMs, Clock::time_point deadline,
                                       std::string *error)
{
    const KafkaPartitionList list = makePartitionList(1);
    rd_kafka_topic_partition_list_add(list.get(), w.topic.c_str(), w.partition)->offset =
        timestampMs;
    std::int64_t answer = -1;
    if (rd_kafka_offsets_for_times(rk, list.get(), std::max(msLeft(deadline) / 4, 1)) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        answer = list->elems[0].offset;
    if (answer >= 0) // a real answer; -1 is "none" on Kafka but "unsupported" on the mock
        return std::clamp(answer, w.low, w.high);

    std::int64_t lo = std::max<std::int64_t>(w.low, 0);
    std::int64_t hi = w.high;
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        std::int64_t found = mid;
        ScanEnd outcome = ScanEnd::Done;
        const std::int64_t ts =
            timestampAt(rk, w.topic, w.partition, mid, hi, &found, deadline, &outcome, error);
        if (outcome == ScanEnd::TimedOut || outcome == ScanEnd::Failed) {
            *error = "searching " + w.topic + "[" + std::to_string(w.partition) +
                     "] by timestamp: " + *error;
            return std::nullopt;
        }
        if (ts == -2 || ts >= timestampMs)
            hi = mid; // no message in [mid, hi) or one at/after the time: the answer is <= mid
        else
            lo = found + 1;
    }
    error->clear();
    return lo;
}

/// Reads the ranges into `result`, sorted by partition then offset.
void readRanges(rd_kafka_t *rk, const std::string &topic, const std::vector<Range> &ranges,
                Clock::time_point deadline, BrowseResult &result)
{
    const ScanEnd end = scan(
        rk, topic, ranges, deadline,
        [&](const rd_kafka_message_t &m) {
            result.messages.push_back(toBrowsed(m));
            return true;
        },
        &result.error);
    result.timedOut = end == ScanEnd::TimedOut;
    result.ok = end != ScanEnd::Failed;
    if (end == ScanEnd::Done)
        result.error.clear();
    std::sort(result.messages.begin(), result.messages.end(), [](const auto &a, const auto &b) {
        return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
    });
}

bool contains(std::string_view haystack, std::string_view needle, bool caseSensitive,
              std::size_t *position)
{
    if (needle.size() > haystack.size())
        return false;
    auto it = caseSensitive
                  ? std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end())
                  : std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                                [](char a, char b) {
                                    return std::tolower(static_cast<unsigned char>(a)) ==
                                           std::tolower(static_cast<unsigned char>(b));
                                });
    if (it == haystack.end())
        return false;
    *position = static_cast<std::size_t>(it - haystack.begin());
    return true;
}

std::string_view bytes(const void *data, std::size_t size)
{
    return data ? std::string_view(static_cast<const char *>(data), size) : std::string_view();
}

} // namespace

struct MessageBrowser::Tail
{
    ClusterConfig cluster;
    std::string topic;
    std::map<std::int32_t, std::int64_t> from;
    std::size_t capacity = 10'000;
    std::atomic<bool> stop{false};
    std::thread thread;

    mutable std::mutex mutex; // guards what follows
    std::deque<BrowsedMessage> ring;
    std::uint64_t frontSeq = 1; // sequence number of ring.front()
    std::uint64_t lastSeq = 0;
    bool running = true;
    bool positioned = false;
    std::string error;

    void setError(std::string message)
    {
        std::lock_guard lock(mutex);
        error = std::move(message);
    }
    bool position(rd_kafka_t *rk);
    void run();
};

bool MessageBrowser::Tail::position(rd_kafka_t *rk)
{
    std::vector<TopicPartitionWatermarks> marks;
    std::string why;
    if (!topicWatermarks(rk, topic, -1, Clock::now() + 5s, marks, &why)) {
        setError("tail: " + why);
        return false;
    }
    const KafkaPartitionList list = makePartitionList(static_cast<int>(marks.size()));
    for (const auto &w : marks) {
        if (from.empty()) {
            rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), w.partition)->offset =
                w.high;
        } else if (auto it = from.find(w.partition); it != from.end()) {
            rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), w.partition)->offset =
                std::clamp(it->second, w.low, w.high);
        }
    }
    const rd_kafka_resp_err_t err =
        list->cnt > 0 ? rd_kafka_assign(rk, list.get()) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        setError(std::string("tail: cannot assign partitions: ") +
                 (err == RD_KAFKA_RESP_ERR__INVALID_ARG ? "none of the given partitions exist"
                                                        : rd_kafka_err2str(err)));
        return false;
    }
    std::lock_guard lock(mutex);
    positioned = true;
    error.clear();
    return true;
}

void MessageBrowser::Tail::run()
{
    std::string why;
    Consumer consumer = makeConsumer(cluster, false, &why);
    if (!consumer) {
        std::lock_guard lock(mutex);
        error = why;
        running = false;
        return;
    }
    rd_kafka_t *rk = consumer.get();
    // Resolve the start offsets here, not in startTail, so the caller never waits on the network.
    while (!stop && !position(rk)) {
        for (int i = 0; i < 10 && !stop; ++i)
            std::this_thread::sleep_for(100ms);
    }
    std::vector<BrowsedMessage> batch;
    while (!stop) {
        const auto until = Clock::now() + 50ms;
        while (batch.size() < 1000 && Clock::now() < until && !stop) {
            const KafkaMessage m(rd_kafka_consumer_poll(rk, 50));
            if (!m)
                break;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
                batch.push_back(toBrowsed(*m));
            else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                setError(std::string("tail: ") + rd_kafka_message_errstr(m.get()));
        }
        if (batch.empty())
            continue;
        std::lock_guard lock(mutex);
        error.clear(); // messages flow again: whatever went wrong is over
        for (auto &message : batch) {
            ring.push_back(std::move(message));
            ++lastSeq;
        }
        while (ring.size() > capacity) {
            ring.pop_front();
            ++frontSeq;
        }
        batch.clear();
    }
    consumer.reset();
    std::lock_guard lock(mutex);
    running = false;
}

namespace {

// The start of every one-shot read: a group-less consumer and the partitions' watermarks. Null
// (with result.error set) when either fails.
Consumer openRead(const ClusterConfig &cluster, const std::string &topic, std::int32_t partition,
                  Clock::time_point deadline, std::vector<TopicPartitionWatermarks> &marks,
                  BrowseResult &result)
{
    Consumer consumer = makeConsumer(cluster, true, &result.error);
    if (!consumer ||
        !topicWatermarks(consumer.get(), topic, partition, deadline, marks, &result.error))
        return nullptr;
    return consumer;
}

} // namespace

MessageBrowser::MessageBrowser(ClusterConfig cluster, std::size_t tailCapacity)
    : m_cluster(std::move(cluster))
    , m_tailCapacity(std::max<std::size_t>(tailCapacity, 1))
{
}

MessageBrowser::~MessageBrowser()
{
    stopTail();
}

BrowseResult MessageBrowser::readFromOffset(const std::string &topic, std::int32_t partition,
                                            std::int64_t offset, std::size_t maxPerPartition,
                                            Timeout timeout)
{
    const auto deadline = Clock::now() + timeout;
    BrowseResult result;
    std::vector<TopicPartitionWatermarks> marks;
    Consumer consumer = openRead(m_cluster, topic, partition, deadline, marks, result);
    if (!consumer)
        return result;
    std::vector<Range> ranges;
    for (const auto &w : marks) {
        const std::int64_t start = std::clamp(offset, w.low, w.high);
        const auto span = static_cast<std::int64_t>(
            std::min<std::size_t>(maxPerPartition, static_cast<std::size_t>(w.high - start)));
        ranges.push_back({w.partition, start, start + span});
        result.readUpTo[w.partition] = start + span;
        result.highWatermarks[w.partition] = w.high;
    }
    readRanges(consumer.get(), topic, ranges, deadline, result);
    return result;
}

BrowseResult MessageBrowser::readLast(const std::string &topic, std::int32_t partition,
                                      std::size_t n, Timeout timeout)
{
    const auto deadline = Clock::now() + timeout;
    BrowseResult result;
    std::vector<TopicPartitionWatermarks> marks;
    Consumer consumer = openRead(m_cluster, topic, partition, deadline, marks, result);
    if (!consumer)
        return result;
    std::vector<Range> ranges;
    for (const auto &w : marks) {
        const auto count = static_cast<std::int64_t>(
            std::min<std::size_t>(n, static_cast<std::size_t>(w.high - w.low)));
        ranges.push_back({w.partition, w.high - count, w.high});
    }
    readRanges(consumer.get(), topic, ranges, deadline, result);
    return result;
}

std::optional<std::int64_t> MessageBrowser::offsetForTimestamp(const std::string &topic,
                                                               std::int32_t partition,
                                                               std::int64_t timestampMs,
                                                               std::string *error, Timeout timeout)
{
    const auto deadline = Clock::now() + timeout;
    std::string why;
    Consumer consumer = makeConsumer(m_cluster, true, &why);
    std::vector<TopicPartitionWatermarks> marks;
    std::optional<std::int64_t> answer;
    if (partition < 0)
        why = "a partition is needed to look an offset up by time";
    else if (consumer && topicWatermarks(consumer.get(), topic, partition, deadline, marks, &why))
        answer = findOffset(consumer.get(), marks.front(), timestampMs, deadline, &why);
    if (!answer && error)
        *error = why;
    return answer;
}

BrowseResult MessageBrowser::readFromTimestamp(const std::string &topic, std::int32_t partition,
                                               std::int64_t timestampMs,
                                               std::size_t maxPerPartition, Timeout timeout)
{
    const auto deadline = Clock::now() + timeout;
    BrowseResult result;
    std::vector<TopicPartitionWatermarks> marks;
    Consumer consumer = openRead(m_cluster, topic, partition, deadline, marks, result);
    if (!consumer)
        return result;
    std::vector<Range> ranges;
    for (const auto &w : marks) {
        const auto start = findOffset(consumer.get(), w, timestampMs, deadline, &result.error);
        if (!start) {
            result.timedOut = msLeft(deadline) == 0;
            return result;
        }
        const auto span = static_cast<std::int64_t>(
            std::min<std::size_t>(maxPerPartition, static_cast<std::size_t>(w.high - *start)));
        ranges.push_back({w.partition, *start, *start + span});
    }
    readRanges(consumer.get(), topic, ranges, deadline, result);
    return result;
}

SearchResult MessageBrowser::search(const std::string &topic, const SearchOptions &options,
                                    Timeout timeout)
{
    const auto deadline = Clock::now() + timeout;
    SearchResult result;
    if (options.needle.empty()) {
        result.error = "nothing to search for";
        return result;
    }
    Consumer consumer = makeConsumer(m_cluster, true, &result.error);
    std::vector<TopicPartitionWatermarks> marks;
    if (!consumer ||
        !topicWatermarks(consumer.get(), topic, options.partition, deadline, marks, &result.error))
        return result;
    const auto bound =
        static_cast<std::int64_t>(std::min<std::size_t>(options.maxPerPartition, INT64_MAX));
    std::vector<Range> ranges;
    for (const auto &w : marks) {
        const std::int64_t start = options.fromOffset < 0
                                       ? std::max(w.low, w.high - bound)
                                       : std::clamp(options.fromOffset, w.low, w.high);
        const std::int64_t end = options.fromOffset < 0 ? w.high : std::min(w.high, start + bound);
        if (options.fromOffset < 0 ? w.high - w.low > bound : w.high - start > bound)
            result.boundHit = true;
        ranges.push_back({w.partition, start, end});
    }
    const std::string_view needle = options.needle;
    const bool cs = options.caseSensitive;
    const ScanEnd end = scan(
        consumer.get(), topic, ranges, deadline,
        [&](const rd_kafka_message_t &m) {
            ++result.scanned;
            SearchMatch match;
            bool found = contains(bytes(m.key, m.key_len), needle, cs, &match.position);
            if (found)
                match.where = "key";
            if (!found && contains(bytes(m.payload, m.len), needle, cs, &match.position)) {
                found = true;
                match.where = "value";
            }
            rd_kafka_headers_t *headers = nullptr;
            if (!found && rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char *name = nullptr;
                const void *value = nullptr;
                size_t size = 0;
                for (size_t i = 0;
                     !found && rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                                   RD_KAFKA_RESP_ERR_NO_ERROR;
                     ++i) {
                    if (contains(name, needle, cs, &match.position))
                        match.where = "header name";
                    else if (contains(bytes(value, size), needle, cs, &match.position))
                        match.where = "header value";
                    else
                        continue;
                    found = true;
                    match.headerName = name;
                }
            }
            if (!found)
                return true;
            match.message = toBrowsed(m);
            result.matches.push_back(std::move(match));
            if (result.matches.size() >= options.maxMatches) {
                result.matchesCapped = true;
                return false;
            }
            return true;
        },
        &result.error);
    result.timedOut = end == ScanEnd::TimedOut;
    result.ok = end != ScanEnd::Failed;
    if (end == ScanEnd::Done || end == ScanEnd::Stopped)
        result.error.clear();
    std::sort(result.matches.begin(), result.matches.end(), [](const auto &a, const auto &b) {
        const BrowsedMessage &x = a.message;
        const BrowsedMessage &y = b.message;
        if (x.timestampMs != y.timestampMs)
            return x.timestampMs > y.timestampMs;
        return x.partition != y.partition ? x.partition < y.partition : x.offset > y.offset;
    });
    return result;
}

bool MessageBrowser::startTail(const std::string &topic,
                               const std::map<std::int32_t, std::int64_t> &fromOffsets,
                               std::string *error)
{
    if (topic.empty()) {
        if (error)
            *error = "no topic given";
        return false;
    }
    std::lock_guard control(m_tailControl);
    std::shared_ptr<Tail> old;
    {
        std::lock_guard lock(m_tailPtrMutex);
        old = m_tail;
    }
    if (old && old->thread.joinable()) {
        old->stop = true;
        old->thread.join();
    }
    auto tail = std::make_shared<Tail>();
    tail->cluster = m_cluster;
    tail->topic = topic;
    tail->from = fromOffsets;
    tail->capacity = m_tailCapacity;
    tail->thread = std::thread([t = tail.get()] { t->run(); });
    std::lock_guard lock(m_tailPtrMutex);
    m_tail = std::move(tail);
    return true;
}

void MessageBrowser::stopTail()
{
    std::lock_guard control(m_tailControl);
    std::shared_ptr<Tail> tail;
    {
        std::lock_guard lock(m_tailPtrMutex);
        tail = m_tail;
    }
    if (tail && tail->thread.joinable()) {
        tail->stop = true;
        tail->thread.join();
    }
}

TailRead MessageBrowser::tailAfter(std::uint64_t afterSeq, std::size_t max) const
{
    std::shared_ptr<Tail> tail;
    {
        std::lock_guard lock(m_tailPtrMutex);
        tail = m_tail;
    }
    TailRead out;
    if (!tail)
        return out;
    std::lock_guard lock(tail->mutex);
    out.lastSeq = tail->lastSeq;
    const std::uint64_t first = std::max(afterSeq + 1, tail->frontSeq);
    out.missed = tail->frontSeq > afterSeq + 1 ? tail->frontSeq - (afterSeq + 1) : 0;
    out.firstSeq = first;
    if (first > tail->lastSeq)
        return out;
    const std::size_t count =
        std::min<std::size_t>(max, static_cast<std::size_t>(tail->lastSeq - first + 1));
    const auto begin = tail->ring.begin() + static_cast<std::ptrdiff_t>(first - tail->frontSeq);
    out.messages.assign(begin, begin + static_cast<std::ptrdiff_t>(count));
    return out;
}

TailStatus MessageBrowser::tailStatus() const
{
    std::shared_ptr<Tail> tail;
    {
        std::lock_guard lock(m_tailPtrMutex);
        tail = m_tail;
    }
    TailStatus status;
    if (!tail)
        return status;
    std::lock_guard lock(tail->mutex);
    status.running = tail->running;
    status.positioned = tail->positioned;
    status.topic = tail->topic;
    status.error = tail->error;
    status.received = tail->lastSeq;
    return status;
}

std::string prettyJson(std::string_view text)
{
    // nlohmann's dump() recurses per nesting level: a hostile message nested a million deep would
    // overflow the stack, so anything deeper than a person could read is shown as it is.
    constexpr int kMaxDepth = 256;
    int depth = 0;
    bool inString = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > kMaxDepth)
                return std::string(text);
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    const auto json = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (json.is_discarded())
        return std::string(text);
    return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace studio::core
