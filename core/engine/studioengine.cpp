#include "core/engine/studioengine.h"

#include "core/aggregate/finalscollector.h"
#include "core/produce/producerpool.h"

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

std::int64_t wallMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string grouped(double value)
{
    std::string digits = std::to_string(static_cast<long long>(value + 0.5));
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
}

std::string percent(double share)
{
    return std::to_string(static_cast<int>(share * 100 + 0.5)) + "%";
}

/// Whatever is swapped when the sinks change: the aggregator, its pipeline and the sinks.
struct Runtime
{
    std::unique_ptr<SinkWorker> sinks;
    FinalsCollector finals;
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

/// "host[:port][/db]" after an optional redis:// and user@; empty on success.
std::string parseRedis(std::string rest, RedisTarget &out)
{
    if (rest.rfind("redis://", 0) == 0)
        rest = rest.substr(8);
    if (const auto at = rest.find('@'); at != std::string::npos) {
        out.user = rest.substr(0, at);
        if (out.user.find(':') != std::string::npos)
            return "the Redis URI must not contain a password: give it separately";
        rest = rest.substr(at + 1);
    }
    try {
        if (const auto slash = rest.find('/'); slash != std::string::npos) {
            const std::string db = rest.substr(slash + 1);
            out.db = db.empty() ? 0 : std::stoi(db);
            rest = rest.substr(0, slash);
        }
        if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
            out.port = std::stoi(rest.substr(colon + 1));
            rest = rest.substr(0, colon);
        }
    } catch (const std::exception &) {
        return "bad Redis URI (expected redis://HOST[:PORT][/DB])";
    }
    if (rest.empty() || out.port < 1 || out.port > 65535 || out.db < 0)
        return "bad Redis URI (expected redis://HOST[:PORT][/DB])";
    out.host = rest;
    return {};
}

bool postgresHasPassword(const std::string &c)
{
    if (c.find("password") != std::string::npos)
        return true;
    if (c.rfind("postgresql://", 0) != 0 && c.rfind("postgres://", 0) != 0)
        return false;
    const auto at = c.find('@');
    const auto colon = c.find(':', c.find("://") + 3);
    return at != std::string::npos && colon < at;
}

} // namespace

struct StudioEngine::Impl
{
    struct Entry
    {
        int id = 0;
        int poolId = 0;
        std::shared_ptr<KafkaProducer> producer;
        GeneratorSource *source = nullptr; // owned by producer
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
    EmbeddedBroker broker;
    ClusterConfig cluster;
    ProducerPool pool;
    std::unique_ptr<Monitor> monitor; // declared after what it watches: destroyed first

    mutable std::mutex mutex; // guards everything below up to the control queue
    std::vector<Entry> entries;
    int nextId = 1;
    std::shared_ptr<Runtime> runtime;
    std::vector<EngineMarker> markers;
    std::string brokerText;
    std::string error;
    std::vector<std::string> topics;
    std::deque<Point> history;
    double removedProduced = 0, consumedBase = 0, lateBase = 0, invalidBase = 0;
    bool aggregatorPaused = false;
    Clock::time_point lastLive{};

    std::mutex queueMutex; // the control queue
    std::condition_variable queueWake;
    std::condition_variable queueIdle;
    std::deque<std::function<void()>> queue;
    bool busy = false;
    bool quit = false;
    std::thread control;

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
        markers.push_back({wallMs(), std::move(text)}); // caller holds mutex
    }

    Entry *find(int id)
    {
        for (Entry &e : entries) {
            if (e.id == id && !e.removing)
                return &e;
        }
        return nullptr;
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
        ps.extra = {{"session.timeout.ms", std::to_string(settings.sessionTimeoutMs)},
                    {"heartbeat.interval.ms",
                     std::to_string(std::max(500, settings.sessionTimeoutMs / 6))}};
        if (sinkSettings) {
            sinkSettings->groupId = settings.groupId;
            sinkSettings->shard = ps.shard;
            rt->sinks = std::make_unique<SinkWorker>(std::move(*sinkSettings));
            rt->sinks->start(); // connects in the background
            ps.sinks = rt->sinks.get();
            ps.finals = &rt->finals;
        }
        rt->aggregator =
            std::make_unique<Aggregator>(settings.aggregator, sinkSettings ? &rt->finals : nullptr);
        rt->pipeline = std::make_unique<AggregatorPipeline>(cluster, ps, *rt->aggregator);
        return rt;
    }

    /// Control thread: replaces the aggregator and pipeline, keeping the rate counters monotonic.
    void swapRuntime(std::optional<SinkSettings> sinkSettings)
    {
        std::shared_ptr<Runtime> old;
        {
            std::lock_guard lock(mutex);
            old = runtime;
        }
        if (monitor)
            monitor->watchPipeline(nullptr, nullptr);
        if (old) {
            old->pipeline->stop(); // commits what it applied, so the new one goes on from there
            std::lock_guard lock(mutex);
            consumedBase += static_cast<double>(old->pipeline->stats().consumed);
            const AggregateCounters c = old->aggregator->counters();
            lateBase += static_cast<double>(c.late);
            invalidBase += static_cast<double>(c.invalid);
        }
        const bool durable = sinkSettings.has_value();
        if (monitor)
            watchSinks(sinkSettings);
        auto fresh = makeRuntime(std::move(sinkSettings));
        {
            std::lock_guard lock(mutex);
            if (aggregatorPaused)
                fresh->pipeline->pause();
        }
        std::string e;
        const bool started = fresh->pipeline->start(&e);
        {
            std::lock_guard lock(mutex);
            runtime = fresh;
            if (!started)
                error = "aggregator: " + e;
            mark(durable ? "aggregator restarted with sinks"
                         : "aggregator restarted without sinks");
        }
        if (monitor)
            monitor->watchPipeline(fresh->pipeline.get(), fresh->aggregator.get());
        if (old && old->sinks)
            old->sinks->stop(std::chrono::seconds(2)); // here, never on a thread that samples
        old.reset();
    }

    /// Control thread: the monitor's PostgreSQL and Redis probes follow the configured sinks.
    void watchSinks(const std::optional<SinkSettings> &sinks)
    {
        HealthMonitor &health = monitor->health();
        const auto timeout = monitor->settings().probeTimeout;
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
};

StudioEngine::StudioEngine(StudioEngineSettings settings)
    : m(std::make_unique<Impl>())
{
    m->settings = std::move(settings);
    m->control = std::thread([this] { m->controlLoop(); });
}

StudioEngine::~StudioEngine()
{
    {
        std::lock_guard lock(m->queueMutex);
        m->quit = true;
    }
    m->queueWake.notify_all();
    m->control.join(); // runs what is still queued first
    if (m->monitor) {
        m->monitor->stop();
        m->monitor->watchPipeline(nullptr, nullptr);
        m->monitor->watchProducers(nullptr);
    }
    m->pool.stopAll();
    std::shared_ptr<Runtime> runtime;
    {
        std::lock_guard lock(m->mutex);
        runtime = std::move(m->runtime);
        m->entries.clear();
    }
    runtime.reset();
    m->monitor.reset();
    m->broker.stop();
}

bool StudioEngine::start(std::string *error)
{
    auto fail = [&](std::string message) {
        std::lock_guard lock(m->mutex);
        m->error = message;
        if (error)
            *error = std::move(message);
        return false;
    };
    std::string e;
    if (m->settings.embedded) {
        EmbeddedBroker::Options options = m->settings.embeddedOptions;
        if (std::find(options.topics.begin(), options.topics.end(), m->settings.topic) ==
            options.topics.end())
            options.topics.push_back(m->settings.topic);
        if (!m->broker.start(options, &e))
            return fail("embedded broker: " + e);
        std::lock_guard lock(m->mutex);
        m->cluster = m->broker.clusterConfig();
        m->topics = options.topics;
        m->brokerText = "embedded (" + m->broker.bootstrap() + ")";
    } else {
        std::lock_guard lock(m->mutex);
        m->cluster = m->settings.cluster;
        m->brokerText = m->cluster.describe();
    }
    if (std::string invalid = m->settings.aggregator.validate(); !invalid.empty())
        return fail("aggregator: " + invalid);
    auto runtime = m->makeRuntime(std::nullopt);
    if (!runtime->pipeline->start(&e))
        return fail("aggregator: " + e);
    {
        std::lock_guard lock(m->mutex);
        m->runtime = runtime;
    }
    if (m->settings.monitor) {
        MonitorSettings ms = m->settings.monitorSettings;
        ms.cluster = m->cluster;
        ms.embedded = m->broker.isRunning() ? &m->broker : nullptr;
        m->monitor = std::make_unique<Monitor>(std::move(ms));
        m->monitor->watchPipeline(runtime->pipeline.get(), runtime->aggregator.get());
        m->monitor->watchProducers(&m->pool);
        if (!m->monitor->start(&e)) {
            m->monitor.reset();
            return fail("monitor: " + e);
        }
    }
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

int StudioEngine::duplicateProducer(int id)
{
    StudioProducerSettings copy;
    {
        std::lock_guard lock(m->mutex);
        const Impl::Entry *e = m->find(id);
        if (!e)
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
                m->mark(e.settings.producer.name + " started at " + grouped(p.stats().targetRate) +
                        " ev/s");
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
    m->mark(e->settings.producer.name + ": " + grouped(before) + " -> " + grouped(eventsPerSecond) +
            " ev/s");
    return true;
}

bool StudioEngine::setProducerHotShare(int id, double share)
{
    std::lock_guard lock(m->mutex);
    Impl::Entry *e = m->find(id);
    if (!e)
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
            fixedOld.generator.malformedFraction == fixedNew.generator.malformedFraction;
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
        if (postgresHasPassword(postgresUri))
            return fail("the PostgreSQL URI must not contain a password: give it separately");
        sinks->postgres = PostgresTarget{postgresUri, postgresPassword};
    }
    if (!redisUri.empty()) {
        RedisTarget target;
        if (std::string e = parseRedis(redisUri, target); !e.empty())
            return fail(std::move(e));
        target.password = redisPassword;
        sinks->redis = std::move(target);
    }
    {
        std::lock_guard lock(m->mutex);
        if (!m->runtime)
            return fail("the engine is not running");
    }
    m->post([this, sinks = std::move(sinks)]() mutable { m->swapRuntime(std::move(sinks)); });
    return true;
}

bool StudioEngine::pauseAggregator()
{
    std::lock_guard lock(m->mutex);
    if (!m->runtime)
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
    if (!m->runtime)
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

EngineSample StudioEngine::sample()
{
    EngineSample s;
    s.nowMs = wallMs();
    const auto now = Clock::now();
    std::shared_ptr<Runtime> runtime;
    double produced = 0;
    {
        std::lock_guard lock(m->mutex);
        s.broker = m->brokerText;
        s.brokerError = m->error;
        runtime = m->runtime;
        produced = m->removedProduced;
        for (const Impl::Entry &e : m->entries) {
            ProducerStats stats = e.producer->stats();
            produced += static_cast<double>(stats.produced);
            if (!e.removing)
                s.producers.push_back({e.id, e.settings, std::move(stats)});
        }
        s.markers = std::move(m->markers);
        m->markers.clear();
    }
    if (runtime) {
        s.pipeline = runtime->pipeline->stats();
        s.aggregates = runtime->aggregator->snapshot();
        if (runtime->sinks) {
            s.sinksConfigured = true;
            s.postgres = runtime->sinks->postgresStatus();
            s.redis = runtime->sinks->redisStatus();
        }
    }
    if (m->monitor)
        s.alertsFiring = m->monitor->status().firing;
    const AggregateCounters &c = s.aggregates.counters;
    if (c.watermarkMs != kNoWatermark)
        s.watermarkDelayMs = static_cast<double>(s.nowMs - c.watermarkMs);

    std::lock_guard lock(m->mutex);
    const Impl::Point point{
        now, produced, m->consumedBase + static_cast<double>(s.pipeline.consumed),
        m->lateBase + static_cast<double>(c.late), m->invalidBase + static_cast<double>(c.invalid)};
    m->history.push_back(point);
    while (m->history.size() > 2 && now - m->history[1].at >= std::chrono::seconds(1))
        m->history.pop_front();
    const Impl::Point &from = m->history.front();
    const double dt = std::chrono::duration<double>(now - from.at).count();
    if (dt > 0.05) {
        auto rate = [dt](double a, double b) {
            return std::max(0.0, (b - a) / dt);
        };
        s.producedPerSecond = rate(from.produced, point.produced);
        s.consumedPerSecond = rate(from.consumed, point.consumed);
        s.latePerSecond = rate(from.late, point.late);
        s.invalidPerSecond = rate(from.invalid, point.invalid);
    }
    // Durable mode: the open windows' live values for Redis, once a second.
    if (runtime && runtime->sinks && now - m->lastLive >= std::chrono::seconds(1)) {
        m->lastLive = now;
        RedisBatch live;
        live.pages = s.aggregates.pages;
        live.funnel = s.aggregates.funnel;
        runtime->sinks->submitLive(std::move(live));
    }
    return s;
}

ClusterConfig StudioEngine::cluster() const
{
    std::lock_guard lock(m->mutex);
    return m->cluster;
}

const ProducerPool &StudioEngine::pool() const
{
    return m->pool;
}

void StudioEngine::visitAggregator(
    const std::function<void(const AggregatorPipeline &, const Aggregator &)> &visit) const
{
    std::shared_ptr<Runtime> runtime;
    {
        std::lock_guard lock(m->mutex);
        runtime = m->runtime;
    }
    if (runtime)
        visit(*runtime->pipeline, *runtime->aggregator);
}

Monitor *StudioEngine::monitor()
{
    return m->monitor.get();
}

void StudioEngine::waitIdle()
{
    std::unique_lock lock(m->queueMutex);
    m->queueIdle.wait(lock, [this] { return m->queue.empty() && !m->busy; });
}

} // namespace studio::core
