// The /metrics endpoint: the Prometheus text writer and registry (format, escaping, grouping,
// validation, failing collectors), the HTTP server, and the built executable in headless mode
// scraped by us, checked by `promtool check metrics` and scraped by a real Prometheus server.
// promtool and prometheus come from the Debian package `prometheus` (scripts/bootstrap.sh).

#include "app/enginesetup.h"
#include "app/metricsserver.h"
#include "core/common/metrics.h"
#include "kafkatestsupport.h"
#include "serversupport.h"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using studio::core::MetricsRegistry;
using studio::core::MetricsText;
using studio::test::waitFor;
using namespace std::chrono_literals;

namespace {

const std::string kStudio = STUDIO_EXECUTABLE;
const std::string kMissingPrometheus =
    " not found: install the Debian package 'prometheus' (scripts/bootstrap.sh does)";

bool contains(const std::string &text, const std::string &part)
{
    return text.find(part) != std::string::npos;
}

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

/// The value of the first sample whose series starts with `series` (a name, or a name with the
/// start of its labels) and is followed by a space or a label set.
std::optional<double> sample(const std::string &text, const std::string &series)
{
    for (const auto &line : lines(text)) {
        if (line.empty() || line[0] == '#' || line.rfind(series, 0) != 0)
            continue;
        const char next = line.size() > series.size() ? line[series.size()] : '\0';
        if (next != ' ' && next != '{' && series.back() != '"' && series.back() != ',')
            continue;
        return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    }
    return std::nullopt;
}

std::string findProgram(const std::string &name)
{
    for (const char *dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
        const std::string path = std::string(dir) + "/" + name;
        if (::access(path.c_str(), X_OK) == 0)
            return path;
    }
    return {};
}

/// A directory removed with its contents at the end of the test.
struct TempDir
{
    std::string path;
    TempDir()
    {
        char name[] = "/tmp/studio-metrics-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
};

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const std::string &path, const std::string &text)
{
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

/// A port that was free a moment ago (the kernel's pick for port 0 on loopback).
int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

/// A socket listening on a loopback port for as long as it lives: a port in use.
struct BusyPort
{
    int fd = -1;
    int port = 0;
    BusyPort()
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 4) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0);
        port = ntohs(a.sin_port);
    }
    ~BusyPort() { ::close(fd); }
};

/// A child process with stdin from a file and stdout/stderr into files of `dir` (no pipes to
/// drain, nothing to fill). The destructor kills (SIGKILL, by pid) and reaps it if still running.
class Child
{
public:
    Child(const std::vector<std::string> &argv, const std::string &dir, const std::string &name,
          const std::string &stdinPath = "/dev/null")
        : m_outPath(dir + "/" + name + ".out")
        , m_errPath(dir + "/" + name + ".err")
    {
        std::vector<char *> cargv;
        for (const auto &a : argv)
            cargv.push_back(const_cast<char *>(a.c_str()));
        cargv.push_back(nullptr);
        const int in = ::open(stdinPath.c_str(), O_RDONLY | O_CLOEXEC);
        const int out = ::open(m_outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const int err = ::open(m_errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (in >= 0 && out >= 0 && err >= 0) {
            m_pid = ::fork();
            if (m_pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, nullptr);
                for (int s : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD})
                    ::signal(s, SIG_DFL);
                ::dup2(in, STDIN_FILENO);
                ::dup2(out, STDOUT_FILENO);
                ::dup2(err, STDERR_FILENO);
                ::execv(cargv[0], cargv.data());
                ::_exit(127);
            }
        }
        for (int fd : {in, out, err})
            if (fd >= 0)
                ::close(fd);
    }
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    ~Child()
    {
        if (m_pid > 0 && !exited()) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, &m_status, 0);
        }
    }

    bool started() const { return m_pid > 0; }
    bool exited()
    {
        if (m_pid > 0 && !m_exited && ::waitpid(m_pid, &m_status, WNOHANG) == m_pid)
            m_exited = true;
        return m_exited;
    }
    /// Waits up to `seconds` for the exit; false if still running.
    bool waitExit(double seconds)
    {
        return waitFor([&] { return exited(); },
                       std::chrono::seconds(static_cast<long>(std::ceil(seconds))));
    }
    int exitCode() const { return m_exited && WIFEXITED(m_status) ? WEXITSTATUS(m_status) : -1; }
    void signal(int sig)
    {
        if (m_pid > 0 && !exited())
            ::kill(m_pid, sig);
    }
    std::string out() const { return readFile(m_outPath); }
    std::string err() const { return readFile(m_errPath); }
    std::string describe()
    {
        const std::string e = err();
        return "exited=" + std::to_string(exited()) + " code=" + std::to_string(exitCode()) +
               "\n--- stderr (last 6000 bytes) ---\n" +
               (e.size() > 6000 ? e.substr(e.size() - 6000) : e);
    }

private:
    std::string m_outPath, m_errPath;
    pid_t m_pid = -1;
    bool m_exited = false;
    int m_status = 0;
};

struct Promtool
{
    int exitCode = -1;
    std::string output; // stdout and stderr
};

/// `promtool check metrics` with `text` on stdin.
Promtool promtoolCheck(const std::string &text)
{
    const std::string promtool = findProgram("promtool");
    if (promtool.empty())
        FAIL("promtool" + kMissingPrometheus);
    TempDir dir;
    writeFile(dir.path + "/metrics.txt", text);
    Child child({promtool, "check", "metrics"}, dir.path, "promtool", dir.path + "/metrics.txt");
    REQUIRE(child.started());
    REQUIRE(child.waitExit(60));
    return {child.exitCode(), child.out() + child.err()};
}

httplib::Result get(int port, const std::string &path)
{
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(3);
    client.set_read_timeout(10);
    return client.Get(path.c_str());
}

std::string scrape(int port)
{
    auto r = get(port, "/metrics");
    if (!r || r->status != 200)
        return {};
    return r->body;
}

/// The metric family names of a scrape (its `# TYPE` lines).
std::set<std::string> families(const std::string &text)
{
    std::set<std::string> out;
    for (const auto &line : lines(text)) {
        if (line.rfind("# TYPE ", 0) == 0)
            out.insert(line.substr(7, line.find(' ', 7) - 7));
    }
    return out;
}

/// The names in `a` that `b` lacks, one per line.
std::string missingFrom(const std::set<std::string> &a, const std::set<std::string> &b)
{
    std::string out;
    for (const auto &name : a)
        if (!b.count(name))
            out += "  " + name + "\n";
    return out.empty() ? "  (none)\n" : out;
}

/// An engine past its start: events consumed and aggregated, the monitor's first look taken.
bool warm(const std::string &text)
{
    return sample(text, "clickstream_valid_events_total").value_or(0) > 0 &&
           contains(text, "# TYPE clickstream_consumer_lag_messages ") &&
           contains(text, "# TYPE clickstream_aggregator_watermark_seconds ") &&
           contains(text, "# TYPE clickstream_consumer_group_status ") &&
           contains(text, "# TYPE clickstream_kafka_topic_partitions ");
}

/// Sets an environment variable for this process (and the children it starts) while it lives.
struct ScopedEnv
{
    std::string name;
    ScopedEnv(std::string n, const std::string &value)
        : name(std::move(n))
    {
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() { ::unsetenv(name.c_str()); }
    ScopedEnv(const ScopedEnv &) = delete;
    ScopedEnv &operator=(const ScopedEnv &) = delete;
};

/// The headless app with a metrics endpoint on `port`, ready when its stderr announces it.
struct HeadlessApp
{
    int port = freePort();
    TempDir dir;
    Child child;

    explicit HeadlessApp(int durationSeconds)
        : child({kStudio, "run", "--headless", "--rps", "2000", "--duration",
                 std::to_string(durationSeconds), "--metrics-port", std::to_string(port),
                 "--workers", "2"},
                dir.path, "app")
    {
        REQUIRE(child.started());
        const std::string line = "metrics: http://127.0.0.1:" + std::to_string(port) + "/metrics";
        const bool announced =
            waitFor([&] { return contains(child.err(), line) || child.exited(); }, 30s);
        INFO(child.describe());
        REQUIRE(announced);
        REQUIRE_FALSE(child.exited());
    }

    /// SIGTERM, and the app ends its run cleanly (drain, summary, exit 0).
    void stopCleanly()
    {
        child.signal(SIGTERM);
        const bool ended = child.waitExit(60);
        INFO(child.describe());
        CHECK(ended);
        CHECK(child.exitCode() == 0);
        CHECK(contains(child.err(), "done: produced"));
    }
};

} // namespace

// ---------------------------------------------------------------------------------------------
// The text writer
// ---------------------------------------------------------------------------------------------

TEST_CASE("a counter and a gauge are written with their HELP and TYPE lines", "[metrics][format]")
{
    MetricsText t;
    t.counter("app_requests_total", "Requests served", {{"code", "200"}}, 3);
    t.gauge("app_temperature_celsius", "Current temperature", 21.5);
    t.untyped("app_thing", "Something", {}, 7);
    CHECK(t.errors().empty());
    CHECK(t.str() == "# HELP app_requests_total Requests served\n"
                     "# TYPE app_requests_total counter\n"
                     "app_requests_total{code=\"200\"} 3\n"
                     "# HELP app_temperature_celsius Current temperature\n"
                     "# TYPE app_temperature_celsius gauge\n"
                     "app_temperature_celsius 21.5\n"
                     "# HELP app_thing Something\n"
                     "# TYPE app_thing untyped\n"
                     "app_thing 7\n");
    CHECK(t.familyCount() == 3);
    CHECK(t.sampleCount() == 3);
    CHECK(MetricsText().str().empty());
}

TEST_CASE("samples of a family added in several calls share one HELP and TYPE, in first-seen order",
          "[metrics][format]")
{
    MetricsText t;
    t.counter("b_total", "B", {{"x", "1"}}, 1);
    t.gauge("a", "A", {{"x", "1"}}, 10);
    t.counter("b_total", "B again, ignored", {{"x", "2"}}, 2);
    t.gauge("a", "A", {{"x", "2"}}, 20);
    MetricsText other;
    other.counter("b_total", "B", {{"x", "3"}}, 3);
    other.gauge("c", "C", 5);
    REQUIRE(t.append(other));
    CHECK(t.errors().empty());
    CHECK(t.str() == "# HELP b_total B\n# TYPE b_total counter\n"
                     "b_total{x=\"1\"} 1\nb_total{x=\"2\"} 2\nb_total{x=\"3\"} 3\n"
                     "# HELP a A\n# TYPE a gauge\na{x=\"1\"} 10\na{x=\"2\"} 20\n"
                     "# HELP c C\n# TYPE c gauge\nc 5\n");
}

TEST_CASE("values are formatted as Prometheus writes them", "[metrics][format]")
{
    CHECK(MetricsText::formatValue(0) == "0");
    CHECK(MetricsText::formatValue(-0.0) == "0");
    CHECK(MetricsText::formatValue(42) == "42");
    CHECK(MetricsText::formatValue(-7) == "-7");
    CHECK(MetricsText::formatValue(1e6) == "1000000");
    CHECK(MetricsText::formatValue(9007199254740993.0) == "9007199254740992"); // 2^53 + 1 rounds
    CHECK(MetricsText::formatValue(1.5) == "1.5");
    CHECK(MetricsText::formatValue(0.1) == "0.1");
    CHECK(MetricsText::formatValue(1e-7) == "1e-07");
    CHECK(MetricsText::formatValue(1e20) == "1e+20");
    CHECK(MetricsText::formatValue(std::numeric_limits<double>::quiet_NaN()) == "NaN");
    CHECK(MetricsText::formatValue(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(MetricsText::formatValue(-std::numeric_limits<double>::infinity()) == "-Inf");
    // Round trip of a value with many digits.
    CHECK(std::strtod(MetricsText::formatValue(1999.256908298946).c_str(), nullptr) ==
          1999.256908298946);
}

TEST_CASE("label values and help texts are escaped", "[metrics][format]")
{
    CHECK(MetricsText::escapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
    CHECK(MetricsText::escapeHelp("a\\b\"c\nd") == "a\\\\b\"c\\nd");
    MetricsText t;
    t.gauge("g", "line one\nline \\two\\", {{"path", "C:\\dir\n\"x\""}}, 1);
    CHECK(t.str() == "# HELP g line one\\nline \\\\two\\\\\n# TYPE g gauge\n"
                     "g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST_CASE("bad names, clashing types and repeated series are refused and reported",
          "[metrics][format]")
{
    CHECK(MetricsText::isValidMetricName("a_b:c9"));
    CHECK(MetricsText::isValidMetricName(":x"));
    CHECK_FALSE(MetricsText::isValidMetricName(""));
    CHECK_FALSE(MetricsText::isValidMetricName("9a"));
    CHECK_FALSE(MetricsText::isValidMetricName("a-b"));
    CHECK_FALSE(MetricsText::isValidMetricName("a b"));
    CHECK(MetricsText::isValidLabelName("_a"));
    CHECK_FALSE(MetricsText::isValidLabelName("__name__"));
    CHECK_FALSE(MetricsText::isValidLabelName("a:b"));
    CHECK_FALSE(MetricsText::isValidLabelName("1a"));

    MetricsText t;
    t.gauge("ok", "fine", 1);
    t.gauge("bad-name", "x", 1);
    t.gauge("ok2", "x", {{"__reserved", "v"}}, 1);
    t.gauge("ok3", "x", {{"a", "1"}, {"a", "2"}}, 1);
    t.counter("requests", "a counter without _total", 1);
    t.gauge("queue_total", "a gauge with _total", 1);
    t.counter("ok", "type clash", {}, 1); // "ok_total" would be fine, "ok" is a gauge already
    t.counter("ok_total", "fine", 1);
    t.gauge("ok", "repeated series", 2);
    t.gauge("ok", "another series of the family", {{"k", "v"}}, 3);
    CHECK(t.errors().size() == 7);
    CHECK(t.str() == "# HELP ok fine\n# TYPE ok gauge\nok 1\nok{k=\"v\"} 3\n"
                     "# HELP ok_total fine\n# TYPE ok_total counter\nok_total 1\n");

    MetricsText clash;
    clash.counter("ok_total", "x", {{"k", "v"}}, 1);
    clash.gauge("ok", "x", 9); // repeats the series `ok` of t
    const std::string before = t.str();
    CHECK_FALSE(t.append(clash));
    CHECK(t.str() == before); // nothing of `clash` added
}

TEST_CASE("a state set writes one series per state, 1 for the current one", "[metrics][format]")
{
    MetricsText t;
    t.stateSet("svc_state", "State", {{"svc", "a"}}, "state", {"up", "down"}, "down");
    CHECK(t.str() ==
          "# HELP svc_state State\n# TYPE svc_state gauge\n"
          "svc_state{svc=\"a\",state=\"up\"} 0\nsvc_state{svc=\"a\",state=\"down\"} 1\n");
}

TEST_CASE("promtool accepts the writer's output, escapes and special values included",
          "[metrics][format][promtool]")
{
    MetricsText t;
    t.counter("clickstream_test_events_total", "Events with \\ and\nnewline",
              {{"path", "a\\b\"c\nd"}, {"empty", ""}}, 12345678901234.0);
    t.gauge("clickstream_test_ratio", "Ratio", {{"k", "nan"}}, std::nan(""));
    t.gauge("clickstream_test_ratio", "Ratio", {{"k", "inf"}}, INFINITY);
    t.gauge("clickstream_test_ratio", "Ratio", {{"k", "-inf"}}, -INFINITY);
    t.gauge("clickstream_test_ratio", "Ratio", {{"k", "small"}}, 1.25e-9);
    t.gauge("clickstream_test_ratio", "Ratio", {{"k", "utf8"}}, 0.5);
    t.gauge("clickstream_test_seconds", "Unicode in help: caf\xc3\xa9 \xe2\x9c\x93", 1);
    REQUIRE(t.errors().empty());
    const Promtool p = promtoolCheck(t.str());
    INFO(t.str() << "\n--- promtool ---\n" << p.output);
    CHECK(p.exitCode == 0);
    CHECK(p.output.empty());
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

TEST_CASE("the registry calls collectors in order and survives one that throws",
          "[metrics][registry]")
{
    MetricsRegistry registry;
    auto a = registry.add("first", [](MetricsText &t) { t.gauge("m_first", "first", 1); });
    auto bad = registry.add("bad", [](MetricsText &t) {
        t.gauge("m_bad", "written before the throw", 1);
        throw std::runtime_error("boom\nsecond line");
    });
    auto c = registry.add("last", [](MetricsText &t) { t.gauge("m_last", "last", 2); });
    CHECK(registry.names() == std::vector<std::string>{"first", "bad", "last"});

    std::string text = registry.render();
    INFO(text);
    CHECK(text.find("m_first 1") < text.find("m_last 2"));
    CHECK_FALSE(contains(text, "m_bad"));
    CHECK(contains(text, "clickstream_collector_errors_total{collector=\"bad\"} 1\n"));
    CHECK(contains(text, "clickstream_collector_errors_total{collector=\"first\"} 0\n"));
    CHECK(contains(text, "# collector bad last failed: threw: boom second line\n"));
    text = registry.render();
    CHECK(contains(text, "clickstream_collector_errors_total{collector=\"bad\"} 2\n"));
    const Promtool p = promtoolCheck(text);
    INFO(p.output);
    CHECK(p.exitCode == 0);
    CHECK(p.output.empty());
}

TEST_CASE("a collector with a bad sample or a family clash is left out whole",
          "[metrics][registry]")
{
    MetricsRegistry registry;
    auto a = registry.add("good", [](MetricsText &t) {
        t.gauge("shared", "s", {{"c", "good"}}, 1);
    });
    auto b = registry.add("badname", [](MetricsText &t) {
        t.gauge("fine_one", "f", 1);
        t.gauge("not valid", "x", 1);
    });
    auto c = registry.add("clash", [](MetricsText &t) {
        t.gauge("clash_only", "only here", 1);
        t.gauge("shared", "s", {{"c", "good"}}, 2); // repeats good's series
    });
    const std::string text = registry.render();
    INFO(text);
    CHECK(contains(text, "shared{c=\"good\"} 1\n"));
    CHECK_FALSE(contains(text, "fine_one"));
    CHECK_FALSE(contains(text, "clash_only"));
    CHECK(contains(text, "clickstream_collector_errors_total{collector=\"badname\"} 1"));
    CHECK(contains(text, "clickstream_collector_errors_total{collector=\"clash\"} 1"));
    CHECK(contains(text, "clickstream_collector_errors_total{collector=\"good\"} 0"));
}

TEST_CASE("collector names are unique and registrations remove their collector",
          "[metrics][registry]")
{
    MetricsRegistry registry;
    auto noop = [](MetricsText &) {
    };
    {
        auto r = registry.add("one", noop);
        CHECK_THROWS_AS(registry.add("one", noop), std::invalid_argument);
        CHECK_THROWS_AS(registry.add("", noop), std::invalid_argument);
        MetricsRegistry::Registration moved = std::move(r);
        CHECK_FALSE(r.active());
        CHECK(moved.active());
        CHECK(registry.names().size() == 1);
    }
    CHECK(registry.names().empty());
    auto kept = registry.add("two", noop);
    CHECK(registry.remove("two"));
    CHECK_FALSE(registry.remove("two"));
    kept.reset();                           // already gone: harmless
    auto again = registry.add("two", noop); // the name is free again
    CHECK(registry.names() == std::vector<std::string>{"two"});
}

TEST_CASE("removing a collector waits for a scrape in progress, then it is never called again",
          "[metrics][registry][threads]")
{
    MetricsRegistry registry;
    std::atomic<bool> inside{false}, release{false}, removed{false};
    std::atomic<int> callsAfterRemove{0};
    auto r = registry.add("slow", [&](MetricsText &t) {
        if (removed)
            ++callsAfterRemove;
        inside = true;
        while (!release)
            std::this_thread::sleep_for(1ms);
        t.gauge("slow", "slow", 1);
    });
    std::thread scraper([&] { registry.render(); });
    REQUIRE(waitFor([&] { return inside.load(); }, 10s));
    std::atomic<bool> removeReturned{false};
    std::thread remover([&] {
        r.reset();
        removed = true;
        removeReturned = true;
    });
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(removeReturned); // still inside the collector: remove must wait
    release = true;
    scraper.join();
    remover.join();
    CHECK(removeReturned);
    CHECK_FALSE(contains(registry.render(), "slow"));
    CHECK(callsAfterRemove == 0);
}

TEST_CASE("scrapes, adds and removes from several threads at once", "[metrics][registry][threads]")
{
    MetricsRegistry registry;
    std::atomic<bool> stop{false};
    std::atomic<int> renders{0};
    std::vector<std::thread> scrapers;
    for (int i = 0; i < 3; ++i)
        scrapers.emplace_back([&] {
            while (!stop) {
                const std::string text = registry.render();
                if (contains(text, "clickstream_collector_errors_total"))
                    ++renders;
            }
        });
    for (int i = 0; i < 300; ++i) {
        auto r = registry.add("c" + std::to_string(i % 7), [i](MetricsText &t) {
            t.counter("churn_total", "churn", {{"i", std::to_string(i)}}, i);
        });
        if (i % 3 == 0)
            std::this_thread::yield();
    }
    stop = true;
    for (auto &t : scrapers)
        t.join();
    CHECK(registry.names().empty());
    CHECK(renders > 0);
}

// ---------------------------------------------------------------------------------------------
// The HTTP server
// ---------------------------------------------------------------------------------------------

TEST_CASE("the metrics server serves /metrics, a pointer at / and 404 elsewhere",
          "[metrics][server]")
{
    MetricsRegistry registry;
    auto r = registry.add("test", [](MetricsText &t) { t.counter("served_total", "s", 5); });
    studio::app::MetricsServer server(registry);
    std::string error;
    REQUIRE(server.start("127.0.0.1", 0, &error));
    INFO(error);
    REQUIRE(server.running());
    const int port = server.port();
    REQUIRE(port > 0);
    CHECK(server.url() == "http://127.0.0.1:" + std::to_string(port) + "/metrics");

    auto metrics = get(port, "/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(contains(metrics->body, "# TYPE served_total counter\nserved_total 5\n"));

    auto root = get(port, "/");
    REQUIRE(root);
    CHECK(root->status == 200);
    CHECK(contains(root->body, "/metrics"));

    auto missing = get(port, "/nothing");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(contains(missing->body, "/metrics"));

    // A keep-alive connection left open does not hold stop() for long.
    httplib::Client keepAlive("127.0.0.1", port);
    keepAlive.set_keep_alive(true);
    REQUIRE(keepAlive.Get("/metrics"));
    const auto t0 = std::chrono::steady_clock::now();
    server.stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    CHECK_FALSE(server.running());
    CHECK_FALSE(get(port, "/metrics"));
    server.stop(); // idempotent
}

TEST_CASE("the metrics server says clearly when the port is in use or the address is invalid",
          "[metrics][server]")
{
    MetricsRegistry registry;
    BusyPort busy;
    std::string error;
    {
        studio::app::MetricsServer server(registry);
        CHECK_FALSE(server.start("127.0.0.1", busy.port, &error));
        INFO(error);
        CHECK(contains(error, "already in use"));
        CHECK(contains(error, std::to_string(busy.port)));
        CHECK_FALSE(server.running());
    }
    {
        // Two of our own servers: the second must not share the port (no SO_REUSEPORT).
        studio::app::MetricsServer first(registry), second(registry);
        REQUIRE(first.start("127.0.0.1", 0, &error));
        CHECK_FALSE(second.start("127.0.0.1", first.port(), &error));
        CHECK(contains(error, "already in use"));
    }
    studio::app::MetricsServer server(registry);
    CHECK_FALSE(server.start("not-an-address", 0, &error));
    CHECK(contains(error, "not an IP address"));
    CHECK_FALSE(server.start("192.0.2.1", 0, &error)); // TEST-NET-1: not this machine's
    INFO(error);
    CHECK(contains(error, "not one of this machine's"));
    CHECK_FALSE(server.start("127.0.0.1", 70000, &error));
    CHECK(contains(error, "out of range"));
    const bool v6 = server.start("::1", 0, &error);
    CHECK(v6 == server.running());
    if (v6) // IPv6 loopback may be disabled on this machine
        CHECK(server.url() == "http://[::1]:" + std::to_string(server.port()) + "/metrics");
}

// ---------------------------------------------------------------------------------------------
// The executable
// ---------------------------------------------------------------------------------------------

TEST_CASE("the headless run serves growing counters at /metrics that promtool accepts",
          "[metrics][headless][promtool]")
{
    HeadlessApp app(30);
    std::string first;
    const bool producing = waitFor(
        [&] {
            first = scrape(app.port);
            return sample(first, "clickstream_produced_events_total").value_or(0) > 0 &&
                   sample(first, "clickstream_consumer_lag_messages").has_value();
        },
        30s);
    INFO(app.child.describe() << "\n--- last scrape ---\n" << first);
    REQUIRE(producing);

    for (const char *family : {"clickstream_build_info",
                               "clickstream_process_start_time_seconds",
                               "clickstream_process_resident_memory_bytes",
                               "clickstream_produced_events_total",
                               "clickstream_acked_events_total",
                               "clickstream_failed_events_total",
                               "clickstream_in_flight_events",
                               "clickstream_target_rate_events_per_second",
                               "clickstream_achieved_rate_events_per_second",
                               "clickstream_producer_produced_events_total",
                               "clickstream_producer_state",
                               "clickstream_consumed_events_total",
                               "clickstream_dead_lettered_events_total",
                               "clickstream_consumer_commits_total",
                               "clickstream_consumer_lag_messages",
                               "clickstream_consumer_assigned_partitions",
                               "clickstream_consumer_state",
                               "clickstream_aggregator_workers",
                               "clickstream_aggregator_worker_partitions",
                               "clickstream_aggregator_worker_events_total",
                               "clickstream_aggregator_worker_busy_ratio",
                               "clickstream_aggregator_read_events_total",
                               "clickstream_valid_events_total",
                               "clickstream_invalid_events_total",
                               "clickstream_duplicate_events_total",
                               "clickstream_late_events_total",
                               "clickstream_aggregator_open_windows",
                               "clickstream_aggregator_state_bytes",
                               "clickstream_collector_errors_total"}) {
        INFO(family);
        CHECK(contains(first, std::string("# TYPE ") + family + " "));
    }
    CHECK(sample(first, "clickstream_build_info{version=\"").value_or(0) == 1);
    // --workers 2 (issue 20): both workers own partitions of the 12 and ingest.
    const std::string consumer = "{group=\"clickstream-studio\",topic=\"clickstream\"";
    CHECK(sample(first, "clickstream_aggregator_workers" + consumer).value_or(0) == 2);
    double owned = 0;
    for (const char *w : {"0", "1"}) {
        INFO("worker " << w);
        const std::string labels = consumer + ",worker=\"" + w + "\"}";
        const auto partitions = sample(first, "clickstream_aggregator_worker_partitions" + labels);
        CHECK(partitions.value_or(0) >= 1);
        owned += partitions.value_or(0);
        CHECK(sample(first, "clickstream_aggregator_worker_events_total" + labels).has_value());
        const auto busy = sample(first, "clickstream_aggregator_worker_busy_ratio" + labels);
        CHECK(busy.value_or(-1) >= 0);
        CHECK(busy.value_or(2) <= 1);
    }
    CHECK(owned ==
          sample(first, "clickstream_consumer_assigned_partitions" + consumer).value_or(-1));
    CHECK(sample(first, "clickstream_process_resident_memory_bytes").value_or(0) > 1e6);
    CHECK(sample(first, "clickstream_target_rate_events_per_second").value_or(0) == 2000);
    CHECK(sample(first, "clickstream_invalid_events_total{reason=\"bad_json\"").has_value());
    CHECK(sample(first, "clickstream_producer_state{producer_id=\"1\",producer=\"producer-1\","
                        "state=\"running\"")
              .value_or(0) == 1);
    CHECK_FALSE(contains(first, "# collector ")); // no collector failed
    for (const auto &line : lines(first))
        if (line.rfind("clickstream_collector_errors_total", 0) == 0)
            CHECK(line.substr(line.rfind(' ')) == " 0");

    const double produced = *sample(first, "clickstream_produced_events_total");
    std::string second;
    const bool grew = waitFor(
        [&] {
            second = scrape(app.port);
            return sample(second, "clickstream_produced_events_total").value_or(0) > produced;
        },
        30s);
    INFO(second);
    CHECK(grew);
    CHECK(sample(second, "clickstream_consumed_events_total").value_or(0) > 0);

    // Event time per partition (issue 18): each partition with events has its own watermark,
    // idleness is shown per partition, and future_timestamp is among the invalid reasons.
    std::string perPartition;
    const bool watermarks = waitFor(
        [&] {
            perPartition = scrape(app.port);
            return sample(perPartition, "clickstream_partition_watermark_seconds{partition=\"")
                       .value_or(0) > 1.7e9;
        },
        30s);
    INFO(perPartition);
    CHECK(watermarks);
    CHECK(sample(perPartition, "clickstream_partition_idle{partition=\"").has_value());
    CHECK(sample(perPartition, "clickstream_aggregator_idle_partitions").has_value());
    CHECK(sample(perPartition, "clickstream_aggregator_held_events").has_value());
    CHECK(sample(perPartition, "clickstream_invalid_events_total{reason=\"future_timestamp\"")
              .value_or(-1) == 0);

    const Promtool p = promtoolCheck(second);
    INFO("--- promtool ---\n" << p.output);
    CHECK(p.exitCode == 0);
    CHECK(p.output.empty());

    app.stopCleanly();
}

TEST_CASE("a real Prometheus server scrapes the headless run and answers a PromQL query",
          "[metrics][headless][prometheus]")
{
    const std::string prometheus = findProgram("prometheus");
    if (prometheus.empty())
        FAIL("prometheus" + kMissingPrometheus);
    HeadlessApp app(120);

    TempDir dir;
    writeFile(dir.path + "/prometheus.yml", "global:\n"
                                            "  scrape_interval: 1s\n"
                                            "  scrape_timeout: 1s\n"
                                            "  evaluation_interval: 1s\n"
                                            "scrape_configs:\n"
                                            "  - job_name: clickstream\n"
                                            "    static_configs:\n"
                                            "      - targets: ['127.0.0.1:" +
                                                std::to_string(app.port) + "']\n");
    // The web port was free a moment ago; should another process take it first, try again.
    std::unique_ptr<Child> server;
    int webPort = 0;
    for (int attempt = 0; attempt < 3 && !server; ++attempt) {
        webPort = freePort();
        server = std::make_unique<Child>(
            std::vector<std::string>{prometheus, "--config.file=" + dir.path + "/prometheus.yml",
                                     "--storage.tsdb.path=" + dir.path + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(webPort),
                                     "--log.level=warn"},
            dir.path, "prometheus" + std::to_string(attempt));
        REQUIRE(server->started());
        const bool ready = waitFor(
            [&] {
                auto r = get(webPort, "/-/ready");
                return (r && r->status == 200) || server->exited();
            },
            90s);
        INFO(server->describe());
        if (server->exited() && contains(server->err(), "address already in use")) {
            server.reset();
            continue;
        }
        REQUIRE(ready);
        REQUIRE_FALSE(server->exited());
    }
    REQUIRE(server);

    // The target is up: Prometheus scraped and parsed /metrics.
    nlohmann::json target;
    const bool up = waitFor(
        [&] {
            auto r = get(webPort, "/api/v1/targets?state=active");
            if (!r || r->status != 200)
                return false;
            const auto body = nlohmann::json::parse(r->body, nullptr, false);
            if (body.is_discarded() || !body.contains("data"))
                return false;
            for (const auto &t : body["data"]["activeTargets"]) {
                target = t;
                if (t.value("health", "") == "up")
                    return true;
            }
            return false;
        },
        60s);
    INFO("target: " << target.dump(2) << "\n--- prometheus ---\n"
                    << server->describe() << "\n--- app ---\n"
                    << app.child.describe());
    REQUIRE(up);
    CHECK(target.value("lastError", "x").empty());
    CHECK(target["labels"].value("job", "") == "clickstream");

    // PromQL over the HTTP API returns the produced counter.
    double produced = 0;
    nlohmann::json answer;
    const bool answered = waitFor(
        [&] {
            auto r = get(webPort, "/api/v1/query?query=clickstream_produced_events_total");
            if (!r || r->status != 200)
                return false;
            answer = nlohmann::json::parse(r->body, nullptr, false);
            if (answer.is_discarded() || answer.value("status", "") != "success")
                return false;
            const auto &result = answer["data"]["result"];
            if (!result.is_array() || result.size() != 1)
                return false;
            produced = std::strtod(result[0]["value"][1].get<std::string>().c_str(), nullptr);
            return produced > 0;
        },
        60s);
    INFO("answer: " << answer.dump(2));
    REQUIRE(answered);
    CHECK(answer["data"]["result"][0]["metric"].value("job", "") == "clickstream");
    CHECK(produced > 0);

    server->signal(SIGTERM);
    CHECK(server->waitExit(30));
    app.stopCleanly();
}

TEST_CASE("the desktop app's engine and the headless run expose the same metric families",
          "[metrics][headless][gui][servers]")
{
    using studio::test::PostgresServer;
    using studio::test::RedisServer;
    std::string why;
    if (!PostgresServer::available(&why) || !RedisServer::available(&why))
        FAIL("PostgreSQL and Redis are needed: " << why);
    PostgresServer pg;
    RedisServer redis;
    std::string error;
    REQUIRE(pg.start(&error));
    REQUIRE(redis.start(&error));
    const ScopedEnv password("PGPASSWORD", pg.password()); // libpq's, here and in the child
    const std::string postgres =
        "postgresql://studio@127.0.0.1:" + std::to_string(pg.port()) + "/" + pg.database();
    auto redisUri = [&](int db) {
        return "redis://127.0.0.1:" + std::to_string(redis.port()) + "/" + std::to_string(db);
    };

    // The same configuration twice: on the embedded broker, then with PostgreSQL and Redis as
    // sinks. Each path has its own broker, group, shard and Redis database.
    for (const bool durable : {false, true}) {
        INFO((durable ? "with --postgres and --redis" : "embedded broker only"));
        std::vector<std::string> options = {"--rps", "2000"};
        if (durable)
            options.insert(options.end(), {"--postgres", postgres, "--redis", redisUri(0)});

        // The GUI's path: runGui() builds these settings and starts this engine for the window.
        studio::app::RunCommand gui;
        gui.produce.producer.settings.ratePerSecond = 2000;
        gui.groupId = "parity-gui";
        gui.shard = "gui";
        if (durable) {
            gui.produce.monitoring.postgres = postgres;
            gui.produce.monitoring.redis = redisUri(1);
        }
        studio::core::StudioEngineSettings settings;
        REQUIRE(studio::app::buildEngineSettings(gui, settings).empty());
        studio::app::MetricsEndpoint endpoint;
        studio::app::MetricsOptions metricsOptions;
        metricsOptions.port = 0;
        REQUIRE(endpoint.start(metricsOptions, &error));
        const studio::app::GuiEngine desktop =
            studio::app::startGuiEngine(settings, gui.produce, endpoint.registry());
        REQUIRE(desktop.firstProducer > 0);
        REQUIRE(desktop.engine->startProducer(desktop.firstProducer)); // the Start button

        // The headless path: the executable, as a user runs it.
        TempDir dir;
        const int port = freePort();
        std::vector<std::string> argv = {kStudio,
                                         "run",
                                         "--headless",
                                         "--duration",
                                         "120",
                                         "--group",
                                         "parity-headless",
                                         "--shard",
                                         "headless",
                                         "--metrics-port",
                                         std::to_string(port)};
        argv.insert(argv.end(), options.begin(), options.end());
        Child headless(argv, dir.path, "headless");
        REQUIRE(headless.started());

        {
            std::string fromGui, fromHeadless;
            const bool bothWarm = waitFor(
                [&] {
                    fromGui = scrape(endpoint.server().port());
                    fromHeadless = scrape(port);
                    return (warm(fromGui) && warm(fromHeadless)) || headless.exited();
                },
                90s);
            INFO(headless.describe() << "\n--- GUI scrape ---\n"
                                     << fromGui << "\n--- headless scrape ---\n"
                                     << fromHeadless);
            REQUIRE(bothWarm);
            REQUIRE_FALSE(headless.exited());
        }

        // Families that depend on the moment (an alert pending, a lag in seconds) may differ
        // for a while; a collector missing on one side never heals.
        std::set<std::string> a, b;
        const bool same = waitFor(
            [&] {
                a = families(scrape(endpoint.server().port()));
                b = families(scrape(port));
                return a == b;
            },
            30s);
        INFO("only the GUI's engine has:\n"
             << missingFrom(a, b) << "only headless has:\n"
             << missingFrom(b, a));
        CHECK(same);
        CHECK(a.count("clickstream_produced_events_total"));
        CHECK(a.count("clickstream_consumed_events_total"));
        CHECK(a.count("clickstream_kafka_up"));
        CHECK(a.count("clickstream_sink_state") == (durable ? 1 : 0));
        CHECK(b.count("clickstream_sink_written_rows_total") == (durable ? 1 : 0));

        headless.signal(SIGTERM);
        CHECK(headless.waitExit(60));
    }
}

TEST_CASE("a metrics port in use or a bad metrics address exits 2 with a clear message",
          "[metrics][cli]")
{
    TempDir dir;
    BusyPort busy;
    {
        Child app({kStudio, "run", "--headless", "--duration", "5", "--metrics-port",
                   std::to_string(busy.port)},
                  dir.path, "inuse");
        REQUIRE(app.waitExit(30));
        const std::string err = app.err();
        INFO(err);
        CHECK(app.exitCode() == 2);
        CHECK(
            contains(err, "error: cannot serve metrics on 127.0.0.1:" + std::to_string(busy.port)));
        CHECK(contains(err, "already in use"));
        CHECK_FALSE(contains(err, "embedded broker at")); // refused before anything started
    }
    {
        Child app({kStudio, "headless", "--duration", "5", "--metrics-port", "0",
                   "--metrics-address", "nowhere.invalid"},
                  dir.path, "badaddress");
        REQUIRE(app.waitExit(30));
        INFO(app.err());
        CHECK(app.exitCode() == 2);
        CHECK(contains(app.err(), "'nowhere.invalid' is not an IP address"));
    }
    {
        Child app({kStudio, "produce", "--duration", "5", "--metrics-port", "0",
                   "--metrics-address", "192.0.2.1"},
                  dir.path, "foreign");
        REQUIRE(app.waitExit(30));
        INFO(app.err());
        CHECK(app.exitCode() == 2);
        CHECK(contains(app.err(), "not one of this machine's"));
    }
    {
        Child app({kStudio, "run", "--headless", "--metrics-address", "127.0.0.1"}, dir.path,
                  "noport");
        REQUIRE(app.waitExit(30));
        INFO(app.err());
        CHECK(app.exitCode() != 0);
        CHECK(contains(app.err(), "--metrics-port"));
    }
}
