#include "app/metricsserver.h"

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

double residentBytes()
{
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = -1;
    if (!(statm >> size >> resident))
        return -1;
    return resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

} // namespace studio::app
