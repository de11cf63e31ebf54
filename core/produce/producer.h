#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"
#include "core/produce/eventsource.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace studio::core {

/// One producer's settings; everything but the rate is fixed while it runs.
struct ProducerSettings
{
    std::string name = "producer-1";
    std::string topic = "clickstream";
    double ratePerSecond = 1000;     ///< 1 to 1,000,000 events/s; 0 = as fast as possible
    std::string compression = "lz4"; ///< none, gzip, snappy, lz4, zstd
    int lingerMs = 5;
    int batchSizeBytes = 1'000'000;
    int batchNumMessages = 10'000;
    int deliveryTimeoutMs = 30'000; ///< after this an unacknowledged event counts as failed
    Properties extra;               ///< further librdkafka producer properties
    /// Exactly once: the events go out in Kafka transactions, one committed every
    /// transactionMs; an event counts as acked when its transaction commits. A transaction the
    /// brokers abort (a partition leader moving, an epoch fenced) is sent again whole in a new
    /// one, and read_committed consumers (librdkafka's default) never see the aborted copies.
    /// The idempotent producer alone can write a batch twice when a leader moves (librdkafka
    /// 2.0.2, issue #4953). Needs brokers with transactions (Kafka, and librdkafka's mock).
    bool transactional = false;
    int transactionMs = 100;
    std::string transactionalId; ///< empty: made unique per producer (name, host, process)

    static constexpr double kMaxRate = 1'000'000;
    /// Empty when usable, else a message naming the first bad setting.
    std::string validate() const;
};

enum class ProducerState { Stopped, Running, Paused, Finished, Failed };
std::string_view toString(ProducerState state);

/// A consistent copy of a producer's counters. produced = acked + failed + inFlight at all times;
/// after stop() inFlight is 0, so produced = acked + failed exactly.
struct ProducerStats
{
    ProducerState state = ProducerState::Stopped;
    double targetRate = 0;
    double achievedRate = 0;    ///< events handed to Kafka per second, over the last second
    double achievedRate10s = 0; ///< the same over the last ten seconds
    std::uint64_t produced = 0; ///< accepted by the client library
    std::uint64_t acked = 0;    ///< delivery confirmed by the brokers
    std::uint64_t failed = 0;   ///< rejected locally or failed delivery
    std::uint64_t inFlight = 0;
    std::uint64_t shortfall = 0; ///< events due by the schedule that could not be sent
    bool keepingUp = true;       ///< false while the target rate is not being met
    std::string limitedBy;       ///< when not keeping up: "source", "broker" or "cpu"
    std::string lastError;
    double runningSeconds = 0; ///< time spent producing (pauses excluded)
    bool transactional = false;
    std::uint64_t transactions = 0;        ///< committed (transactional producers)
    std::uint64_t abortedTransactions = 0; ///< aborted by the brokers, their events sent again
    std::uint64_t resent = 0;              ///< events sent again after an abort
};

/// A rate-controlled Kafka producer over an EventSource: idempotent, acks=all, key = the record's
/// key (user_id), every delivery report counted. Its worker thread owns the source and the client;
/// every public method is thread-safe and returns quickly, except stop(), which waits for
/// in-flight deliveries up to a deadline.
class KafkaProducer
{
public:
    KafkaProducer(ClusterConfig cluster, ProducerSettings settings,
                  std::unique_ptr<EventSource> source);
    ~KafkaProducer();
    KafkaProducer(const KafkaProducer &) = delete;
    KafkaProducer &operator=(const KafkaProducer &) = delete;

    /// Connects and starts producing. False with a message if the settings or the cluster config
    /// are unusable; a broker that is down is not an error here (deliveries fail or wait).
    bool start(std::string *error);
    void pause();
    void resume();
    /// stop()'s default: wait for every in-flight event's delivery report. librdkafka reports
    /// each one within the delivery timeout (message.timeout.ms) of its hand-over, as acked or as
    /// failed, so stop() waits up to that plus kStopGrace.
    static constexpr std::chrono::milliseconds kUntilDeliveryTimeout{-1};
    /// Slack past the delivery timeout for the last reports (a request timing out, a retry).
    static constexpr std::chrono::milliseconds kStopGrace{5000};

    /// Stops producing and waits up to `flushTimeout` for the deliveries in flight (by default
    /// until their delivery timeout, see kUntilDeliveryTimeout), then purges what is left; every
    /// event that was not acked is counted as failed. Idempotent.
    void stop(std::chrono::milliseconds flushTimeout = kUntilDeliveryTimeout);
    /// The longest stop() waits with its default argument.
    std::chrono::milliseconds stopDeadline() const;

    /// Changes the target rate while running (clamped to 0..kMaxRate).
    void setRate(double eventsPerSecond);

    /// Waits until the source is exhausted (state Finished) or `timeout` passes.
    bool waitFinished(std::chrono::milliseconds timeout);

    ProducerStats stats() const;
    const ProducerSettings &settings() const { return m_settings; }
    const ClusterConfig &cluster() const { return m_cluster; }
    std::string sourceDescription() const { return m_sourceDescription; }

private:
    bool createClient(std::string *error);
    void run();
    void produceBatch(const RecordBatch &batch);
    /// Hands records [from, size) to the client, waiting out a full queue. Returns how many it
    /// took; fewer when the client refused one (its error kept) or a stop gave up waiting.
    std::size_t send(const RecordBatch &batch, std::size_t from,
                     std::atomic<std::uint64_t> *published, rd_kafka_resp_err_t *refusal);
    // Transactions (producer thread only; see ProducerSettings::transactional).
    bool initTransactions();
    bool beginTransaction();
    /// Both retry until they succeed or stop()'s deadline passes (then the events count as
    /// failed); false when the transaction was given up.
    bool commitTransaction();
    bool abortAndResend();
    bool recreateClient();
    void giveUpTransaction(const std::string &why);
    /// stop()'s deadline once it was called, else never.
    std::chrono::steady_clock::time_point stopDeadlineAt() const;
    void sample(std::chrono::steady_clock::time_point now);
    void setError(std::string message);
    void finishClient(std::chrono::milliseconds flushTimeout);
    static void onDelivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);
    static void onError(rd_kafka_t *rk, int err, const char *reason, void *opaque);

    const ClusterConfig m_cluster;
    const ProducerSettings m_settings;
    std::unique_ptr<EventSource> m_source;
    const std::string m_sourceDescription;

    KafkaHandle m_client;
    KafkaTopic m_topic;
    std::thread m_thread;

    std::atomic<bool> m_stopRequested{false};
    std::atomic<bool> m_paused{false};
    std::atomic<double> m_targetRate;
    std::atomic<ProducerState> m_state{ProducerState::Stopped};
    std::atomic<std::uint64_t> m_produced{0};
    std::atomic<std::uint64_t> m_acked{0};
    std::atomic<std::uint64_t> m_failed{0};
    std::atomic<std::uint64_t> m_shortfall{0};
    std::atomic<std::uint64_t> m_queueFullWaits{0};
    std::atomic<std::uint64_t> m_transactions{0};
    std::atomic<std::uint64_t> m_abortedTransactions{0};
    std::atomic<std::uint64_t> m_resent{0};
    std::atomic<std::int64_t> m_stopByNs{0}; ///< steady clock: when stop() stops waiting

    // The open transaction: its events, kept until it commits, to be sent again if aborted.
    RecordBatch m_txnEvents;
    bool m_txnOpen = false;
    bool m_txnBroken = false; ///< the client refused an event: abort and send again
    int m_txnAborts = 0;      ///< aborts of these events in a row
    std::chrono::steady_clock::time_point m_txnStarted;

    mutable std::mutex m_mutex; // guards everything below, and wakes the worker
    std::condition_variable m_wake;
    struct Sample
    {
        std::chrono::steady_clock::time_point at;
        std::uint64_t produced;
        std::uint64_t shortfall;
    };
    std::deque<Sample> m_samples; // one per 200 ms, eleven seconds' worth
    std::string m_lastError;
    std::string m_limitedBy;
    std::chrono::steady_clock::duration m_running{};
};

} // namespace studio::core
