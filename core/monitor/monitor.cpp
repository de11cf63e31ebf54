#include "core/monitor/monitor.h"

#include "core/aggregate/aggregator.h"
#include "core/common/metrics.h"
#include "core/common/timeutil.h"
#include "core/kafka/embeddedbroker.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/producerpool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace studio::core {

namespace {

// What the health probes read. Probes may run on threads that outlive the monitor (a hung
// probe is abandoned, not joined), so they hold this by shared_ptr, never the monitor itself;
// unwatching clears the pointers under the lock.
struct Sources
{
    std::mutex mutex;
    const AggregatorPipeline *pipeline = nullptr;
    const Aggregator *aggregator = nullptr;
    LagStatus lagStatus = LagStatus::Unknown; // of the pipeline's group, set every tick
};

std::string producerProbeName(int id)
{
    return "producer-" + std::to_string(id);
}

} // namespace

WatchedCluster::WatchedCluster(ClusterConfig c, const MonitorSettings &settings)
    : name(c.name)
    , config(std::move(c))
    , cluster(config, nullptr, settings.clusterOptions)
    , groups(config, false, settings.groupOptions)
{
}

struct Monitor::Impl
{
    explicit Impl(MonitorSettings s)
        : settings(std::move(s))
        , cluster(settings.cluster, settings.embedded, settings.clusterOptions)
        , groups(settings.cluster, settings.embedded != nullptr, settings.groupOptions)
    {
    }

    void run();
    void retire(std::shared_ptr<WatchedCluster> watched);
    std::vector<AlertTransition> tick(std::int64_t nowMs);
    void syncProducerProbes();
    void addAggregatorProbe();
    std::vector<Signal> collectSignals(std::int64_t nowMs);

    MonitorSettings settings;
    ClusterMonitor cluster;
    GroupMonitor groups;
    HealthMonitor health;
    AlertEngine alerts;
    std::unique_ptr<WebhookNotifier> webhook;
    std::unique_ptr<AlertHistoryStore> history;
    std::shared_ptr<Sources> sources = std::make_shared<Sources>();

    std::thread thread;
    std::atomic<bool> stopping{false};
    std::mutex wakeMutex;
    std::condition_variable wake;
    bool started = false;

    mutable std::mutex mutex; // guards what follows
    const ProducerPool *pool = nullptr;
    std::set<int> producerProbes;
    std::string pipelineGroup;
    std::string pipelineTopic;
    std::vector<Signal> lastSignals;
    std::uint64_t ticks = 0;
    std::string rulesError;
    std::uint64_t lastDeadLettered = 0;
    std::uint64_t lastDeletedUnread = 0; // PipelineStats::deletedUnread at the last tick
    std::int64_t lastDeadLetterMs = 0;
    std::uint64_t lastFolded = 0; // AggregateCounters::keysFolded at the last tick
    std::int64_t lastFoldedMs = 0;
    std::mutex tickMutex; // one evaluation at a time (the thread and evaluateNow)

    mutable std::mutex clustersMutex; // guards what follows
    std::vector<std::shared_ptr<WatchedCluster>> watched;
    struct Retiring
    {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::vector<Retiring> retiring; // stopping removed clusters; joined when done or by stop()
};

void Monitor::Impl::retire(std::shared_ptr<WatchedCluster> gone)
{
    // A dead cluster's refresh can hold ClusterMonitor::stop() for a request timeout: never on
    // the caller's (the GUI's) thread.
    std::lock_guard lock(clustersMutex);
    // Those that have finished are joined here, so adding and removing clusters all day keeps
    // no finished threads around.
    std::erase_if(retiring, [](Retiring &r) {
        if (!r.done->load())
            return false;
        r.thread.join();
        return true;
    });
    auto done = std::make_shared<std::atomic<bool>>(false);
    retiring.push_back({std::thread([gone = std::move(gone), done]() mutable {
                            gone->groups.stop();
                            gone->cluster.stop();
                            gone.reset(); // the clients are freed here too when this was the last
                            *done = true;
                        }),
                        done});
}

Monitor::Monitor(MonitorSettings settings)
    : m_impl(std::make_unique<Impl>(std::move(settings)))
{
}

Monitor::~Monitor()
{
    stop();
}

bool Monitor::start(std::string *error)
{
    Impl &d = *m_impl;
    if (d.started)
        return true;
    if (!d.settings.alertRulesPath.empty() && std::filesystem::exists(d.settings.alertRulesPath)) {
        std::string why;
        if (auto rules = loadAlertRules(d.settings.alertRulesPath, &why)) {
            if (!d.alerts.setRules(std::move(*rules), &why))
                d.rulesError = why;
        } else {
            d.rulesError = why;
        }
        if (!d.rulesError.empty()) {
            if (error)
                *error = "alert rules " + d.settings.alertRulesPath + ": " + d.rulesError;
            return false;
        }
    }
    if (d.settings.webhook) {
        d.webhook = std::make_unique<WebhookNotifier>(*d.settings.webhook);
        if (!d.webhook->start(error))
            return false;
    }
    if (!d.cluster.start(error) || !d.groups.start(error))
        return false;

    d.health.addProbe(std::shared_ptr<Probe>(makeKafkaProbe("kafka", d.settings.cluster)),
                      d.settings.probeTimeout);
    d.health.addProbe(
        std::shared_ptr<Probe>(d.settings.postgres
                                   ? makePostgresProbe("postgresql", *d.settings.postgres)
                                   : makeNotConfiguredProbe("postgresql", "postgresql")),
        d.settings.probeTimeout);
    d.health.addProbe(std::shared_ptr<Probe>(d.settings.redis
                                                 ? makeRedisProbe("redis", *d.settings.redis)
                                                 : makeNotConfiguredProbe("redis", "redis")),
                      d.settings.probeTimeout);
    d.health.start(d.settings.healthInterval);
    if (d.settings.postgres && d.settings.alertHistoryInPostgres) {
        d.history = std::make_unique<AlertHistoryStore>(*d.settings.postgres);
        d.history->start();
    }
    d.stopping = false;
    d.started = true;
    bool watching = false;
    {
        std::lock_guard lock(d.sources->mutex);
        watching = d.sources->pipeline != nullptr;
    }
    if (watching)
        d.addAggregatorProbe();
    d.thread = std::thread([&d] { d.run(); });
    return true;
}

void Monitor::stop()
{
    Impl &d = *m_impl;
    // The watched clusters first, each on its own thread, so their stops (each may wait for a
    // refresh of a dead cluster) overlap with each other and with the rest below.
    std::vector<std::shared_ptr<WatchedCluster>> watched;
    {
        std::lock_guard lock(d.clustersMutex);
        watched.swap(d.watched);
    }
    for (auto &w : watched) {
        d.health.removeProbe(kafkaProbeName(w->name), false);
        d.retire(std::move(w));
    }
    if (d.started) {
        {
            std::lock_guard lock(d.wakeMutex);
            d.stopping = true;
        }
        d.wake.notify_all();
        if (d.thread.joinable())
            d.thread.join();
        d.health.stop();
        d.groups.stop();
        d.cluster.stop();
        if (d.webhook)
            d.webhook->stop();
        if (d.history)
            d.history->stop();
        d.started = false;
    }
    std::vector<Impl::Retiring> retiring;
    {
        std::lock_guard lock(d.clustersMutex);
        retiring.swap(d.retiring);
    }
    for (Impl::Retiring &r : retiring)
        r.thread.join();
}

std::string Monitor::kafkaProbeName(const std::string &clusterName) const
{
    return clusterName == m_impl->settings.cluster.name ? std::string("kafka")
                                                        : "kafka:" + clusterName;
}

std::shared_ptr<WatchedCluster> Monitor::addCluster(ClusterConfig config, std::string *error)
{
    Impl &d = *m_impl;
    auto fail = [error](std::string why) {
        if (error)
            *error = std::move(why);
        return nullptr;
    };
    if (config.name.empty())
        return fail("a cluster needs a name");
    if (const std::string problem = config.validate(); !problem.empty())
        return fail("cluster " + config.name + ": " + problem);
    {
        std::lock_guard lock(d.clustersMutex);
        if (config.name == d.settings.cluster.name)
            return fail("cluster " + config.name +
                        " is the one the aggregator reads: shown already");
        for (const auto &w : d.watched)
            if (w->name == config.name)
                return fail("cluster " + config.name + " is shown already");
    }
    auto watched = std::make_shared<WatchedCluster>(std::move(config), d.settings);
    std::string why;
    if (!watched->cluster.start(&why) || !watched->groups.start(&why)) {
        d.retire(watched);
        return fail("cluster " + watched->name + ": " + why);
    }
    const std::string probe = kafkaProbeName(watched->name);
    if (!d.health.addProbe(std::shared_ptr<Probe>(makeKafkaProbe(probe, watched->config)),
                           d.settings.probeTimeout, &why)) {
        d.retire(watched);
        return fail("cluster " + watched->name + ": " + why);
    }
    std::lock_guard lock(d.clustersMutex);
    d.watched.push_back(watched);
    return watched;
}

bool Monitor::removeCluster(const std::string &name)
{
    Impl &d = *m_impl;
    std::shared_ptr<WatchedCluster> gone;
    {
        std::lock_guard lock(d.clustersMutex);
        const auto it = std::find_if(d.watched.begin(), d.watched.end(),
                                     [&name](const auto &w) { return w->name == name; });
        if (it == d.watched.end())
            return false;
        gone = std::move(*it);
        d.watched.erase(it);
    }
    // The row goes now (a probe call in flight finishes on its own thread), so the name can be
    // added again at once; the monitors stop on a thread of their own.
    d.health.removeProbe(kafkaProbeName(name), false);
    d.retire(std::move(gone));
    return true;
}

std::vector<std::shared_ptr<WatchedCluster>> Monitor::watchedClusters() const
{
    std::lock_guard lock(m_impl->clustersMutex);
    return m_impl->watched;
}

void Monitor::Impl::addAggregatorProbe()
{
    struct Rates
    {
        std::uint64_t invalid = 0, late = 0;
        std::chrono::steady_clock::time_point at{};
    };
    auto memory = std::make_shared<Rates>();
    std::weak_ptr<Sources> weak = sources;
    health.addProbe(std::shared_ptr<Probe>(makeFunctionProbe(
                        "aggregator", "aggregator",
                        [weak, memory]() -> ProbeResult {
                            auto s = weak.lock();
                            if (!s)
                                return {ServiceState::NotConfigured, 0, {}, 0};
                            std::lock_guard lock(s->mutex);
                            if (!s->pipeline || !s->aggregator)
                                return {ServiceState::NotConfigured, 0, {}, 0};
                            const PipelineStats ps = s->pipeline->stats();
                            if (ps.state == PipelineState::Failed)
                                return {ServiceState::Down, 0, ps.lastError, 0};
                            const AggregateCounters c = s->aggregator->counters();
                            const auto now = std::chrono::steady_clock::now();
                            double invalidRate = 0, lateRate = 0;
                            if (memory->at.time_since_epoch().count() != 0) {
                                const double dt =
                                    std::chrono::duration<double>(now - memory->at).count();
                                if (dt > 0) {
                                    invalidRate = double(c.invalid - memory->invalid) / dt;
                                    lateRate = double(c.late - memory->late) / dt;
                                }
                            }
                            *memory = {c.invalid, c.late, now};
                            ProbeResult r = aggregatorHealth(s->lagStatus, invalidRate, lateRate);
                            if (r.state == ServiceState::Up && ps.state == PipelineState::Paused)
                                r = {ServiceState::Degraded, 0, "consumption paused", 0};
                            return r;
                        })),
                    settings.probeTimeout);
}

void Monitor::watchPipeline(const AggregatorPipeline *pipeline, const Aggregator *aggregator)
{
    Impl &d = *m_impl;
    std::string oldGroup;
    {
        std::lock_guard lock(d.mutex);
        oldGroup = d.pipelineGroup;
        d.pipelineGroup = pipeline ? pipeline->settings().groupId : std::string();
        d.pipelineTopic = pipeline ? pipeline->settings().topic : std::string();
        d.lastDeadLettered = pipeline ? pipeline->stats().deadLettered : 0;
        d.lastDeletedUnread = pipeline ? pipeline->stats().deletedUnread : 0;
        d.lastDeadLetterMs = wallClockMs();
    }
    bool hadPipeline = false;
    {
        std::lock_guard lock(d.sources->mutex);
        hadPipeline = d.sources->pipeline != nullptr;
        d.sources->pipeline = pipeline;
        d.sources->aggregator = aggregator;
        d.sources->lagStatus = LagStatus::Unknown;
    }
    if (!oldGroup.empty() && (!pipeline || oldGroup != pipeline->settings().groupId)) {
        d.groups.setCommitCounter(oldGroup, {});
        d.groups.unwatchGroup(oldGroup);
    }
    if (pipeline) {
        const std::string group = pipeline->settings().groupId;
        d.groups.watchGroup(group, {pipeline->settings().topic});
        d.groups.setCommitCounter(group, [weak = std::weak_ptr<Sources>(d.sources)] {
            auto s = weak.lock();
            if (!s)
                return std::uint64_t{0};
            std::lock_guard lock(s->mutex);
            return s->pipeline ? s->pipeline->stats().commits : std::uint64_t{0};
        });
        if (d.started && !hadPipeline)
            d.addAggregatorProbe();
    } else if (hadPipeline) {
        d.health.removeProbe("aggregator");
    }
}

void Monitor::watchProducers(const ProducerPool *pool)
{
    Impl &d = *m_impl;
    std::set<int> old;
    {
        std::lock_guard lock(d.mutex);
        d.pool = pool;
        old.swap(d.producerProbes);
    }
    for (const int id : old)
        d.health.removeProbe(producerProbeName(id));
    if (d.started)
        d.syncProducerProbes();
}

void Monitor::Impl::syncProducerProbes()
{
    std::vector<std::pair<int, std::shared_ptr<KafkaProducer>>> entries;
    std::set<int> known;
    {
        std::lock_guard lock(mutex);
        if (pool)
            entries = pool->entries();
        known = producerProbes;
    }
    std::set<int> present;
    for (auto &[id, producer] : entries) {
        present.insert(id);
        if (known.count(id))
            continue;
        struct Counts
        {
            std::uint64_t acked = 0, failed = 0;
        };
        auto memory = std::make_shared<Counts>();
        std::weak_ptr<KafkaProducer> weak = producer;
        health.addProbe(std::shared_ptr<Probe>(makeFunctionProbe(
                            producerProbeName(id), "producer",
                            [weak, memory]() -> ProbeResult {
                                auto p = weak.lock();
                                if (!p)
                                    return {ServiceState::NotConfigured, 0, {}, 0};
                                const ProducerStats s = p->stats();
                                if (s.state == ProducerState::Failed)
                                    return {ServiceState::Down, 0, s.lastError, 0};
                                const std::uint64_t acked = s.acked - memory->acked;
                                const std::uint64_t failed = s.failed - memory->failed;
                                memory->acked = s.acked;
                                memory->failed = s.failed;
                                return producerHealth(acked, failed, s.lastError);
                            })),
                        settings.probeTimeout);
    }
    for (const int id : known) {
        if (!present.count(id))
            health.removeProbe(producerProbeName(id));
    }
    std::lock_guard lock(mutex);
    producerProbes = std::move(present);
}

std::vector<Signal> Monitor::Impl::collectSignals(std::int64_t nowMs)
{
    std::vector<Signal> out;
    if (auto h = health.snapshot())
        appendHealthSignals(*h, out);

    std::string ownGroup;
    {
        std::lock_guard lock(mutex);
        ownGroup = pipelineGroup;
    }
    LagStatus ownStatus = LagStatus::Unknown;
    if (auto g = groups.snapshot()) {
        for (const GroupLag &group : g->groups) {
            // Unknown (too few samples yet) is not "not OK": no alert at start-up.
            const bool ok = group.status == LagStatus::Ok || group.status == LagStatus::Unknown;
            out.push_back({kSignalLagStatusOk, {{"group", group.groupId}}, ok ? 1.0 : 0.0});
            if (group.lagSeconds >= 0)
                out.push_back({kSignalLagSeconds, {{"group", group.groupId}}, group.lagSeconds});
            if (group.groupId == ownGroup)
                ownStatus = group.status;
        }
    }

    // The groups of the other clusters shown, labelled with their cluster (their health is in
    // the health signals already, as "kafka:<name>").
    std::vector<std::shared_ptr<WatchedCluster>> others;
    {
        std::lock_guard lock(clustersMutex);
        others = watched;
    }
    for (const auto &other : others) {
        const auto g = other->groups.snapshot();
        for (const GroupLag &group : g->groups) {
            const bool ok = group.status == LagStatus::Ok || group.status == LagStatus::Unknown;
            const Labels labels{{"cluster", other->name}, {"group", group.groupId}};
            out.push_back({kSignalLagStatusOk, labels, ok ? 1.0 : 0.0});
            if (group.lagSeconds >= 0)
                out.push_back({kSignalLagSeconds, labels, group.lagSeconds});
        }
    }

    std::lock_guard sourceLock(sources->mutex);
    sources->lagStatus = ownStatus;
    if (sources->pipeline) {
        const PipelineStats ps = sources->pipeline->stats();
        std::lock_guard lock(mutex);
        const double dt = double(nowMs - lastDeadLetterMs) / 1000.0;
        if (dt > 0) {
            const double rate = double(ps.deadLettered - lastDeadLettered) / dt;
            out.push_back({kSignalDeadLetterRate, {{"topic", pipelineTopic}}, rate});
            out.push_back(
                {kSignalDeletedUnreadRate,
                 {{"topic", pipelineTopic}},
                 double(ps.deletedUnread - std::min(ps.deletedUnread, lastDeletedUnread)) / dt});
            lastDeadLettered = ps.deadLettered;
            lastDeletedUnread = ps.deletedUnread;
            lastDeadLetterMs = nowMs;
        }
    }
    if (sources->aggregator) {
        const AggregatorSnapshot snap = sources->aggregator->snapshot();
        {
            std::lock_guard lock(mutex);
            const double dt = double(nowMs - lastFoldedMs) / 1000.0;
            const std::uint64_t folded = snap.counters.keysFolded;
            if (lastFoldedMs != 0 && dt > 0)
                out.push_back({kSignalKeysFoldedRate,
                               {},
                               folded > lastFolded ? double(folded - lastFolded) / dt : 0.0});
            lastFolded = folded;
            lastFoldedMs = nowMs;
        }
        std::int64_t newest = std::numeric_limits<std::int64_t>::min();
        for (const FunnelRow &row : snap.funnel)
            newest = std::max(newest, row.windowStart);
        for (const FunnelRow &row : snap.funnel) {
            if (row.windowStart == newest && row.hotLowConversion)
                out.push_back({kSignalHotLowConversion, {{"product", row.productId}}, 1.0});
        }
    }
    return out;
}

std::vector<AlertTransition> Monitor::Impl::tick(std::int64_t nowMs)
{
    std::lock_guard tickLock(tickMutex);
    syncProducerProbes();
    std::vector<Signal> signals = collectSignals(nowMs);
    std::vector<AlertTransition> transitions = alerts.evaluate(nowMs, signals);
    if (!transitions.empty()) {
        if (webhook) {
            std::vector<AlertTransition> notifying;
            for (const auto &t : transitions) {
                if (t.notifies())
                    notifying.push_back(t);
            }
            if (!notifying.empty())
                webhook->notify(notifying);
        }
        if (history)
            history->add(transitions);
    }
    std::lock_guard lock(mutex);
    lastSignals = std::move(signals);
    ++ticks;
    return transitions;
}

void Monitor::Impl::run()
{
    std::unique_lock lock(wakeMutex);
    while (!stopping) {
        lock.unlock();
        tick(wallClockMs());
        lock.lock();
        wake.wait_for(lock, std::chrono::milliseconds(std::max(50, settings.tickMs)),
                      [this] { return stopping.load(); });
    }
}

ClusterMonitor &Monitor::cluster()
{
    return m_impl->cluster;
}

GroupMonitor &Monitor::groups()
{
    return m_impl->groups;
}

HealthMonitor &Monitor::health()
{
    return m_impl->health;
}

AlertEngine &Monitor::alerts()
{
    return m_impl->alerts;
}

const ClusterMonitor &Monitor::cluster() const
{
    return m_impl->cluster;
}

const GroupMonitor &Monitor::groups() const
{
    return m_impl->groups;
}

const HealthMonitor &Monitor::health() const
{
    return m_impl->health;
}

const AlertEngine &Monitor::alerts() const
{
    return m_impl->alerts;
}

const MonitorSettings &Monitor::settings() const
{
    return m_impl->settings;
}

std::vector<AlertTransition> Monitor::evaluateNow(std::int64_t nowMs)
{
    return m_impl->tick(nowMs);
}

std::vector<Signal> Monitor::lastSignals() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->lastSignals;
}

MonitorStatus Monitor::status() const
{
    const Impl &d = *m_impl;
    MonitorStatus s;
    for (const Alert &a : d.alerts.active()) {
        s.pending += a.state == AlertState::Pending;
        s.firing += a.state == AlertState::Firing;
    }
    if (d.webhook)
        s.webhook = d.webhook->stats();
    if (d.history)
        s.history = d.history->stats();
    std::lock_guard lock(d.mutex);
    s.ticks = d.ticks;
    s.rulesError = d.rulesError;
    return s;
}

bool Monitor::saveRules(std::string *error)
{
    if (m_impl->settings.alertRulesPath.empty()) {
        if (error)
            *error = "no alert rules file is set";
        return false;
    }
    return saveAlertRules(m_impl->settings.alertRulesPath, m_impl->alerts.rules(), error);
}

} // namespace studio::core
