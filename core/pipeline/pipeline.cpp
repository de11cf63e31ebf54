#include "core/pipeline/pipeline.h"

#include "core/aggregate/finalscollector.h"
#include "core/store/sinkworker.h"

#include <pthread.h>

#include <algorithm>
#include <cstdlib>
#include <malloc.h>
#include <map>
#include <thread>
#include <vector>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// A polled batch in flight: the messages (destroyed when it is settled) and each worker's share.
struct AggregatorPipeline::Chunk
{
    std::vector<rd_kafka_message_t *> messages;
    std::vector<RecordBatch> batches;              // per worker
    std::vector<std::vector<std::uint32_t>> index; // per worker: index in `messages` of each record
    std::vector<std::vector<IngestResult>> outcomes; // per worker
    std::int64_t nowMs = 0;
    int pending = 0; // worker threads not done with it (m_workMutex)
};

namespace {

/// Batches in flight at most: enough for the workers' shares to even out over several polls
/// (a poll often brings mostly one partition), few enough to bound the memory (each up to
/// PipelineSettings::maxBatch records) and the barrier's wait.
constexpr std::size_t kChunksInFlight = 8;
/// With several workers the watermark advances at a barrier at most this often (with one, after
/// every batch as before).
constexpr auto kParallelAdvanceInterval = 50ms;

std::int64_t wallClockMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

AggregatorPipeline::AggregatorPipeline(ClusterConfig cluster, PipelineSettings settings,
                                       Aggregator &aggregator)
    : m_cluster(std::move(cluster))
    , m_settings(std::move(settings))
    , m_aggregator(aggregator)
    , m_workerCount(aggregator.workerCount())
    , m_workerEvents(new std::atomic<std::uint64_t>[static_cast<std::size_t>(m_workerCount)]())
    , m_workerBusyNs(new std::atomic<std::uint64_t>[static_cast<std::size_t>(m_workerCount)]())
{
}

AggregatorPipeline::~AggregatorPipeline()
{
    stop();
}

bool AggregatorPipeline::start(std::string *error)
{
    if (m_thread.joinable())
        return true;
    auto fail = [&](std::string message) {
        setError(message);
        m_state = PipelineState::Failed;
        if (error)
            *error = std::move(message);
        m_consumer.reset();
        m_deadLetters.reset();
        return false;
    };
    if (std::string e = m_cluster.validate(); !e.empty())
        return fail(e);
    if (m_settings.topic.empty() || m_settings.groupId.empty())
        return fail("the aggregator needs a topic and a consumer group");

    Properties props = {
        {"group.id", m_settings.groupId},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", m_settings.autoOffsetReset},
        {"fetch.wait.max.ms", std::to_string(m_settings.fetchWaitMaxMs)},
        // Prefetch deep, and retry soon when the prefetch queue was full:
        // with librdkafka's defaults (64 MB, then a 500 ms back-off) a consumer
        // that does real work per batch waits on its fetches most of the time
        // (measured on the embedded broker with 64 partitions: 280k events/s
        // with the aggregator behind it, 1.07M with these settings).
        {"queued.min.messages", "1000000"},
        {"queued.max.messages.kbytes", std::to_string(m_settings.prefetchMegabytes * 1024)},
        {"fetch.error.backoff.ms", "10"},
        // Back within a second of the brokers: with the default (10 s cap) the
        // soak's 10 s outage left some partitions unfetched for seconds more.
        {"reconnect.backoff.max.ms", "1000"},
        {"enable.partition.eof", "false"}};
    props.insert(props.end(), m_settings.extra.begin(), m_settings.extra.end());
    std::string e;
    KafkaConf conf = makeKafkaConf(m_cluster, props, &e);
    if (!conf)
        return fail(e);
    rd_kafka_conf_set_error_cb(conf.get(), &AggregatorPipeline::onError);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &AggregatorPipeline::onRebalance);
    rd_kafka_conf_set_opaque(conf.get(), this);
    m_consumer = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), &e);
    if (!m_consumer)
        return fail(e);
    rd_kafka_poll_set_consumer(m_consumer.get());

    if (m_settings.deadLetters) {
        m_deadLetters = std::make_unique<DeadLetterQueue>(m_cluster, m_settings.dlqTopic());
        if (!m_deadLetters->start(&e))
            return fail(e);
        m_deadLetters->setErrorHandler([this](std::string message) { setError(message); });
    }

    if (m_settings.sinks && !m_settings.finals)
        return fail("durable mode needs the aggregator's FinalsCollector");
    if (m_settings.sinks && m_settings.archiveRaw)
        m_rawParser = std::make_unique<EventParser>();
    if (!m_settings.sinks) {
        if (std::string why = subscribe(); !why.empty())
            return fail(why);
    }
    m_queue.reset(rd_kafka_queue_get_consumer(m_consumer.get()));
    m_stop = false;
    m_state = m_paused ? PipelineState::Paused : PipelineState::Running;
    m_thread = std::thread([this] { run(); });
    return true;
}

std::string AggregatorPipeline::subscribe()
{
    const rd_kafka_resp_err_t err = subscribeToTopic(m_consumer.get(), m_settings.topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return "cannot subscribe to '" + m_settings.topic + "': " + rd_kafka_err2str(err);
    return {};
}

bool AggregatorPipeline::loadResumePoint()
{
    std::optional<Checkpoint> checkpoint;
    std::vector<KafkaOffset> offsets;
    std::string why;
    if (!m_settings.sinks->loadResumePoint(m_settings.groupId, m_settings.topic, m_settings.shard,
                                           &checkpoint, &offsets, &why)) {
        setError("waiting for the resume point: " + why);
        return false;
    }
    if (checkpoint) {
        // Since issue 19 the row of (group, shard) holds the head only (the partitions' state is
        // in their chains, restored as they are assigned); a whole state of an older version is
        // still read, and its partitions then write a base with their first piece.
        std::string_view state = checkpoint->state;
        if (state.size() > 1 && state.substr(1).starts_with("CSHEAD")) {
            if (!m_aggregator.restoreHead(state, &why)) {
                setError("stored checkpoint unusable, not resuming from it: " + why);
                return false;
            }
        } else {
            if (!m_aggregator.restoreState(state, &why)) {
                setError("stored checkpoint unusable, not resuming from it: " + why);
                return false;
            }
            std::vector<std::int32_t> held;
            for (const auto &[partition, worker] : m_aggregator.assignment(true))
                held.push_back(partition);
            m_aggregator.forceBase(held);
            offsets = checkpoint->offsets;
            m_restored = true;
        }
    }
    if (auto target = m_settings.sinks->postgresTarget();
        target && !m_compactor && !std::getenv("STUDIO_NO_COMPACTOR")) {
        CompactionSettings cs;
        cs.postgres = *target;
        cs.options = m_settings.sinks->postgresOptions();
        cs.groupId = m_settings.groupId;
        cs.topic = m_settings.topic;
        // Its own aggregator of the same settings: folding a chain never touches the live state,
        // and the compactor may outlive this pipeline by a fold.
        cs.compact = [folder = std::make_shared<Aggregator>(m_aggregator.config())](
                         const std::vector<std::string> &chain, std::string *error) {
            return folder->compactChain(chain, error);
        };
        m_compactor = std::make_unique<CheckpointCompactor>(std::move(cs));
        m_compactor->start();
    }
    for (const KafkaOffset &o : offsets) {
        if (o.topic != m_settings.topic || o.partition < 0)
            continue;
        const auto p = static_cast<std::size_t>(o.partition);
        if (p >= m_resumeOffsets.size())
            m_resumeOffsets.resize(p + 1, -1);
        m_resumeOffsets[p] = o.nextOffset;
    }
    return true;
}

void AggregatorPipeline::restorePartitions(const std::vector<std::int32_t> &partitions)
{
    if (partitions.empty())
        return;
    const auto started = std::chrono::steady_clock::now();
    // Until PostgreSQL answers (and while a stored chain is unusable) nothing of these
    // partitions is consumed: starting them empty would count their open windows short.
    for (int attempt = 0; !m_stop.load(); ++attempt) {
        std::map<std::int32_t, StoredChain> chains;
        std::string why;
        if (!m_settings.sinks->loadChains(m_settings.groupId, m_settings.topic, partitions, &chains,
                                          &why)) {
            setError("waiting for the checkpoint of the assigned partitions: " + why);
        } else {
            std::map<std::int32_t, std::vector<std::string>> pieces;
            std::uint64_t bytes = 0;
            for (auto &[partition, chain] : chains) {
                bytes += chain.bytes;
                if (chain.nextOffset >= 0) {
                    const auto p = static_cast<std::size_t>(partition);
                    if (p >= m_resumeOffsets.size())
                        m_resumeOffsets.resize(p + 1, -1);
                    m_resumeOffsets[p] = chain.nextOffset;
                }
                pieces[partition] = std::move(chain.pieces);
            }
            if (m_aggregator.restorePieces(pieces, &why, wallClockMs())) {
                m_partitionsRestored += pieces.size();
                m_restoredBytes += bytes;
                m_lastRestoreSeconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                        .count();
                if (!pieces.empty())
                    m_restored = true;
                return;
            }
            setError("stored checkpoint unusable, not resuming its partitions: " + why);
        }
        for (int i = 0; i < 10 && !m_stop.load(); ++i)
            std::this_thread::sleep_for(100ms);
    }
}

void AggregatorPipeline::handOver(const std::vector<std::int32_t> &partitions)
{
    if (partitions.empty())
        return;
    SinkBatch batch;
    batch.shard = m_settings.shard;
    batch.groupId = m_settings.groupId;
    batch.offsets = appliedOffsets();
    batch.checkpoint = m_aggregator.saveHead();
    batch.piecesTopic = m_settings.topic;
    batch.pieces = m_aggregator.checkpointPieces(&partitions);
    batch.results = m_settings.finals->take();
    batch.rawEvents = std::move(m_rawPending);
    m_rawPending.clear();
    m_stateSequence = m_settings.sinks->submit(std::move(batch));
    m_uncommitted = true;
    m_handedOver += partitions.size();
    // The next owner reads the chain once the group's rebalance completes: stored before this
    // member rejoins, it is complete. (Bounded: a PostgreSQL that is down cannot hold the group;
    // the batch is still written when it is back, and the next owner then starts from the
    // checkpoint before it: what lies between may be counted twice, never lost.)
    if (!m_settings.sinks->flush(30s))
        setError("handing over partitions: their last checkpoint was not stored within 30 s "
                 "(PostgreSQL: " +
                 m_settings.sinks->postgresStatus().lastError +
                 "); their next owner resumes from the one before");
    commitApplied();
}

bool AggregatorPipeline::holdsEveryPartition()
{
    const rd_kafka_metadata_t *meta = nullptr;
    rd_kafka_topic_t *topic =
        rd_kafka_topic_new(m_consumer.get(), m_settings.topic.c_str(), nullptr);
    int total = -1;
    if (topic &&
        rd_kafka_metadata(m_consumer.get(), 0, topic, &meta, 3000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        meta && meta->topic_cnt == 1)
        total = meta->topics[0].partition_cnt;
    if (meta)
        rd_kafka_metadata_destroy(meta);
    if (topic)
        rd_kafka_topic_destroy(topic);
    if (total < 0)
        return true; // unknown: keep (and flush) rather than drop
    int held = 0;
    for (const auto &[partition, worker] : m_aggregator.assignment())
        held += partition < total;
    return held >= total;
}

std::vector<KafkaOffset> AggregatorPipeline::appliedOffsets() const
{
    std::vector<KafkaOffset> out;
    const std::size_t n = std::max(m_nextOffsets.size(), m_resumeOffsets.size());
    for (std::size_t p = 0; p < n; ++p) {
        // What this run consumed, else where the checkpoint left the partition. (Consumed wins
        // even when lower: the stored offset may have been out of range and reset.)
        std::int64_t next = p < m_nextOffsets.size() ? m_nextOffsets[p] : -1;
        if (next < 0 && p < m_resumeOffsets.size())
            next = m_resumeOffsets[p];
        if (next >= 0)
            out.push_back({m_settings.topic, static_cast<std::int32_t>(p), next});
    }
    return out;
}

void AggregatorPipeline::checkpoint(bool force)
{
    SinkBatch batch;
    batch.shard = m_settings.shard;
    batch.groupId = m_settings.groupId;
    // The open state goes with the offsets it covers. While the previous one is not stored yet (a
    // large state, a slow or absent server) this batch carries the finals only: a newer state
    // would just replace the queued one, and serializing it costs the ingest thread. So the state
    // cadence stretches to what PostgreSQL can store, while final rows keep flowing.
    bool withState = force || m_stateSequence <= m_settings.sinks->durableSequence();
    if (withState && m_deadLetters && m_deadLetters->stats().pending > 0 &&
        !m_deadLetters->flush(force ? 5000ms : 200ms)) {
        // The state covers records whose dead letters are not delivered: stored with these
        // offsets, a crash would lose those letters. The next checkpoint carries it.
        withState = false;
    }
    if (withState) {
        batch.offsets = appliedOffsets();
        batch.checkpoint = m_aggregator.saveHead();
        batch.piecesTopic = m_settings.topic;
        batch.pieces = m_aggregator.checkpointPieces();
        std::uint64_t bytes = 0;
        for (const PartitionPiece &piece : batch.pieces)
            bytes += piece.bytes.size();
        m_lastCheckpointBytes = bytes;
        m_lastCheckpointPieces = batch.pieces.size();
    }
    batch.results = m_settings.finals->take();
    batch.rawEvents = std::move(m_rawPending);
    m_rawPending.clear();
    const std::uint64_t sequence = m_settings.sinks->submit(std::move(batch));
    if (withState) {
        m_stateSequence = sequence;
        m_checkpoints.fetch_add(1, std::memory_order_relaxed);
        m_uncommitted = true; // what the sinks make durable is committed to Kafka later
    } else {
        m_finalsOnly.fetch_add(1, std::memory_order_relaxed);
    }
}

void AggregatorPipeline::pause()
{
    m_paused = true;
    if (m_state == PipelineState::Running)
        m_state = PipelineState::Paused;
}

void AggregatorPipeline::resume()
{
    m_paused = false;
    if (m_state == PipelineState::Paused)
        m_state = PipelineState::Running;
}

void AggregatorPipeline::stop()
{
    m_stop = true;
    if (m_thread.joinable())
        m_thread.join();
    m_queue.reset();
    if (m_consumer) {
        m_stopping = true; // the revocation in consumer_close() hands over or keeps (onRebalance)
        rd_kafka_consumer_close(m_consumer.get());
        m_consumer.reset();
    }
    if (m_compactor)
        m_compactor->stop();
    if (m_deadLetters) {
        m_deadLetters->flush(5s);
        std::lock_guard lock(m_mutex);
        m_deadLetterTotals = m_deadLetters->stats(); // stats() after stop() still has them
        m_deadLetters.reset();
    }
    if (m_state != PipelineState::Failed)
        m_state = PipelineState::Stopped;
}

void AggregatorPipeline::setError(std::string message)
{
    std::lock_guard lock(m_mutex);
    m_lastError = std::move(message);
}

void AggregatorPipeline::onError(rd_kafka_t *, int err, const char *reason, void *opaque)
{
    static_cast<AggregatorPipeline *>(opaque)->setError(kafkaErrorText(err, reason));
}

void AggregatorPipeline::onRebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                     rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    auto *self = static_cast<AggregatorPipeline *>(opaque);
    // Rebalances go through the barrier: what is in flight is applied (and its offsets known)
    // before the assignment changes, and no worker ingests while it does.
    self->barrier();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        std::vector<std::int32_t> incoming;
        for (int i = 0; i < partitions->cnt; ++i) {
            if (self->m_settings.topic == partitions->elems[i].topic)
                incoming.push_back(partitions->elems[i].partition);
        }
        // Durable mode: the chains of the partitions this process does not hold, restored
        // first; their resume offsets are the chains' (exactly where their state stops).
        std::vector<std::int32_t> restored;
        if (self->m_settings.sinks) {
            std::vector<std::int32_t> held;
            for (const auto &[partition, worker] : self->m_aggregator.assignment(true))
                held.push_back(partition);
            const std::map<std::int32_t, std::uint64_t> parked = self->m_aggregator.parked();
            std::vector<std::int32_t> comingBack;
            for (const std::int32_t p : incoming) {
                if (std::find(held.begin(), held.end(), p) != held.end())
                    continue;
                if (parked.contains(p))
                    comingBack.push_back(p);
                else
                    restored.push_back(p);
            }
            // Parked here at the revocation just before (Kafka's eager protocol revokes every
            // partition at each rebalance): one that comes back with nothing stored after its
            // last piece is unchanged, and continues from memory; any other is read back.
            std::map<std::int32_t, std::uint64_t> stored;
            std::string why;
            if (!comingBack.empty() &&
                !self->m_settings.sinks->lastSequences(
                    self->m_settings.groupId, self->m_settings.topic, comingBack, &stored, &why))
                self->setError("reading back every returning partition: " + why);
            std::vector<std::int32_t> kept;
            for (const std::int32_t p : comingBack) {
                const auto it = stored.find(p);
                if (it != stored.end() && it->second == parked.at(p))
                    kept.push_back(p);
                else
                    restored.push_back(p);
            }
            self->m_aggregator.unpark(kept, wallClockMs());
            self->m_aggregator.dropParked();
            self->restorePartitions(restored);
        }
        // Where the group left off, so lag is right before the first fetch returns anything.
        if (rd_kafka_committed(rk, partitions, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; i < partitions->cnt; ++i) {
                const rd_kafka_topic_partition_t &tp = partitions->elems[i];
                if (tp.offset < 0 || self->m_settings.topic != tp.topic)
                    continue;
                const auto p = static_cast<std::size_t>(tp.partition);
                if (p >= self->m_nextOffsets.size())
                    self->m_nextOffsets.resize(p + 1, -1);
                self->m_nextOffsets[p] = std::max(self->m_nextOffsets[p], tp.offset);
            }
        }
        for (int i = 0; i < partitions->cnt; ++i) {
            rd_kafka_topic_partition_t &tp = partitions->elems[i];
            const auto p = static_cast<std::size_t>(tp.partition);
            if (self->m_settings.topic == tp.topic && p < self->m_resumeOffsets.size() &&
                self->m_resumeOffsets[p] >= 0) {
                // The checkpoint's, not the group's; but when the partition comes back to this
                // process (a rejoin after a broker outage), where this process's state already
                // is, or where the group committed if another member got further: going back
                // to the checkpoint this process started from re-reads minutes of events, which
                // are then duplicates or late, and the long uneven catch-up makes never-seen
                // events late (dropped) too. m_nextOffsets holds max(applied, committed) here.
                const std::int64_t ahead =
                    p < self->m_nextOffsets.size() ? self->m_nextOffsets[p] : -1;
                // A partition whose chain was just restored starts exactly where its state
                // stops: its events past that are in no state yet.
                const bool fromChain =
                    std::find(restored.begin(), restored.end(), tp.partition) != restored.end();
                tp.offset = fromChain ? self->m_resumeOffsets[p]
                                      : std::max(self->m_resumeOffsets[p], ahead);
                // Where consumption starts, for the lag too: Kafka's committed offset may trail
                // the checkpoint (commits follow it), and a partition with nothing new would
                // otherwise show that difference as lag forever.
                if (p >= self->m_nextOffsets.size())
                    self->m_nextOffsets.resize(p + 1, -1);
                self->m_nextOffsets[p] = tp.offset;
            }
        }
        if (self->m_settings.sinks) {
            // Durable mode: a partition whose state this process holds now (kept, unparked or
            // restored from its chain) continues exactly where that state stops; Kafka's
            // committed offset may trail it (commits follow what PostgreSQL stored).
            const std::map<std::int32_t, std::int64_t> states = self->m_aggregator.nextOffsets();
            for (int i = 0; i < partitions->cnt; ++i) {
                rd_kafka_topic_partition_t &tp = partitions->elems[i];
                const auto it = states.find(tp.partition);
                if (self->m_settings.topic != tp.topic || it == states.end())
                    continue;
                tp.offset = it->second;
                const auto p = static_cast<std::size_t>(tp.partition);
                if (p >= self->m_nextOffsets.size())
                    self->m_nextOffsets.resize(p + 1, -1);
                self->m_nextOffsets[p] = tp.offset;
            }
        }
        std::vector<std::int32_t> mine;
        for (int i = 0; i < partitions->cnt; ++i) {
            if (self->m_settings.topic == partitions->elems[i].topic)
                mine.push_back(partitions->elems[i].partition);
        }
        // Where reading starts (committed, or the checkpoint's): a first record past it means the
        // broker deleted what was between (noteRead()).
        for (int i = 0; i < partitions->cnt; ++i) {
            const rd_kafka_topic_partition_t &tp = partitions->elems[i];
            if (self->m_settings.topic != tp.topic)
                continue;
            const auto p = static_cast<std::size_t>(tp.partition);
            if (p >= self->m_readNext.size())
                self->m_readNext.resize(p + 1, -1);
            self->m_readNext[p] = tp.offset >= 0 ? tp.offset : -1;
        }
        // Each gets its own event time from here (or keeps the state this process has for it).
        self->m_aggregator.assign(mine, wallClockMs());
        self->refreshRouting();
        if (self->m_compactor)
            self->m_compactor->setOwned(mine);
        rd_kafka_assign(rk, partitions);
    } else {
        // Before another member takes these partitions: commit what was applied, so it starts
        // after it rather than counting it again.
        self->commitApplied();
        std::vector<std::int32_t> gone;
        for (int i = 0; i < partitions->cnt; ++i) {
            if (self->m_settings.topic == partitions->elems[i].topic)
                gone.push_back(partitions->elems[i].partition);
        }
        for (std::int32_t p : gone)
            if (static_cast<std::size_t>(p) < self->m_readNext.size())
                self->m_readNext[static_cast<std::size_t>(p)] = -1; // another member's now
        if (self->m_settings.sinks && (!self->m_stopping || !self->holdsEveryPartition())) {
            // Durable mode: their state goes to their next owner through the checkpoint, and
            // leaves here (kept, its windows would be closed twice: here and there).
            self->handOver(gone);
            self->m_aggregator.park(gone);
        } else {
            // They stop holding the watermark back; their open windows close as it passes (or,
            // stopping with every partition, the caller flushes them).
            self->m_aggregator.revoke(gone, false);
        }
        if (self->m_compactor)
            self->m_compactor->setOwned({});
        self->refreshRouting();
        rd_kafka_assign(rk, nullptr);
    }
}

void AggregatorPipeline::run()
{
    pthread_setname_np(pthread_self(), "agg-consumer");
    std::vector<rd_kafka_message_t *> messages(m_settings.maxBatch);
    m_nextOffsets.clear();
    m_readNext.clear();
    m_steppedTo.clear();
    if (m_settings.sinks) {
        // Where the last durable checkpoint left off, before any fetch; until PostgreSQL answers
        // nothing is consumed (so nothing can be counted twice), retrying every second.
        while (!m_stop.load() && !loadResumePoint()) {
            for (int i = 0; i < 10 && !m_stop.load(); ++i)
                std::this_thread::sleep_for(100ms);
        }
        if (m_stop.load())
            return;
        if (std::string why = subscribe(); !why.empty()) {
            setError(why);
            m_state = PipelineState::Failed;
            return;
        }
        std::lock_guard lock(m_mutex);
        m_lastError.clear();
    }
    startWorkers();
    auto lastCommit = Clock::now();
    auto lastCheckpoint = Clock::now();
    auto lastLag = Clock::time_point{};
    std::uint64_t lagQueriesServed = m_lagQueryRequests.load();
    bool pausedPartitions = false;
    while (!m_stop.load(std::memory_order_relaxed)) {
        bool backPressure = false;
        if (m_settings.sinks) {
            backPressure = m_settings.sinks->backPressure();
            m_backPressure.store(backPressure, std::memory_order_relaxed);
        }
        const bool paused = m_paused.load(std::memory_order_relaxed) || backPressure;
        if (paused != pausedPartitions) {
            // Paused partitions keep the group membership (the consume call below still runs).
            if (const KafkaPartitionList assigned = currentAssignment(m_consumer.get())) {
                if (paused)
                    rd_kafka_pause_partitions(m_consumer.get(), assigned.get());
                else
                    rd_kafka_resume_partitions(m_consumer.get(), assigned.get());
            }
            pausedPartitions = paused;
        }
        // What is already fetched, without waiting; only when nothing is, wait (up to 100 ms)
        // for the first message. (One call with a timeout waits until the batch is full or
        // the timeout passes: at 10,000 events/s every event then sat up to 100 ms before being
        // counted, p50 62 ms; at high rates the batch is full at once either way.)
        ssize_t n =
            rd_kafka_consume_batch_queue(m_queue.get(), 0, messages.data(), messages.size());
        if (n == 0) {
            if (parallel())
                barrier(); // nothing new: settle what is in flight before waiting
            n = rd_kafka_consume_batch_queue(m_queue.get(), 100, messages.data(), 1);
            if (n == 1 && messages.size() > 1) {
                const ssize_t more = rd_kafka_consume_batch_queue(
                    m_queue.get(), 0, messages.data() + 1, messages.size() - 1);
                n += std::max<ssize_t>(more, 0);
            }
        }
        if (n > 0 && parallel())
            dispatch(messages.data(), static_cast<std::size_t>(n));
        else if (n > 0)
            applyBatch(messages.data(), static_cast<std::size_t>(n));
        const auto now = Clock::now();
        const bool checkpointDue =
            m_settings.sinks &&
            now - lastCheckpoint >= std::chrono::milliseconds(m_settings.checkpointIntervalMs);
        const bool commitDue =
            now - lastCommit >= std::chrono::milliseconds(m_settings.commitIntervalMs);
        if (parallel()) {
            // The watermark, deferred dead letters, commits and checkpoints at a barrier.
            if (now - m_lastAdvance >= kParallelAdvanceInterval || checkpointDue || commitDue) {
                barrier();
                advance(now);
            }
        } else if (n > 0 || now - m_lastAdvance >= 50ms) {
            advance(now);
        }
        if (m_deadLetters)
            m_deadLetters->poll();
        // A requested query stays wanted until one gives a lag (none while nothing is assigned).
        const std::uint64_t requested = m_lagQueryRequests.load();
        const bool queryLag = requested > lagQueriesServed;
        if ((queryLag && now - lastLag >= 20ms) ||
            now - lastLag >= (pausedPartitions ? 1000ms : 250ms)) {
            // No fetches while paused, so the cached watermarks would stand still: ask.
            if (refreshLag(queryLag || pausedPartitions) && queryLag)
                lagQueriesServed = requested;
            lastLag = now;
        }
        if (checkpointDue) {
            checkpoint();
            lastCheckpoint = now;
        }
        if (commitDue) {
            commitApplied(true); // every message of the last batch is noted by now
            lastCommit = now;
        }
    }
    barrier();
    stopWorkers();
    advance(Clock::now());
    if (m_deadLetters && !m_deadLetters->flush(5s))
        setError("dead letters not yet delivered at stop: their offsets are not committed, a "
                 "restart reads those records again");
    if (m_settings.sinks)
        checkpoint(true); // the state as it is now, before the caller flushes anything
    commitApplied(true);
    (void)refreshLag(false);
}

void AggregatorPipeline::advance(Clock::time_point now)
{
    m_lastAdvance = now;
    m_aggregator.advance(wallClockMs());
    sendDeferred();
    // Closed windows free their keys, but glibc keeps the freed pages in its arenas: with many
    // short-lived keys (a unique path per event) resident memory ratcheted up to each window's
    // peak and beyond while the counted state stayed flat. Hand them back now and then.
    if (now - m_lastTrim >= 10s) {
        m_lastTrim = now;
        ::malloc_trim(0);
    }
}

void AggregatorPipeline::applyBatch(rd_kafka_message_t **messages, std::size_t count)
{
    m_batch.clear();
    m_outcomes.clear();
    m_records.clear();
    for (std::size_t i = 0; i < count; ++i) {
        rd_kafka_message_t *m = messages[i];
        if (m->err) {
            setError(std::string("consume: ") + rd_kafka_message_errstr(m));
            continue;
        }
        noteRead(m);
        m_batch.addFrom(
            m->partition, m->offset,
            std::string_view(static_cast<const char *>(m->key), m->key ? m->key_len : 0),
            std::string_view(static_cast<const char *>(m->payload), m->payload ? m->len : 0));
        m_records.push_back(m);
    }
    const auto started = Clock::now();
    m_aggregator.ingestWorker(0, m_batch, &m_outcomes, wallClockMs());
    m_workerBusyNs[0].fetch_add(
        static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - started).count()),
        std::memory_order_relaxed);
    m_workerEvents[0].fetch_add(m_records.size(), std::memory_order_relaxed);
    m_consumed.fetch_add(m_records.size(), std::memory_order_relaxed);

    for (std::size_t i = 0; i < m_records.size(); ++i)
        settleRecord(m_records[i], m_outcomes[i]);
    sendDeferred();
    for (std::size_t i = 0; i < count; ++i)
        rd_kafka_message_destroy(messages[i]);
}

void AggregatorPipeline::settleRecord(const rd_kafka_message_t *m, const IngestResult &r)
{
    if (m_deadLetters && (r.outcome == Outcome::Invalid || r.outcome == Outcome::Late))
        sendDeadLetter(m,
                       r.outcome == Outcome::Late ? std::string_view("late") : toString(r.reason));
    const auto p = static_cast<std::size_t>(m->partition);
    if (p >= m_nextOffsets.size())
        m_nextOffsets.resize(p + 1, -1);
    m_nextOffsets[p] = std::max(m_nextOffsets[p], m->offset + 1);
    m_uncommitted = true;
    if (m_rawParser && r.outcome == Outcome::Accepted)
        archive(m);
}

void AggregatorPipeline::noteRead(const rd_kafka_message_t *m)
{
    const auto p = static_cast<std::size_t>(m->partition);
    if (p >= m_readNext.size())
        m_readNext.resize(p + 1, -1);
    const std::int64_t expected = m_readNext[p];
    m_readNext[p] = std::max(expected, m->offset + 1);
    if (expected < 0 || m->offset <= expected)
        return;
    // A gap. Deleted by retention only when it starts below the log start (cached from the
    // fetch that returned `m`); otherwise transaction markers or compaction: nothing lost.
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(m_consumer.get(), rd_kafka_topic_name(m->rkt), m->partition,
                                       &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        low <= expected)
        return;
    const std::int64_t deleted = std::min(m->offset, low) - expected;
    m_deletedUnread.fetch_add(static_cast<std::uint64_t>(deleted), std::memory_order_relaxed);
    setError("partition " + std::to_string(m->partition) + ": " + std::to_string(deleted) +
             " records (offsets " + std::to_string(expected) + " to " +
             std::to_string(expected + deleted - 1) +
             ") were deleted by the broker's retention before they were read; counted as "
             "deleted unread");
}

void AggregatorPipeline::startWorkers()
{
    m_retired = 0;
    {
        std::lock_guard lock(m_workMutex);
        m_published = 0;
        m_workersStop = false;
    }
    if (!parallel())
        return;
    const auto n = static_cast<std::size_t>(m_workerCount);
    if (m_chunks.empty()) {
        for (std::size_t i = 0; i < kChunksInFlight; ++i) {
            auto c = std::make_unique<Chunk>();
            c->batches.resize(n);
            c->index.resize(n);
            c->outcomes.resize(n);
            m_chunks.push_back(std::move(c));
        }
    }
    for (int w = 1; w < m_workerCount; ++w)
        m_workerThreads.emplace_back([this, w] { workerLoop(w); });
}

void AggregatorPipeline::stopWorkers()
{
    {
        std::lock_guard lock(m_workMutex);
        m_workersStop = true;
    }
    m_workReady.notify_all();
    for (std::thread &t : m_workerThreads)
        t.join();
    m_workerThreads.clear();
}

void AggregatorPipeline::workerLoop(int worker)
{
    const auto w = static_cast<std::size_t>(worker);
    // Named for top/perf: "agg-worker-N" (the consumer thread is "agg-consumer").
    pthread_setname_np(pthread_self(),
                       ("agg-worker-" + std::to_string(worker)).substr(0, 15).c_str());
    std::uint64_t next = 0; // sequence of the next batch to ingest
    std::unique_lock lock(m_workMutex);
    for (;;) {
        m_workReady.wait(lock, [&] { return m_workersStop || m_published > next; });
        if (m_published <= next)
            return; // stopping, and nothing left
        Chunk &c = *m_chunks[next % m_chunks.size()];
        lock.unlock();
        if (!c.batches[w].empty()) {
            const auto started = Clock::now();
            m_aggregator.ingestWorker(worker, c.batches[w], &c.outcomes[w], c.nowMs);
            m_workerBusyNs[w].fetch_add(
                static_cast<std::uint64_t>(
                    std::chrono::nanoseconds(Clock::now() - started).count()),
                std::memory_order_relaxed);
            m_workerEvents[w].fetch_add(c.batches[w].size(), std::memory_order_relaxed);
        }
        lock.lock();
        ++next;
        if (--c.pending == 0)
            m_chunkDone.notify_all();
    }
}

int AggregatorPipeline::route(std::int32_t partition)
{
    const auto p = static_cast<std::size_t>(std::max(partition, 0));
    if (p >= m_route.size())
        m_route.resize(p + 1, -1);
    if (m_route[p] < 0) // not in the aggregator's assignment (yet): it joins a worker for good
        m_route[p] = static_cast<int>(p % static_cast<std::size_t>(m_workerCount));
    return m_route[p];
}

void AggregatorPipeline::refreshRouting()
{
    // At a barrier (assign/revoke just ran): the aggregator's partition -> worker, which every
    // record must follow (a worker ingests only its own partitions). Revoked partitions still
    // closing their windows belong to a worker too: a late record of one goes there.
    m_route.assign(m_route.size(), -1);
    for (const auto &[partition, worker] : m_aggregator.assignment(true)) {
        const auto p = static_cast<std::size_t>(partition);
        if (p >= m_route.size())
            m_route.resize(p + 1, -1);
        m_route[p] = worker;
    }
    std::vector<int> perWorker(static_cast<std::size_t>(m_workerCount), 0);
    for (const auto &[partition, worker] : m_aggregator.assignment())
        ++perWorker[static_cast<std::size_t>(worker)];
    std::lock_guard lock(m_mutex);
    m_workerPartitions = std::move(perWorker);
}

void AggregatorPipeline::dispatch(rd_kafka_message_t **messages, std::size_t count)
{
    // Room in the ring: the oldest batch settled once the ring is full.
    if (m_published - m_retired >= m_chunks.size())
        retire(m_published - m_chunks.size() + 1);
    Chunk &c = *m_chunks[m_published % m_chunks.size()];
    c.messages.assign(messages, messages + count);
    for (std::size_t w = 0; w < c.batches.size(); ++w) {
        c.batches[w].clear();
        c.index[w].clear();
        c.outcomes[w].clear();
    }
    for (std::size_t i = 0; i < count; ++i) {
        const rd_kafka_message_t *m = messages[i];
        if (m->err) {
            setError(std::string("consume: ") + rd_kafka_message_errstr(m));
            continue;
        }
        noteRead(m);
        const auto w = static_cast<std::size_t>(route(m->partition));
        c.batches[w].addFrom(
            m->partition, m->offset,
            std::string_view(static_cast<const char *>(m->key), m->key ? m->key_len : 0),
            std::string_view(static_cast<const char *>(m->payload), m->payload ? m->len : 0));
        c.index[w].push_back(static_cast<std::uint32_t>(i));
    }
    c.nowMs = wallClockMs();
    {
        std::lock_guard lock(m_workMutex);
        c.pending = m_workerCount - 1;
        ++m_published;
    }
    m_workReady.notify_all();
    // Worker 0's share on this thread.
    if (!c.batches[0].empty()) {
        const auto started = Clock::now();
        m_aggregator.ingestWorker(0, c.batches[0], &c.outcomes[0], c.nowMs);
        m_workerBusyNs[0].fetch_add(
            static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - started).count()),
            std::memory_order_relaxed);
        m_workerEvents[0].fetch_add(c.batches[0].size(), std::memory_order_relaxed);
    }
    retire(m_retired); // whatever is finished, without waiting
}

void AggregatorPipeline::retire(std::uint64_t upTo)
{
    while (m_retired < m_published) {
        Chunk &c = *m_chunks[m_retired % m_chunks.size()];
        {
            std::unique_lock lock(m_workMutex);
            if (c.pending > 0) {
                if (m_retired >= upTo)
                    return;
                m_chunkDone.wait(lock, [&] { return c.pending == 0; });
            }
        }
        settle(c);
        ++m_retired;
    }
}

void AggregatorPipeline::settle(Chunk &c)
{
    // Per partition in offset order (a partition is one worker's); across workers the order does
    // not matter: next offsets are maxima, dead letters are per partition.
    std::size_t records = 0;
    for (std::size_t w = 0; w < c.batches.size(); ++w) {
        records += c.index[w].size();
        for (std::size_t j = 0; j < c.index[w].size(); ++j)
            settleRecord(c.messages[c.index[w][j]], c.outcomes[w][j]);
    }
    m_consumed.fetch_add(records, std::memory_order_relaxed);
    for (rd_kafka_message_t *m : c.messages)
        rd_kafka_message_destroy(m);
    c.messages.clear();
}

void AggregatorPipeline::barrier()
{
    if (!parallel())
        return;
    retire(m_published);
    sendDeferred();
}

void AggregatorPipeline::sendDeferred()
{
    // Held records decided later (refused as future_timestamp, or confirmed but late).
    const std::vector<DeferredDeadLetter> letters = m_aggregator.takeDeferred();
    if (!m_deadLetters)
        return;
    for (const DeferredDeadLetter &d : letters)
        m_deadLetters->send({m_settings.topic, d.partition, d.offset, d.key, d.payload, d.reason},
                            m_stop);
}

void AggregatorPipeline::archive(const rd_kafka_message_t *m)
{
    const std::string_view payload(static_cast<const char *>(m->payload), m->payload ? m->len : 0);
    // The aggregator accepted it, so it parses; a payload that somehow does not is skipped.
    if (m_rawParser->parse(payload, m_rawEvent))
        return;
    RawEvent &raw = m_rawPending.emplace_back(RawEvent::from(m_rawEvent));
    raw.topic = m_settings.topic;
    raw.partition = m->partition;
    raw.offset = m->offset;
}

void AggregatorPipeline::sendDeadLetter(const rd_kafka_message_t *m, std::string_view reason)
{
    m_deadLetters->send(
        {rd_kafka_topic_name(m->rkt), m->partition, m->offset,
         std::string_view(static_cast<const char *>(m->key), m->key ? m->key_len : 0),
         std::string_view(static_cast<const char *>(m->payload), m->payload ? m->len : 0), reason},
        m_stop);
}

void AggregatorPipeline::stepOverMarkers(std::vector<KafkaOffset> &next)
{
    // Where everything read is committed, the consumer's position: past the transaction markers
    // (and aborted records) it stepped over since. Committed before them, a transactional topic
    // showed a lag of 1 per partition for ever to Kafka's tools and the group monitor. Inside a
    // rebalance callback the position can already include messages of the batch being handed
    // out, not noted yet: stepping there skipped them (kafka_cluster_scaleout lost 67 events).
    const KafkaPartitionList positions = makePartitionList(static_cast<int>(next.size()));
    for (const KafkaOffset &o : next)
        rd_kafka_topic_partition_list_add(positions.get(), o.topic.c_str(), o.partition);
    if (rd_kafka_position(m_consumer.get(), positions.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    for (KafkaOffset &o : next) {
        const auto p = static_cast<std::size_t>(o.partition);
        const rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(positions.get(), o.topic.c_str(), o.partition);
        if (tp && o.topic == m_settings.topic && p < m_readNext.size() && o.nextOffset >= 0 &&
            m_readNext[p] == o.nextOffset && tp->offset > o.nextOffset) {
            o.nextOffset = tp->offset;
            if (p >= m_steppedTo.size())
                m_steppedTo.resize(p + 1, -1);
            m_steppedTo[p] = tp->offset;
        }
    }
}

void AggregatorPipeline::commitApplied(bool pastMarkers)
{
    if (!m_uncommitted || !m_consumer)
        return;
    std::vector<KafkaOffset> next =
        m_settings.sinks ? m_settings.sinks->durableOffsets().offsets : appliedOffsets();
    if (m_settings.sinks) {
        // Only for partitions this member holds: a commit from a member the group does not know
        // (still joining) is refused, and librdkafka answers that by rejoining, which would
        // restart the join every time.
        const KafkaPartitionList assigned = currentAssignment(m_consumer.get());
        if (!assigned)
            return;
        std::vector<KafkaOffset> held;
        for (const KafkaOffset &o : next) {
            if (rd_kafka_topic_partition_list_find(assigned.get(), o.topic.c_str(), o.partition))
                held.push_back(o);
        }
        next.swap(held);
        if (next.empty())
            return; // nothing durable yet, or nothing assigned
    }
    if (pastMarkers)
        stepOverMarkers(next);
    bool held = false; // some offsets held back: commit again later
    if (m_deadLetters && !m_settings.sinks) {
        // Not past a dead letter that is not delivered yet: a restart must read it again.
        const auto pending = m_deadLetters->lowestPending();
        for (KafkaOffset &o : next) {
            if (const auto it = pending.find(o.partition);
                it != pending.end() && it->second < o.nextOffset) {
                o.nextOffset = it->second;
                held = true;
            }
        }
    }
    const KafkaPartitionList offsets = makePartitionList(static_cast<int>(next.size()));
    for (const KafkaOffset &o : next) {
        if (o.topic == m_settings.topic && o.nextOffset >= 0)
            rd_kafka_topic_partition_list_add(offsets.get(), o.topic.c_str(), o.partition)->offset =
                o.nextOffset;
    }
    const rd_kafka_resp_err_t err = rd_kafka_commit(m_consumer.get(), offsets.get(), 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        // In durable mode more may become durable later: keep committing what the sinks store.
        m_uncommitted = m_settings.sinks != nullptr || held;
        m_commits.fetch_add(1, std::memory_order_relaxed);
    } else {
        setError(std::string("offset commit failed: ") + rd_kafka_err2str(err));
    }
}

void AggregatorPipeline::requestLagQuery()
{
    m_lagQueryRequests.fetch_add(1);
}

bool AggregatorPipeline::refreshLag(bool query)
{
    const KafkaPartitionList assigned = currentAssignment(m_consumer.get());
    if (!assigned)
        return false;
    rd_kafka_position(m_consumer.get(), assigned.get());
    std::int64_t lag = 0;
    bool known = assigned->cnt > 0;
    for (int i = 0; i < assigned->cnt; ++i) {
        const rd_kafka_topic_partition_t &tp = assigned->elems[i];
        std::int64_t low = -1, high = -1;
        if (query) {
            rd_kafka_query_watermark_offsets(m_consumer.get(), tp.topic, tp.partition, &low, &high,
                                             500);
        } else {
            // Cached from fetch responses: no broker round trip, safe to call often.
            rd_kafka_get_watermark_offsets(m_consumer.get(), tp.topic, tp.partition, &low, &high);
        }
        if (high < 0) {
            known = false;
            continue;
        }
        std::int64_t applied = -1;
        const auto p = static_cast<std::size_t>(tp.partition);
        if (p < m_nextOffsets.size())
            applied = m_nextOffsets[p];
        if (applied < 0)
            applied = tp.offset >= 0 ? tp.offset : low;
        // Records the consumer stepped over after the last one it handed out: transaction
        // markers and aborted records, never to be read. A transactional topic ends in a marker,
        // and counted as lag it never reached 0 (librdkafka issue #2539).
        const std::int64_t read = p < m_readNext.size() ? m_readNext[p] : -1;
        const std::int64_t skipped = read >= 0 && tp.offset > read ? tp.offset - read : 0;
        lag += std::max<std::int64_t>(0, high - applied - skipped);
        // Everything read is applied and markers follow: commit past them (stepOverMarkers).
        if (skipped > 0 && applied == read &&
            (p >= m_steppedTo.size() || m_steppedTo[p] < tp.offset))
            m_uncommitted = true;
        // A partition with unread messages is behind, not idle: it keeps holding the watermark.
        if (m_settings.topic == tp.topic)
            m_aggregator.setBacklog(tp.partition, high > applied + skipped);
    }
    const int count = assigned->cnt;

    std::lock_guard lock(m_mutex);
    m_assigned = count;
    m_lag = known ? lag : -1;
    if (query && known) {
        ++m_lagQueries;
        m_queriedLag = lag;
    }
    const auto now = Clock::now();
    m_samples.emplace_back(now, m_consumed.load());
    // Each worker's busy share over the last second or so.
    const auto n = static_cast<std::size_t>(m_workerCount);
    if (m_busyAtSample.size() != n) {
        m_busyAtSample.assign(n, 0);
        m_busyShare.assign(n, 0.0);
        m_busySampledAt = now;
    } else if (now - m_busySampledAt >= 1s) {
        const double wallNs = double(std::chrono::nanoseconds(now - m_busySampledAt).count());
        for (std::size_t w = 0; w < n; ++w) {
            const std::uint64_t busy = m_workerBusyNs[w].load(std::memory_order_relaxed);
            m_busyShare[w] = std::min(1.0, double(busy - m_busyAtSample[w]) / wallNs);
            m_busyAtSample[w] = busy;
        }
        m_busySampledAt = now;
    }
    while (m_samples.size() > 2 && now - m_samples.front().first > 1100ms)
        m_samples.pop_front();
    return known;
}

PipelineStats AggregatorPipeline::stats() const
{
    PipelineStats s;
    s.state = m_state.load();
    s.consumed = m_consumed.load();
    s.deletedUnread = m_deletedUnread.load(std::memory_order_relaxed);
    {
        std::lock_guard lock(m_mutex); // m_deadLetters goes in stop()
        const DeadLetterStats d = m_deadLetters ? m_deadLetters->stats() : m_deadLetterTotals;
        s.deadLettered = d.sent;
        s.deadLetterAcked = d.acked;
        s.deadLetterFailed = d.failed;
        s.deadLetterPending = d.pending;
        s.deadLetterTruncated = d.truncated;
    }
    s.commits = m_commits.load();
    s.checkpoints = m_checkpoints.load();
    s.finalsOnlyBatches = m_finalsOnly.load();
    s.backPressure = m_backPressure.load();
    s.restored = m_restored.load();
    s.partitionsRestored = m_partitionsRestored.load();
    s.restoredBytes = m_restoredBytes.load();
    s.lastRestoreSeconds = m_lastRestoreSeconds.load();
    s.lastCheckpointBytes = m_lastCheckpointBytes.load();
    s.lastCheckpointPieces = m_lastCheckpointPieces.load();
    s.handedOver = m_handedOver.load();
    if (m_compactor)
        s.compaction = m_compactor->status();
    std::lock_guard lock(m_mutex);
    s.lastError = m_lastError;
    s.lagMessages = m_lag;
    s.lagQueries = m_lagQueries;
    s.queriedLag = m_queriedLag;
    s.assignedPartitions = m_assigned;
    s.workers.resize(static_cast<std::size_t>(m_workerCount));
    for (std::size_t w = 0; w < s.workers.size(); ++w) {
        s.workers[w].events = m_workerEvents[w].load(std::memory_order_relaxed);
        if (w < m_workerPartitions.size())
            s.workers[w].partitions = m_workerPartitions[w];
        if (w < m_busyShare.size())
            s.workers[w].busyShare = m_busyShare[w];
    }
    if (m_samples.size() >= 2) {
        const double dt =
            std::chrono::duration<double>(m_samples.back().first - m_samples.front().first).count();
        if (dt > 0)
            s.consumedRate = double(m_samples.back().second - m_samples.front().second) / dt;
    }
    return s;
}

} // namespace studio::core
