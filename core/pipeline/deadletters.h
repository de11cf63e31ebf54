#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace studio::core {

/// One refused record for the dead-letter topic, with where it came from.
struct DeadLetter
{
    std::string_view sourceTopic;
    std::int32_t partition = 0;
    std::int64_t offset = -1;
    std::string_view key;
    std::string_view payload;
    std::string_view reason;
};

struct DeadLetterStats
{
    std::uint64_t sent = 0;      ///< handed to the producer
    std::uint64_t acked = 0;     ///< delivery confirmed by the brokers
    std::uint64_t failed = 0;    ///< delivery attempts that failed (each is retried)
    std::uint64_t truncated = 0; ///< payloads cut to fit the topic's message size
    std::uint64_t pending = 0;   ///< sent, not yet delivered (retries included)
};

/// The dead-letter producer. Every refused record gets a record: a payload too large for the
/// topic goes truncated to what fits, with headers for its original size and truncated=true
/// besides the reason and the source topic, partition and offset; a delivery that fails (the
/// topic's brokers down, a refusal) is retried until it succeeds, never dropped. The lowest
/// undelivered source offset of each partition is known, so offsets are not committed past a
/// dead letter that could still be lost.
///
/// Threads: send() from any thread (it blocks while the producer's queue is full, which pauses
/// whoever sends: back-pressure, until `abort` is set); poll() and flush() from one thread (the
/// delivery reports and retries run there); the rest from any thread.
class DeadLetterQueue
{
public:
    DeadLetterQueue(ClusterConfig cluster, std::string topic);
    ~DeadLetterQueue();
    DeadLetterQueue(const DeadLetterQueue &) = delete;
    DeadLetterQueue &operator=(const DeadLetterQueue &) = delete;

    bool start(std::string *error);
    /// Queues one dead letter. False only when `abort` was set while the queue was full: the
    /// letter then stays counted as pending (its offset is never committed by this process).
    bool send(const DeadLetter &letter, const std::atomic<bool> &abort);
    /// Delivery reports, and retries that are due.
    void poll();
    /// Waits up to `timeout` for every pending letter; true when none is left.
    bool flush(std::chrono::milliseconds timeout);
    /// Per partition of the source topic, the lowest offset whose dead letter is not delivered.
    std::map<std::int32_t, std::int64_t> lowestPending() const;
    DeadLetterStats stats() const;
    const std::string &topic() const { return m_topic; }
    /// Called with a message when a delivery fails (it is retried) or a letter is truncated.
    void setErrorHandler(std::function<void(std::string)> handler);

    /// Largest record the producer sends (message.max.bytes).
    static constexpr std::size_t kMaxMessageBytes = 1'000'000;

private:
    struct Retry
    {
        std::chrono::steady_clock::time_point due;
        std::string sourceTopic, key, payload, reason;
        std::int32_t partition = 0;
        std::int64_t offset = -1;
        std::size_t originalSize = 0;
        std::size_t limit = 0; ///< the payload bytes to send at most
    };
    bool produce(const Retry &letter, bool blocking, const std::atomic<bool> *abort);
    void delivered(const rd_kafka_message_t *msg);
    void error(std::string message);
    static void onDelivery(rd_kafka_t *, const rd_kafka_message_t *msg, void *opaque);

    const ClusterConfig m_cluster;
    const std::string m_topic;
    KafkaHandle m_producer;
    mutable std::mutex m_mutex; // what follows
    std::deque<Retry> m_retries;
    std::map<std::int32_t, std::multiset<std::int64_t>> m_pending;
    std::function<void(std::string)> m_onError;
    std::atomic<std::uint64_t> m_sent{0}, m_acked{0}, m_failed{0}, m_truncated{0};
};

} // namespace studio::core
