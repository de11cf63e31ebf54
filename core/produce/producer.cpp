#include "core/produce/producer.h"

#include "core/common/timeutil.h"
#include "core/produce/ratelimiter.h"

#include <algorithm>
#include <cmath>

#include <unistd.h>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kSampleEvery = 200ms;
constexpr std::size_t kSamplesKept = 56; // a little over eleven seconds
constexpr std::size_t kMaxBatch = 5000;
/// A transaction is committed at this many events at the latest (its events are kept in memory
/// until then, to be sent again if it is aborted).
constexpr std::size_t kMaxTransactionEvents = 200'000;
/// The same events aborted this often in a row are given up (counted as failed, with the
/// reason): what the brokers refuse every time is not retried for ever.
constexpr int kMaxAbortsInARow = 10;

double clampRate(double r)
{
    if (!std::isfinite(r) || r < 0)
        return 0;
    return std::min(r, ProducerSettings::kMaxRate);
}

/// What an error of librdkafka's transactional calls asks of the caller.
struct TxnOutcome
{
    bool ok = true;
    bool retriable = false; ///< call again
    bool abortable = false; ///< abort the transaction, then send its events again
    bool fatal = false;     ///< the client is unusable: a new one (fencing the old)
    std::string text;
};

TxnOutcome outcomeOf(rd_kafka_error_t *error)
{
    TxnOutcome o;
    if (!error)
        return o;
    o.ok = false;
    o.retriable = rd_kafka_error_is_retriable(error);
    o.abortable = rd_kafka_error_txn_requires_abort(error);
    o.fatal = rd_kafka_error_is_fatal(error);
    o.text = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return o;
}

/// A transactional call's timeout: at most 10 s, so a stop is noticed, and not past `deadline`.
int callTimeoutMs(Clock::time_point deadline)
{
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 1, 10'000));
}

} // namespace

std::string ProducerSettings::validate() const
{
    if (topic.empty())
        return "a producer needs a topic";
    if (!std::isfinite(ratePerSecond) || ratePerSecond < 0 || ratePerSecond > kMaxRate)
        return "rate must be between 1 and 1000000 events/s";
    static constexpr std::string_view kCodecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    if (std::find(std::begin(kCodecs), std::end(kCodecs), compression) == std::end(kCodecs))
        return "compression must be one of none, gzip, snappy, lz4, zstd; got '" + compression +
               "'";
    if (lingerMs < 0 || lingerMs > 60'000)
        return "linger must be between 0 and 60000 ms";
    if (batchSizeBytes < 1 || batchSizeBytes > 2'147'483'647)
        return "batch size must be positive";
    if (batchNumMessages < 1 || batchNumMessages > 1'000'000)
        return "batch message count must be between 1 and 1000000";
    if (deliveryTimeoutMs < 1000)
        return "delivery timeout must be at least 1000 ms";
    if (transactional && (transactionMs < 10 || transactionMs > 10'000))
        return "transaction interval must be between 10 and 10000 ms";
    return {};
}

std::string_view toString(ProducerState state)
{
    switch (state) {
    case ProducerState::Stopped:
        return "stopped";
    case ProducerState::Running:
        return "running";
    case ProducerState::Paused:
        return "paused";
    case ProducerState::Finished:
        return "finished";
    case ProducerState::Failed:
        return "failed";
    }
    return "stopped";
}

KafkaProducer::KafkaProducer(ClusterConfig cluster, ProducerSettings settings,
                             std::unique_ptr<EventSource> source)
    : m_cluster(std::move(cluster))
    , m_settings(std::move(settings))
    , m_source(std::move(source))
    , m_sourceDescription(m_source ? m_source->describe() : std::string("no source"))
    , m_targetRate(clampRate(m_settings.ratePerSecond))
{
}

KafkaProducer::~KafkaProducer()
{
    stop(2s);
}

bool KafkaProducer::createClient(std::string *error)
{
    Properties props = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"partitioner",
         "murmur2_random"}, // the Java client's partitioner: same key, same partition
        {"compression.codec", m_settings.compression},
        {"linger.ms", std::to_string(m_settings.lingerMs)},
        {"batch.size", std::to_string(m_settings.batchSizeBytes)},
        {"batch.num.messages", std::to_string(m_settings.batchNumMessages)},
        {"message.timeout.ms", std::to_string(m_settings.deliveryTimeoutMs)},
        {"queue.buffering.max.messages", "1000000"},
        {"queue.buffering.max.kbytes", "1048576"},
        {"reconnect.backoff.max.ms", "1000"}, // back within a second of a broker outage
    };
    if (m_settings.transactional) {
        static std::atomic<int> counter{0};
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        // Unique per producer and process: two runs of the same settings never fence each
        // other. A transaction left open by a killed process is aborted by the brokers after
        // transaction.timeout.ms (Kafka's default 60 s; read_committed readers wait for it).
        const std::string id = !m_settings.transactionalId.empty()
                                   ? m_settings.transactionalId
                                   : "clickstream-studio-" + m_settings.name + "-" + host + "-" +
                                         std::to_string(getpid()) + "-" + std::to_string(++counter);
        props.push_back({"transactional.id", id});
    }
    props.insert(props.end(), m_settings.extra.begin(), m_settings.extra.end());
    KafkaConf conf = makeKafkaConf(m_cluster, props, error);
    if (!conf)
        return false;
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducer::onDelivery);
    rd_kafka_conf_set_error_cb(conf.get(), &KafkaProducer::onError);
    rd_kafka_conf_set_opaque(conf.get(), this);
    m_topic.reset();
    m_client = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), error);
    if (!m_client)
        return false;
    m_topic.reset(rd_kafka_topic_new(m_client.get(), m_settings.topic.c_str(), nullptr));
    if (!m_topic) {
        m_client.reset();
        if (error)
            *error = "cannot use topic '" + m_settings.topic +
                     "': " + rd_kafka_err2str(rd_kafka_last_error());
        return false;
    }
    return true;
}

bool KafkaProducer::start(std::string *error)
{
    const ProducerState state = m_state.load();
    if (state == ProducerState::Running || state == ProducerState::Paused)
        return true;
    if (m_thread.joinable())
        stop();
    auto fail = [&](std::string message) {
        setError(message);
        m_state = ProducerState::Failed;
        if (error)
            *error = std::move(message);
        return false;
    };
    if (!m_source)
        return fail("the producer has no event source");
    if (std::string e = m_settings.validate(); !e.empty())
        return fail(std::move(e));
    if (std::string e = m_cluster.validate(); !e.empty())
        return fail(std::move(e));

    std::string e;
    if (!createClient(&e))
        return fail(std::move(e));
    m_stopRequested = false;
    m_state = m_paused ? ProducerState::Paused : ProducerState::Running;
    m_thread = std::thread([this] { run(); });
    return true;
}

void KafkaProducer::pause()
{
    m_paused = true;
    if (m_state == ProducerState::Running)
        m_state = ProducerState::Paused;
    m_wake.notify_all();
}

void KafkaProducer::resume()
{
    m_paused = false;
    if (m_state == ProducerState::Paused)
        m_state = ProducerState::Running;
    m_wake.notify_all();
}

void KafkaProducer::setRate(double eventsPerSecond)
{
    m_targetRate = clampRate(eventsPerSecond);
    m_wake.notify_all();
}

std::chrono::milliseconds KafkaProducer::stopDeadline() const
{
    return std::chrono::milliseconds(m_settings.deliveryTimeoutMs) + kStopGrace;
}

void KafkaProducer::stop(std::chrono::milliseconds flushTimeout)
{
    // Not a fixed 10 s: under a broker failover acks=all can take longer than that, and events
    // purged here were counted as failed although the brokers would still have taken them (the
    // kafka_cluster_faults run gave up 396,644 in flight after 10 s, before their 30 s timeout).
    if (flushTimeout == kUntilDeliveryTimeout)
        flushTimeout = stopDeadline();
    {
        std::lock_guard lock(m_mutex);
        // A transactional producer commits its open transaction before its thread ends.
        m_stopByNs = (Clock::now() + flushTimeout).time_since_epoch().count();
        m_stopRequested = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    finishClient(flushTimeout);
    const ProducerState state = m_state.load();
    if (state == ProducerState::Running || state == ProducerState::Paused)
        m_state = ProducerState::Stopped;
}

bool KafkaProducer::waitFinished(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(m_mutex);
    return m_wake.wait_for(lock, timeout, [this] {
        const ProducerState s = m_state.load();
        return s == ProducerState::Finished || s == ProducerState::Failed ||
               s == ProducerState::Stopped;
    });
}

void KafkaProducer::finishClient(std::chrono::milliseconds flushTimeout)
{
    if (!m_client)
        return;
    rd_kafka_flush(m_client.get(), static_cast<int>(flushTimeout.count()));
    if (rd_kafka_outq_len(m_client.get()) > 0) {
        // Whatever is still queued or in flight is given up on, and reported as failed through
        // the delivery callback, so the counters stay exact.
        rd_kafka_purge(m_client.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(m_client.get(), 1000);
        rd_kafka_poll(m_client.get(), 0);
    }
    m_topic.reset(); // before the client it belongs to
    m_client.reset();
}

void KafkaProducer::onDelivery(rd_kafka_t *, const rd_kafka_message_t *msg, void *opaque)
{
    auto *self = static_cast<KafkaProducer *>(opaque);
    if (self->m_settings.transactional) {
        // Counted when the transaction commits (acked) or is given up (failed); a failed
        // delivery makes the commit fail, and the transaction is sent again.
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR && msg->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            msg->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
            self->setError(std::string("delivery failed: ") + rd_kafka_err2str(msg->err));
        return;
    }
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->m_acked.fetch_add(1, std::memory_order_relaxed);
    } else {
        self->m_failed.fetch_add(1, std::memory_order_relaxed);
        if (msg->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            msg->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
            self->setError(std::string("delivery failed: ") + rd_kafka_err2str(msg->err));
        else
            self->setError("undelivered events were given up at stop");
    }
}

void KafkaProducer::onError(rd_kafka_t *, int err, const char *reason, void *opaque)
{
    // Client-level trouble (all brokers down, authentication failed), kept as the last error.
    static_cast<KafkaProducer *>(opaque)->setError(kafkaErrorText(err, reason));
}

void KafkaProducer::setError(std::string message)
{
    std::lock_guard lock(m_mutex);
    m_lastError = std::move(message);
}

std::size_t KafkaProducer::send(const RecordBatch &batch, std::size_t from,
                                std::atomic<std::uint64_t> *published, rd_kafka_resp_err_t *refusal)
{
    std::uint64_t accepted = 0; // published once per batch: one atomic add, not one per event
    std::size_t i = from;
    for (; i < batch.size(); ++i) {
        const std::string_view key = batch.key(i);
        const std::string_view value = batch.value(i);
        rd_kafka_resp_err_t err;
        for (;;) {
            err =
                rd_kafka_producev(m_client.get(), RD_KAFKA_V_RKT(m_topic.get()),
                                  RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(const_cast<char *>(key.data()), key.size()),
                                  RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
                                  RD_KAFKA_V_TIMESTAMP(batch.timestampMs(i)), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            // Back-pressure from the brokers: serve delivery reports until there is room.
            m_queueFullWaits.fetch_add(1, std::memory_order_relaxed);
            // Publish before polling: the reports served now may be for this batch's events.
            if (published)
                published->fetch_add(accepted, std::memory_order_relaxed);
            accepted = 0;
            rd_kafka_poll(m_client.get(), 2);
            // A stop gives up waiting (a transaction only at stop()'s deadline: it commits).
            if (m_stopRequested.load(std::memory_order_relaxed) &&
                (!m_settings.transactional || Clock::now() >= stopDeadlineAt()))
                break;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                setError(std::string("produce rejected: ") + rd_kafka_err2str(err));
            if (refusal)
                *refusal = err;
            break;
        }
        ++accepted;
    }
    if (published)
        published->fetch_add(accepted, std::memory_order_relaxed);
    return i - from;
}

void KafkaProducer::produceBatch(const RecordBatch &batch)
{
    if (m_settings.transactional) {
        // What the client takes belongs to the transaction (kept, to be sent again if it is
        // aborted); refused because of the transaction's state, the rest of the batch too (sent
        // again after the abort); an event refused for itself (too large) fails alone.
        m_produced.fetch_add(batch.size(), std::memory_order_relaxed);
        auto keep = [&](std::size_t first, std::size_t end) {
            for (std::size_t i = first; i < end; ++i)
                m_txnEvents.add(batch.key(i), batch.value(i), batch.timestampMs(i));
        };
        std::size_t from = 0;
        while (from < batch.size()) {
            if (m_txnBroken) {
                keep(from, batch.size());
                break;
            }
            rd_kafka_resp_err_t refusal = RD_KAFKA_RESP_ERR_NO_ERROR;
            const std::size_t taken = send(batch, from, nullptr, &refusal);
            keep(from, from + taken);
            from += taken;
            if (from == batch.size())
                break;
            if (refusal == RD_KAFKA_RESP_ERR__STATE || refusal == RD_KAFKA_RESP_ERR__FATAL ||
                refusal == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                m_txnBroken = true; // this event and the rest are kept and sent again
                continue;
            }
            m_failed.fetch_add(1, std::memory_order_relaxed);
            ++from;
        }
        return;
    }
    std::size_t from = 0;
    while (from < batch.size()) {
        from += send(batch, from, &m_produced, nullptr);
        if (from == batch.size())
            break;
        // Refused (or a stop gave up waiting for room): not handed to Kafka, still counted so
        // produced = acked + failed holds for everything the source gave us.
        m_produced.fetch_add(1, std::memory_order_relaxed);
        m_failed.fetch_add(1, std::memory_order_relaxed);
        ++from;
    }
}

void KafkaProducer::sample(Clock::time_point now)
{
    std::lock_guard lock(m_mutex);
    m_samples.push_back({now, m_produced.load(std::memory_order_relaxed),
                         m_shortfall.load(std::memory_order_relaxed)});
    while (m_samples.size() > kSamplesKept)
        m_samples.pop_front();
}

void KafkaProducer::run()
{
    RecordBatch batch;
    Clock::time_point now = Clock::now();
    RateLimiter limiter(m_targetRate.load(), now);
    Clock::time_point lastSample = now;
    Clock::time_point lastTick = now;
    bool wasPaused = m_paused.load();
    std::uint64_t lastQueueFull = m_queueFullWaits.load();
    std::uint64_t lastShortfall = 0;
    sample(now);
    const bool transactional = m_settings.transactional;
    const auto transactionEvery = std::chrono::milliseconds(m_settings.transactionMs);
    if (transactional && !initTransactions()) {
        sample(Clock::now());
        return;
    }

    while (!m_stopRequested.load(std::memory_order_relaxed)) {
        now = Clock::now();
        if (now - lastSample >= kSampleEvery) {
            sample(now);
            lastSample = now;
        }
        const bool paused = m_paused.load(std::memory_order_relaxed);
        if (m_txnOpen && (paused || now - m_txnStarted >= transactionEvery ||
                          m_txnEvents.size() >= kMaxTransactionEvents)) {
            commitTransaction(); // retried until done, or stop()'s deadline
            now = Clock::now();
        }
        if (!paused && !wasPaused) {
            std::lock_guard lock(m_mutex);
            m_running += now - lastTick;
        }
        lastTick = now;
        if (paused) {
            wasPaused = true;
            rd_kafka_poll(m_client.get(), 0);
            std::unique_lock lock(m_mutex);
            m_wake.wait_for(lock, 100ms,
                            [this] { return m_stopRequested.load() || !m_paused.load(); });
            continue;
        }
        if (wasPaused) {
            limiter.restart(now); // nothing is owed for the time spent paused
            wasPaused = false;
        }
        const double rate = m_targetRate.load(std::memory_order_relaxed);
        if (rate != limiter.rate())
            limiter.setRate(rate, now);

        std::size_t want = kMaxBatch;
        if (rate > 0) {
            const std::uint64_t due = limiter.due(now);
            // Send in slices of about 2 ms of events: fewer wake-ups, same accuracy over a second.
            const auto slice = static_cast<std::uint64_t>(std::clamp(rate * 0.002, 1.0, 1000.0));
            if (due < slice) {
                const double wait = static_cast<double>(slice - due) / rate;
                rd_kafka_poll(m_client.get(), 0);
                std::unique_lock lock(m_mutex);
                m_wake.wait_for(lock, std::chrono::duration<double>(std::min(wait, 0.05)), [&] {
                    return m_stopRequested.load() || m_paused.load() || m_targetRate.load() != rate;
                });
                continue;
            }
            want = static_cast<std::size_t>(std::min<std::uint64_t>(due, kMaxBatch));
        }

        batch.clear();
        const std::size_t got = m_source->fill(batch, want, wallClockMs());
        if (got == 0 && m_source->atEnd()) {
            if (m_txnOpen)
                commitTransaction();
            rd_kafka_flush(m_client.get(), m_settings.deliveryTimeoutMs);
            {
                std::lock_guard lock(m_mutex);
                m_running += Clock::now() - lastTick;
            }
            sample(Clock::now());
            m_state = ProducerState::Finished;
            m_wake.notify_all();
            return;
        }
        if (got == 0) {
            if (std::string e = m_source->lastError(); !e.empty())
                setError(std::move(e));
            rd_kafka_poll(m_client.get(), 5); // a live source with nothing yet
        } else {
            if (transactional && !m_txnOpen && !beginTransaction() &&
                !(recreateClient() && beginTransaction())) {
                // Not handed to Kafka: counted as failed, and the next batch tries again.
                m_produced.fetch_add(got, std::memory_order_relaxed);
                m_failed.fetch_add(got, std::memory_order_relaxed);
                limiter.sent(got);
                continue;
            }
            produceBatch(batch);
            if (m_txnBroken)
                abortAndResend();
            limiter.sent(got);
            rd_kafka_poll(m_client.get(), 0);
        }

        const std::uint64_t shortfall = limiter.shortfall();
        if (shortfall != lastShortfall) {
            const std::uint64_t queueFull = m_queueFullWaits.load(std::memory_order_relaxed);
            std::lock_guard lock(m_mutex);
            m_limitedBy = queueFull != lastQueueFull ? "broker" : (got < want ? "source" : "cpu");
            lastQueueFull = queueFull;
            lastShortfall = shortfall;
            m_shortfall.store(shortfall, std::memory_order_relaxed);
        }
    }
    if (m_txnOpen)
        commitTransaction(); // bounded by stop()'s deadline
    {
        std::lock_guard lock(m_mutex);
        if (!wasPaused)
            m_running += Clock::now() - lastTick;
    }
    sample(Clock::now());
}

bool KafkaProducer::initTransactions()
{
    for (;;) {
        const TxnOutcome o = outcomeOf(rd_kafka_init_transactions(m_client.get(), 10'000));
        if (o.ok)
            return true;
        setError("transactions not available: " + o.text);
        if (m_stopRequested.load())
            return false;
        if (!o.retriable) {
            m_state = ProducerState::Failed;
            m_wake.notify_all();
            return false;
        }
    }
}

bool KafkaProducer::beginTransaction()
{
    const TxnOutcome o = outcomeOf(rd_kafka_begin_transaction(m_client.get()));
    if (!o.ok) {
        setError("cannot begin a transaction: " + o.text);
        return false;
    }
    m_txnOpen = true;
    m_txnBroken = false;
    m_txnStarted = Clock::now();
    return true;
}

bool KafkaProducer::recreateClient()
{
    // A fatal error (an epoch fenced, a broken sequence): a new client with the same
    // transactional.id fences the old one, whose open transaction the brokers abort.
    m_topic.reset();
    m_client.reset();
    std::string error;
    if (!createClient(&error)) {
        setError("cannot create a new producer client: " + error);
        return false;
    }
    return initTransactions();
}

void KafkaProducer::giveUpTransaction(const std::string &why)
{
    setError("transaction of " + std::to_string(m_txnEvents.size()) + " events given up: " + why);
    m_failed.fetch_add(m_txnEvents.size(), std::memory_order_relaxed);
    if (m_client)
        outcomeOf(rd_kafka_abort_transaction(m_client.get(), 1000)); // as far as it goes
    m_txnEvents.clear();
    m_txnOpen = false;
    m_txnBroken = false;
    m_txnAborts = 0;
}

bool KafkaProducer::abortAndResend()
{
    for (;;) {
        const TxnOutcome o =
            outcomeOf(rd_kafka_abort_transaction(m_client.get(), callTimeoutMs(stopDeadlineAt())));
        if (o.ok)
            break;
        setError("transaction abort: " + o.text);
        if (Clock::now() >= stopDeadlineAt()) {
            giveUpTransaction("the abort did not complete in time");
            return false;
        }
        if (o.retriable)
            continue;
        if (!recreateClient()) {
            giveUpTransaction("no usable client");
            return false;
        }
        break; // the new client starts with no transaction
    }
    m_abortedTransactions.fetch_add(1, std::memory_order_relaxed);
    m_txnOpen = false;
    if (++m_txnAborts > kMaxAbortsInARow) {
        giveUpTransaction("aborted " + std::to_string(kMaxAbortsInARow) + " times in a row");
        return false;
    }
    if (!beginTransaction()) {
        giveUpTransaction("no new transaction");
        return false;
    }
    const std::size_t sent = send(m_txnEvents, 0, nullptr, nullptr);
    m_resent.fetch_add(sent, std::memory_order_relaxed);
    m_txnBroken = sent < m_txnEvents.size();
    return true;
}

bool KafkaProducer::commitTransaction()
{
    while (m_txnOpen) {
        if (m_txnBroken) {
            if (!abortAndResend())
                return false;
            continue;
        }
        const Clock::time_point until = stopDeadlineAt();
        const TxnOutcome o =
            outcomeOf(rd_kafka_commit_transaction(m_client.get(), callTimeoutMs(until)));
        if (o.ok) {
            m_acked.fetch_add(m_txnEvents.size(), std::memory_order_relaxed);
            m_transactions.fetch_add(1, std::memory_order_relaxed);
            m_txnEvents.clear();
            m_txnOpen = false;
            m_txnAborts = 0;
            return true;
        }
        setError("transaction commit: " + o.text);
        if (o.abortable || o.fatal) {
            m_txnBroken = true; // aborted (or fenced), then sent again in a new transaction
            continue;
        }
        if (Clock::now() >= until) {
            giveUpTransaction("the commit did not complete in time (" + o.text + ")");
            return false;
        }
        // Retriable (a coordinator moving, a timeout): committing again continues it.
    }
    return true;
}

Clock::time_point KafkaProducer::stopDeadlineAt() const
{
    if (!m_stopRequested.load())
        return Clock::time_point::max();
    return Clock::time_point(Clock::duration(m_stopByNs.load()));
}

ProducerStats KafkaProducer::stats() const
{
    ProducerStats s;
    s.state = m_state.load();
    s.targetRate = m_targetRate.load();
    // Read acked/failed before produced, so inFlight never goes negative.
    s.acked = m_acked.load();
    s.failed = m_failed.load();
    s.produced = m_produced.load();
    s.inFlight = s.produced > s.acked + s.failed ? s.produced - s.acked - s.failed : 0;
    s.shortfall = m_shortfall.load();
    s.transactional = m_settings.transactional;
    s.transactions = m_transactions.load();
    s.abortedTransactions = m_abortedTransactions.load();
    s.resent = m_resent.load();

    std::lock_guard lock(m_mutex);
    s.lastError = m_lastError;
    s.runningSeconds = std::chrono::duration<double>(m_running).count();
    if (m_samples.size() >= 2) {
        const Sample &last = m_samples.back();
        auto rateOver = [&](Clock::duration span) {
            const Sample *first = &m_samples.front();
            for (const Sample &x : m_samples) {
                if (last.at - x.at <= span) {
                    first = &x;
                    break;
                }
            }
            const double dt = std::chrono::duration<double>(last.at - first->at).count();
            return dt > 0 ? static_cast<double>(last.produced - first->produced) / dt : 0.0;
        };
        s.achievedRate = rateOver(1s + 50ms);
        s.achievedRate10s = rateOver(10s + 50ms);
        // Behind if anything was forgiven within the last two seconds.
        const Sample *twoSecondsAgo = &m_samples.front();
        for (const Sample &x : m_samples) {
            if (last.at - x.at <= 2s) {
                twoSecondsAgo = &x;
                break;
            }
        }
        s.keepingUp = s.state != ProducerState::Running || s.targetRate <= 0 ||
                      last.shortfall == twoSecondsAgo->shortfall;
    }
    if (!s.keepingUp)
        s.limitedBy = m_limitedBy;
    return s;
}

} // namespace studio::core
