#include "core/monitor/health.h"

#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/kafka/kafkaclient.h"
#include "core/store/redisclient.h"

#include <hiredis/hiredis.h>
#include <pqxx/pqxx>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string timedOut(milliseconds timeout)
{
    return "timed out after " + std::to_string(timeout.count()) + " ms";
}

ProbeResult result(ServiceState state, double latencyMs, std::string error = {})
{
    ProbeResult r;
    r.state = state;
    r.latencyMs = latencyMs;
    r.error = std::move(error);
    r.atMs = wallClockMs();
    return r;
}

// ---- Kafka ------------------------------------------------------------------------------------

class KafkaProbe final : public Probe
{
public:
    KafkaProbe(std::string name, ClusterConfig cluster)
        : m_name(std::move(name))
        , m_cluster(std::move(cluster))
    {
    }
    std::string name() const override { return m_name; }
    std::string kind() const override { return "kafka"; }

    ProbeResult probe(milliseconds timeout) override
    {
        if (m_cluster.bootstrap.empty())
            return result(ServiceState::NotConfigured, 0);
        const auto start = Clock::now();
        if (!m_client) {
            std::string error = m_cluster.validate();
            if (error.empty()) {
                // Reconnect fast after an outage so the probe sees the recovery within a tick.
                auto conf = makeKafkaConf(m_cluster,
                                          {{"reconnect.backoff.ms", "100"},
                                           {"reconnect.backoff.max.ms", "1000"},
                                           {"topic.metadata.refresh.interval.ms", "-1"}},
                                          &error);
                if (conf)
                    m_client = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), &error);
            }
            if (!m_client)
                return result(ServiceState::Down, msSince(start), "Kafka client: " + error);
        }
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        const KafkaMetadata metadata = requestMetadata(m_client.get(), false, nullptr,
                                                       static_cast<int>(timeout.count()), &err);
        const double latency = msSince(start);
        if (!metadata) {
            if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
                return result(ServiceState::Down, latency,
                              "metadata request " + timedOut(timeout) + " (no broker answered)");
            return result(ServiceState::Down, latency,
                          std::string("metadata request failed: ") + rd_kafka_err2str(err));
        }
        std::set<std::int32_t> listed;
        for (int i = 0; i < metadata->broker_cnt; ++i)
            listed.insert(metadata->brokers[i].id);
        std::string missing;
        for (std::int32_t id : m_known) {
            if (!listed.count(id))
                missing += (missing.empty() ? "" : ", ") + std::to_string(id);
        }
        m_known.insert(listed.begin(), listed.end());
        if (listed.empty())
            return result(ServiceState::Down, latency, "metadata lists no brokers");
        if (!missing.empty())
            return result(ServiceState::Degraded, latency,
                          "brokers missing from metadata: " + missing);
        return result(ServiceState::Up, latency);
    }

private:
    const std::string m_name;
    const ClusterConfig m_cluster;
    KafkaHandle m_client;           // made on the first call, on the worker thread
    std::set<std::int32_t> m_known; // every broker id any answer listed
};

// ---- PostgreSQL -------------------------------------------------------------------------------

class PostgresProbe final : public Probe
{
public:
    PostgresProbe(std::string name, PostgresTarget target)
        : m_name(std::move(name))
        , m_target(std::move(target))
    {
    }
    std::string name() const override { return m_name; }
    std::string kind() const override { return "postgresql"; }

    ProbeResult probe(milliseconds timeout) override
    {
        if (m_target.conninfo.empty())
            return result(ServiceState::NotConfigured, 0);
        // libpq counts connect_timeout in whole seconds and treats anything below 2 as 2.
        const int seconds = std::max<int>(2, static_cast<int>((timeout.count() + 999) / 1000));
        const auto start = Clock::now();
        try {
            pqxx::connection connection(m_target.connectionString(seconds));
            setSocket(connection.sock());
            pqxx::nontransaction tx(connection);
            const pqxx::result r = tx.exec("SELECT 1");
            setSocket(-1);
            if (r.size() != 1 || r[0][0].as<int>() != 1)
                return result(ServiceState::Down, msSince(start), "SELECT 1 gave a wrong answer");
            return result(ServiceState::Up, msSince(start));
        } catch (const std::exception &e) {
            setSocket(-1);
            std::string message = oneLine(e.what());
            if (message.find("timeout expired") != std::string::npos)
                message = "connect timed out after " + std::to_string(seconds) + " s";
            return result(ServiceState::Down, msSince(start),
                          redact(std::move(message), m_target.password));
        }
    }

    // A server that accepted the connection and went silent would block the query for good:
    // shutting the socket down makes libpq fail the call now.
    void abort() override
    {
        std::lock_guard lock(m_socketMutex);
        if (m_socket >= 0)
            ::shutdown(m_socket, SHUT_RDWR);
    }

private:
    void setSocket(int fd)
    {
        std::lock_guard lock(m_socketMutex);
        m_socket = fd;
    }

    const std::string m_name;
    const PostgresTarget m_target;
    std::mutex m_socketMutex;
    int m_socket = -1; // the open connection's socket while a call runs
};

// ---- Redis ------------------------------------------------------------------------------------

class RedisProbe final : public Probe
{
public:
    RedisProbe(std::string name, RedisTarget target)
        : m_name(std::move(name))
        , m_target(std::move(target))
    {
    }
    std::string name() const override { return m_name; }
    std::string kind() const override { return "redis"; }

    ProbeResult probe(milliseconds timeout) override
    {
        if (m_target.host.empty())
            return result(ServiceState::NotConfigured, 0);
        const auto start = Clock::now();
        const auto deadline = start + timeout;
        auto remaining = [&] {
            return std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        };
        auto down = [&](std::string message) {
            return result(ServiceState::Down, msSince(start),
                          redact(std::move(message), m_target.password));
        };
        auto ioError = [&](redisContext *c, const char *step) {
            const std::string text = c->errstr;
            if (remaining() <= milliseconds(0) ||
                text.find("temporarily unavailable") != std::string::npos ||
                text.find("timed out") != std::string::npos)
                return down(std::string(step) + " " + timedOut(timeout));
            return down(std::string(step) +
                        " failed: " + (text.empty() ? "connection lost" : text));
        };

        const RedisContextPtr c(
            redisConnectWithTimeout(m_target.host.c_str(), m_target.port, redisTimeval(timeout)));
        const std::string where = m_target.host + ":" + std::to_string(m_target.port);
        if (!c)
            return down("cannot allocate a Redis context");
        if (c->err)
            return ioError(c.get(), ("connect to " + where).c_str());

        if (!m_target.password.empty()) {
            redisSetTimeout(c.get(), redisTimeval(remaining()));
            const RedisReplyPtr reply =
                m_target.user.empty()
                    ? redisCommandArgs(c.get(), {"AUTH", m_target.password})
                    : redisCommandArgs(c.get(), {"AUTH", m_target.user, m_target.password});
            if (!reply)
                return ioError(c.get(), "AUTH");
            if (reply->type == REDIS_REPLY_ERROR)
                return down("authentication failed" +
                            (m_target.user.empty() ? std::string() : " for user " + m_target.user) +
                            ": " + reply->str);
        }
        redisSetTimeout(c.get(), redisTimeval(remaining()));
        const RedisReplyPtr reply = redisCommandArgs(c.get(), {"PING"});
        if (!reply)
            return ioError(c.get(), "PING");
        if (reply->type == REDIS_REPLY_ERROR) {
            const std::string text = reply->str;
            if (text.rfind("NOAUTH", 0) == 0)
                return down("authentication required: no password configured (" + text + ")");
            return down("PING failed: " + text);
        }
        if (reply->type != REDIS_REPLY_STATUS || std::string(reply->str) != "PONG")
            return down("PING gave an unexpected answer");
        return result(ServiceState::Up, msSince(start));
    }

private:
    const std::string m_name;
    const RedisTarget m_target;
};

// ---- functions --------------------------------------------------------------------------------

class FunctionProbe final : public Probe
{
public:
    FunctionProbe(std::string name, std::string kind, std::function<ProbeResult()> check)
        : m_name(std::move(name))
        , m_kind(std::move(kind))
        , m_check(std::move(check))
    {
    }
    std::string name() const override { return m_name; }
    std::string kind() const override { return m_kind; }
    ProbeResult probe(milliseconds) override
    {
        if (!m_check)
            return result(ServiceState::NotConfigured, 0);
        return m_check();
    }

private:
    const std::string m_name;
    const std::string m_kind;
    const std::function<ProbeResult()> m_check;
};

} // namespace

std::unique_ptr<Probe> makeKafkaProbe(std::string name, ClusterConfig cluster)
{
    return std::make_unique<KafkaProbe>(std::move(name), std::move(cluster));
}

std::unique_ptr<Probe> makePostgresProbe(std::string name, PostgresTarget target)
{
    return std::make_unique<PostgresProbe>(std::move(name), std::move(target));
}

std::unique_ptr<Probe> makeRedisProbe(std::string name, RedisTarget target)
{
    return std::make_unique<RedisProbe>(std::move(name), std::move(target));
}

std::unique_ptr<Probe> makeFunctionProbe(std::string name, std::string kind,
                                         std::function<ProbeResult()> check)
{
    return std::make_unique<FunctionProbe>(std::move(name), std::move(kind), std::move(check));
}

std::unique_ptr<Probe> makeNotConfiguredProbe(std::string name, std::string kind)
{
    return std::make_unique<FunctionProbe>(std::move(name), std::move(kind), nullptr);
}

ProbeResult producerHealth(std::uint64_t ackedDelta, std::uint64_t failedDelta,
                           const std::string &lastError)
{
    if (failedDelta == 0)
        return result(ServiceState::Up, 0);
    const std::string counts = std::to_string(failedDelta) + " deliveries failed, " +
                               std::to_string(ackedDelta) + " acknowledged" +
                               (lastError.empty() ? std::string() : ": " + lastError);
    return result(ackedDelta == 0 ? ServiceState::Down : ServiceState::Degraded, 0, counts);
}

ProbeResult aggregatorHealth(LagStatus lagStatus, double invalidPerSecond, double latePerSecond,
                             double maxBadPerSecond)
{
    const std::string status = lagStatusName(lagStatus);
    if (lagStatus == LagStatus::Stop)
        return result(ServiceState::Down, 0, "lag status " + status + ": no progress");
    if (lagStatus == LagStatus::Warn || lagStatus == LagStatus::Stall ||
        lagStatus == LagStatus::Rewind)
        return result(ServiceState::Degraded, 0, "lag status " + status);
    auto rate = [](double v) {
        return std::to_string(static_cast<long long>(std::llround(v)));
    };
    if (invalidPerSecond > maxBadPerSecond)
        return result(ServiceState::Degraded, 0, rate(invalidPerSecond) + " invalid events/s");
    if (latePerSecond > maxBadPerSecond)
        return result(ServiceState::Degraded, 0, rate(latePerSecond) + " late events/s");
    return result(ServiceState::Up, 0);
}

const ServiceHealth *HealthSnapshot::find(std::string_view name) const
{
    for (const auto &service : services)
        if (service->name == name)
            return service.get();
    return nullptr;
}

// ---- the monitor ------------------------------------------------------------------------------

namespace {
// How long past its timeout a call may run before the watchdog reports it: the probes bound
// their own calls by the timeout, so their own (more precise) message usually comes first.
constexpr milliseconds kWatchdogGrace{100};
constexpr milliseconds kStopWait{200};
} // namespace

struct HealthMonitor::Worker
{
    std::shared_ptr<Probe> probe;
    std::string name;
    milliseconds timeout;
    // Guarded by Shared::mutex.
    std::thread thread;
    bool removed = false;
    bool inFlight = false; // a call of this probe runs (on this or an older thread)
    bool wakeNow = false;
    bool overrun = false; // the watchdog reported the current call as timed out
    Clock::time_point callStart;
    Clock::time_point lastOverrunReport;
};

struct HealthMonitor::Shared
{
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::vector<std::shared_ptr<Worker>> workers;
    std::vector<std::shared_ptr<const ServiceHealth>> services; // parallel to workers
    std::shared_ptr<const HealthSnapshot> snapshot = std::make_shared<HealthSnapshot>();
    std::uint64_t generation = 0; // bumped by start() and stop(): threads of an older one exit
    bool running = false;
    milliseconds interval{2000};
    std::thread watchdog;

    // All below: mutex held.
    void publish()
    {
        auto next = std::make_shared<HealthSnapshot>();
        next->atMs = wallClockMs();
        next->services = services;
        snapshot = std::move(next);
    }

    void record(const Worker &worker, ProbeResult r, bool countTimeout)
    {
        std::size_t i = 0;
        while (i < workers.size() && workers[i].get() != &worker)
            ++i;
        if (i == workers.size())
            return; // removed meanwhile
        auto next = std::make_shared<ServiceHealth>(*services[i]);
        if (r.atMs == 0)
            r.atMs = wallClockMs();
        if (next->current.state != r.state)
            next->lastChangeAtMs = r.atMs;
        if (!r.error.empty()) {
            next->lastError = r.error;
            next->lastErrorAtMs = r.atMs;
        }
        ++next->probes;
        if (countTimeout)
            ++next->timeouts;
        // Several answers in one second keep the worst state and the longest latency, so a blip
        // stays visible in the history.
        const std::int64_t second = r.atMs / 1000;
        double state = stateValue(r.state);
        double latency = r.latencyMs;
        if (!next->stateHistory.empty() && next->stateHistory.last().second == second) {
            state = std::min(state, next->stateHistory.last().value);
            latency = std::max(latency, next->latencyHistory.last().value);
        }
        next->stateHistory.add(second, state);
        next->latencyHistory.add(second, latency);
        next->current = std::move(r);
        services[i] = std::move(next);
        publish();
    }
};

HealthMonitor::HealthMonitor()
    : m_shared(std::make_shared<Shared>())
{
}

HealthMonitor::~HealthMonitor()
{
    stop();
}

bool HealthMonitor::addProbe(std::shared_ptr<Probe> probe, milliseconds timeout, std::string *error)
{
    auto fail = [&](std::string message) {
        if (error)
            *error = std::move(message);
        return false;
    };
    if (!probe)
        return fail("no probe given");
    const std::string name = probe->name();
    if (name.empty())
        return fail("a probe needs a name");
    std::lock_guard lock(m_shared->mutex);
    for (const auto &w : m_shared->workers)
        if (w->name == name)
            return fail("a probe named '" + name + "' exists already");
    auto worker = std::make_shared<Worker>();
    worker->name = name;
    worker->timeout = std::max(timeout, milliseconds(1));
    auto service = std::make_shared<ServiceHealth>();
    service->name = name;
    service->kind = probe->kind();
    worker->probe = std::move(probe);
    m_shared->workers.push_back(worker);
    m_shared->services.push_back(std::move(service));
    m_shared->publish();
    if (m_shared->running)
        worker->thread =
            std::thread(&HealthMonitor::workerLoop, m_shared, worker, m_shared->generation);
    return true;
}

bool HealthMonitor::removeProbe(const std::string &name, bool waitForCall)
{
    std::shared_ptr<Worker> worker;
    std::thread thread;
    {
        std::lock_guard lock(m_shared->mutex);
        auto &workers = m_shared->workers;
        for (std::size_t i = 0; i < workers.size(); ++i) {
            if (workers[i]->name == name) {
                worker = workers[i];
                workers.erase(workers.begin() + static_cast<std::ptrdiff_t>(i));
                m_shared->services.erase(m_shared->services.begin() +
                                         static_cast<std::ptrdiff_t>(i));
                break;
            }
        }
        if (!worker)
            return false;
        worker->removed = true;
        thread = std::move(worker->thread);
        m_shared->publish();
        m_shared->wake.notify_all();
    }
    if (thread.joinable()) {
        std::unique_lock lock(m_shared->mutex);
        const bool idle = m_shared->wake.wait_for(lock, waitForCall ? kStopWait : milliseconds(0),
                                                  [&] { return !worker->inFlight; });
        lock.unlock();
        if (idle)
            thread.join();
        else
            thread.detach(); // blocked in a call: it exits when the call returns
    }
    return true;
}

void HealthMonitor::start(milliseconds interval)
{
    stop();
    std::lock_guard lock(m_shared->mutex);
    m_shared->interval = std::max(interval, milliseconds(10));
    m_shared->running = true;
    const std::uint64_t generation = ++m_shared->generation;
    for (const auto &w : m_shared->workers)
        w->thread = std::thread(&HealthMonitor::workerLoop, m_shared, w, generation);
    m_shared->watchdog = std::thread(&HealthMonitor::watchdogLoop, m_shared, generation);
}

void HealthMonitor::stop()
{
    std::vector<std::pair<std::shared_ptr<Worker>, std::thread>> threads;
    std::thread watchdog;
    {
        std::lock_guard lock(m_shared->mutex);
        if (!m_shared->running)
            return;
        m_shared->running = false;
        ++m_shared->generation;
        for (const auto &w : m_shared->workers)
            if (w->thread.joinable())
                threads.emplace_back(w, std::move(w->thread));
        watchdog = std::move(m_shared->watchdog);
        m_shared->wake.notify_all();
    }
    if (watchdog.joinable())
        watchdog.join();
    const auto deadline = Clock::now() + kStopWait;
    for (auto &[worker, thread] : threads) {
        std::unique_lock lock(m_shared->mutex);
        const bool idle =
            m_shared->wake.wait_until(lock, deadline, [&] { return !worker->inFlight; });
        lock.unlock();
        if (idle)
            thread.join();
        else
            thread.detach(); // blocked in a call: it exits when the call returns
    }
}

bool HealthMonitor::isRunning() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->running;
}

std::shared_ptr<const HealthSnapshot> HealthMonitor::snapshot() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->snapshot;
}

bool HealthMonitor::probeNow(const std::string &name)
{
    std::lock_guard lock(m_shared->mutex);
    if (!m_shared->running)
        return false;
    for (const auto &w : m_shared->workers) {
        if (w->name == name) {
            w->wakeNow = true;
            m_shared->wake.notify_all();
            return true;
        }
    }
    return false;
}

void HealthMonitor::workerLoop(std::shared_ptr<Shared> shared, std::shared_ptr<Worker> worker,
                               std::uint64_t generation)
{
    // hiredis writes with plain write(): a server that closes mid-call would raise SIGPIPE and end
    // the process. Blocked on this thread, the write just fails with EPIPE.
    sigset_t sigpipe;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr);

    std::unique_lock lock(shared->mutex);
    for (;;) {
        if (shared->generation != generation || worker->removed)
            return;
        if (worker->inFlight) { // a call from before a restart still hangs: never call twice
            shared->wake.wait(lock);
            continue;
        }
        worker->inFlight = true;
        worker->overrun = false;
        worker->wakeNow = false;
        const auto callStart = worker->callStart = Clock::now();
        const auto probe = worker->probe;
        const milliseconds timeout = worker->timeout;
        lock.unlock();

        ProbeResult r;
        try {
            r = probe->probe(timeout);
        } catch (const std::exception &e) {
            r = result(ServiceState::Down, 0, std::string("probe failed: ") + e.what());
        } catch (...) {
            r = result(ServiceState::Down, 0, "probe failed");
        }
        const double elapsed = msSince(callStart);

        lock.lock();
        worker->inFlight = false;
        const bool overran = elapsed > static_cast<double>((timeout + kWatchdogGrace).count());
        if (overran && r.state != ServiceState::NotConfigured) {
            r.state = ServiceState::Down;
            r.error = timedOut(timeout) + " (answered after " +
                      std::to_string(std::llround(elapsed)) + " ms" +
                      (r.error.empty() ? std::string() : ": " + r.error) + ")";
        }
        if (r.latencyMs <= 0)
            r.latencyMs = elapsed;
        if (!worker->removed)
            shared->record(*worker, std::move(r), overran && !worker->overrun);
        shared->wake.notify_all(); // a newer thread may wait for this call to end
        shared->wake.wait_until(lock, callStart + shared->interval, [&] {
            return shared->generation != generation || worker->removed || worker->wakeNow;
        });
    }
}

void HealthMonitor::watchdogLoop(std::shared_ptr<Shared> shared, std::uint64_t generation)
{
    std::unique_lock lock(shared->mutex);
    while (shared->generation == generation) {
        const auto now = Clock::now();
        std::vector<std::shared_ptr<Probe>> toAbort;
        for (const auto &w : shared->workers) {
            if (!w->inFlight)
                continue;
            const bool firstReport =
                !w->overrun && now - w->callStart > w->timeout + kWatchdogGrace;
            // While it stays blocked, repeat the report every interval so the history ticks on.
            const bool repeat = w->overrun && now - w->lastOverrunReport >= shared->interval;
            if (!firstReport && !repeat)
                continue;
            w->overrun = true;
            w->lastOverrunReport = now;
            shared->record(*w,
                           result(ServiceState::Down, static_cast<double>(w->timeout.count()),
                                  timedOut(w->timeout)),
                           firstReport);
            if (firstReport)
                toAbort.push_back(w->probe);
        }
        if (!toAbort.empty()) {
            lock.unlock();
            for (const auto &probe : toAbort)
                probe->abort();
            lock.lock();
            continue;
        }
        shared->wake.wait_for(lock, milliseconds(50),
                              [&] { return shared->generation != generation; });
    }
}

} // namespace studio::core
