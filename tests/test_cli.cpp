// The built executable, run as a user would: bad arguments, --help, `generate`, `produce` on the
// embedded broker and on a separate `broker` process (checked with kcat when it is installed),
// replay, and the no-display fallback. Every child runs under a deadline of our own: a hung child
// is killed and the test fails instead of hanging.

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "jsonfields.h"
#include "serversupport.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

const std::string kStudio = STUDIO_EXECUTABLE;

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/// Changes to the test's own environment for one child.
struct EnvChange
{
    std::vector<std::string> unset;
    std::vector<std::pair<std::string, std::string>> set;
};

std::vector<std::string> childEnvironment(const EnvChange &change)
{
    std::vector<std::string> env;
    for (char **e = environ; e && *e; ++e) {
        const std::string_view kv(*e);
        const std::string name(kv.substr(0, kv.find('=')));
        const bool dropped =
            std::find(change.unset.begin(), change.unset.end(), name) != change.unset.end() ||
            std::any_of(change.set.begin(), change.set.end(),
                        [&](const auto &p) { return p.first == name; });
        if (!dropped)
            env.emplace_back(kv);
    }
    for (const auto &[name, value] : change.set)
        env.push_back(name + "=" + value);
    return env;
}

struct Result
{
    bool started = false;
    bool timedOut = false; // killed by us at the deadline
    bool exited = false;   // WIFEXITED
    int exitCode = -1;     // WEXITSTATUS when exited
    int signal = 0;        // WTERMSIG when killed by a signal
    std::string out, err;
    double seconds = 0; // wall time from start to exit

    std::string describe() const
    {
        std::ostringstream s;
        s << "started=" << started << " timedOut=" << timedOut << " exited=" << exited
          << " exitCode=" << exitCode << " signal=" << signal << " seconds=" << seconds
          << "\n--- stdout (" << out.size() << " bytes) ---\n"
          << (out.size() > 4000 ? out.substr(0, 4000) + "\n[...]" : out) << "\n--- stderr ("
          << err.size() << " bytes) ---\n"
          << (err.size() > 4000 ? err.substr(0, 4000) + "\n[...]" : err);
        return s.str();
    }
};

/// One child process with stdin on /dev/null and stdout/stderr on pipes that we drain from the
/// calling thread while waiting for something (pumpUntil). The destructor kills (SIGKILL, by
/// pid) and reaps a child that is still running, so no test leaves a process behind.
class Child
{
public:
    Child(const std::vector<std::string> &argv, const EnvChange &env = {})
    {
        m_started = Clock::now();
        // Everything the child needs is prepared before fork: after it, only async-signal-safe
        // calls.
        std::vector<std::string> envStrings = childEnvironment(env);
        std::vector<char *> cargv, cenv;
        for (const auto &a : argv)
            cargv.push_back(const_cast<char *>(a.c_str()));
        cargv.push_back(nullptr);
        for (auto &e : envStrings)
            cenv.push_back(e.data());
        cenv.push_back(nullptr);

        int out[2], err[2];
        if (::pipe2(out, O_CLOEXEC) != 0)
            return;
        if (::pipe2(err, O_CLOEXEC) != 0) {
            ::close(out[0]);
            ::close(out[1]);
            return;
        }
        const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const pid_t pid = ::fork();
        if (pid == 0) {
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            for (int s : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD})
                ::signal(s, SIG_DFL);
            if (devNull >= 0)
                ::dup2(devNull, STDIN_FILENO);
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(err[1], STDERR_FILENO);
            ::execve(cargv[0], cargv.data(), cenv.data());
            const char msg[] = "test_cli: execve failed\n";
            [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
            ::_exit(127);
        }
        if (devNull >= 0)
            ::close(devNull);
        ::close(out[1]);
        ::close(err[1]);
        if (pid < 0) {
            ::close(out[0]);
            ::close(err[0]);
            return;
        }
        m_pid = pid;
        m_outFd = out[0];
        m_errFd = err[0];
    }

    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;

    ~Child()
    {
        if (m_pid > 0 && !m_exited) {
            ::kill(m_pid, SIGKILL);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
        }
        closeFd(m_outFd);
        closeFd(m_errFd);
    }

    bool started() const { return m_pid > 0; }
    bool exited() const { return m_exited; }
    const std::string &out() const { return m_out; }
    const std::string &err() const { return m_err; }
    double elapsed() const { return Seconds(Clock::now() - m_started).count(); }

    /// Drains the pipes and reaps the child until `done()` holds or `seconds` pass; whether it
    /// held.
    bool pumpUntil(double seconds, const std::function<bool()> &done)
    {
        const auto deadline =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(seconds));
        for (;;) {
            reap();
            if (done())
                return true;
            const auto now = Clock::now();
            if (now >= deadline)
                return false;
            if (m_exited && m_outFd < 0 && m_errFd < 0)
                return done(); // nothing more can happen
            const int waitMs = static_cast<int>(std::clamp<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count(), 0,
                20));
            pollfd fds[2];
            nfds_t n = 0;
            if (m_outFd >= 0)
                fds[n++] = {m_outFd, POLLIN, 0};
            if (m_errFd >= 0)
                fds[n++] = {m_errFd, POLLIN, 0};
            if (n == 0) {
                ::usleep(static_cast<useconds_t>(waitMs) * 1000);
                continue;
            }
            const int ready = ::poll(fds, n, waitMs);
            if (ready < 0 && errno != EINTR)
                return false;
            for (nfds_t i = 0; i < n && ready > 0; ++i) {
                if (fds[i].revents == 0)
                    continue;
                if (fds[i].fd == m_outFd)
                    drain(m_outFd, m_out);
                else
                    drain(m_errFd, m_err);
            }
        }
    }

    /// Waits up to `seconds` for the first complete line on stdout.
    bool firstStdoutLine(double seconds, std::string &line)
    {
        const bool ok = pumpUntil(seconds, [&] { return m_out.find('\n') != std::string::npos; });
        if (ok)
            line = m_out.substr(0, m_out.find('\n'));
        return ok;
    }

    bool sendSignal(int sig) { return m_pid > 0 && !m_exited && ::kill(m_pid, sig) == 0; }

    /// Waits up to `seconds` for the child to exit and close its pipes; at the deadline it is
    /// killed (SIGKILL) and the result says timedOut.
    Result finish(double seconds)
    {
        Result r;
        r.started = started();
        if (!r.started)
            return r;
        pumpUntil(seconds, [&] { return m_exited && m_outFd < 0 && m_errFd < 0; });
        if (!m_exited) {
            r.timedOut = true;
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, &m_status, 0);
            m_exited = true;
            m_exitedAt = Clock::now();
        }
        // Whatever is still buffered in the pipes (a grandchild could hold them open: bounded).
        pumpUntil(0.5, [&] { return m_outFd < 0 && m_errFd < 0; });
        r.exited = WIFEXITED(m_status);
        r.exitCode = r.exited ? WEXITSTATUS(m_status) : -1;
        r.signal = WIFSIGNALED(m_status) ? WTERMSIG(m_status) : 0;
        r.out = m_out;
        r.err = m_err;
        r.seconds = Seconds(m_exitedAt - m_started).count();
        return r;
    }

private:
    static void closeFd(int &fd)
    {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }

    static void drain(int &fd, std::string &into)
    {
        char buf[65536];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0)
            into.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            closeFd(fd);
    }

    void reap()
    {
        if (m_pid <= 0 || m_exited)
            return;
        if (::waitpid(m_pid, &m_status, WNOHANG) == m_pid) {
            m_exited = true;
            m_exitedAt = Clock::now();
        }
    }

    pid_t m_pid = -1;
    int m_outFd = -1, m_errFd = -1;
    bool m_exited = false;
    int m_status = 0;
    Clock::time_point m_started, m_exitedAt;
    std::string m_out, m_err;
};

/// Runs a command to completion (or kills it after `timeoutSeconds`).
Result run(const std::vector<std::string> &argv, double timeoutSeconds, const EnvChange &env = {})
{
    Child child(argv, env);
    return child.finish(timeoutSeconds);
}

/// Runs the studio executable with these arguments.
Result runStudio(std::vector<std::string> args, double timeoutSeconds = 20,
                 const EnvChange &env = {})
{
    args.insert(args.begin(), kStudio);
    return run(args, timeoutSeconds, env);
}

std::string findOnPath(const std::string &program)
{
    const char *path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty())
            continue;
        const std::string candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

std::vector<std::string> splitLines(const std::string &text)
{
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t nl = text.find('\n', at);
        if (nl == std::string::npos)
            nl = text.size();
        lines.push_back(text.substr(at, nl - at));
        at = nl + 1;
    }
    return lines;
}

std::string lastLine(const std::string &text)
{
    const auto lines = splitLines(text);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (!it->empty())
            return *it;
    return {};
}

bool contains(const std::string &haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string::npos;
}

std::string readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A fresh directory under TMPDIR, removed with everything in it at the end of the scope.
struct TempDir
{
    std::filesystem::path path;
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "test_cli.XXXXXX").string();
        if (::mkdtemp(pattern.data()))
            path = pattern;
    }
    ~TempDir()
    {
        std::error_code ec;
        if (!path.empty())
            std::filesystem::remove_all(path, ec);
    }
};

bool isDigits(std::string_view s)
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// "YYYY-MM-DDTHH:MM:SS.mmmZ", exactly.
bool isIsoMillisZ(std::string_view ts)
{
    if (ts.size() != 24)
        return false;
    const std::size_t at[] = {4, 7, 10, 13, 16, 19, 23};
    const char want[] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    for (std::size_t i = 0; i < 7; ++i)
        if (ts[at[i]] != want[i])
            return false;
    return isDigits(ts.substr(0, 4)) && isDigits(ts.substr(5, 2)) && isDigits(ts.substr(8, 2)) &&
           isDigits(ts.substr(11, 2)) && isDigits(ts.substr(14, 2)) && isDigits(ts.substr(17, 2)) &&
           isDigits(ts.substr(20, 3));
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

struct Event
{
    std::string eventId, eventType, ts;
};

/// Checks one line against the event schema; empty when it conforms, else what is wrong.
std::string checkEvent(simdjson::dom::parser &parser, const std::string &line, Event &ev)
{
    simdjson::dom::element doc;
    if (auto e = parser.parse(line).get(doc))
        return std::string("not JSON: ") + simdjson::error_message(e);
    simdjson::dom::object obj;
    if (doc.get(obj))
        return "not a JSON object";

    static const std::set<std::string> kFields = {
        "event_id",   "event_type",       "ts",    "user_id",  "session_id", "page",
        "product_id", "product_category", "price", "referrer", "country",    "device_type",
        "browser"};
    std::set<std::string> seen;
    for (auto field : obj) {
        const std::string key(field.key);
        if (!kFields.count(key))
            return "unexpected field '" + key + "'";
        if (!seen.insert(key).second)
            return "duplicate field '" + key + "'";
    }
    if (seen.size() != kFields.size())
        return "missing fields: has " + std::to_string(seen.size()) + " of " +
               std::to_string(kFields.size());

    auto str = [&](const char *name, std::string *into) -> std::string {
        std::string_view v;
        if (obj[name].get(v))
            return std::string(name) + " is not a string";
        if (v.empty())
            return std::string(name) + " is empty";
        if (into)
            *into = std::string(v);
        return {};
    };
    for (const char *name :
         {"user_id", "session_id", "page", "referrer", "country", "device_type", "browser"})
        if (auto e = str(name, nullptr); !e.empty())
            return e;
    if (auto e = str("event_id", &ev.eventId); !e.empty())
        return e;
    if (auto e = str("event_type", &ev.eventType); !e.empty())
        return e;
    if (auto e = str("ts", &ev.ts); !e.empty())
        return e;

    static const std::set<std::string> kTypes = {"page_view", "click", "add_to_cart", "purchase"};
    if (!kTypes.count(ev.eventType))
        return "unknown event_type '" + ev.eventType + "'";
    if (!isIsoMillisZ(ev.ts))
        return "ts is not ISO-8601 with milliseconds and Z: '" + ev.ts + "'";
    std::string_view page;
    if (obj["page"].get(page) || page.front() != '/')
        return "page does not start with '/'";

    const bool idNull = obj["product_id"].is_null();
    const bool catNull = obj["product_category"].is_null();
    const bool priceNull = obj["price"].is_null();
    if (idNull || catNull || priceNull) {
        if (!(idNull && catNull && priceNull))
            return "product_id, product_category and price are not all null together";
    } else {
        if (auto e = str("product_id", nullptr); !e.empty())
            return e;
        if (auto e = str("product_category", nullptr); !e.empty())
            return e;
        double price = 0;
        if (obj["price"].get(price))
            return "price is not a number";
        if (!(price > 0) || !std::isfinite(price))
            return "price is not a positive number";
    }
    return {};
}

struct Summary
{
    std::uint64_t produced = 0, acked = 0, failed = 0;
    double seconds = 0, achievedRps = 0;
    std::int64_t highWatermarkSum = -2;
};

/// Parses the --json summary; empty when all fields are there, else what is wrong.
std::string parseSummary(const std::string &line, Summary &s)
{
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto e = parser.parse(line).get(doc))
        return std::string("summary is not JSON: ") + simdjson::error_message(e);
    simdjson::dom::object obj;
    if (doc.get(obj))
        return "summary is not a JSON object";
    if (obj["produced"].get(s.produced))
        return "no unsigned 'produced'";
    if (obj["acked"].get(s.acked))
        return "no unsigned 'acked'";
    if (obj["failed"].get(s.failed))
        return "no unsigned 'failed'";
    if (obj["seconds"].get(s.seconds))
        return "no number 'seconds'";
    if (obj["achieved_rps"].get(s.achievedRps))
        return "no number 'achieved_rps'";
    if (obj["topic_high_watermark_sum"].get(s.highWatermarkSum))
        return "no integer 'topic_high_watermark_sum'";
    return {};
}

bool within(double value, double target, double fraction)
{
    return std::fabs(value - target) <= target * fraction;
}

const EnvChange kNoSecrets{{"CLICKSTREAM_SASL_PASSWORD", "CLICKSTREAM_SSL_KEY_PASSWORD"}, {}};

} // namespace

// =============================================================================================

TEST_CASE("the test harness captures output and kills a hung child", "[cli][harness]")
{
    const Result ok = run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 10);
    INFO(ok.describe());
    CHECK(ok.exited);
    CHECK(ok.exitCode == 3);
    CHECK(ok.out == "out\n");
    CHECK(ok.err == "err\n");

    const Result hung = run({"/bin/sh", "-c", "exec sleep 60"}, 1);
    INFO(hung.describe());
    CHECK(hung.timedOut);
    CHECK_FALSE(hung.exited);
    CHECK(hung.signal == SIGKILL);
    CHECK(hung.seconds < 5);
}

TEST_CASE("bad arguments exit non-zero with a message on stderr", "[cli][args]")
{
    struct Case
    {
        std::vector<std::string> args;
        std::vector<std::string> stderrMentions;
    };
    const std::vector<Case> cases = {
        {{"produce", "--no-such-option"}, {"--no-such-option"}},
        {{"generate", "--count", "10", "--no-such-option"}, {"--no-such-option"}},
        {{"broker", "--no-such-option"}, {"--no-such-option"}},
        {{"produce", "--rps", "0"}, {"--rps"}},
        {{"produce", "--rps", "2000000"}, {"--rps"}},
        {{"generate"}, {"--count"}},
        {{"generate", "--count", "10", "--start", "notatime"}, {"--start", "notatime"}},
        {{"generate", "--count", "10", "--mix", "1,2"}, {"--mix"}},
        {{"produce", "--compression", "foo"}, {"--compression"}},
        {{"produce", "--broker", "notahostport", "--duration", "1"}, {"bootstrap"}},
    };
    for (const Case &c : cases) {
        std::string cmd;
        for (const auto &a : c.args)
            cmd += " " + a;
        const Result r = runStudio(c.args, 15, kNoSecrets);
        INFO("clickstream-studio" << cmd << "\n" << r.describe());
        CHECK(r.started);
        CHECK_FALSE(r.timedOut);
        CHECK(r.exited); // an exit code, not a crash
        CHECK(r.exitCode != 0);
        CHECK_FALSE(r.err.empty());
        CHECK(r.out.empty()); // messages go to stderr, never mixed into data on stdout
        for (const auto &m : c.stderrMentions)
            CHECK(contains(r.err, m));
    }
}

TEST_CASE("passwords on the command line are refused and never echoed", "[cli][args][secrets]")
{
    const std::string secret = "Hunter2-Sekrit-x9";
    for (const std::string option : {"--sasl-password", "--password", "--ssl-key-password"}) {
        for (const std::string &value : {std::string("x"), secret}) {
            const Result r = runStudio({"produce", option, value}, 15, kNoSecrets);
            INFO("produce " << option << " " << value << "\n" << r.describe());
            CHECK_FALSE(r.timedOut);
            CHECK(r.exited);
            CHECK(r.exitCode != 0);
            CHECK(contains(r.err, "CLICKSTREAM_SASL_PASSWORD"));
            if (value == secret) {
                CHECK_FALSE(contains(r.err, secret));
                CHECK_FALSE(contains(r.out, secret));
            }
        }
    }
}

TEST_CASE("PostgreSQL and Redis passwords in arguments or URIs are refused and never echoed",
          "[cli][args][secrets]")
{
    const std::string secret = "Hunter2-Sekrit-x9";
    const std::vector<std::vector<std::string>> cases = {
        {"--postgres", "postgresql://alice:" + secret + "@127.0.0.1:5432/studio"},
        {"--postgres", "host=127.0.0.1 user=alice password=" + secret},
        {"--redis", "redis://alice:" + secret + "@127.0.0.1:6379/0"},
        {"--postgres-password", secret},
        {"--redis-password", secret},
    };
    for (const auto &c : cases) {
        const Result r =
            runStudio({"run", "--headless", "--duration", "1", c[0], c[1]}, 15, kNoSecrets);
        INFO(c[0] << " " << c[1] << "\n" << r.describe());
        CHECK_FALSE(r.timedOut);
        CHECK(r.exitCode == 2);
        CHECK(contains(r.err, "password"));
        CHECK_FALSE(contains(r.err, secret));
        CHECK_FALSE(contains(r.out, secret));
    }
    const Result bad =
        runStudio({"run", "--headless", "--duration", "1", "--redis", "host:notaport"}, 15);
    CHECK(bad.exitCode == 2);
    CHECK(contains(bad.err, "bad port"));
}

// Regression: --webhook took "user:password@" in its URL, although passwords never come from the
// command line anywhere else (shell history and `ps` keep them).
TEST_CASE("a webhook URL with a password is refused with exit code 2 and where the password goes",
          "[cli][args][secrets]")
{
    const std::string secret = "Hunter2-Sekrit-x9";
    for (const std::string &url : {"https://alerts:" + secret + "@hooks.example/alertmanager",
                                   "http://:" + secret + "@127.0.0.1:9/x"}) {
        for (const std::vector<std::string> &command :
             {std::vector<std::string>{"run", "--headless", "--duration", "1"},
              std::vector<std::string>{"check", "--count", "1"}}) {
            std::vector<std::string> args = command;
            args.insert(args.end(), {"--webhook", url});
            const Result r = runStudio(args, 15, kNoSecrets);
            INFO(args[0] << " --webhook " << url << "\n" << r.describe());
            CHECK_FALSE(r.timedOut);
            CHECK(r.exitCode == 2);
            CHECK(contains(r.err, "--webhook must not contain a password"));
            CHECK(contains(r.err, "CLICKSTREAM_WEBHOOK_PASSWORD"));
            CHECK_FALSE(contains(r.err, secret));
            CHECK_FALSE(contains(r.out, secret));
        }
    }
}

TEST_CASE("SASL without a password and without a terminal is refused", "[cli][args][secrets]")
{
    // stdin is /dev/null (not a terminal), so there is no prompt; the environment has no
    // CLICKSTREAM_SASL_PASSWORD. Without the refusal it would try 127.0.0.1:9 forever.
    const Result r = runStudio({"produce", "--security-protocol", "sasl_ssl", "--broker",
                                "127.0.0.1:9", "--sasl-username", "u"},
                               15, kNoSecrets);
    INFO(r.describe());
    CHECK_FALSE(r.timedOut);
    CHECK(r.exited);
    CHECK(r.exitCode != 0);
    CHECK(r.seconds < 10);
    CHECK(contains(r.err, "password"));
    CHECK(contains(r.err, "CLICKSTREAM_SASL_PASSWORD"));
}

TEST_CASE("help of every subcommand exits 0 with usage", "[cli][help]")
{
    for (const std::string sub : {"", "broker", "produce", "generate", "headless", "topics",
                                  "messages", "groups", "acls", "alert-rules", "check", "report"}) {
        std::vector<std::string> args;
        if (!sub.empty())
            args.push_back(sub);
        args.push_back("--help");
        const Result r = runStudio(args, 15);
        INFO("clickstream-studio " << sub << " --help\n" << r.describe());
        CHECK_FALSE(r.timedOut);
        CHECK(r.exited);
        CHECK(r.exitCode == 0);
        CHECK(contains(r.out, "Usage:"));
        CHECK(contains(r.out, sub.empty() ? std::string("clickstream-studio")
                                          : "clickstream-studio " + sub));
        if (sub == "produce" || sub == "headless") {
            CHECK(contains(r.out, "--rps"));
            CHECK(contains(r.out, "--duration"));
            // Accepted only to be refused: not advertised.
            CHECK_FALSE(contains(r.out, "--sasl-password"));
        }
        if (sub == "generate")
            CHECK(contains(r.out, "--count"));
    }
}

TEST_CASE("the README's configuration reference names every flag of every subcommand",
          "[cli][help][docs]")
{
    const std::string readme = readFile(std::filesystem::path(STUDIO_SOURCE_DIR) / "README.md");
    REQUIRE(!readme.empty());
    const std::string reference = readme.substr(readme.find("## Configuration reference"));
    REQUIRE(reference.size() < readme.size());
    for (const std::string sub :
         {"", "broker", "produce", "generate", "run", "headless", "aggregate", "topics", "messages",
          "groups", "acls", "alert-rules", "check", "report", "verify"}) {
        std::vector<std::string> args;
        if (!sub.empty())
            args.push_back(sub);
        args.push_back("--help");
        const Result r = runStudio(args, 15);
        REQUIRE(r.exitCode == 0);
        // Every long option the help lists (the usage line and subcommand names aside).
        std::set<std::string> flags;
        for (const std::string &line : splitLines(r.out)) {
            // Options are listed one per line, each starting with its flags ("-f,--follow").
            std::size_t at = line.find_first_not_of(' ');
            if (at == std::string::npos || line[at] != '-')
                continue;
            if (line.compare(at, 2, "--") != 0) {
                at = line.find(",--", at);
                if (at == std::string::npos)
                    continue;
                ++at;
            }
            std::size_t end = at + 2;
            while (end < line.size() &&
                   (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '-'))
                ++end;
            flags.insert(line.substr(at, end - at));
        }
        CHECK(flags.size() > (sub.empty() ? 3u : 0u));
        for (const std::string &flag : flags) {
            INFO("clickstream-studio " << sub << ": " << flag
                                       << " is missing from README.md's configuration reference");
            CHECK(contains(reference, "`" + flag + "`"));
        }
    }
}

TEST_CASE("generate is deterministic and well-formed and spaced in virtual time", "[cli][generate]")
{
    const std::vector<std::string> args = {
        "generate", "--count", "1000", "--seed", "7", "--start", "2026-01-01T00:00:00.000Z",
        "--rps",    "100"};
    const Result a = runStudio(args, 20);
    INFO(a.describe());
    REQUIRE_FALSE(a.timedOut);
    REQUIRE(a.exitCode == 0);

    const Result b = runStudio(args, 20);
    REQUIRE(b.exitCode == 0);
    CHECK(a.out == b.out);

    std::vector<std::string> otherSeed = args;
    otherSeed[4] = "8";
    const Result c = runStudio(otherSeed, 20);
    REQUIRE(c.exitCode == 0);
    CHECK(c.out != a.out);

    REQUIRE(!a.out.empty());
    CHECK(a.out.back() == '\n');
    const auto lines = splitLines(a.out);
    REQUIRE(lines.size() == 1000);

    simdjson::dom::parser parser;
    std::set<std::string> ids;
    std::set<std::string> types;
    int bad = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        Event ev;
        const std::string problem = checkEvent(parser, lines[i], ev);
        // 1000 lines: report the first few problems, count the rest.
        if (!problem.empty() && ++bad <= 5) {
            INFO("line " << i + 1 << ": " << lines[i]);
            CHECK(problem == "");
        }
        if (!problem.empty())
            continue;
        // Event i lies i * 10 ms after the start (100 events per virtual second).
        const long long ms = static_cast<long long>(i) * 10;
        char want[64];
        std::snprintf(want, sizeof want, "2026-01-01T00:00:%02lld.%03lldZ", ms / 1000, ms % 1000);
        if (ev.ts != want && ++bad <= 5) {
            INFO("line " << i + 1 << ": " << lines[i]);
            CHECK(ev.ts == want);
        }
        ids.insert(ev.eventId);
        types.insert(ev.eventType);
    }
    CHECK(bad == 0);
    CHECK(ids.size() == 1000); // no duplicates unless --duplicates asks for them
    CHECK(types.count("page_view") == 1);
    CHECK(types.count("click") == 1);

    SECTION("--out FILE writes the same bytes")
    {
        TempDir dir;
        REQUIRE(!dir.path.empty());
        const auto file = dir.path / "events.jsonl";
        std::vector<std::string> toFile = args;
        toFile.push_back("--out");
        toFile.push_back(file.string());
        const Result f = runStudio(toFile, 20);
        INFO(f.describe());
        REQUIRE(f.exitCode == 0);
        CHECK(f.out.empty());
        CHECK(readFile(file) == a.out);
    }
}

TEST_CASE("produce on the embedded broker delivers every event at the target rate",
          "[cli][produce][broker]")
{
    const Result r = runStudio({"produce", "--rps", "2000", "--duration", "2", "--json"}, 30);
    INFO(r.describe());
    REQUIRE_FALSE(r.timedOut);
    CHECK(r.exited);
    CHECK(r.exitCode == 0);
    // With --json, stdout is the summary alone (status lines go to stderr).
    CHECK(splitLines(r.out).size() == 1);
    Summary s;
    const std::string problem = parseSummary(lastLine(r.out), s);
    REQUIRE(problem == "");
    CHECK(s.produced == s.acked + s.failed);
    CHECK(s.failed == 0);
    CHECK(within(static_cast<double>(s.acked), 4000, 0.05));
    CHECK(s.highWatermarkSum == static_cast<std::int64_t>(s.acked));
    CHECK(s.seconds >= 1.9);
    CHECK(s.seconds < 4.0);
    CHECK(within(s.achievedRps, 2000, 0.075));
    CHECK(r.seconds < 15);
}

TEST_CASE("broker and produce as two processes and read back with kcat",
          "[cli][produce][broker][kcat]")
{
    Child broker({kStudio, "broker", "--partitions", "6"});
    REQUIRE(broker.started());
    std::string bootstrap;
    const bool gotLine = broker.firstStdoutLine(20, bootstrap);
    INFO("broker stdout: " << broker.out() << "\nbroker stderr: " << broker.err());
    REQUIRE(gotLine);
    // HOST:PORT[,HOST:PORT...]
    const auto hosts = [&] {
        std::vector<std::string> v;
        std::stringstream in(bootstrap);
        std::string h;
        while (std::getline(in, h, ','))
            v.push_back(h);
        return v;
    }();
    REQUIRE(!hosts.empty());
    for (const auto &h : hosts) {
        INFO("bootstrap entry '" << h << "'");
        const auto colon = h.rfind(':');
        REQUIRE(colon != std::string::npos);
        CHECK(colon > 0);
        CHECK(isDigits(h.substr(colon + 1)));
    }

    const Result p = runStudio(
        {"produce", "--broker", bootstrap, "--rps", "5000", "--duration", "2", "--json"}, 30);
    {
        INFO(p.describe());
        REQUIRE_FALSE(p.timedOut);
        CHECK(p.exitCode == 0);
        Summary s;
        const std::string problem = parseSummary(lastLine(p.out), s);
        REQUIRE(problem == "");
        CHECK(s.produced == s.acked + s.failed);
        CHECK(s.failed == 0);
        CHECK(within(static_cast<double>(s.acked), 10000, 0.05));
        CHECK(s.highWatermarkSum == static_cast<std::int64_t>(s.acked));
    }

    const std::string kcat = findOnPath("kcat");
    if (kcat.empty()) {
        WARN("kcat is not on PATH: skipping the kcat part of this test");
    } else {
        const Result meta = run({kcat, "-b", bootstrap, "-L"}, 20);
        {
            INFO(meta.describe());
            CHECK_FALSE(meta.timedOut);
            CHECK(meta.exitCode == 0);
            CHECK(contains(meta.out, "topic \"clickstream\" with 6 partitions"));
        }
        const Result consume =
            run({kcat, "-b", bootstrap, "-C", "-t", "clickstream", "-c", "5", "-e", "-q"}, 20);
        INFO(consume.describe());
        CHECK_FALSE(consume.timedOut);
        CHECK(consume.exitCode == 0);
        const auto lines = splitLines(consume.out);
        CHECK(lines.size() == 5);
        simdjson::dom::parser parser;
        for (const auto &line : lines) {
            Event ev;
            INFO("record: " << line);
            CHECK(checkEvent(parser, line, ev) == "");
        }
    }

    REQUIRE(broker.sendSignal(SIGTERM));
    const Result b = broker.finish(10);
    INFO(b.describe());
    CHECK_FALSE(b.timedOut);
    CHECK(b.exited);
    CHECK(b.exitCode == 0);
}

TEST_CASE("produce with replay plays a file once or loops it", "[cli][produce][replay]")
{
    TempDir dir;
    REQUIRE(!dir.path.empty());
    const std::string file = (dir.path / "events.jsonl").string();
    const Result g = runStudio({"generate", "--count", "500", "--out", file}, 20);
    INFO(g.describe());
    REQUIRE(g.exitCode == 0);
    REQUIRE(splitLines(readFile(file)).size() == 500);

    SECTION("once: stops when the file is played, well before --duration")
    {
        const Result r = runStudio(
            {"produce", "--replay", file, "--rps", "1000", "--duration", "10", "--json"}, 30);
        INFO(r.describe());
        REQUIRE_FALSE(r.timedOut);
        CHECK(r.exitCode == 0);
        Summary s;
        REQUIRE(parseSummary(lastLine(r.out), s) == "");
        CHECK(s.produced == 500);
        CHECK(s.acked == 500);
        CHECK(s.failed == 0);
        CHECK(s.highWatermarkSum == 500);
        // 500 events at 1000/s take half a second; it must not wait out the 10 s.
        CHECK(s.seconds < 5);
        CHECK(r.seconds < 7);
    }
    SECTION("--loop: starts over until --duration")
    {
        const Result r = runStudio(
            {"produce", "--replay", file, "--loop", "--rps", "1000", "--duration", "2", "--json"},
            30);
        INFO(r.describe());
        REQUIRE_FALSE(r.timedOut);
        CHECK(r.exitCode == 0);
        Summary s;
        REQUIRE(parseSummary(lastLine(r.out), s) == "");
        CHECK(s.acked > 500);
        CHECK(within(static_cast<double>(s.acked), 2000, 0.10));
        CHECK(s.failed == 0);
        CHECK(s.produced == s.acked);
        CHECK(s.highWatermarkSum == static_cast<std::int64_t>(s.acked));
    }
}

TEST_CASE("without a display the app runs headless until SIGTERM", "[cli][headless]")
{
    // Headless is `run --headless`: producer and aggregator on the embedded broker.
    const EnvChange noDisplay{{"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}, {}};
    Child app({kStudio}, noDisplay);
    REQUIRE(app.started());
    // At least ~3 s of running, and a status line on stdout (one per second).
    const auto statusLine = [&] {
        for (const auto &line : splitLines(app.out()))
            if (line.size() > 2 && line.front() == '[' && contains(line, "produced") &&
                contains(line, "consumed") && contains(line, "lag"))
                return true;
        return false;
    };
    const bool running = app.pumpUntil(15, [&] { return app.elapsed() >= 3 && statusLine(); });
    INFO("stdout: " << app.out() << "\nstderr: " << app.err());
    CHECK_FALSE(app.exited());
    CHECK(running);
    CHECK(contains(app.err(), "headless"));

    REQUIRE(app.sendSignal(SIGTERM));
    const Result r = app.finish(10);
    INFO(r.describe());
    CHECK_FALSE(r.timedOut);
    CHECK(r.exited);
    CHECK(r.exitCode == 0);
    CHECK(contains(r.err, "done: produced"));
    CHECK(contains(r.err, "consumed")); // the aggregator ran too: the same engine as the GUI
}

using studio::test::jsonInt;

TEST_CASE("aggregate turns a generated file into the four CSV reports", "[cli][aggregate]")
{
    TempDir dir;
    const std::string file = (dir.path / "events.jsonl").string();
    const std::string out = (dir.path / "reports").string();
    const Result g = runStudio({"generate", "--count", "20000", "--rps", "100", "--start",
                                "2026-01-01T00:00:00.000Z", "--malformed", "0.02", "--late", "0.01",
                                "--duplicates", "0.03", "--out", file},
                               20);
    REQUIRE(g.exitCode == 0);
    const Result r = runStudio({"aggregate", "--input", file, "--out", out, "--json"}, 60);
    INFO(r.describe());
    REQUIRE(r.exitCode == 0);
    const std::string summary = lastLine(r.out);
    CHECK(jsonInt(summary, "events_in") == 20000);
    CHECK(jsonInt(summary, "invalid") > 200);
    CHECK(jsonInt(summary, "late") > 100);
    CHECK(jsonInt(summary, "duplicates") > 300);
    CHECK(jsonInt(summary, "valid") + jsonInt(summary, "invalid") + jsonInt(summary, "late") +
              jsonInt(summary, "duplicates") ==
          20000);
    const std::map<std::string, std::string> headers = {
        {"page_metrics.csv", "window_start,window_end,page,views,clicks,add_to_cart,purchases,"
                             "revenue,unique_users,unique_sessions"},
        {"geo_metrics.csv", "window_start,window_end,country,browser,device_type,events"},
        {"sessions.csv",
         "user_id,session_start,session_end,events,distinct_pages,revenue,converted"},
        {"product_funnel.csv", "window_start,window_end,product_id,views,add_to_cart,purchases,"
                               "hot_low_conversion"}};
    for (const auto &[name, header] : headers) {
        const auto lines = splitLines(readFile(out + "/" + name));
        INFO(name);
        REQUIRE(lines.size() > 1);
        std::string first = lines.front();
        if (!first.empty() && first.back() == '\r')
            first.pop_back();
        CHECK(first == header);
    }
    // 200 s of events: four page windows (the last one partly), the first one starting at --start.
    const auto pages = splitLines(readFile(out + "/page_metrics.csv"));
    CHECK(pages[1].rfind("2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,", 0) == 0);

    const Result bad =
        runStudio({"aggregate", "--input", file, "--out", out, "--page-window", "soon"});
    CHECK(bad.exitCode != 0);
    CHECK(bad.err.find("--page-window") != std::string::npos);
}

namespace {

/// page_metrics.csv as (window start, page) -> events (views + clicks + carts + purchases).
std::map<std::pair<std::string, std::string>, std::uint64_t> pageEvents(const std::string &csv)
{
    std::map<std::pair<std::string, std::string>, std::uint64_t> out;
    const auto lines = splitLines(csv);
    for (std::size_t i = 1; i < lines.size(); ++i) {
        std::vector<std::string> cells;
        std::size_t from = 0;
        for (std::size_t at; (at = lines[i].find(',', from)) != std::string::npos; from = at + 1)
            cells.push_back(lines[i].substr(from, at - from));
        cells.push_back(lines[i].substr(from));
        if (cells.size() < 7)
            continue;
        out[{cells[0], cells[2]}] += std::stoull(cells[3]) + std::stoull(cells[4]) +
                                     std::stoull(cells[5]) + std::stoull(cells[6]);
    }
    return out;
}

} // namespace

TEST_CASE("aggregate with a million unique URLs: pages normalised, the key cap folds the rest "
          "into (other), totals exact",
          "[cli][aggregate][cardinality]")
{
    // Issue 24's files: 1,000,000 events (50 s from 00:00:30, so two page windows), once with a
    // query string unique to each event, once with a path unique to each event.
    TempDir dir;
    const std::string plain = (dir.path / "plain.jsonl").string();
    const Result g = runStudio({"generate", "--count", "1000000", "--rps", "20000", "--start",
                                "2026-01-01T00:00:30.000Z", "--out", plain},
                               120);
    REQUIRE(g.exitCode == 0);
    std::ofstream query(dir.path / "query.jsonl"), unique(dir.path / "unique.jsonl");
    // The oracles: events per (window, page) with the query string cut (the rule of
    // --page-query drop for these paths), and distinct pages per window.
    std::map<std::pair<std::string, std::string>, std::uint64_t> expected;
    std::map<std::string, std::uint64_t> eventsPerWindow;
    std::uint64_t n = 0;
    for (const std::string &line : splitLines(readFile(plain))) {
        if (line.empty())
            continue;
        ++n;
        const std::size_t ts = line.find("\"ts\":\"") + 6;
        const std::string window = line.substr(ts, 16) + ":00.000Z";
        const std::size_t at = line.find("\"page\":\"") + 8;
        const std::size_t end = line.find('"', at);
        const std::string page = line.substr(at, end - at);
        ++expected[{window, page}];
        ++eventsPerWindow[window];
        char sid[32];
        std::snprintf(sid, sizeof sid, "?utm_source=x&sid=%08llu",
                      static_cast<unsigned long long>(n));
        query << line.substr(0, end) << sid << line.substr(end) << '\n';
        unique << line.substr(0, at) << "/p/" << n << line.substr(end) << '\n';
    }
    query.close();
    unique.close();
    REQUIRE(n == 1'000'000);
    REQUIRE(eventsPerWindow.size() == 2);

    const std::string queryOut = (dir.path / "query").string();
    const Result q = runStudio(
        {"aggregate", "--input", (dir.path / "query.jsonl").string(), "--out", queryOut, "--json"},
        300);
    INFO(q.describe());
    REQUIRE(q.exitCode == 0);
    std::string summary = lastLine(q.out);
    CHECK(jsonInt(summary, "valid") == 1'000'000);
    CHECK(jsonInt(summary, "page_rows") == static_cast<std::int64_t>(expected.size()));
    CHECK(jsonInt(summary, "keys_folded") == 0);
    CHECK(pageEvents(readFile(queryOut + "/page_metrics.csv")) == expected);

    const std::string uniqueOut = (dir.path / "unique").string();
    const Result u = runStudio({"aggregate", "--input", (dir.path / "unique.jsonl").string(),
                                "--out", uniqueOut, "--max-keys-per-window", "10000", "--json"},
                               300);
    INFO(u.describe());
    REQUIRE(u.exitCode == 0);
    summary = lastLine(u.out);
    const auto rows = pageEvents(readFile(uniqueOut + "/page_metrics.csv"));
    std::uint64_t total = 0, expectedFolded = 0;
    for (const auto &[window, events] : eventsPerWindow) {
        INFO(window);
        std::uint64_t rowsHere = 0, eventsHere = 0, other = 0;
        for (const auto &[key, count] : rows) {
            if (key.first != window)
                continue;
            ++rowsHere;
            eventsHere += count;
            if (key.second == "(other)")
                other = count;
            else
                CHECK(count == 1);
        }
        CHECK(rowsHere == 10'001);
        CHECK(eventsHere == events);
        CHECK(other == events - 10'000); // every path is one event: folded keys = its events
        expectedFolded += events - 10'000;
        total += eventsHere;
    }
    CHECK(total == 1'000'000);
    CHECK(jsonInt(summary, "page_rows") == 2 * 10'001);
    CHECK(jsonInt(summary, "keys_folded") == static_cast<std::int64_t>(expectedFolded));
    CHECK(jsonInt(summary, "windows_capped") == 2);
    CHECK(u.err.find("key cap 10000 reached in 2 window(s)") != std::string::npos);
}

TEST_CASE("run --headless produces, aggregates, drains and writes reports", "[cli][run]")
{
    TempDir dir;
    const std::string out = (dir.path / "reports").string();
    const Result r = runStudio({"run", "--headless", "--rps", "5000", "--duration", "3",
                                "--malformed", "0.01", "--report-dir", out, "--json"},
                               90);
    INFO(r.describe());
    REQUIRE_FALSE(r.timedOut);
    CHECK(r.exitCode == 0);
    const std::string summary = lastLine(r.out);
    const auto produced = jsonInt(summary, "produced");
    CHECK(produced > 13'000);
    CHECK(jsonInt(summary, "acked") == produced);
    CHECK(jsonInt(summary, "consumed") == produced); // drained: every event reached the aggregator
    CHECK(jsonInt(summary, "lag") == 0);
    CHECK(jsonInt(summary, "drained") == 1);
    CHECK(jsonInt(summary, "invalid") > 50);
    CHECK(jsonInt(summary, "dead_lettered") ==
          jsonInt(summary, "invalid") + jsonInt(summary, "late"));
    CHECK(jsonInt(summary, "valid") + jsonInt(summary, "invalid") + jsonInt(summary, "late") +
              jsonInt(summary, "duplicates") ==
          produced);
    for (const char *name :
         {"page_metrics.csv", "geo_metrics.csv", "sessions.csv", "product_funnel.csv"})
        CHECK(splitLines(readFile(out + "/" + std::string(name))).size() > 1);
}

TEST_CASE("run --headless --workers 3 shows each worker's partitions and events in --json-status "
          "and counts exactly",
          "[cli][run]")
{
    const Result r = runStudio({"run", "--headless", "--rps", "5000", "--duration", "3",
                                "--malformed", "0.01", "--workers", "3", "--json-status", "--json"},
                               90);
    INFO(r.describe());
    REQUIRE_FALSE(r.timedOut);
    CHECK(r.exitCode == 0);
    const std::string summary = lastLine(r.out);
    const auto produced = jsonInt(summary, "produced");
    CHECK(produced > 13'000);
    CHECK(jsonInt(summary, "consumed") == produced);
    CHECK(jsonInt(summary, "dead_lettered") ==
          jsonInt(summary, "invalid") + jsonInt(summary, "late"));
    CHECK(jsonInt(summary, "valid") + jsonInt(summary, "invalid") + jsonInt(summary, "late") +
              jsonInt(summary, "duplicates") ==
          produced);
    // The status lines: three workers; their partitions are the assigned ones (12 on the
    // embedded broker), their events add up to what was consumed.
    simdjson::dom::parser parser;
    int statusLines = 0;
    std::int64_t lastConsumed = -1, lastIngested = -1;
    for (const std::string &line : splitLines(r.out)) {
        if (!contains(line, "\"phase\""))
            continue;
        simdjson::dom::element status;
        REQUIRE(parser.parse(line).get(status) == simdjson::SUCCESS);
        simdjson::dom::array workers;
        REQUIRE(status["workers"].get(workers) == simdjson::SUCCESS);
        CHECK(workers.size() == 3);
        std::int64_t partitions = 0, ingested = 0;
        for (simdjson::dom::element w : workers) {
            partitions += std::int64_t(w["partitions"]);
            ingested += std::int64_t(w["events"]);
            const double busy = double(w["busy"]);
            CHECK(busy >= 0.0);
            CHECK(busy <= 1.0);
        }
        if (std::int64_t(status["partitions"]) == 12)
            CHECK(partitions == 12);
        ++statusLines;
        lastConsumed = std::int64_t(status["consumed"]);
        lastIngested = ingested;
    }
    CHECK(statusLines >= 2);
    // Workers count a record when they ingested it, `consumed` when its batch is settled.
    CHECK(lastIngested >= lastConsumed);
}

TEST_CASE("the console's changes on the embedded broker: what the mock cannot do ends at once "
          "with a reason, produce and a reset's dry run work",
          "[cli][console][broker]")
{
    Child broker({kStudio, "broker", "--partitions", "3"});
    std::string bootstrap;
    REQUIRE(broker.firstStdoutLine(20, bootstrap));
    const std::vector<std::vector<std::string>> refused = {
        {"topics", "--topic", "clickstream", "--configs"},
        {"topics", "--topic", "clickstream", "--set-config", "retention.ms=1000"},
        {"topics", "--topic", "clickstream", "--add-partitions", "6"},
        {"topics", "--topic", "clickstream", "--delete", "--confirm", "clickstream"},
        {"topics", "--topic", "clickstream", "--delete-records-before", "1"},
        {"groups", "--group", "g", "--delete"},
        {"acls"},
    };
    for (auto args : refused) {
        args.insert(args.begin() + 1, {"--broker", bootstrap});
        const Result r = runStudio(args, 30);
        INFO(r.describe());
        CHECK(r.exitCode == 1);
        CHECK(r.seconds < 10);
        CHECK(contains(r.err, "not possible on the embedded broker"));
        CHECK(splitLines(r.err).size() == 1);
    }
    TempDir dir;
    const std::string value = (dir.path / "value.json").string();
    std::ofstream(value) << R"({"event_id":"e-1"})";
    const Result p = runStudio({"messages", "--broker", bootstrap, "--topic", "clickstream",
                                "--produce", "--partition", "2", "--key", "k", "--header",
                                "source=test", "--value-file", value},
                               30);
    INFO(p.describe());
    REQUIRE(p.exitCode == 0);
    CHECK(contains(p.out, "delivered to clickstream[2] at offset 0"));
    const Result m = runStudio({"messages", "--broker", bootstrap, "--topic", "clickstream",
                                "--partition", "2", "--offset", "0", "--max", "1"},
                               30);
    INFO(m.describe());
    CHECK(contains(m.out, "key=k source=test"));
    // Flags that belong to another run are refused, not ignored.
    for (const std::vector<std::string> &args :
         {std::vector<std::string>{"messages", "--broker", bootstrap, "--key", "k"},
          {"messages", "--broker", bootstrap, "--produce", "--follow"},
          {"topics", "--broker", bootstrap, "--topic", "t", "--confirm", "t"},
          {"topics", "--broker", bootstrap, "--topic", "t", "--create", "t", "--configs"},
          {"groups", "--broker", bootstrap, "--group", "g", "--execute"},
          {"groups", "--broker", bootstrap, "--group", "g", "--reset-to", "yesterday"}}) {
        const Result r = runStudio(args, 30);
        INFO(r.describe());
        CHECK(r.exitCode == 2);
    }
    // The mock cannot tell a group's partitions (nor describe it): --topic names them, and
    // the dry run says the members are not known.
    const Result noTopic =
        runStudio({"groups", "--broker", bootstrap, "--group", "g", "--reset-to", "earliest"}, 30);
    CHECK(noTopic.exitCode == 1);
    CHECK(contains(noTopic.err, "name the topics with --topic"));
    const Result dry = runStudio({"groups", "--broker", bootstrap, "--group", "g", "--topic",
                                  "clickstream", "--reset-to", "latest"},
                                 30);
    INFO(dry.describe());
    CHECK(dry.exitCode == 0);
    CHECK(contains(dry.out, "DRY RUN group g (members not known on the embedded broker)"));
    CHECK(contains(dry.err, "dry run: nothing changed"));
    REQUIRE(broker.sendSignal(SIGTERM));
    CHECK(broker.finish(10).exitCode == 0);
}

TEST_CASE("topics, messages, groups and alert-rules inspect a running broker from a shell",
          "[cli][monitor][broker]")
{
    Child broker({kStudio, "broker", "--partitions", "3"});
    std::string bootstrap;
    REQUIRE(broker.firstStdoutLine(20, bootstrap));
    const Result p = runStudio(
        {"produce", "--broker", bootstrap, "--rps", "3000", "--duration", "1", "--json"}, 30);
    INFO(p.describe());
    REQUIRE(p.exitCode == 0);
    const auto acked = jsonInt(lastLine(p.out), "acked");
    REQUIRE(acked > 2000);

    simdjson::dom::parser parser;
    {
        const Result t = runStudio({"topics", "--broker", bootstrap, "--json"}, 30);
        INFO(t.describe());
        REQUIRE(t.exitCode == 0);
        simdjson::dom::element doc;
        REQUIRE(parser.parse(lastLine(t.out)).get(doc) == simdjson::SUCCESS);
        CHECK(doc["brokers"].get_array().size() == 3);
        bool found = false;
        for (auto topic : doc["topics"].get_array()) {
            if (std::string_view(topic["name"]) != "clickstream")
                continue;
            found = true;
            CHECK(topic["partitions"].get_array().size() == 3);
            CHECK(std::int64_t(topic["messages"]) == acked);
        }
        CHECK(found);
    }
    {
        const Result t = runStudio({"topics", "--broker", bootstrap, "--topic", "clickstream"}, 30);
        INFO(t.describe());
        CHECK(t.exitCode == 0);
        CHECK(contains(t.out, "topic clickstream: 3 partitions"));
        CHECK(contains(t.out, "LEADER"));
    }
    std::string eventId;
    {
        const Result m =
            runStudio({"messages", "--broker", bootstrap, "--last", "2", "--json"}, 30);
        INFO(m.describe());
        REQUIRE(m.exitCode == 0);
        const auto lines = splitLines(m.out);
        CHECK(lines.size() == 6); // the last 2 of each of 3 partitions
        for (const auto &line : lines) {
            simdjson::dom::element doc;
            REQUIRE(parser.parse(line).get(doc) == simdjson::SUCCESS);
            CHECK(std::string_view(doc["topic"]) == "clickstream");
            Event ev;
            CHECK(checkEvent(parser, std::string(std::string_view(doc["value"])), ev) == "");
            eventId = ev.eventId;
        }
    }
    {
        // The id of one event is in exactly one message: search finds it, newest first.
        const Result s =
            runStudio({"messages", "--broker", bootstrap, "--search", eventId, "--json"}, 30);
        INFO(s.describe());
        CHECK(s.exitCode == 0);
        CHECK(splitLines(s.out).size() == 1);
        CHECK(contains(s.out, eventId));
        CHECK(contains(s.err, "1 match(es)"));
    }
    {
        // Nobody consumed: the group has committed nothing, and browsing did not commit either.
        const Result g =
            runStudio({"groups", "--broker", bootstrap, "--seconds", "2", "--json"}, 30);
        INFO(g.describe());
        CHECK(g.exitCode == 0);
        CHECK(contains(g.out, "\"group\":\"clickstream-studio\""));
        CHECK_FALSE(contains(g.out, "\"committed\":1"));
    }
    {
        const Result r = runStudio({"topics"}, 15);
        CHECK(r.exitCode == 2);
        CHECK(contains(r.err, "give --broker"));
    }
    REQUIRE(broker.sendSignal(SIGTERM));
    CHECK(broker.finish(10).exitCode == 0);

    TempDir dir;
    const std::string rules = (dir.path / "rules.json").string();
    CHECK(runStudio({"alert-rules", "--out", rules}, 15).exitCode == 0);
    const Result ok = runStudio({"alert-rules", "--check", rules}, 15);
    CHECK(ok.exitCode == 0);
    CHECK(contains(ok.out, "7 rule(s), valid")); // the default rules, RecordsDeletedUnread the 7th
    {
        std::ofstream bad(rules);
        bad << "{\"version\":1,\"rules\":[{\"name\":\"x\",\"signal\":\"service_up\","
               "\"comparison\":\"~\",\"threshold\":0,\"for\":1,\"severity\":\"info\"}]}";
    }
    const Result broken = runStudio({"alert-rules", "--check", rules}, 15);
    INFO(broken.describe());
    CHECK(broken.exitCode == 2);
    CHECK(contains(broken.err, "comparison"));
}

namespace {

// The aggregate tables of `database`, by natural key (surrogate dimension keys left out: they
// are numbered in arrival order, which differs between runs).
std::string tablesOf(studio::test::PostgresServer &pg, const std::string &database)
{
    std::string error;
    const auto out = pg.psql(
        "SELECT 'p', window_start, page, shard, views, clicks, add_to_cart, purchases, revenue, "
        "unique_users, unique_sessions, md5(users_hll), md5(sessions_hll) FROM page_metrics "
        "ORDER BY 2, 3, 4;"
        "SELECT 'g', window_start, country, browser, device_type, shard, events FROM geo_metrics "
        "ORDER BY 2, 3, 4, 5, 6;"
        "SELECT 's', user_id, session_start, session_end, shard, events, distinct_pages, revenue, "
        "converted FROM sessions ORDER BY 2, 3, 5;"
        "SELECT 'f', window_start, product_id, shard, views, add_to_cart, purchases, "
        "hot_low_conversion FROM product_funnel ORDER BY 2, 3, 4;",
        &error, database);
    INFO(error);
    REQUIRE(out);
    return *out;
}

} // namespace

namespace {

/// A real PostgreSQL with two fresh databases, and an embedded broker (12 partitions) in its own
/// process: what the persistence tests that compare two runs start from.
struct TwoDatabasesAndBroker
{
    studio::test::PostgresServer pg;
    EnvChange env;
    std::unique_ptr<Child> broker;
    std::string bootstrap;

    TwoDatabasesAndBroker(const std::string &first, const std::string &second)
    {
        std::string why;
        if (!studio::test::PostgresServer::available(&why))
            FAIL("PostgreSQL is needed: " << why);
        std::string error;
        REQUIRE(pg.start(&error));
        REQUIRE(pg.psql("CREATE DATABASE " + first + " OWNER studio; CREATE DATABASE " + second +
                            " OWNER studio;",
                        &error, "postgres"));
        env = EnvChange{{}, {{"PGPASSWORD", pg.password()}}};
        broker = std::make_unique<Child>(
            std::vector<std::string>{kStudio, "broker", "--partitions", "12"});
        REQUIRE(broker->firstStdoutLine(20, bootstrap));
    }

    std::string uri(const std::string &db) const
    {
        return "postgresql://studio@127.0.0.1:" + std::to_string(pg.port()) + "/" + db;
    }
};

} // namespace

// Issue 23: `topics` and `groups` over several clusters at once (--broker repeated, --profile
// from the desktop app's saved settings), each cluster's section in turn; one down is said and
// the others still shown.
TEST_CASE("topics and groups show several clusters, each in its own section",
          "[cli][monitor][broker][clusters]")
{
    Child first({kStudio, "broker", "--brokers", "1", "--partitions", "2", "--topic", "alpha",
                 "--topic", "clickstream"});
    Child second({kStudio, "broker", "--brokers", "1", "--partitions", "3", "--topic", "beta",
                  "--topic", "clickstream"});
    std::string a, b;
    REQUIRE(first.firstStdoutLine(20, a));
    REQUIRE(second.firstStdoutLine(20, b));

    // One --broker alone: the output as it always was (no section line).
    const Result one = runStudio({"topics", "--broker", a}, 30);
    INFO(one.describe());
    REQUIRE(one.exitCode == 0);
    CHECK_FALSE(contains(one.out, "== cluster"));
    CHECK(splitLines(one.out).front() == "1 broker(s): 1=" + a);

    const Result both = runStudio({"topics", "--broker", a, "--broker", b}, 30);
    INFO(both.describe());
    REQUIRE(both.exitCode == 0);
    const auto lines = splitLines(both.out);
    const auto at = [&lines](const std::string &text) {
        return std::find(lines.begin(), lines.end(), text) - lines.begin();
    };
    const auto firstSection = at("== cluster (" + a + ", plaintext) ==");
    const auto secondSection = at("== cluster (" + b + ", plaintext) ==");
    REQUIRE(firstSection < std::ptrdiff_t(lines.size()));
    REQUIRE(secondSection < std::ptrdiff_t(lines.size()));
    CHECK(firstSection < secondSection);
    // Each cluster's topics under its own heading.
    const auto alpha =
        std::find_if(lines.begin(), lines.end(),
                     [](const std::string &l) { return l.rfind("alpha ", 0) == 0; }) -
        lines.begin();
    const auto beta = std::find_if(lines.begin(), lines.end(),
                                   [](const std::string &l) { return l.rfind("beta ", 0) == 0; }) -
                      lines.begin();
    CHECK((firstSection < alpha && alpha < secondSection));
    CHECK(secondSection < beta);

    // --json: one object per cluster, named.
    simdjson::dom::parser parser;
    {
        const Result j = runStudio({"topics", "--broker", a, "--broker", b, "--json"}, 30);
        INFO(j.describe());
        REQUIRE(j.exitCode == 0);
        const auto objects = splitLines(j.out);
        REQUIRE(objects.size() == 2);
        simdjson::dom::element doc;
        REQUIRE(parser.parse(objects[0]).get(doc) == simdjson::SUCCESS);
        CHECK(std::string_view(doc["cluster"]) == a);
        REQUIRE(parser.parse(objects[1]).get(doc) == simdjson::SUCCESS);
        CHECK(std::string_view(doc["cluster"]) == b);
    }

    // groups: both watched at once (two clusters take about as long as one).
    {
        const Result g = runStudio({"groups", "--broker", a, "--broker", b, "--topic",
                                    "clickstream", "--seconds", "2", "--json"},
                                   60);
        INFO(g.describe());
        REQUIRE(g.exitCode == 0);
        CHECK(g.seconds < 8);
        const auto objects = splitLines(g.out);
        REQUIRE(objects.size() == 2);
        simdjson::dom::element doc;
        REQUIRE(parser.parse(objects[0]).get(doc) == simdjson::SUCCESS);
        CHECK(std::string_view(doc["cluster"]) == a);
        CHECK(doc["partitions"].get_array().size() == 2);
        REQUIRE(parser.parse(objects[1]).get(doc) == simdjson::SUCCESS);
        CHECK(std::string_view(doc["cluster"]) == b);
        CHECK(doc["partitions"].get_array().size() == 3);
    }

    // --profile: a profile saved by the desktop app (its settings file, no password in it).
    {
        TempDir config;
        REQUIRE(!config.path.empty());
        std::filesystem::create_directories(config.path / "Clickstream Studio");
        std::ofstream(config.path / "Clickstream Studio" / "Clickstream Studio.conf")
            << "[connections]\nkafka\\1\\id=p1\nkafka\\1\\name=second one\n"
            << "kafka\\1\\bootstrap=" << b << "\nkafka\\1\\saslMechanism=\n"
            << "kafka\\1\\tls=false\nkafka\\size=1\n";
        const EnvChange env{{}, {{"XDG_CONFIG_HOME", config.path.string()}}};
        const Result p = runStudio({"topics", "--broker", a, "--profile", "second one"}, 30, env);
        INFO(p.describe());
        REQUIRE(p.exitCode == 0);
        CHECK(contains(p.out, "== cluster (" + a + ", plaintext) =="));
        CHECK(contains(p.out, "== cluster second one (" + b + ", plaintext) =="));
        CHECK(contains(p.out, "\nbeta "));
        const Result missing = runStudio({"topics", "--profile", "nope"}, 30, env);
        CHECK(missing.exitCode == 2);
        CHECK(contains(missing.err, "no Kafka profile named \"nope\""));
        CHECK(contains(missing.err, "\"second one\""));
    }

    // The second cluster stops: the first is still shown in full, the second's failure is said,
    // and the exit code says not everything could be read.
    second.sendSignal(SIGTERM);
    second.finish(20);
    const Result down = runStudio({"topics", "--broker", a, "--broker", b}, 60);
    INFO(down.describe());
    CHECK(down.exitCode == 1);
    CHECK(contains(down.out, "== cluster (" + a + ", plaintext) =="));
    CHECK(contains(down.out, "\nalpha "));
    CHECK(contains(down.out, "== cluster (" + b + ", plaintext) =="));
    CHECK(contains(down.err, "error: (" + b + ", plaintext): unreachable"));
    // Changes go to one cluster only.
    const Result change =
        runStudio({"topics", "--broker", a, "--broker", b, "--topic", "alpha", "--configs"}, 30);
    CHECK(change.exitCode == 2);
    CHECK(contains(change.err, "one cluster"));
}

TEST_CASE("aggregators killed with SIGKILL resume from PostgreSQL: tables equal one clean run",
          "[cli][persistence][servers]")
{
    TwoDatabasesAndBroker servers("ref", "killed");
    auto &pg = servers.pg;
    auto uri = [&](const std::string &db) {
        return servers.uri(db);
    };
    const EnvChange &env = servers.env;
    const std::string &bootstrap = servers.bootstrap;
    Child &broker = *servers.broker;
    std::string error;
    // The same input for both: 90,000 events (duplicates and malformed ones included; no late
    // injection, whose verdict depends on how partitions interleave).
    const Result p =
        runStudio({"produce", "--broker", bootstrap, "--rps", "30000", "--duration", "3", "--seed",
                   "11", "--late", "0", "--duplicates", "0.01", "--malformed", "0.005", "--json"},
                  60);
    INFO(p.describe());
    REQUIRE(p.exitCode == 0);
    const auto acked = jsonInt(lastLine(p.out), "acked");
    REQUIRE(acked > 60'000);

    auto aggregate = [&](const std::string &db, const std::string &duration) {
        return std::vector<std::string>{"headless",
                                        "--broker",
                                        bootstrap,
                                        "--producers",
                                        "0",
                                        "--group",
                                        db,
                                        "--postgres",
                                        uri(db),
                                        "--checkpoint-ms",
                                        "200",
                                        "--archive-raw",
                                        "--session-timeout",
                                        "6",
                                        "--duration",
                                        duration,
                                        "--drain-timeout",
                                        "150",
                                        "--json"};
    };
    const Result ref = runStudio(aggregate("ref", "4"), 240, env);
    std::int64_t valid = 0;
    {
        INFO(ref.describe());
        REQUIRE(ref.exitCode == 0);
        CHECK(jsonInt(lastLine(ref.out), "consumed") == acked);
        valid = jsonInt(lastLine(ref.out), "valid");
        CHECK(valid > 50'000);
    }

    // Five SIGKILLs at pseudo-random moments (group join, consuming, checkpointing, idle). The
    // first is killed only once it has stored a checkpoint: every later one waits out the
    // previous member's session (6 s) to join and may die before it holds a partition, so on a
    // loaded machine (the full suite, load 9) no victim had stored anything and the last run had
    // nothing to restore.
    std::uint64_t seed = 12345;
    for (int i = 0; i < 5; ++i) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        const double at = 3.0 + double(seed >> 40) / double(1ULL << 24) * 3.5; // 3.0 .. 6.5 s
        std::vector<std::string> argv = aggregate("killed", "120");
        argv.insert(argv.begin(), kStudio);
        if (i == 0)
            argv.push_back("--json-status");
        Child victim(argv, env);
        REQUIRE(victim.started());
        if (i == 0) {
            // Stored twice more after the first line that had consumed anything: at least one
            // of those checkpoints covers consumed records (a state checkpoint waits for the
            // one before to be stored).
            const bool stored = victim.pumpUntil(120, [&] {
                simdjson::dom::parser parser;
                std::int64_t storedAtFirstRead = -1;
                for (const std::string &line : splitLines(victim.out())) {
                    simdjson::dom::element doc;
                    std::int64_t consumed = 0, stored = 0;
                    if (parser.parse(line).get(doc) || doc["consumed"].get(consumed) ||
                        doc["postgresql"]["checkpoints_stored"].get(stored))
                        continue;
                    if (consumed > 0 && storedAtFirstRead < 0)
                        storedAtFirstRead = stored;
                    if (storedAtFirstRead >= 0 && stored >= storedAtFirstRead + 2)
                        return true;
                }
                return false;
            });
            INFO(victim.err().substr(victim.err().size() > 3000 ? victim.err().size() - 3000 : 0));
            REQUIRE(stored);
        } else {
            std::this_thread::sleep_for(std::chrono::duration<double>(at));
        }
        REQUIRE(victim.sendSignal(SIGKILL));
        const Result k = victim.finish(10);
        INFO("kill " << i << " at " << at << " s\n" << k.describe());
        CHECK(k.signal == SIGKILL);
    }
    // The last victim's group membership lapses after its session timeout (6 s); a restart before
    // that waits for it, which is Kafka's behaviour, not what this test is about.
    std::this_thread::sleep_for(std::chrono::seconds(7));
    const Result last = runStudio(aggregate("killed", "4"), 240, env);
    INFO(last.describe());
    REQUIRE(last.exitCode == 0);
    CHECK(contains(lastLine(last.out), "\"restored\":true"));

    const std::string expected = tablesOf(pg, "ref");
    const std::string actual = tablesOf(pg, "killed");
    CHECK(std::count(expected.begin(), expected.end(), '\n') > 500);
    CHECK(actual == expected);

    // The raw archive (--archive-raw): every accepted event exactly once, with its Kafka
    // coordinates, whether the aggregator was killed or not.
    auto rawArchive = [&](const std::string &db) {
        const auto out = pg.psql(
            "SELECT count(*), count(DISTINCT event_id), md5(string_agg(concat_ws('|', event_id, "
            "event_type, ts, user_id, session_id, page, product_id, price, country, "
            "kafka_partition, kafka_offset), ',' ORDER BY event_id)) FROM raw_events;",
            &error, db);
        INFO(error);
        REQUIRE(out);
        return *out;
    };
    const std::string rawRef = rawArchive("ref");
    CHECK(rawRef.rfind(std::to_string(valid) + "|" + std::to_string(valid) + "|", 0) == 0);
    CHECK(rawArchive("killed") == rawRef);

    REQUIRE(broker.sendSignal(SIGTERM));
    broker.finish(10);
}

namespace {

/// The `report` CSVs of every table of `database` (merged over the shards of every instance,
/// unique counts from the unioned sketches), concatenated with a header line per table.
std::string mergedReports(const std::string &uri, const EnvChange &env,
                          const std::filesystem::path &dir)
{
    std::string all;
    for (const char *table : {"page_metrics", "geo_metrics", "sessions", "product_funnel"}) {
        const std::string out = (dir / (std::string(table) + ".csv")).string();
        const Result r =
            runStudio({"report", "--table", table, "--from", "2000-01-01T00:00:00Z", "--to",
                       "2100-01-01T00:00:00Z", "--out", out, "--postgres", uri},
                      60, env);
        INFO(r.describe());
        REQUIRE(r.exitCode == 0);
        all += "== " + std::string(table) + "\n" + readFile(out);
    }
    return all;
}

/// The number in `line` right after `key ` (e.g. "partitions 6"), or -1.
long long numberAfter(const std::string &line, const std::string &key)
{
    const std::size_t at = line.find(" " + key + " ");
    if (at == std::string::npos)
        return -1;
    std::size_t pos = at + key.size() + 2;
    while (pos < line.size() && line[pos] == ' ')
        ++pos;
    std::string digits;
    while (pos < line.size() &&
           (std::isdigit(static_cast<unsigned char>(line[pos])) || line[pos] == ','))
        if (line[pos++] != ',')
            digits += line[pos - 1];
    return digits.empty() ? -1 : std::stoll(digits);
}

/// The last complete status line a headless instance printed (on stderr with --json).
std::string lastStatus(const std::string &err)
{
    const auto lines = splitLines(err);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (contains(*it, " consumed ") && contains(*it, " partitions "))
            return *it;
    return {};
}

} // namespace

TEST_CASE("a second instance joins the group, then leaves: only the moved partitions are "
          "restored, and merged the two equal one instance's",
          "[cli][persistence][servers][scaleout]")
{
    TwoDatabasesAndBroker servers("single", "scaled");
    auto &pg = servers.pg;
    auto uri = [&](const std::string &db) {
        return servers.uri(db);
    };
    const EnvChange &env = servers.env;
    const std::string &bootstrap = servers.bootstrap;
    Child &broker = *servers.broker;
    std::string error;

    // Instance a alone in the group "scaled" holds all twelve partitions; b joins later and
    // leaves again. Each writes final rows under its own shard name; the open state of a
    // partition moves between them through its stored checkpoint chain (issue 19).
    auto instance = [&](const std::string &shard) {
        return std::vector<std::string>{kStudio,
                                        "headless",
                                        "--broker",
                                        bootstrap,
                                        "--producers",
                                        "0",
                                        "--group",
                                        "scaled",
                                        "--shard",
                                        shard,
                                        "--postgres",
                                        uri("scaled"),
                                        "--checkpoint-ms",
                                        "500",
                                        "--session-timeout",
                                        "6",
                                        "--duration",
                                        "300",
                                        "--json"};
    };
    std::vector<Child *> running;
    auto pump = [&](double seconds, const std::function<bool()> &done) {
        const auto deadline =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(seconds));
        while (Clock::now() < deadline) {
            for (Child *c : running)
                c->pumpUntil(0.05, [] { return false; });
            if (done())
                return true;
            for (Child *c : running)
                if (c->exited())
                    return false;
        }
        return false;
    };
    auto status = [](Child &c, const char *key) {
        return numberAfter(lastStatus(c.err()), key);
    };
    // The same input mix as the SIGKILL test: duplicates and malformed events, no late injection
    // (whose verdict depends on how partitions interleave).
    auto produce = [&](const char *seed) {
        const Result p = runStudio({"produce", "--broker", bootstrap, "--rps", "30000",
                                    "--duration", "3", "--seed", seed, "--late", "0",
                                    "--duplicates", "0.01", "--malformed", "0.005", "--json"},
                                   60);
        INFO(p.describe());
        REQUIRE(p.exitCode == 0);
        return jsonInt(lastLine(p.out), "acked");
    };

    Child a(instance("a"), env);
    REQUIRE(a.started());
    running = {&a};
    REQUIRE(pump(60, [&] { return status(a, "partitions") == 12; }));
    std::int64_t acked = produce("23");
    REQUIRE(acked > 60'000);
    INFO("instance a: " << lastStatus(a.err()));
    REQUIRE(pump(120, [&] { return status(a, "lag") == 0 && status(a, "valid") > 0; }));

    // b joins: a hands six partitions over (their pieces stored, then dropped), b restores them.
    Child b(instance("b"), env);
    REQUIRE(b.started());
    running = {&a, &b};
    const bool split =
        pump(90, [&] { return status(a, "partitions") == 6 && status(b, "partitions") == 6; });
    INFO("instance a: " << lastStatus(a.err()) << "\ninstance b: " << lastStatus(b.err()));
    REQUIRE(split);
    acked += produce("24");
    REQUIRE(pump(120, [&] {
        return status(a, "lag") == 0 && status(b, "lag") == 0 && status(a, "partitions") == 6 &&
               status(b, "partitions") == 6;
    }));

    // b leaves (SIGTERM): a holds the rest of the topic, so b hands its six back, and a
    // restores them; then a stops holding every partition and writes the open windows.
    REQUIRE(b.sendSignal(SIGTERM));
    const Result rb = b.finish(120);
    INFO(rb.describe());
    REQUIRE(rb.exitCode == 0);
    running = {&a};
    REQUIRE(pump(120, [&] { return status(a, "partitions") == 12 && status(a, "lag") == 0; }));
    REQUIRE(a.sendSignal(SIGTERM));
    const Result ra = a.finish(120);
    INFO(ra.describe());
    REQUIRE(ra.exitCode == 0);
    const std::string sa = lastLine(ra.out), sb = lastLine(rb.out);
    // Only the moved partitions were read back: b the six it got from a, a the six b gave back.
    // (Kafka's eager protocol revokes every partition at each rebalance: a stored the pieces of
    // all twelve each time, and kept the six that came straight back in memory.)
    CHECK(jsonInt(sb, "partitions_restored") == 6);
    CHECK(jsonInt(sa, "partitions_restored") == 6);
    CHECK(jsonInt(sb, "handed_over") == 6);
    CHECK(jsonInt(sa, "handed_over") >= 12);
    CHECK(jsonInt(sb, "consumed") > 0);
    CHECK(jsonInt(sa, "consumed") + jsonInt(sb, "consumed") == acked); // each event read once

    // One instance alone over the same topic, in its own group and database.
    const Result one =
        runStudio({"headless", "--broker", bootstrap, "--producers", "0", "--group", "single",
                   "--postgres", uri("single"), "--checkpoint-ms", "500", "--session-timeout", "6",
                   "--duration", "4", "--drain-timeout", "150", "--json"},
                  240, env);
    INFO(one.describe());
    REQUIRE(one.exitCode == 0);
    CHECK(jsonInt(lastLine(one.out), "consumed") == acked);

    // Each instance wrote partial rows under its own shard...
    const auto shards = pg.psql("SELECT string_agg(DISTINCT shard, ',' ORDER BY shard) FROM "
                                "page_metrics;",
                                &error, "scaled");
    REQUIRE(shards);
    // (b's windows may all have been open while it ran: then only a wrote page rows.)
    CHECK((*shards == "a,b\n" || *shards == "a\n"));
    // ...and merged they are exactly one instance's results: counts, revenue, unique users and
    // sessions (HyperLogLog unions), sessions and the funnel.
    TempDir dir;
    std::filesystem::create_directories(dir.path / "single");
    std::filesystem::create_directories(dir.path / "scaled");
    const std::string expected = mergedReports(uri("single"), env, dir.path / "single");
    const std::string actual = mergedReports(uri("scaled"), env, dir.path / "scaled");
    CHECK(std::count(expected.begin(), expected.end(), '\n') > 500);
    CHECK(actual == expected);

    REQUIRE(broker.sendSignal(SIGTERM));
    broker.finish(10);
}

namespace {

// Every key of a Redis database with its contents, sorted (hashes and sorted sets).
std::string redisContents(int port, int db)
{
    const std::string cli = "redis-cli -p " + std::to_string(port) + " -n " + std::to_string(db);
    const Result r = run({"/bin/bash", "-c",
                          "for k in $(" + cli +
                              " --scan | sort); do echo \"== $k\"; "
                              "if [ \"$(" +
                              cli + " type \"$k\")\" = hash ]; then " + cli +
                              " hgetall \"$k\" | paste - - | sort; else " + cli +
                              " zrange \"$k\" 0 -1 withscores | paste - - | sort; fi; done"},
                         60);
    INFO(r.describe());
    REQUIRE(r.exitCode == 0);
    return r.out;
}

} // namespace

TEST_CASE("PostgreSQL and Redis down for 20 s mid-run: nothing lost, both back up, tables complete",
          "[cli][persistence][servers][outage]")
{
    using studio::test::PostgresServer;
    using studio::test::RedisServer;
    PostgresServer pg;
    RedisServer redis;
    std::string error;
    REQUIRE(pg.start(&error));
    REQUIRE(redis.start(&error));
    REQUIRE(pg.psql("CREATE DATABASE ref OWNER studio; CREATE DATABASE outage OWNER studio;",
                    &error, "postgres"));
    auto uri = [&](const std::string &db) {
        return "postgresql://studio@127.0.0.1:" + std::to_string(pg.port()) + "/" + db;
    };
    auto redisUri = [&](int db) {
        return "redis://127.0.0.1:" + std::to_string(redis.port()) + "/" + std::to_string(db);
    };
    const EnvChange env{{}, {{"PGPASSWORD", pg.password()}}};

    Child broker({kStudio, "broker", "--partitions", "12"});
    std::string bootstrap;
    REQUIRE(broker.firstStdoutLine(20, bootstrap));
    auto aggregate = [&](const std::string &db, int redisDb, const std::string &duration) {
        return std::vector<std::string>{kStudio,
                                        "headless",
                                        "--broker",
                                        bootstrap,
                                        "--producers",
                                        "0",
                                        "--group",
                                        db,
                                        "--postgres",
                                        uri(db),
                                        "--redis",
                                        redisUri(redisDb),
                                        "--checkpoint-ms",
                                        "200",
                                        "--watermark-delay",
                                        "120s",
                                        "--session-timeout",
                                        "6",
                                        "--duration",
                                        duration,
                                        "--drain-timeout",
                                        "60"};
    };

    // Events keep coming for 36 s while the aggregator runs; both servers go away for 20 s.
    Child outage(aggregate("outage", 2, "40"), env);
    Child producer({kStudio, "produce", "--broker", bootstrap, "--rps", "2000", "--duration", "36",
                    "--seed", "5", "--late", "0", "--json"});
    std::this_thread::sleep_for(std::chrono::seconds(6));
    pg.stop();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    redis.stop();
    std::this_thread::sleep_for(std::chrono::seconds(18));
    REQUIRE(pg.start(&error));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    REQUIRE(redis.start(&error));
    const Result produced = producer.finish(60);
    INFO(produced.describe());
    REQUIRE(produced.exitCode == 0);
    const Result out = outage.finish(120);
    INFO(out.describe());
    REQUIRE(out.exitCode == 0);
    // It said so while they were away, and recovered.
    CHECK(contains(out.out, "postgresql down"));
    CHECK(contains(out.out, "redis down"));
    CHECK(contains(out.out, "buffered"));
    CHECK(contains(lastLine(out.out), "postgresql up"));

    // The same events, read in one go by a second group, with the servers up all the time.
    std::vector<std::string> refArgs = aggregate("ref", 1, "4");
    refArgs.erase(refArgs.begin());
    const Result ref = runStudio(refArgs, 120, env);
    INFO(ref.describe());
    REQUIRE(ref.exitCode == 0);

    const std::string expected = tablesOf(pg, "ref");
    CHECK(std::count(expected.begin(), expected.end(), '\n') > 500);
    CHECK(tablesOf(pg, "outage") == expected);
    CHECK(redisContents(redis.port(), 2) == redisContents(redis.port(), 1));

    REQUIRE(broker.sendSignal(SIGTERM));
    broker.finish(10);
}

TEST_CASE("check produces, aggregates and finds the exact totals in PostgreSQL, Redis and CSV",
          "[cli][persistence][servers][check]")
{
    using studio::test::PostgresServer;
    using studio::test::RedisServer;
    PostgresServer pg;
    RedisServer redis;
    std::string error;
    REQUIRE(pg.start(&error));
    REQUIRE(redis.start(&error));
    const std::string uri =
        "postgresql://studio@127.0.0.1:" + std::to_string(pg.port()) + "/" + pg.database();
    const std::string redisUri = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
    const EnvChange env{{}, {{"PGPASSWORD", pg.password()}}};
    const Result ok =
        runStudio({"check", "--postgres", uri, "--redis", redisUri, "--count", "20000"}, 120, env);
    INFO(ok.describe());
    CHECK(ok.exitCode == 0);
    for (const char *step :
         {"broker", "topic", "produce", "aggregate", "sinks", "csv", "postgresql", "redis"})
        CHECK(contains(ok.out, std::string("[PASS] ") + step));
    CHECK_FALSE(contains(ok.out, "[FAIL]"));
    CHECK(contains(ok.out, "check passed"));

    // A wrong password: the PostgreSQL steps fail, naming the sink; the command says so.
    const EnvChange wrong{{}, {{"PGPASSWORD", "not-the-password"}}};
    const Result bad =
        runStudio({"check", "--postgres", uri, "--count", "1000", "--timeout", "8"}, 120, wrong);
    INFO(bad.describe());
    CHECK(bad.exitCode != 0);
    CHECK(contains(bad.out, "[FAIL] postgresql: PostgreSQL"));
    CHECK_FALSE(contains(bad.out + bad.err, "not-the-password"));
    CHECK(contains(bad.out, "check FAILED"));
}

TEST_CASE("unique paths through Kafka with headless into PostgreSQL: 10,001 page rows per "
          "window, (other) holds the rest, totals exact, the alert fires",
          "[cli][persistence][servers][cardinality]")
{
    using studio::test::PostgresServer;
    PostgresServer pg;
    std::string error;
    REQUIRE(pg.start(&error));
    const std::string uri =
        "postgresql://studio@127.0.0.1:" + std::to_string(pg.port()) + "/" + pg.database();
    const EnvChange env{{}, {{"PGPASSWORD", pg.password()}}};
    TempDir dir;
    // 1,000,000 events (50 s of event time from 00:00:30: two page windows), every path unique.
    const std::string plain = (dir.path / "plain.jsonl").string();
    const Result g = runStudio({"generate", "--count", "1000000", "--rps", "20000", "--start",
                                "2026-01-01T00:00:30.000Z", "--out", plain},
                               120);
    REQUIRE(g.exitCode == 0);
    std::map<std::string, std::int64_t> eventsPerWindow;
    {
        std::ofstream unique(dir.path / "unique.jsonl");
        std::uint64_t n = 0;
        for (const std::string &line : splitLines(readFile(plain))) {
            if (line.empty())
                continue;
            const std::size_t ts = line.find("\"ts\":\"") + 6;
            ++eventsPerWindow[line.substr(ts, 10) + " " + line.substr(ts + 11, 5) + ":00+00"];
            const std::size_t at = line.find("\"page\":\"") + 8;
            unique << line.substr(0, at) << "/p/" << ++n << line.substr(line.find('"', at)) << '\n';
        }
    }
    REQUIRE(eventsPerWindow.size() == 2);
    const Result r =
        runStudio({"headless", "--replay", (dir.path / "unique.jsonl").string(), "--rps", "100000",
                   "--duration", "30", "--drain-timeout", "240", "--postgres", uri,
                   "--max-keys-per-window", "10000", "--json-status", "--json"},
                  400, env);
    INFO(r.describe());
    REQUIRE(r.exitCode == 0);
    const std::string summary = lastLine(r.out);
    REQUIRE(jsonInt(summary, "valid") == 1'000'000);
    CHECK(contains(r.out + r.err, "KeyCardinalityCapped"));
    CHECK(contains(r.out + r.err, "key cap: "));
    // The status lines count the keys folded so far; the summary, after the last windows were
    // made final, every folded key of both windows.
    std::int64_t folded = 0;
    for (const std::string &line : splitLines(r.out)) {
        if (contains(line, "\"phase\""))
            folded = std::max(folded, jsonInt(line, "keys_folded"));
    }
    CHECK(folded > 0);
    CHECK(jsonInt(summary, "keys_folded") == 1'000'000 - 2 * 10'000);
    CHECK(jsonInt(summary, "windows_capped") == 2);

    const auto out =
        pg.psql("SELECT window_start, count(*), sum(views + clicks + add_to_cart + purchases), "
                "sum(views + clicks + add_to_cart + purchases) FILTER (WHERE page = '(other)') "
                "FROM page_metrics GROUP BY 1 ORDER BY 1;"
                "SELECT count(*) FROM dim_page WHERE page = '(other)';"
                "SELECT count(*) FROM geo_metrics;",
                &error);
    INFO(error);
    REQUIRE(out);
    std::string expected;
    for (const auto &[window, events] : eventsPerWindow)
        expected += window + "|10001|" + std::to_string(events) + "|" +
                    std::to_string(events - 10'000) + "\n";
    expected += "1\n";
    CHECK(out->substr(0, expected.size()) == expected);
}

TEST_CASE("a sink with a wrong password, an unreachable host or no permission is named, and the "
          "rest of the pipeline keeps running",
          "[cli][persistence][servers]")
{
    using studio::test::PostgresServer;
    using studio::test::RedisServer;
    std::string why;
    if (!PostgresServer::available(&why))
        FAIL("PostgreSQL is needed: " << why);
    PostgresServer pg;
    RedisServer::Options redisOptions;
    redisOptions.password = "redis-secret-4242";
    RedisServer redis(redisOptions);
    std::string error;
    REQUIRE(pg.start(&error));
    REQUIRE(redis.start(&error));
    // A database that the role `outsider` (a valid login) may not connect to.
    REQUIRE(pg.psql("CREATE DATABASE good OWNER studio; CREATE DATABASE closed OWNER studio; "
                    "REVOKE CONNECT ON DATABASE closed FROM PUBLIC; "
                    "CREATE ROLE outsider LOGIN PASSWORD 'outsider-pw-77';",
                    &error, "postgres"));
    auto uri = [&](const std::string &user, int port, const std::string &db) {
        return "postgresql://" + user + "@127.0.0.1:" + std::to_string(port) + "/" + db;
    };
    const std::string redisUri = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";

    Child broker({kStudio, "broker", "--partitions", "4"});
    std::string bootstrap;
    REQUIRE(broker.firstStdoutLine(20, bootstrap));
    auto headless = [&](const std::string &postgres, const std::string &group) {
        return std::vector<std::string>{"headless", "--broker",        bootstrap, "--rps",
                                        "2000",     "--group",         group,     "--postgres",
                                        postgres,   "--redis",         redisUri,  "--duration",
                                        "5",        "--drain-timeout", "4",       "--json"};
    };
    struct Case
    {
        std::string name, postgres, pgPassword, redisPassword, expected;
        bool aggregates;
    };
    const std::vector<Case> cases = {
        {"wrong PostgreSQL password", uri("studio", pg.port(), "good"), "wrong-pw-31337",
         redisOptions.password, "password", false},
        {"PostgreSQL unreachable", uri("studio", 1, "good"), pg.password(), redisOptions.password,
         "unreachable", false},
        {"no permission on the database", uri("outsider", pg.port(), "closed"), "outsider-pw-77",
         redisOptions.password, "permission", false},
        {"wrong Redis password", uri("studio", pg.port(), "good"), pg.password(),
         "wrong-redis-pw-5150", "password", true},
    };
    for (const Case &c : cases) {
        INFO(c.name);
        const EnvChange env{
            {"PGPASSFILE"},
            {{"PGPASSWORD", c.pgPassword}, {"CLICKSTREAM_REDIS_PASSWORD", c.redisPassword}}};
        const Result r =
            runStudio(headless(c.postgres, "g-" + std::to_string(&c - cases.data())), 90, env);
        INFO(r.describe());
        // No crash: the process ends by itself, with an exit code, after its duration.
        REQUIRE(r.exited);
        CHECK(r.signal == 0);
        // The sink is named with the reason, in the status lines, and no password is printed.
        const std::string sink = c.aggregates ? "Redis" : "PostgreSQL";
        bool named = false;
        for (const std::string &line : splitLines(r.err))
            named = named || (contains(line, sink) && contains(line, c.expected));
        CHECK(named);
        CHECK_FALSE(contains(r.out + r.err, c.pgPassword));
        CHECK_FALSE(contains(r.out + r.err, c.redisPassword));
        // The producers kept producing the whole time.
        const std::string summary = lastLine(r.out);
        CHECK(jsonInt(summary, "acked") > 5'000);
        CHECK(jsonInt(summary, "failed") == 0);
        if (c.aggregates) {
            // PostgreSQL is the record: with Redis down everything is aggregated and stored.
            // (The topic also holds the earlier cases' events: this group reads them all.)
            CHECK(jsonInt(summary, "consumed") >= jsonInt(summary, "acked"));
            CHECK(jsonInt(summary, "lag") == 0);
            CHECK(jsonInt(summary, "postgres_rows") > 0);
            CHECK(r.exitCode == 1); // Redis never got its rows
        } else {
            // Without its record the aggregator waits (resuming without the stored state would
            // rewrite rows with partial counts) and says why; nothing is committed or lost.
            CHECK(r.exitCode != 0);
            CHECK(contains(r.err, "waiting for the resume point"));
        }
    }
    REQUIRE(broker.sendSignal(SIGTERM));
    broker.finish(10);
}

// ---- Event time per partition (issue 18) ------------------------------------------------------

namespace {

// The four CSV reports of a directory, concatenated with their names.
std::string reportsOf(const std::filesystem::path &dir)
{
    std::string all;
    for (const char *name :
         {"page_metrics.csv", "geo_metrics.csv", "sessions.csv", "product_funnel.csv"})
        all += std::string("== ") + name + "\n" + readFile(dir / name);
    return all;
}

/// `line` (an event as `generate` writes it) with another ts and event id.
std::string retimed(const std::string &line, const std::string &ts, const std::string &id)
{
    std::string out = line;
    const std::size_t at = out.find("\"ts\":\"");
    out.replace(at + 6, 24, ts);
    const std::size_t idAt = out.find("\"event_id\":\"");
    const std::size_t end = out.find('"', idAt + 12);
    out.replace(idAt + 12, end - idAt - 12, id);
    return out;
}

/// invalid_by_reason.<reason> of a JSON summary line; -1 when absent.
std::int64_t invalidBy(const std::string &line, const char *reason)
{
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::int64_t v = -1;
    if (parser.parse(line).get(doc) || doc["invalid_by_reason"][reason].get(v))
        return -1;
    return v;
}

} // namespace

TEST_CASE("one event in 2099 placed first, in the middle or last: aggregate and headless give "
          "the reports of the stream without it, and dead-letter it once as future_timestamp",
          "[cli][eventtime][broker]")
{
    TempDir dir;
    const std::string source = (dir.path / "events.jsonl").string();
    // 100,000 events over 5 s ending now-ish, so the live bound takes them.
    const Result g =
        runStudio({"generate", "--count", "100000", "--rps", "20000", "--out", source}, 30);
    REQUIRE(g.exitCode == 0);
    const auto lines = splitLines(readFile(source));
    REQUIRE(lines.size() == 100'000);
    const std::string poison = retimed(lines[77], "2099-01-01T00:00:00.000Z", "poison-2099");
    const std::map<std::string, std::size_t> variants = {
        {"ref", std::string::npos}, {"first", 0}, {"middle", 50'000}, {"last", 100'000}};
    for (const auto &[name, at] : variants) {
        std::ofstream out(dir.path / (name + ".jsonl"));
        for (std::size_t i = 0; i <= lines.size(); ++i) {
            if (i == at)
                out << poison << '\n';
            if (i < lines.size())
                out << lines[i] << '\n';
        }
    }

    // 1. aggregate of a file (no Kafka partitions: one; no wall clock: the partition rule).
    std::map<std::string, std::string> fileReports;
    for (const auto &[name, at] : variants) {
        const auto outDir = dir.path / ("aggregate-" + name);
        const Result r = runStudio({"aggregate", "--input", (dir.path / (name + ".jsonl")).string(),
                                    "--out", outDir.string(), "--json"},
                                   60);
        INFO(name << "\n" << r.describe());
        REQUIRE(r.exitCode == 0);
        const std::string summary = lastLine(r.out);
        CHECK(jsonInt(summary, "late") == 0);
        CHECK(invalidBy(summary, "future_timestamp") == (name == "ref" ? 0 : 1));
        CHECK(jsonInt(summary, "invalid") == (name == "ref" ? 0 : 1));
        fileReports[name] = reportsOf(outDir);
    }
    CHECK(std::count(fileReports["ref"].begin(), fileReports["ref"].end(), '\n') > 500);
    for (const char *name : {"first", "middle", "last"}) {
        INFO(name);
        CHECK(fileReports[name] == fileReports["ref"]);
    }

    // 2. Through Kafka: each variant into its own topic, aggregated by headless (live).
    Child broker({kStudio, "broker", "--partitions", "4"});
    std::string bootstrap;
    REQUIRE(broker.firstStdoutLine(20, bootstrap));
    std::map<std::string, std::string> kafkaReports;
    for (const auto &[name, at] : variants) {
        const std::string topic = "poison-" + name;
        const Result p =
            runStudio({"produce", "--broker", bootstrap, "--topic", topic, "--replay",
                       (dir.path / (name + ".jsonl")).string(), "--rps", "100000", "--json"},
                      90);
        INFO(p.describe());
        REQUIRE(p.exitCode == 0);
        REQUIRE(jsonInt(lastLine(p.out), "acked") ==
                static_cast<std::int64_t>(lines.size() + (name == "ref" ? 0 : 1)));
        const auto outDir = dir.path / ("headless-" + name);
        const Result h =
            runStudio({"headless", "--broker", bootstrap, "--topic", topic, "--producers", "0",
                       "--group", "g-" + name, "--duration", "1", "--drain-timeout", "120",
                       "--report-dir", outDir.string(), "--json"},
                      180);
        INFO(name << "\n" << h.describe());
        REQUIRE(h.exitCode == 0);
        const std::string summary = lastLine(h.out);
        CHECK(jsonInt(summary, "late") == 0);
        CHECK(jsonInt(summary, "invalid") == (name == "ref" ? 0 : 1));
        CHECK(jsonInt(summary, "dead_lettered") == (name == "ref" ? 0 : 1));
        CHECK(jsonInt(summary, "consumed") == jsonInt(lastLine(p.out), "acked"));
        kafkaReports[name] = reportsOf(outDir);
        if (name == "ref")
            continue;
        // The dead-letter topic has it, with its reason.
        const Result m = runStudio({"messages", "--broker", bootstrap, "--topic", topic + ".dlq",
                                    "--json", "--timeout", "20"},
                                   40);
        INFO(m.describe());
        CHECK(m.exitCode == 0);
        const auto dead = splitLines(m.out);
        REQUIRE(dead.size() == 1);
        CHECK(contains(dead[0], "poison-2099"));
        CHECK(contains(dead[0], R"({"name":"reason","value":"future_timestamp"})"));
    }
    for (const char *name : {"first", "middle", "last"}) {
        INFO(name);
        CHECK(kafkaReports[name] == kafkaReports["ref"]);
    }
    REQUIRE(broker.sendSignal(SIGTERM));
    broker.finish(10);
}

TEST_CASE("a durable aggregator killed right after it refused an event from 2099 resumes with "
          "nothing late",
          "[cli][eventtime][persistence][servers]")
{
    TwoDatabasesAndBroker servers("poisoned", "unused");
    const EnvChange &env = servers.env;
    const std::string &bootstrap = servers.bootstrap;
    TempDir dir;
    // 20,000 events of now, the one from 2099 in the middle.
    auto writeEvents = [&](const std::string &name, bool poisoned) {
        const std::string raw = (dir.path / (name + ".raw")).string();
        const Result g = runStudio({"generate", "--count", "20000", "--rps", "10000", "--seed",
                                    poisoned ? "5" : "6", "--out", raw},
                                   30);
        REQUIRE(g.exitCode == 0);
        const auto lines = splitLines(readFile(raw));
        const std::string path = (dir.path / (name + ".jsonl")).string();
        std::ofstream out(path);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (poisoned && i == lines.size() / 2)
                out << retimed(lines[i], "2099-06-01T12:00:00.000Z", "poison-2099") << '\n';
            // Event ids of their own per file: the second file's are new events, not duplicates.
            out << retimed(lines[i], lines[i].substr(lines[i].find("\"ts\":\"") + 6, 24),
                           name + "-" + std::to_string(i))
                << '\n';
        }
        return path;
    };
    auto produce = [&](const std::string &file) {
        const Result p = runStudio(
            {"produce", "--broker", bootstrap, "--replay", file, "--rps", "50000", "--json"}, 90);
        INFO(p.describe());
        REQUIRE(p.exitCode == 0);
        return jsonInt(lastLine(p.out), "acked");
    };
    auto headless = [&](const std::string &duration) {
        return std::vector<std::string>{kStudio,
                                        "headless",
                                        "--broker",
                                        bootstrap,
                                        "--producers",
                                        "0",
                                        "--group",
                                        "poisoned",
                                        "--postgres",
                                        servers.uri("poisoned"),
                                        "--checkpoint-ms",
                                        "200",
                                        "--session-timeout",
                                        "6",
                                        "--duration",
                                        duration,
                                        "--drain-timeout",
                                        "120",
                                        "--json",
                                        "--json-status"};
    };
    REQUIRE(produce(writeEvents("before", true)) == 20'001);

    // The first run refuses the 2099 event, and is killed soon after (checkpoints every 200 ms).
    {
        Child victim(headless("120"), env);
        REQUIRE(victim.started());
        const bool refused = victim.pumpUntil(120, [&] {
            for (const std::string &line : splitLines(victim.out()))
                if (contains(line, "\"phase\"") && jsonInt(line, "invalid") >= 1)
                    return true;
            return false;
        });
        INFO(victim.err().substr(victim.err().size() > 3000 ? victim.err().size() - 3000 : 0));
        REQUIRE(refused);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        REQUIRE(victim.sendSignal(SIGKILL));
        CHECK(victim.finish(10).signal == SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::seconds(7)); // its group membership lapses

    // More events of now; the restarted aggregator takes them all, none of them late. It runs
    // until a status line shows every event counted with its partitions named: a short fixed
    // duration could end before the group join had assigned them, so no line named them.
    REQUIRE(produce(writeEvents("after", false)) == 20'000);
    Child last(headless("240"), env);
    REQUIRE(last.started());
    std::string status;
    const bool caughtUp = last.pumpUntil(120, [&] {
        for (const std::string &line : splitLines(last.out()))
            if (contains(line, "\"phase\"") && jsonInt(line, "valid") == 40'000 &&
                contains(line, "\"partition_status\":[{"))
                status = line;
        return !status.empty();
    });
    INFO(last.err().substr(last.err().size() > 3000 ? last.err().size() - 3000 : 0));
    REQUIRE(caughtUp);
    // The status names every partition with its watermark, none from 2099.
    CHECK_FALSE(contains(status, "2099"));
    REQUIRE(last.sendSignal(SIGTERM));
    const Result r = last.finish(240);
    INFO(r.describe());
    REQUIRE(r.exitCode == 0);
    const std::string summary = lastLine(r.out);
    CHECK(jsonInt(summary, "restored") == 1);
    CHECK(jsonInt(summary, "late") == 0);
    CHECK(jsonInt(summary, "invalid") == 1);
    CHECK(jsonInt(summary, "valid") == 40'000);
    REQUIRE(servers.broker->sendSignal(SIGTERM));
    servers.broker->finish(10);
}
