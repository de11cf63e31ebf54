#include "core/engine/studioengine.h"

#include "core/aggregate/finalscollector.h"
#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/engine/enginemetrics.h"
#include "core/produce/producerpool.h"
#include "core/store/csvreport.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace studio::core {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxMarkers = 1000;

std::string percent(double share)
{
    return std::to_string(static_cast<int>(share * 100 + 0.5)) + "%";
}

/// Whatever is swapped when the sinks change: the aggregator, its pipeline and the sinks.
struct Runtime
{
    std::unique_ptr<SinkWorker> sinks;
    std::unique_ptr<FinalsCollector> finals; // durable mode: the aggregator's sink
    std::unique_ptr<Aggregator> aggregator;
    std::unique_ptr<AggregatorPipeline> pipeline;

    ~Runtime()
    {
        if (pipeline)
            pipeline->stop();
        if (sinks)
            sinks->stop(std::chrono::seconds(2));
    }
};

} // namespace

struct StudioEngine::Impl
{
    struct Entry
    {
        int id = 0;
        int poolId = 0;
        std::shared_ptr<KafkaProducer> producer;
        GeneratorSource *source = nullptr; // owned by producer; null for a source of its own
        bool ownSource = false;            // a replay or mirror: cannot be rebuilt
        StudioProducerSettings settings;
        bool rebuild = false; // settings other than rate/skew changed: new client at next start
        bool removing = false;
    };
    struct Point
    {
        Clock::time_point at;
        double produced, consumed, late, invalid;
    };

    StudioEngineSettings settings;
    std::optional<SinkSettings> activeSinks; // what the runtime's sinks were made of
    EmbeddedBroker broker;
    ClusterConfig cluster;
    ProducerPool pool;
    std::unique_ptr<CsvReportCollector> reports; // settings.collectReports
    ProducerMetrics producerMetrics;
    std::unique_ptr<Monitor> monitor; // declared after what it watches: destroyed first

    mutable std::mutex mutex; // guards everything below up to the control queue, and `monitor`
    bool connected = false;
    bool started = false;
    bool finished = false;
    std::vector<Entry> entries;
    int nextId = 1;
    std::shared_ptr<Runtime> runtime;
    std::deque<EngineMarker> markers; // the newest kMaxMarkers
    std::uint64_t markerSequence = 0;
    std::string brokerText;
    std::string brokerBrief; // brokerText without the security details
    std::string error;
    std::vector<std::string> topics;
    bool aggregatorPaused = false;
    // Written by the tick thread (and the control thread's runtime swap), read by status().
    std::deque<Point> history;
    AggregateCounters counters; // the current aggregator's, as of the last tick
    double producedRate = 0, consumedRate = 0, lateRate = 0, invalidRate = 0;
    double removedProduced = 0, consumedBase = 0, lateBase = 0, invalidBase = 0;
    Clock::time_point lastLive{};

    std::mutex queueMutex; // the control queue
    std::condition_variable queueWake;
    std::condition_variable queueIdle;
    std::deque<std::function<void()>> queue;
    bool busy = false;
    bool quit = false;
    std::thread control;

    std::mutex tickMutex; // the tick thread's stop flag
    std::condition_variable tickWake;
    bool tickQuit = false;
    std::thread ticker;

    void post(std::function<void()> task)
    {
        {
            std::lock_guard lock(queueMutex);
            queue.push_back(std::move(task));
        }
        queueWake.notify_one();
    }

    void controlLoop()
    {
        std::unique_lock lock(queueMutex);
        for (;;) {
            queueWake.wait(lock, [this] { return quit || !queue.empty(); });
            if (queue.empty())
                return;
            auto task = std::move(queue.front());
            queue.pop_front();
            busy = true;
            lock.unlock();
            task();
            lock.lock();
            busy = false;
            queueIdle.notify_all();
        }
    }

    void mark(std::string text)
    {
        // caller holds mutex
        markers.push_back({wallClockMs(), std::move(text), ++markerSequence});
        while (markers.size() > kMaxMarkers)
            markers.pop_front();
    }

    Entry *find(int id)
    {
        for (Entry &e : entries) {
            if (e.id == id && !e.removing)
                return &e;
        }
        return nullptr;
    }

    Monitor *currentMonitor() const
    {
        std::lock_guard lock(mutex);
        return monitor.get();
    }

    std::shared_ptr<Runtime> currentRuntime() const
    {
        std::lock_guard lock(mutex);
        return runtime;
    }

    /// A new producer over a new generator; caller holds mutex.
    void build(Entry &e)
    {
        auto source = std::make_unique<GeneratorSource>(e.settings.generator);
        e.source = source.get();
        auto producer =
            std::make_unique<KafkaProducer>(cluster, e.settings.producer, std::move(source));
        e.producer = pool.find(e.poolId = pool.add(std::move(producer)));
        e.rebuild = false;
    }

    std::shared_ptr<Runtime> makeRuntime(std::optional<SinkSettings> sinkSettings)
    {
        auto rt = std::make_shared<Runtime>();
        PipelineSettings ps;
        ps.topic = settings.topic;
        ps.groupId = settings.groupId;
        ps.deadLetters = settings.deadLetters;
        if (settings.maxBatch > 0)
            ps.maxBatch = settings.maxBatch;
        ps.extra = {{"session.timeout.ms", std::to_string(settings.sessionTimeoutMs)},
                    {"heartbeat.interval.ms",
                     std::to_string(std::max(500, settings.sessionTimeoutMs / 6))}};
        ps.shard = settings.shard;
        ps.checkpointIntervalMs = settings.checkpointIntervalMs;
        AggregateSink *results = reports.get(); // null: the running values are all there is
        if (sinkSettings) {
            sinkSettings->groupId = settings.groupId;
            sinkSettings->shard = settings.shard;
            const bool archive = settings.archiveRaw && sinkSettings->postgres.has_value();
            if (archive)
                sinkSettings->postgresOptions.rawArchive = true;
            rt->sinks = std::make_unique<SinkWorker>(std::move(*sinkSettings));
            rt->sinks->start(); // connects in the background: a server that is down is retried
            rt->finals = std::make_unique<FinalsCollector>(results);
            ps.sinks = rt->sinks.get();
            ps.finals = rt->finals.get();
            ps.archiveRaw = archive;
            results = rt->finals.get();
        }
        AggregatorConfig aggregator = settings.aggregator;
        // Live (run, headless, GUI): the wall clock bounds event time, idleness is wall time.
        aggregator.liveClock = true;
        rt->aggregator = std::make_unique<Aggregator>(aggregator, results);
        rt->pipeline = std::make_unique<AggregatorPipeline>(cluster, ps, *rt->aggregator);
        return rt;
    }

    /// Control thread: replaces the aggregator and pipeline, keeping the rate counters monotonic.
    void swapRuntime(std::optional<SinkSettings> sinkSettings)
    {
        std::shared_ptr<Runtime> old = currentRuntime();
        Monitor *mon = currentMonitor();
        if (mon)
            mon->watchPipeline(nullptr, nullptr);
        double consumed = 0, late = 0, invalid = 0;
        if (old) {
            old->pipeline->stop(); // commits what it applied, so the new one goes on from there
            consumed = static_cast<double>(old->pipeline->stats().consumed);
            const AggregateCounters c = old->aggregator->counters();
            late = static_cast<double>(c.late);
            invalid = static_cast<double>(c.invalid);
        }
        const bool durable = sinkSettings.has_value();
        activeSinks = sinkSettings;
        if (mon)
            watchSinks(*mon, sinkSettings);
        auto fresh = makeRuntime(std::move(sinkSettings));
        {
            std::lock_guard lock(mutex);
            if (aggregatorPaused)
                fresh->pipeline->pause();
        }
        std::string e;
        const bool started = fresh->pipeline->start(&e);
        {
            // The bases and the runtime change together, so a tick never counts one twice.
            std::lock_guard lock(mutex);
            consumedBase += consumed;
            lateBase += late;
            invalidBase += invalid;
            runtime = fresh;
            counters = {};
            if (!started)
                error = "aggregator: " + e;
            mark(durable ? "aggregator restarted with sinks"
                         : "aggregator restarted without sinks");
        }
        if (mon)
            mon->watchPipeline(fresh->pipeline.get(), fresh->aggregator.get());
        if (old && old->sinks)
            old->sinks->stop(std::chrono::seconds(2)); // here, never on a thread that samples
        old.reset();
    }

    /// Control thread: the monitor's PostgreSQL and Redis probes follow the configured sinks.
    static void watchSinks(Monitor &mon, const std::optional<SinkSettings> &sinks)
    {
        HealthMonitor &health = mon.health();
        const auto timeout = mon.settings().probeTimeout;
        health.removeProbe("postgresql");
        health.removeProbe("redis");
        health.addProbe(
            std::shared_ptr<Probe>(sinks && sinks->postgres
                                       ? makePostgresProbe("postgresql", *sinks->postgres)
                                       : makeNotConfiguredProbe("postgresql", "postgresql")),
            timeout);
        health.addProbe(std::shared_ptr<Probe>(sinks && sinks->redis
                                                   ? makeRedisProbe("redis", *sinks->redis)
                                                   : makeNotConfiguredProbe("redis", "redis")),
                        timeout);
    }

    /// Control thread: runs `op` on producer `id` if it still exists.
    void withProducer(int id, const std::function<void(Entry &, KafkaProducer &)> &prepare,
                      const std::function<void(KafkaProducer &)> &op)
    {
        std::shared_ptr<KafkaProducer> producer;
        {
            std::lock_guard lock(mutex);
            Entry *e = find(id);
            if (!e)
                return;
            if (prepare)
                prepare(*e, *e->producer);
            producer = e->producer;
        }
        op(*producer);
    }

    /// Tick thread: one point of the rate history and, in durable mode once a second, the open
    /// windows' live values for Redis.
    void tick(Clock::time_point now)
    {
        std::shared_ptr<Runtime> rt;
        double produced = 0, consumed = 0, late = 0, invalid = 0;
        {
            std::lock_guard lock(mutex);
            rt = runtime;
            produced = removedProduced;
            for (const Entry &e : entries)
                produced += static_cast<double>(e.producer->stats().produced);
            consumed = consumedBase;
            late = lateBase;
            invalid = invalidBase;
        }
        AggregateCounters c;
        if (rt) {
            consumed += static_cast<double>(rt->pipeline->stats().consumed);
            c = rt->aggregator->counters(); // may wait for an ingest batch: this thread's job
            late += static_cast<double>(c.late);
            invalid += static_cast<double>(c.invalid);
        }
        bool live = false;
        {
            std::lock_guard lock(mutex);
            if (rt != runtime)
                return; // swapped meanwhile: the next tick counts against the new bases
            counters = c;
            const Point point{now, produced, consumed, late, invalid};
            history.push_back(point);
            while (history.size() > 2 && now - history[1].at >= std::chrono::seconds(1))
                history.pop_front();
            const Point &from = history.front();
            const double dt = std::chrono::duration<double>(now - from.at).count();
            if (dt > 0.05) {
                auto rate = [dt](double a, double b) {
                    return std::max(0.0, (b - a) / dt);
                };
                producedRate = rate(from.produced, point.produced);
                consumedRate = rate(from.consumed, point.consumed);
                lateRate = rate(from.late, point.late);
                invalidRate = rate(from.invalid, point.invalid);
            }
            // Only for a Redis sink: a snapshot stops every aggregation worker while it copies
            // the open rows (at a million open keys that held ingestion back to ~4,000 events/s,
            // measured by bench_recovery with PostgreSQL alone), and without Redis it was thrown
            // away.
            live = rt && rt->sinks &&
                   rt->sinks->redisStatus().state != ServiceState::NotConfigured &&
                   now - lastLive >= std::chrono::seconds(1);
            if (live)
                lastLive = now;
        }
        if (live) {
            AggregatorSnapshot snapshot = rt->aggregator->snapshot();
            RedisBatch values;
            values.pages = std::move(snapshot.pages);
            values.funnel = std::move(snapshot.funnel);
            rt->sinks->submitLive(std::move(values));
        }
    }

    void tickLoop()
    {
        const auto period = std::chrono::milliseconds(std::max(10, settings.tickMs));
        auto next = Clock::now();
        for (;;) {
            tick(Clock::now());
            next += period;
            const auto now = Clock::now();
            if (next < now)
                next = now + period; // fell behind (a long ingest batch): no burst of catch-up
            std::unique_lock lock(tickMutex);
            if (tickWake.wait_until(lock, next, [this] { return tickQuit; }))
                return;
        }
    }

    void stopTicker()
    {
        {
            std::lock_guard lock(tickMutex);
            tickQuit = true;
        }
        tickWake.notify_all();
        if (ticker.joinable())
            ticker.join();
    }

    /// Everything of status(); the runtime it read, for sample().
    std::shared_ptr<Runtime> fill(EngineStatus &s) const
    {
        s.nowMs = wallClockMs();
        std::shared_ptr<Runtime> rt;
        Monitor *mon = nullptr;
        {
            std::lock_guard lock(mutex);
            s.broker = brokerText;
            s.brokerBrief = brokerBrief;
            s.brokerError = error;
            rt = runtime;
            mon = monitor.get();
            for (const Entry &e : entries) {
                if (!e.removing)
                    s.producers.push_back({e.id, e.settings, e.producer->stats()});
            }
            s.counters = counters;
            s.producedPerSecond = producedRate;
            s.consumedPerSecond = consumedRate;
            s.latePerSecond = lateRate;
            s.invalidPerSecond = invalidRate;
        }
        if (rt) {
            s.pipeline = rt->pipeline->stats();
            if (rt->sinks) {
                s.sinksConfigured = true;
                s.postgres = rt->sinks->postgresStatus();
                s.redis = rt->sinks->redisStatus();
            }
        }
        if (mon) {
            s.alertsFiring = mon->status().firing;
            if (const auto groups = mon->groups().snapshot()) {
                for (const GroupLag &g : groups->groups) {
                    if (g.groupId == settings.groupId)
                        s.lagStatus = g.status;
                }
            }
        }
        setWatermarkDelay(s);
        return rt;
    }

    static void setWatermarkDelay(EngineStatus &s)
    {
        s.watermarkDelayMs = s.counters.watermarkMs == kNoWatermark
                                 ? -1
                                 : static_cast<double>(s.nowMs - s.counters.watermarkMs);
    }
};

StudioEngine::StudioEngine(StudioEngineSettings settings)
    : m(std::make_unique<Impl>())
{
    m->settings = std::move(settings);
    if (m->settings.collectReports)
        m->reports = std::make_unique<CsvReportCollector>(m->settings.reportRows);
    m->control = std::thread([this] { m->controlLoop(); });
}

StudioEngine::~StudioEngine()
{
    m->stopTicker();
    {
        std::lock_guard lock(m->queueMutex);
        m->quit = true;
    }
    m->queueWake.notify_all();
    m->control.join(); // runs what is still queued first
    if (Monitor *mon = m->currentMonitor()) {
        mon->stop();
        mon->watchPipeline(nullptr, nullptr);
        mon->watchProducers(nullptr);
    }
    m->pool.stopAll();
    std::shared_ptr<Runtime> runtime;
    std::unique_ptr<Monitor> monitor;
    {
        std::lock_guard lock(m->mutex);
        runtime = std::move(m->runtime);
        monitor = std::move(m->monitor);
        m->entries.clear();
    }
    runtime.reset();
    monitor.reset();
    m->broker.stop();
}

bool StudioEngine::connect(std::string *error)
{
    {
        std::lock_guard lock(m->mutex);
        if (m->connected)
            return true;
    }
    std::string e;
    if (m->settings.embedded) {
        EmbeddedBroker::Options options = m->settings.embeddedOptions;
        if (std::find(options.topics.begin(), options.topics.end(), m->settings.topic) ==
            options.topics.end())
            options.topics.push_back(m->settings.topic);
        if (!m->broker.start(options, &e)) {
            std::lock_guard lock(m->mutex);
            m->error = "embedded broker: " + e;
            if (error)
                *error = m->error;
            return false;
        }
        std::lock_guard lock(m->mutex);
        m->cluster = m->broker.clusterConfig();
        m->topics = options.topics;
        m->brokerText = "embedded (" + m->broker.bootstrap() + ")";
        m->brokerBrief = m->brokerText;
    } else {
        std::lock_guard lock(m->mutex);
        m->cluster = m->settings.cluster;
        m->brokerText = m->cluster.describe();
        m->brokerBrief = m->cluster.brief();
    }
    std::lock_guard lock(m->mutex);
    m->connected = true;
    return true;
}

bool StudioEngine::start(std::string *error, EnginePart *failed)
{
    auto fail = [&](EnginePart part, std::string message) {
        std::lock_guard lock(m->mutex);
        m->error = message;
        if (error)
            *error = std::move(message);
        if (failed)
            *failed = part;
        return false;
    };
    std::string e;
    if (!connect(&e))
        return fail(EnginePart::Broker, e);
    {
        std::lock_guard lock(m->mutex);
        if (m->started)
            return true;
    }
    std::shared_ptr<Runtime> runtime;
    if (m->settings.aggregate) {
        if (std::string invalid = m->settings.aggregator.validate(); !invalid.empty())
            return fail(EnginePart::Aggregator, "aggregator: " + invalid);
        m->activeSinks = m->settings.sinks;
        runtime = m->makeRuntime(m->settings.sinks);
        if (!runtime->pipeline->start(&e))
            return fail(EnginePart::Aggregator, "aggregator: " + e);
        std::lock_guard lock(m->mutex);
        m->runtime = runtime;
    }
    if (m->settings.monitor) {
        MonitorSettings ms = m->settings.monitorSettings;
        ms.cluster = m->cluster;
        ms.embedded = m->broker.isRunning() ? &m->broker : nullptr;
        auto monitor = std::make_unique<Monitor>(std::move(ms));
        if (runtime)
            monitor->watchPipeline(runtime->pipeline.get(), runtime->aggregator.get());
        monitor->watchProducers(&m->pool);
        if (!monitor->start(&e))
            return fail(EnginePart::Monitor, "monitor: " + e);
        std::lock_guard lock(m->mutex);
        m->monitor = std::move(monitor);
    }
    {
        std::lock_guard lock(m->mutex);
        m->started = true;
    }
    m->ticker = std::thread([this] { m->tickLoop(); });
    return true;
}

int StudioEngine::addProducer(StudioProducerSettings settings)
{
    std::lock_guard lock(m->mutex);
    if (!settings.producer.validate().empty() || !settings.generator.validate().empty())
        return 0;
    Impl::Entry &e = m->entries.emplace_back();
    e.id = m->nextId++;
    e.settings = std::move(settings);
    m->build(e);
    return e.id;
}

int StudioEngine::addProducer(StudioProducerSettings settings, std::unique_ptr<EventSource> source)
{
    std::lock_guard lock(m->mutex);
    if (!source || !settings.producer.validate().empty())
        return 0;
    Impl::Entry &e = m->entries.emplace_back();
    e.id = m->nextId++;
    e.settings = std::move(settings);
    e.ownSource = true;
    auto producer =
        std::make_unique<KafkaProducer>(m->cluster, e.settings.producer, std::move(source));
    e.producer = m->pool.find(e.poolId = m->pool.add(std::move(producer)));
    return e.id;
}

int StudioEngine::duplicateProducer(int id)
{
    StudioProducerSettings copy;
    {
        std::lock_guard lock(m->mutex);
        const Impl::Entry *e = m->find(id);
        if (!e || e->ownSource)
            return 0;
        copy = e->settings;
    }
    copy.producer.name += " copy";
    return addProducer(std::move(copy));
}

bool StudioEngine::removeProducer(int id)
{
    int poolId = 0;
    {
        std::lock_guard lock(m->mutex);
        Impl::Entry *e = m->find(id);
        if (!e)
            return false;
        e->removing = true;
        poolId = e->poolId;
        m->mark(e->settings.producer.name + " removed");
    }
    m->post([this, id, poolId] {
        m->pool.remove(poolId); // stops it, flushing its deliveries
        std::lock_guard lock(m->mutex);
        auto it = std::find_if(m->entries.begin(), m->entries.end(),
                               [id](const Impl::Entry &e) { return e.id == id; });
        if (it != m->entries.end()) {
            m->removedProduced += static_cast<double>(it->producer->stats().produced);
            m->entries.erase(it);
        }
    });
    return true;
}

bool StudioEngine::startProducer(int id, std::string *error)
{
    {
        std::lock_guard lock(m->mutex);
        const Impl::Entry *e = m->find(id);
        if (!e)
            return false;
        std::string invalid = e->settings.producer.validate();
        if (invalid.empty())
            invalid = e->settings.generator.validate();
        if (!invalid.empty()) {
            if (error)
                *error = invalid;
            return false;
        }
    }
    m->post([this, id] {
        std::string topic;
        int oldPoolId = 0;
        m->withProducer(
            id,
            [&](Impl::Entry &e, KafkaProducer &p) {
                const ProducerState s = p.stats().state;
                if (e.rebuild && s != ProducerState::Running && s != ProducerState::Paused) {
                    m->removedProduced += static_cast<double>(p.stats().produced);
                    oldPoolId = e.poolId;
                    m->build(e);
                }
                topic = e.settings.producer.topic;
                m->mark(e.settings.producer.name + " started at " +
                        groupThousands(p.stats().targetRate) + " ev/s");
            },
            [&](KafkaProducer &p) {
                if (m->broker.isRunning()) {
                    std::unique_lock lock(m->mutex);
                    if (std::find(m->topics.begin(), m->topics.end(), topic) == m->topics.end()) {
                        m->topics.push_back(topic);
                        lock.unlock();
                        m->broker.createTopic(topic, m->broker.options().partitions, nullptr);
                    }
                }
                std::string e;
                p.start(&e); // a failure shows in the producer's state and lastError
            });
        if (oldPoolId)
            m->pool.remove(oldPoolId);
    });
    return true;
}

bool StudioEngine::pauseProducer(int id)
{
    std::lock_guard lock(m->mutex);
    if (!m->find(id))
        return false;
    m->post([this, id] {
        m->withProducer(
            id,
            [&](Impl::Entry &e, KafkaProducer &) { m->mark(e.settings.producer.name + " paused"); },
            [](KafkaProducer &p) { p.pause(); });
    });
    return true;
}

bool StudioEngine::resumeProducer(int id)
{
    std::lock_guard lock(m->mutex);
    if (!m->find(id))
        return false;
    m->post([this, id] {
        m->withProducer(
            id,
            [&](Impl::Entry &e, KafkaProducer &) {
                m->mark(e.settings.producer.name + " resumed");
            },
            [](KafkaProducer &p) { p.resume(); });
    });
    return true;
}

bool StudioEngine::stopProducer(int id)
{
    std::lock_guard lock(m->mutex);
    if (!m->find(id))
        return false;
    m->post([this, id] {
        m->withProducer(id, nullptr, [](KafkaProducer &p) {
            p.stop();
            p.resume(); // a stopped producer starts again running, not paused
        });
        std::lock_guard lock(m->mutex);
        if (const Impl::Entry *e = m->find(id))
            m->mark(e->settings.producer.name + " stopped");
    });
    return true;
}

bool StudioEngine::setProducerRate(int id, double eventsPerSecond)
{
    std::lock_guard lock(m->mutex);
    Impl::Entry *e = m->find(id);
    if (!e)
        return false;
    eventsPerSecond = std::clamp(eventsPerSecond, 0.0, ProducerSettings::kMaxRate);
    const double before = e->settings.producer.ratePerSecond;
    if (before == eventsPerSecond)
        return true;
    e->settings.producer.ratePerSecond = eventsPerSecond;
    e->producer->setRate(eventsPerSecond);
    m->mark(e->settings.producer.name + ": " + groupThousands(before) + " -> " +
            groupThousands(eventsPerSecond) + " ev/s");
    return true;
}

bool StudioEngine::setProducerHotShare(int id, double share)
{
    std::lock_guard lock(m->mutex);
    Impl::Entry *e = m->find(id);
    if (!e || !e->source)
        return false;
    share = std::clamp(share, 0.0, 1.0);
    const double before = e->settings.generator.hotShare;
    if (before == share)
        return true;
    e->settings.generator.hotShare = share;
    e->source->setHotShare(share);
    m->mark(e->settings.producer.name + ": " + e->settings.generator.hotProduct + " share " +
            percent(before) + " -> " + percent(share));
    return true;
}

bool StudioEngine::updateProducer(int id, StudioProducerSettings settings, std::string *error)
{
    std::string invalid = settings.producer.validate();
    if (invalid.empty())
        invalid = settings.generator.validate();
    if (!invalid.empty()) {
        if (error)
            *error = std::move(invalid);
        return false;
    }
    const double rate = settings.producer.ratePerSecond;
    const double share = settings.generator.hotShare;
    {
        std::lock_guard lock(m->mutex);
        Impl::Entry *e = m->find(id);
        if (!e)
            return false;
        // Everything but the two live knobs needs a new client and generator.
        StudioProducerSettings fixedOld = e->settings, fixedNew = settings;
        fixedOld.producer.ratePerSecond = fixedNew.producer.ratePerSecond = 0;
        fixedOld.generator.hotShare = fixedNew.generator.hotShare = 0;
        const bool same =
            fixedOld.producer.name == fixedNew.producer.name &&
            fixedOld.producer.topic == fixedNew.producer.topic &&
            fixedOld.producer.compression == fixedNew.producer.compression &&
            fixedOld.generator.users == fixedNew.generator.users &&
            fixedOld.generator.products == fixedNew.generator.products &&
            fixedOld.generator.hotProduct == fixedNew.generator.hotProduct &&
            fixedOld.generator.mix.pageView == fixedNew.generator.mix.pageView &&
            fixedOld.generator.mix.click == fixedNew.generator.mix.click &&
            fixedOld.generator.mix.addToCart == fixedNew.generator.mix.addToCart &&
            fixedOld.generator.mix.purchase == fixedNew.generator.mix.purchase &&
            fixedOld.generator.duplicateFraction == fixedNew.generator.duplicateFraction &&
            fixedOld.generator.lateFraction == fixedNew.generator.lateFraction &&
            fixedOld.generator.malformedFraction == fixedNew.generator.malformedFraction &&
            fixedOld.generator.meanSessionEvents == fixedNew.generator.meanSessionEvents &&
            fixedOld.generator.thinkMs == fixedNew.generator.thinkMs &&
            fixedOld.generator.sessionTimeoutMs == fixedNew.generator.sessionTimeoutMs &&
            fixedOld.generator.returnShare == fixedNew.generator.returnShare;
        if (!same && e->ownSource) {
            if (error)
                *error = "this producer plays a source of its own: only its rate can change";
            return false;
        }
        const StudioProducerSettings keep = e->settings;
        e->settings = std::move(settings);
        e->settings.producer.ratePerSecond = keep.producer.ratePerSecond;
        e->settings.generator.hotShare = keep.generator.hotShare;
        if (!same)
            e->rebuild = true;
    }
    setProducerRate(id, rate);
    setProducerHotShare(id, share);
    return true;
}

bool StudioEngine::configureSinks(const std::string &postgresUri,
                                  const std::string &postgresPassword, const std::string &redisUri,
                                  const std::string &redisPassword, std::string *error)
{
    auto fail = [&](std::string message) {
        if (error)
            *error = std::move(message);
        return false;
    };
    std::optional<SinkSettings> sinks;
    if (!postgresUri.empty() || !redisUri.empty())
        sinks.emplace();
    if (!postgresUri.empty()) {
        if (const std::string why = checkPostgresConninfo(postgresUri); !why.empty())
            return fail(why == kPostgresConninfoHasPassword
                            ? "the PostgreSQL URI must not contain a password: give it separately"
                            : "PostgreSQL: " + why);
        sinks->postgres = PostgresTarget{postgresUri, postgresPassword};
    }
    if (!redisUri.empty()) {
        std::string why;
        std::optional<RedisTarget> target = parseRedisUri(redisUri, &why);
        if (!target)
            return fail(why == kRedisUriHasPassword
                            ? "the Redis URI must not contain a password: give it separately"
                            : "Redis: " + why);
        target->password = redisPassword;
        sinks->redis = std::move(*target);
    }
    {
        std::lock_guard lock(m->mutex);
        if (!m->runtime || m->finished)
            return fail("the engine is not running");
    }
    m->post([this, sinks = std::move(sinks)]() mutable { m->swapRuntime(std::move(sinks)); });
    return true;
}

bool StudioEngine::configureAggregation(const PageNormalization &pages,
                                        std::size_t maxKeysPerWindow, std::string *error)
{
    {
        std::lock_guard lock(m->mutex);
        AggregatorConfig next = m->settings.aggregator;
        next.pageNormalization = pages;
        next.maxKeysPerWindow = maxKeysPerWindow;
        if (std::string e = next.validate(); !e.empty()) {
            if (error)
                *error = std::move(e);
            return false;
        }
        if (!m->runtime || m->finished) {
            if (error)
                *error = "the engine is not running";
            return false;
        }
    }
    m->post([this, pages, maxKeysPerWindow] {
        {
            std::lock_guard lock(m->mutex);
            m->settings.aggregator.pageNormalization = pages;
            m->settings.aggregator.maxKeysPerWindow = maxKeysPerWindow;
        }
        m->swapRuntime(m->activeSinks);
    });
    return true;
}

AggregatorConfig StudioEngine::aggregatorConfig() const
{
    std::lock_guard lock(m->mutex);
    return m->settings.aggregator;
}

bool StudioEngine::pauseAggregator()
{
    std::lock_guard lock(m->mutex);
    if (!m->runtime || m->finished)
        return false;
    m->post([this] {
        std::lock_guard lock(m->mutex);
        if (m->aggregatorPaused)
            return;
        m->aggregatorPaused = true;
        if (m->runtime)
            m->runtime->pipeline->pause();
        m->mark("aggregator paused");
    });
    return true;
}

bool StudioEngine::resumeAggregator()
{
    std::lock_guard lock(m->mutex);
    if (!m->runtime || m->finished)
        return false;
    m->post([this] {
        std::lock_guard lock(m->mutex);
        if (!m->aggregatorPaused)
            return;
        m->aggregatorPaused = false;
        if (m->runtime)
            m->runtime->pipeline->resume();
        m->mark("aggregator resumed");
    });
    return true;
}

void StudioEngine::stopProducers(std::chrono::milliseconds flushTimeout)
{
    waitIdle(); // what the control thread was asked to do first
    m->pool.stopAll(flushTimeout);
}

EngineSummary StudioEngine::finish(std::chrono::milliseconds sinkFlush)
{
    EngineSummary summary;
    m->stopTicker(); // no live values after this: the flush below writes the last ones
    waitIdle();
    std::shared_ptr<Runtime> rt;
    Monitor *mon = nullptr;
    {
        std::lock_guard lock(m->mutex);
        if (m->finished)
            return summary;
        m->finished = true;
        rt = m->runtime;
        mon = m->monitor.get();
    }
    if (mon) {
        summary.alertsFiring = mon->status().firing;
        mon->stop();
        mon->watchPipeline(nullptr, nullptr);
    }
    if (!rt)
        return summary;
    rt->pipeline->stop(); // in durable mode its last checkpoint holds the open state
    summary.pipeline = rt->pipeline->stats();
    rt->aggregator->flush();
    summary.counters = rt->aggregator->counters();
    {
        std::lock_guard lock(m->mutex);
        m->counters = summary.counters;
    }
    if (rt->sinks) {
        // What the flush made final goes to the sinks too (rows only: the stored checkpoint
        // keeps the state from before the flush, so a later run continues these windows and
        // rewrites their rows with the full counts).
        SinkBatch last;
        last.shard = m->settings.shard;
        last.results = rt->finals->take();
        rt->sinks->submit(std::move(last));
        summary.sinksWritten = rt->sinks->flush(sinkFlush);
        if (!summary.sinksWritten) {
            const SinkStatus pg = rt->sinks->postgresStatus();
            summary.sinkError =
                pg.lastError.empty() ? rt->sinks->redisStatus().lastError : pg.lastError;
        }
        rt->sinks->stop(std::chrono::seconds(2));
        summary.postgres = rt->sinks->postgresStatus();
        summary.redis = rt->sinks->redisStatus();
    }
    return summary;
}

const CsvReportCollector *StudioEngine::reports() const
{
    return m->reports.get();
}

EngineStatus StudioEngine::status() const
{
    EngineStatus s;
    m->fill(s);
    return s;
}

EngineSample StudioEngine::sample(std::uint64_t markersAfter) const
{
    EngineSample s;
    if (const std::shared_ptr<Runtime> rt = m->fill(s)) {
        s.aggregates = rt->aggregator->snapshot();
        s.counters = s.aggregates.counters;
        Impl::setWatermarkDelay(s);
    }
    std::lock_guard lock(m->mutex);
    for (const EngineMarker &marker : m->markers) {
        if (marker.sequence > markersAfter)
            s.markers.push_back(marker);
    }
    s.markerSequence = m->markerSequence;
    return s;
}

ClusterConfig StudioEngine::cluster() const
{
    std::lock_guard lock(m->mutex);
    return m->cluster;
}

EmbeddedBroker *StudioEngine::embeddedBroker()
{
    return m->broker.isRunning() ? &m->broker : nullptr;
}

const ProducerPool &StudioEngine::pool() const
{
    return m->pool;
}

void StudioEngine::requestLagQuery()
{
    if (const std::shared_ptr<Runtime> runtime = m->currentRuntime())
        runtime->pipeline->requestLagQuery();
}

void StudioEngine::visitAggregator(
    const std::function<void(const AggregatorPipeline &, const Aggregator &)> &visit) const
{
    if (const std::shared_ptr<Runtime> runtime = m->currentRuntime())
        visit(*runtime->pipeline, *runtime->aggregator);
}

Monitor *StudioEngine::monitor()
{
    return m->currentMonitor();
}

std::vector<MetricsRegistry::Registration>
StudioEngine::registerMetrics(MetricsRegistry &registry) const
{
    Impl *d = m.get();
    std::vector<MetricsRegistry::Registration> out;
    out.push_back(
        registry.add("producers", [d](MetricsText &t) { d->producerMetrics.collect(t, d->pool); }));
    out.push_back(registry.add("pipeline", [d](MetricsText &t) {
        if (const std::shared_ptr<Runtime> rt = d->currentRuntime())
            collectPipelineMetrics(t, *rt->pipeline);
    }));
    out.push_back(registry.add("aggregator", [d](MetricsText &t) {
        if (const std::shared_ptr<Runtime> rt = d->currentRuntime())
            collectAggregatorMetrics(t, *rt->aggregator);
    }));
    out.push_back(registry.add("sinks", [d](MetricsText &t) {
        if (const std::shared_ptr<Runtime> rt = d->currentRuntime(); rt && rt->sinks)
            collectSinkMetrics(t, *rt->sinks);
    }));
    out.push_back(registry.add("monitor", [d](MetricsText &t) {
        if (Monitor *mon = d->currentMonitor())
            mon->collectMetrics(t);
    }));
    return out;
}

void StudioEngine::waitIdle()
{
    std::unique_lock lock(m->queueMutex);
    m->queueIdle.wait(lock, [this] { return m->queue.empty() && !m->busy; });
}

} // namespace studio::core
