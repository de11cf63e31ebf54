#include "app/metricsserver.h"

#include "core/store/sinkworker.h"

#include "core/aggregate/aggregator.h"
#include "core/pipeline/pipeline.h"
#include "core/produce/producerpool.h"

#include <fmt/core.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace studio::app {

namespace {

constexpr const char *kContentType = "text/plain; version=0.0.4; charset=utf-8";

/// The address as a numeric literal for getaddrinfo and bind, or empty if it is not one.
std::string numericAddress(std::string address, int *family)
{
    if (address == "localhost")
        address = "127.0.0.1";
    if (address.size() > 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);
    in6_addr buf{};
    if (::inet_pton(AF_INET, address.c_str(), &buf) == 1)
        *family = AF_INET;
    else if (::inet_pton(AF_INET6, address.c_str(), &buf) == 1)
        *family = AF_INET6;
    else
        return {};
    return address;
}

/// Why binding failed, found by trying it ourselves (httplib does not say).
std::string bindFailure(const std::string &address, int family, int port)
{
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::strerror(errno);
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (family == AF_INET) {
        auto *a = reinterpret_cast<sockaddr_in *>(&storage);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET, address.c_str(), &a->sin_addr);
        length = sizeof *a;
    } else {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&storage);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
        length = sizeof *a;
    }
    std::string why;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&storage), length) != 0 || ::listen(fd, 1) != 0) {
        const int e = errno;
        if (e == EADDRINUSE)
            why = "the port is already in use by another program (choose another --metrics-port, "
                  "or 0 for any free port)";
        else if (e == EADDRNOTAVAIL)
            why = "that address is not one of this machine's";
        else if (e == EACCES)
            why = "permission denied (ports below 1024 need privileges)";
        else
            why = std::strerror(e);
    }
    ::close(fd);
    return why.empty() ? std::string("the HTTP server could not listen there") : why;
}

std::string hostForUrl(const std::string &address, int family)
{
    return family == AF_INET6 ? "[" + address + "]" : address;
}

} // namespace

struct MetricsServer::Impl
{
    explicit Impl(core::MetricsRegistry &r)
        : registry(r)
    {
    }
    core::MetricsRegistry &registry;
    std::unique_ptr<httplib::Server> server;
    std::thread thread;
    std::atomic<bool> listenReturned{false};
    int port = 0;
    std::string url;
};

MetricsServer::MetricsServer(core::MetricsRegistry &registry)
    : m(std::make_unique<Impl>(registry))
{
}

MetricsServer::~MetricsServer()
{
    stop();
}

bool MetricsServer::start(const std::string &address, int port, std::string *error)
{
    auto fail = [&](std::string message) {
        if (error)
            *error = std::move(message);
        return false;
    };
    if (m->server)
        return fail("the metrics server is already running");
    if (port < 0 || port > 65535)
        return fail(fmt::format("metrics port {} is out of range (0 to 65535)", port));
    int family = AF_INET;
    const std::string host = numericAddress(address, &family);
    if (host.empty())
        return fail("metrics address '" + address +
                    "' is not an IP address: give one such as 127.0.0.1, ::1 or 0.0.0.0");

    auto server = std::make_unique<httplib::Server>();
    // httplib's default sets SO_REUSEPORT, which would let a second process share the port
    // silently; plain SO_REUSEADDR makes a port in use an error.
    server->set_socket_options([](socket_t fd) {
        int yes = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server->new_task_queue = [] {
        return new httplib::ThreadPool(4);
    };
    server->set_keep_alive_timeout(1); // bounds stop(): idle keep-alive connections end sooner
    server->set_read_timeout(5);
    server->set_write_timeout(5);
    core::MetricsRegistry &registry = m->registry;
    server->Get("/metrics", [&registry](const httplib::Request &, httplib::Response &res) {
        res.set_content(registry.render(), kContentType);
    });
    server->Get("/", [](const httplib::Request &, httplib::Response &res) {
        res.set_content("<!DOCTYPE html>\n<html><head><title>Clickstream Studio metrics</title>"
                        "</head><body><h1>Clickstream Studio</h1><p>Prometheus metrics are at "
                        "<a href=\"/metrics\">/metrics</a>.</p></body></html>\n",
                        "text/html; charset=utf-8");
    });
    server->set_error_handler([](const httplib::Request &, httplib::Response &res) {
        if (res.status == 404 && res.body.empty())
            res.set_content("not found: the metrics are at /metrics\n",
                            "text/plain; charset=utf-8");
    });
    server->set_exception_handler(
        [](const httplib::Request &, httplib::Response &res, std::exception_ptr e) {
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(e);
            } catch (const std::exception &ex) {
                what = ex.what();
            } catch (...) {
            }
            res.status = 500;
            res.set_content("error: " + what + "\n", "text/plain; charset=utf-8");
        });

    int bound = port;
    if (port == 0)
        bound = server->bind_to_any_port(host);
    else if (!server->bind_to_port(host, port))
        bound = -1;
    if (bound <= 0)
        return fail(fmt::format("cannot serve metrics on {}:{}: {}", hostForUrl(host, family), port,
                                bindFailure(host, family, port)));

    m->listenReturned = false;
    httplib::Server *raw = server.get();
    m->thread = std::thread([this, raw] {
        raw->listen_after_bind();
        m->listenReturned = true;
    });
    // httplib's stop() only works once the listening loop runs: wait for it here, so stop()
    // never misses it.
    while (!raw->is_running() && !m->listenReturned)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    m->server = std::move(server);
    m->port = bound;
    m->url = fmt::format("http://{}:{}/metrics", hostForUrl(host, family), bound);
    return true;
}

void MetricsServer::stop()
{
    if (!m->server)
        return;
    if (!m->listenReturned)
        m->server->stop();
    if (m->thread.joinable())
        m->thread.join();
    m->server.reset();
    m->port = 0;
    m->url.clear();
}

bool MetricsServer::running() const
{
    return m->server && !m->listenReturned;
}

int MetricsServer::port() const
{
    return m->port;
}

std::string MetricsServer::url() const
{
    return m->url;
}

// ---------------------------------------------------------------------------------------------

MetricsEndpoint::MetricsEndpoint()
    : m_process(registerProcessMetrics(m_registry))
{
}

MetricsEndpoint::~MetricsEndpoint() = default;

bool MetricsEndpoint::start(const MetricsOptions &options, std::string *error)
{
    if (!options.enabled())
        return true;
    if (!m_server.start(options.address, options.port, error))
        return false;
    fmt::print(stderr, "metrics: {}\n", m_server.url());
    std::fflush(stderr);
    return true;
}

// ---------------------------------------------------------------------------------------------
// Collectors
// ---------------------------------------------------------------------------------------------

namespace {

/// Seconds since the epoch when this process started, from /proc (boot time + start ticks).
double processStartTime()
{
    const auto now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::ifstream statFile("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos)
        return now;
    std::istringstream fields(stat.substr(close + 2)); // field 3 (state) onwards
    std::string field;
    double startTicks = -1;
    for (int i = 3; i <= 22 && fields >> field; ++i)
        if (i == 22)
            startTicks = std::stod(field);
    std::ifstream procStat("/proc/stat");
    std::string line;
    double bootTime = -1;
    while (std::getline(procStat, line))
        if (line.rfind("btime ", 0) == 0)
            bootTime = std::stod(line.substr(6));
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (startTicks < 0 || bootTime < 0 || ticks <= 0)
        return now;
    return bootTime + startTicks / static_cast<double>(ticks);
}

double seconds(std::int64_t ms)
{
    return static_cast<double>(ms) / 1000.0;
}

std::string_view toString(core::PipelineState state)
{
    switch (state) {
    case core::PipelineState::Stopped:
        return "stopped";
    case core::PipelineState::Running:
        return "running";
    case core::PipelineState::Paused:
        return "paused";
    case core::PipelineState::Failed:
        return "failed";
    }
    return "unknown";
}

/// The producer counters a collector remembers, to keep totals of producers that are gone.
struct ProducerCounts
{
    double produced = 0, acked = 0, failed = 0, shortfall = 0;

    void add(const ProducerCounts &o)
    {
        produced += o.produced;
        acked += o.acked;
        failed += o.failed;
        shortfall += o.shortfall;
    }
};

} // namespace

MetricsRegistration registerProcessMetrics(core::MetricsRegistry &registry)
{
    const double started = processStartTime();
    return registry.add("process", [started](core::MetricsText &t) {
        t.gauge("clickstream_build_info", "Clickstream Studio build; the value is always 1",
                {{"version", STUDIO_VERSION}}, 1);
        t.gauge("clickstream_process_start_time_seconds",
                "Start time of the process since the Unix epoch", started);
        if (const double rss = residentBytes(); rss >= 0)
            t.gauge("clickstream_process_resident_memory_bytes", "Resident memory of the process",
                    rss);
        rusage usage{};
        if (::getrusage(RUSAGE_SELF, &usage) == 0) {
            const double cpu =
                static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
            t.counter("clickstream_process_cpu_seconds_total",
                      "User and system CPU time of the process", cpu);
        }
    });
}

MetricsRegistration registerProducerMetrics(core::MetricsRegistry &registry,
                                            const core::ProducerPool &pool)
{
    struct Memory
    {
        std::mutex mutex;
        std::map<int, ProducerCounts> last; // per producer id, as of the last scrape
        ProducerCounts retired;             // producers removed since
    };
    auto memory = std::make_shared<Memory>();
    return registry.add("producers", [&pool, memory](core::MetricsText &t) {
        std::vector<std::string_view> states;
        for (int s = 0; s <= static_cast<int>(core::ProducerState::Failed); ++s)
            states.push_back(core::toString(static_cast<core::ProducerState>(s)));

        std::map<int, ProducerCounts> now;
        double inFlight = 0, target = 0, achieved = 0;
        for (const auto &[id, producer] : pool.entries()) {
            const core::ProducerStats s = producer->stats();
            const ProducerCounts c{static_cast<double>(s.produced), static_cast<double>(s.acked),
                                   static_cast<double>(s.failed), static_cast<double>(s.shortfall)};
            now[id] = c;
            inFlight += static_cast<double>(s.inFlight);
            target += s.targetRate;
            achieved += s.achievedRate;
            const core::MetricLabels l{{"producer_id", std::to_string(id)},
                                       {"producer", producer->settings().name}};
            t.counter("clickstream_producer_produced_events_total",
                      "Events handed to Kafka by one producer", l, c.produced);
            t.counter("clickstream_producer_acked_events_total",
                      "Events of one producer whose delivery the brokers confirmed", l, c.acked);
            t.counter("clickstream_producer_failed_events_total",
                      "Events of one producer rejected locally or whose delivery failed", l,
                      c.failed);
            t.counter("clickstream_producer_shortfall_events_total",
                      "Events one producer's schedule called for but that could not be sent", l,
                      c.shortfall);
            t.gauge("clickstream_producer_in_flight_events",
                    "Events of one producer awaiting a delivery report", l,
                    static_cast<double>(s.inFlight));
            t.gauge("clickstream_producer_target_rate_events_per_second",
                    "Target rate of one producer", l, s.targetRate);
            t.gauge("clickstream_producer_achieved_rate_events_per_second",
                    "Rate one producer achieved over the last second", l, s.achievedRate);
            t.gauge("clickstream_producer_keeping_up",
                    "1 while the producer meets its target rate, else 0", l, s.keepingUp ? 1 : 0);
            t.stateSet("clickstream_producer_state", "State of one producer (1 for the current)", l,
                       "state", states, core::toString(s.state));
        }

        std::lock_guard lock(memory->mutex);
        for (const auto &[id, counts] : memory->last)
            if (!now.count(id))
                memory->retired.add(counts);
        memory->last = now;
        ProducerCounts total = memory->retired;
        for (const auto &[id, counts] : now)
            total.add(counts);
        t.counter("clickstream_produced_events_total",
                  "Events handed to Kafka by all producers, including removed ones",
                  total.produced);
        t.counter("clickstream_acked_events_total",
                  "Events whose delivery the brokers confirmed, all producers", total.acked);
        t.counter("clickstream_failed_events_total",
                  "Events rejected locally or whose delivery failed, all producers", total.failed);
        t.counter("clickstream_shortfall_events_total",
                  "Events the schedules called for but that could not be sent, all producers",
                  total.shortfall);
        t.gauge("clickstream_in_flight_events", "Events awaiting a delivery report, all producers",
                inFlight);
        t.gauge("clickstream_target_rate_events_per_second", "Sum of the producers' target rates",
                target);
        t.gauge("clickstream_achieved_rate_events_per_second",
                "Events per second handed to Kafka over the last second, all producers", achieved);
        t.gauge("clickstream_producers", "Producers in the pool", static_cast<double>(now.size()));
    });
}

void collectPipelineMetrics(core::MetricsText &t, const core::AggregatorPipeline &pipeline)
{
    const core::PipelineStats s = pipeline.stats();
    const core::MetricLabels l{{"group", pipeline.settings().groupId},
                               {"topic", pipeline.settings().topic}};
    t.counter("clickstream_consumed_events_total",
              "Messages the aggregator's consumer fetched and applied", l,
              static_cast<double>(s.consumed));
    t.gauge("clickstream_consumed_rate_events_per_second",
            "Messages consumed per second over the last second", l, s.consumedRate);
    t.counter("clickstream_dead_lettered_events_total",
              "Invalid and late events handed to the dead-letter producer", l,
              static_cast<double>(s.deadLettered));
    t.counter("clickstream_dead_letter_acked_events_total",
              "Dead letters whose delivery the brokers confirmed", l,
              static_cast<double>(s.deadLetterAcked));
    t.counter("clickstream_dead_letter_failed_events_total", "Dead letters whose delivery failed",
              l, static_cast<double>(s.deadLetterFailed));
    t.counter("clickstream_consumer_commits_total", "Offset commits of the aggregator's consumer",
              l, static_cast<double>(s.commits));
    if (s.lagMessages >= 0)
        t.gauge("clickstream_consumer_lag_messages",
                "Messages behind the high watermarks, summed over the assigned partitions", l,
                static_cast<double>(s.lagMessages));
    t.gauge("clickstream_consumer_assigned_partitions",
            "Partitions assigned to the aggregator's consumer", l, s.assignedPartitions);
    t.stateSet("clickstream_consumer_state",
               "State of the aggregator's consumer (1 for the "
               "current)",
               l, "state", {"stopped", "running", "paused", "failed"}, toString(s.state));
}

MetricsRegistration registerPipelineMetrics(core::MetricsRegistry &registry,
                                            const core::AggregatorPipeline &pipeline)
{
    return registry.add("pipeline",
                        [&pipeline](core::MetricsText &t) { collectPipelineMetrics(t, pipeline); });
}

MetricsRegistration registerSinkMetrics(core::MetricsRegistry &registry,
                                        const core::SinkWorker &sinks)
{
    return registry.add("sinks", [&sinks](core::MetricsText &t) {
        static const std::vector<std::string_view> states = {
            core::toString(core::ServiceState::Unknown), core::toString(core::ServiceState::Up),
            core::toString(core::ServiceState::Degraded), core::toString(core::ServiceState::Down),
            core::toString(core::ServiceState::NotConfigured)};
        for (const auto &[name, st] : {std::pair{"postgresql", sinks.postgresStatus()},
                                       std::pair{"redis", sinks.redisStatus()}}) {
            const core::MetricLabels l{{"sink", name}};
            t.stateSet("clickstream_sink_state", "state of each result sink", l, "state", states,
                       core::toString(st.state));
            if (st.state == core::ServiceState::NotConfigured)
                continue;
            t.gauge("clickstream_sink_up", "1 when the sink is connected and writing", l,
                    st.state == core::ServiceState::Up ? 1 : 0);
            t.gauge("clickstream_sink_buffered_rows",
                    "result rows waiting for the sink (not yet written, so not yet committed)", l,
                    double(st.bufferedRows));
            t.gauge("clickstream_sink_buffered_batches", "checkpoint batches waiting", l,
                    double(st.bufferedBatches));
            t.counter("clickstream_sink_written_rows_total", "result rows the sink stored", l,
                      double(st.writtenRows));
            t.counter("clickstream_sink_writes_total",
                      "transactions (PostgreSQL) or pipelined writes (Redis)", l,
                      double(st.writes));
            t.counter("clickstream_sink_failures_total", "failed connects, writes and pings", l,
                      double(st.failures));
            t.gauge("clickstream_sink_write_latency_seconds", "duration of the last write", l,
                    st.lastWriteLatencyMs / 1000.0);
        }
    });
}

void collectAggregatorMetrics(core::MetricsText &t, const core::Aggregator &aggregator)
{
    const core::AggregateCounters c = aggregator.counters();
    auto d = [](std::uint64_t v) {
        return static_cast<double>(v);
    };
    t.counter("clickstream_aggregator_read_events_total", "Events the aggregator read", d(c.read));
    t.counter("clickstream_valid_events_total",
              "Events accepted into the aggregates (not invalid, duplicate or late)", d(c.valid));
    for (std::size_t r = 0; r < core::kInvalidReasonCount; ++r)
        t.counter("clickstream_invalid_events_total", "Events refused as invalid, by reason",
                  {{"reason", std::string(core::toString(static_cast<core::InvalidReason>(r)))}},
                  d(c.invalidByReason[r]));
    t.counter("clickstream_duplicate_events_total", "Events dropped as duplicates (same event_id)",
              d(c.duplicates));
    t.counter("clickstream_late_events_total", "Events older than the watermark", d(c.late));
    if (c.watermarkMs != core::kNoWatermark)
        t.gauge("clickstream_aggregator_watermark_seconds",
                "Event-time watermark since the Unix epoch", seconds(c.watermarkMs));
    if (c.maxEventTimeMs != core::kNoWatermark)
        t.gauge("clickstream_aggregator_max_event_time_seconds",
                "Newest event time seen since the Unix epoch", seconds(c.maxEventTimeMs));
    t.gauge("clickstream_aggregator_open_windows", "Windows not yet final", d(c.openWindows));
    t.gauge("clickstream_aggregator_open_sessions", "Sessions not yet closed", d(c.openSessions));
    t.gauge("clickstream_aggregator_dedupe_entries", "Event ids held to find duplicates",
            d(c.dedupeEntries));
    t.gauge("clickstream_aggregator_state_bytes", "Estimated memory of the open state",
            d(c.stateBytes));
    t.counter("clickstream_aggregator_windows_finalized_total", "Windows made final",
              d(c.windowsFinalized));
    t.counter("clickstream_aggregator_sessions_closed_total", "Sessions closed",
              d(c.sessionsClosed));
}

MetricsRegistration registerAggregatorMetrics(core::MetricsRegistry &registry,
                                              const core::Aggregator &aggregator)
{
    return registry.add("aggregator", [&aggregator](core::MetricsText &t) {
        collectAggregatorMetrics(t, aggregator);
    });
}

std::vector<MetricsRegistration> registerEngineMetrics(core::MetricsRegistry &registry,
                                                       const EngineMetricSources &sources)
{
    std::vector<MetricsRegistration> out;
    if (sources.pool)
        out.push_back(registerProducerMetrics(registry, *sources.pool));
    if (sources.pipeline)
        out.push_back(registerPipelineMetrics(registry, *sources.pipeline));
    if (sources.aggregator)
        out.push_back(registerAggregatorMetrics(registry, *sources.aggregator));
    return out;
}

double residentBytes()
{
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = -1;
    if (!(statm >> size >> resident))
        return -1;
    return resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

} // namespace studio::app
