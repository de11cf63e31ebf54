#include "core/pipeline/deadletters.h"

#include <thread>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// What the key, the headers and the record framing take besides the payload, with room to spare
// (headers: six names and values of a few dozen bytes; framing: under 100 bytes).
constexpr std::size_t kOverheadBytes = 1024;

// A letter's source partition and offset travel as its opaque pointer: no allocation per letter.
void *packSource(std::int32_t partition, std::int64_t offset)
{
    const auto p = static_cast<std::uint64_t>(static_cast<std::uint32_t>(partition) & 0xffff);
    const auto o = static_cast<std::uint64_t>(offset + 1) & ((std::uint64_t{1} << 48) - 1);
    return reinterpret_cast<void *>(static_cast<std::uintptr_t>((p << 48) | o));
}

std::pair<std::int32_t, std::int64_t> unpackSource(void *opaque)
{
    const auto v = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(opaque));
    return {static_cast<std::int32_t>(v >> 48),
            static_cast<std::int64_t>(v & ((std::uint64_t{1} << 48) - 1)) - 1};
}

std::string header(rd_kafka_headers_t *headers, const char *name)
{
    const void *value = nullptr;
    std::size_t size = 0;
    if (headers &&
        rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        value)
        return {static_cast<const char *>(value), size};
    return {};
}

} // namespace

DeadLetterQueue::DeadLetterQueue(ClusterConfig cluster, std::string topic)
    : m_cluster(std::move(cluster))
    , m_topic(std::move(topic))
{
}

DeadLetterQueue::~DeadLetterQueue() = default;

bool DeadLetterQueue::start(std::string *error)
{
    KafkaConf conf = makeKafkaConf(m_cluster,
                                   {{"acks", "all"},
                                    {"enable.idempotence", "true"},
                                    {"linger.ms", "20"},
                                    {"compression.codec", "lz4"},
                                    {"message.max.bytes", std::to_string(kMaxMessageBytes)},
                                    // Never expire a letter: while the brokers are down it waits
                                    // (and is retried), it is not dropped.
                                    {"message.timeout.ms", "0"},
                                    {"reconnect.backoff.max.ms", "1000"}},
                                   error);
    if (!conf)
        return false;
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &DeadLetterQueue::onDelivery);
    rd_kafka_conf_set_opaque(conf.get(), this);
    m_producer = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), error);
    return m_producer != nullptr;
}

void DeadLetterQueue::setErrorHandler(std::function<void(std::string)> handler)
{
    std::lock_guard lock(m_mutex);
    m_onError = std::move(handler);
}

void DeadLetterQueue::error(std::string message)
{
    std::function<void(std::string)> handler;
    {
        std::lock_guard lock(m_mutex);
        handler = m_onError;
    }
    if (handler)
        handler(std::move(message));
}

bool DeadLetterQueue::send(const DeadLetter &letter, const std::atomic<bool> &abort)
{
    Retry r;
    r.sourceTopic = letter.sourceTopic;
    r.partition = letter.partition;
    r.offset = letter.offset;
    r.key = letter.key;
    r.reason = letter.reason;
    r.originalSize = letter.payload.size();
    const std::size_t room =
        kMaxMessageBytes - std::min(kMaxMessageBytes / 2,
                                    kOverheadBytes + letter.key.size() + letter.sourceTopic.size());
    r.limit = std::min(letter.payload.size(), room);
    r.payload.assign(letter.payload.substr(0, r.limit));
    {
        std::lock_guard lock(m_mutex);
        m_pending[r.partition].insert(r.offset);
    }
    m_sent.fetch_add(1, std::memory_order_relaxed);
    if (produce(r, true, &abort))
        return true;
    // Not queued (stopping): it stays pending, so this partition is not committed past it.
    return false;
}

bool DeadLetterQueue::produce(const Retry &r, bool blocking, const std::atomic<bool> *abort)
{
    const std::string partition = std::to_string(r.partition);
    const std::string offset = std::to_string(r.offset);
    const std::string original = std::to_string(r.originalSize);
    const bool truncated = r.payload.size() < r.originalSize;
    if (truncated)
        m_truncated.fetch_add(1, std::memory_order_relaxed);
    for (int attempt = 0;; ++attempt) {
        rd_kafka_headers_t *headers = rd_kafka_headers_new(7);
        rd_kafka_header_add(headers, "reason", -1, r.reason.data(),
                            static_cast<ssize_t>(r.reason.size()));
        rd_kafka_header_add(headers, "source.topic", -1, r.sourceTopic.data(),
                            static_cast<ssize_t>(r.sourceTopic.size()));
        rd_kafka_header_add(headers, "source.partition", -1, partition.data(),
                            static_cast<ssize_t>(partition.size()));
        rd_kafka_header_add(headers, "source.offset", -1, offset.data(),
                            static_cast<ssize_t>(offset.size()));
        rd_kafka_header_add(headers, "original.size", -1, original.data(),
                            static_cast<ssize_t>(original.size()));
        if (truncated)
            rd_kafka_header_add(headers, "truncated", -1, "true", 4);
        const rd_kafka_resp_err_t err = rd_kafka_producev(
            m_producer.get(), RD_KAFKA_V_TOPIC(m_topic.c_str()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
            RD_KAFKA_V_VALUE(const_cast<char *>(r.payload.data()), r.payload.size()),
            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(packSource(r.partition, r.offset)),
            RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return true; // the headers are the message's now
        rd_kafka_headers_destroy(headers);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && blocking) {
            // Back-pressure: the brokers are slow or down; wait for room, do not drop.
            if (abort && abort->load())
                return false;
            rd_kafka_poll(m_producer.get(), attempt < 100 ? 10 : 100);
            continue;
        }
        m_failed.fetch_add(1, std::memory_order_relaxed);
        error(std::string("dead letter not queued (retrying): ") + rd_kafka_err2str(err));
        Retry again = r;
        again.due = Clock::now() + 1s;
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
            again.payload.resize(again.payload.size() / 2);
        std::lock_guard lock(m_mutex);
        m_retries.push_back(std::move(again));
        return true;
    }
}

void DeadLetterQueue::onDelivery(rd_kafka_t *, const rd_kafka_message_t *msg, void *opaque)
{
    static_cast<DeadLetterQueue *>(opaque)->delivered(msg);
}

void DeadLetterQueue::delivered(const rd_kafka_message_t *msg)
{
    const auto [partition, offset] = unpackSource(msg->_private);
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        m_acked.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(m_mutex);
        auto it = m_pending.find(partition);
        if (it != m_pending.end()) {
            if (auto at = it->second.find(offset); at != it->second.end())
                it->second.erase(at);
            if (it->second.empty())
                m_pending.erase(it);
        }
        return;
    }
    // Failed: sent again later (smaller, if it was too large for the brokers).
    m_failed.fetch_add(1, std::memory_order_relaxed);
    error(std::string("dead-letter delivery failed (retrying): ") + rd_kafka_err2str(msg->err));
    rd_kafka_headers_t *headers = nullptr;
    rd_kafka_message_headers(msg, &headers);
    Retry r;
    r.due = Clock::now() + 1s;
    r.sourceTopic = header(headers, "source.topic");
    r.reason = header(headers, "reason");
    r.partition = partition;
    r.offset = offset;
    r.originalSize = std::strtoull(header(headers, "original.size").c_str(), nullptr, 10);
    if (msg->key)
        r.key.assign(static_cast<const char *>(msg->key), msg->key_len);
    if (msg->payload)
        r.payload.assign(static_cast<const char *>(msg->payload), msg->len);
    if (msg->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        r.payload.resize(r.payload.size() / 2);
        r.due = Clock::now();
    }
    std::lock_guard lock(m_mutex);
    m_retries.push_back(std::move(r));
}

void DeadLetterQueue::poll()
{
    if (!m_producer)
        return;
    rd_kafka_poll(m_producer.get(), 0);
    const auto now = Clock::now();
    std::deque<Retry> due;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_retries.begin(); it != m_retries.end();) {
            if (it->due <= now) {
                due.push_back(std::move(*it));
                it = m_retries.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (const Retry &r : due)
        produce(r, false, nullptr);
}

bool DeadLetterQueue::flush(std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    while (true) {
        poll();
        if (stats().pending == 0)
            return true;
        if (Clock::now() >= deadline)
            return false;
        rd_kafka_poll(m_producer.get(), 10);
    }
}

std::map<std::int32_t, std::int64_t> DeadLetterQueue::lowestPending() const
{
    std::map<std::int32_t, std::int64_t> out;
    std::lock_guard lock(m_mutex);
    for (const auto &[partition, offsets] : m_pending) {
        if (!offsets.empty())
            out[partition] = *offsets.begin();
    }
    return out;
}

DeadLetterStats DeadLetterQueue::stats() const
{
    DeadLetterStats s;
    s.sent = m_sent.load();
    s.acked = m_acked.load();
    s.failed = m_failed.load();
    s.truncated = m_truncated.load();
    std::lock_guard lock(m_mutex);
    for (const auto &[partition, offsets] : m_pending)
        s.pending += offsets.size();
    return s;
}

} // namespace studio::core
