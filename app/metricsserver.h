#pragma once

#include "app/options.h"
#include "core/common/metrics.h"

#include <memory>
#include <string>
#include <vector>

namespace studio::app {

/// Serves a MetricsRegistry over HTTP (cpp-httplib, a small thread pool of its own): `GET
/// /metrics` in the Prometheus text format 0.0.4, `GET /` a pointer to it, 404 for anything
/// else. The registry must outlive the server. Methods are for one owning thread; the handlers
/// run on the server's threads.
class MetricsServer
{
public:
    explicit MetricsServer(core::MetricsRegistry &registry);
    ~MetricsServer();
    MetricsServer(const MetricsServer &) = delete;
    MetricsServer &operator=(const MetricsServer &) = delete;

    /// Listens on `address` (an IPv4 or IPv6 literal, or "localhost") and `port` (0: a free
    /// port, see port()). False with a message for an invalid address or a port in use.
    bool start(const std::string &address, int port, std::string *error);
    /// Stops listening and joins the threads (up to about a second for open keep-alive
    /// connections). Idempotent.
    void stop();

    bool running() const;
    int port() const;
    /// http://ADDRESS:PORT/metrics (IPv6 in brackets); empty when not running.
    std::string url() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

/// What a command serves at /metrics: a registry that always holds the process collector, and,
/// when the options give a port, the server. Commands and the GUI add the engine's collectors to
/// registry() with StudioEngine::registerMetrics(), others with MetricsRegistry::add().
class MetricsEndpoint
{
public:
    MetricsEndpoint();
    ~MetricsEndpoint();

    /// Starts the server if `options` ask for one and says "metrics: URL" on stderr. False with
    /// a message when it cannot listen (the command should then exit with a usage error).
    bool start(const MetricsOptions &options, std::string *error);
    core::MetricsRegistry &registry() { return m_registry; }
    const MetricsServer &server() const { return m_server; }

private:
    core::MetricsRegistry m_registry;
    MetricsServer m_server{m_registry};
    core::MetricsRegistry::Registration m_process;
};

using MetricsRegistration = core::MetricsRegistry::Registration;

/// Resident memory of this process (VmRSS, from /proc/self/statm) in bytes; -1 when unknown.
double residentBytes();

/// clickstream_build_info, process start time, resident memory and CPU time.
[[nodiscard]] MetricsRegistration registerProcessMetrics(core::MetricsRegistry &registry);

} // namespace studio::app
