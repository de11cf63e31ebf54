#include "core/produce/producer.h"

#include "core/common/timeutil.h"
#include "core/produce/ratelimiter.h"

#include <algorithm>
#include <cmath>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kSampleEvery = 200ms;
constexpr std::size_t kSamplesKept = 56; // a little over eleven seconds
constexpr std::size_t kMaxBatch = 5000;

double clampRate(double r)
{
    if (!std::isfinite(r) || r < 0)
        return 0;
    return std::min(r, ProducerSettings::kMaxRate);
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
    props.insert(props.end(), m_settings.extra.begin(), m_settings.extra.end());
    std::string e;
    KafkaConf conf = makeKafkaConf(m_cluster, props, &e);
    if (!conf)
        return fail(std::move(e));
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducer::onDelivery);
    rd_kafka_conf_set_error_cb(conf.get(), &KafkaProducer::onError);
    rd_kafka_conf_set_opaque(conf.get(), this);
    m_client = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), &e);
    if (!m_client)
        return fail(std::move(e));
    m_topic.reset(rd_kafka_topic_new(m_client.get(), m_settings.topic.c_str(), nullptr));
    if (!m_topic) {
        m_client.reset();
        return fail("cannot use topic '" + m_settings.topic +
                    "': " + rd_kafka_err2str(rd_kafka_last_error()));
    }
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

void KafkaProducer::produceBatch(const RecordBatch &batch)
{
    std::uint64_t accepted = 0; // published once per batch: one atomic add, not one per event
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const std::string_view key = batch.key(i);
        const std::string_view value = batch.value(i);
        for (;;) {
            const rd_kafka_resp_err_t err =
                rd_kafka_producev(m_client.get(), RD_KAFKA_V_RKT(m_topic.get()),
                                  RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(const_cast<char *>(key.data()), key.size()),
                                  RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
                                  RD_KAFKA_V_TIMESTAMP(batch.timestampMs(i)), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                ++accepted;
                break;
            }
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                // Back-pressure from the brokers: serve delivery reports until there is room.
                m_queueFullWaits.fetch_add(1, std::memory_order_relaxed);
                // Publish before polling: the reports served now may be for this batch's events.
                m_produced.fetch_add(accepted, std::memory_order_relaxed);
                accepted = 0;
                rd_kafka_poll(m_client.get(), 2);
                if (m_stopRequested.load(std::memory_order_relaxed)) {
                    // Not handed to Kafka; still counted so produced = acked + failed holds for
                    // everything the source gave us.
                    m_produced.fetch_add(1, std::memory_order_relaxed);
                    m_failed.fetch_add(1, std::memory_order_relaxed);
                    break;
                }
                continue;
            }
            m_produced.fetch_add(1, std::memory_order_relaxed);
            m_failed.fetch_add(1, std::memory_order_relaxed);
            setError(std::string("produce rejected: ") + rd_kafka_err2str(err));
            break;
        }
    }
    m_produced.fetch_add(accepted, std::memory_order_relaxed);
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

    while (!m_stopRequested.load(std::memory_order_relaxed)) {
        now = Clock::now();
        if (now - lastSample >= kSampleEvery) {
            sample(now);
            lastSample = now;
        }
        const bool paused = m_paused.load(std::memory_order_relaxed);
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
            produceBatch(batch);
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
    {
        std::lock_guard lock(m_mutex);
        if (!wasPaused)
            m_running += Clock::now() - lastTick;
    }
    sample(Clock::now());
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
