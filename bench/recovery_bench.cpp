// Recovery after SIGKILL at a large open state (issue 19's acceptance point): "after SIGKILL at a
// state of at least 500 MB, the restart resumes within 30 s and `verify` prints
// ALL-RECORDS-ACCOUNTED".
//
// Everything runs as a user would run it: the built `clickstream-studio` executable as child
// processes, a real PostgreSQL on loopback (tests/serversupport.h, the tests' settings: fsync off)
// and a Kafka:
//   --kafka single (the default): a real Apache Kafka node started by scripts/kafka.sh
//                   (benchkafka.h), a fresh topic of --partitions partitions;
//   --kafka embedded: a `clickstream-studio broker --partitions N` process (librdkafka's mock
//                   cluster, which keeps only about 5 MiB per partition: records read after that
//                   are gone, so `verify` re-reading the topic cannot account for them; for
//                   quick runs of a small load only).
// Steps:
//   1. `headless --producers 0 --postgres URI --group recovery --checkpoint-ms C --json
//      --json-status` (durable mode) joins the group; then `produce --users U --products P --rps
//      R` writes the load into the topic while it aggregates. Sessions stay open for
//      --session-gap (30m) and page windows for --page-window (1h), both given to headless and
//      to verify alike, so the open state grows; the key cap is off on both sides
//      (--max-keys-per-window 0: verify compares per key, README "Bounded memory").
//   2. Once its --json-status line shows state_bytes (the open state's in-memory estimate) of at
//      least --target-mb MiB, the aggregator is killed with SIGKILL and at once started again with
//      the same arguments (the producer keeps producing). The resume time is from the restart's
//      launch to its first status line that shows its partitions assigned, partitions_restored > 0
//      and consumed rising (above 0 and above the line before); it includes the group rejoin
//      (the killed member's --session-timeout, 6 s, must lapse first) and the restore of the
//      stored chains. restored_bytes (the stored pieces read) and last_restore_seconds are quoted
//      from the same status lines.
//   3. The producer is stopped (SIGTERM; its --json summary gives the acked count), the restarted
//      aggregator drains (lag 0 twice), is stopped with SIGTERM, and `verify --expect-events
//      ACKED` (same aggregation flags) must print ALL-RECORDS-ACCOUNTED.
// Exit 0 only when the state reached the target, the restart resumed within --limit-s (30 s) and
// verify accounted for every record; 1 otherwise; 2 on bad arguments.
//
//   bench_recovery [--users U] [--products P] [--rps R] [--target-mb M] [--partitions N]
//                  [--checkpoint-ms C] [--session-gap D] [--page-window D] [--limit-s S]
//                  [--kafka single|embedded] [--max-minutes M] [--keep]
// Defaults: 1,000,000 users, 10,000 products, 50,000 events/s, 500 MiB, 12 partitions, 2000 ms,
// 30m, 1h, 30 s, single, 60 minutes: the acceptance run of bench/README.md. (At 100,000 users the
// sketches are soon dense and the state grows slowly; at 100,000 products the aggregator stalls on
// the live snapshots on this machine: bench/README.md.) --keep leaves the work folder with every
// child's log; Ctrl-C or SIGTERM ends the run, killing the children and stopping the servers.

#include "benchkafka.h"
#include "serversupport.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <atomic>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

/// Ctrl-C or SIGTERM: every wait ends, the children are killed and the servers stopped.
std::atomic<bool> g_stop{false};

double since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

double mib(double bytes)
{
    return bytes / 1048576.0;
}

std::string loadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

/// The number after "key": in a JSON line (the first occurrence: the top-level fields of a
/// --json-status line come before its per-partition and per-worker arrays), or nullopt.
std::optional<double> jsonNumber(const std::string &line, const std::string &key)
{
    const std::string needle = "\"" + key + "\":";
    const std::size_t at = line.find(needle);
    if (at == std::string::npos)
        return std::nullopt;
    const char *begin = line.c_str() + at + needle.size();
    char *end = nullptr;
    errno = 0;
    const double v = std::strtod(begin, &end);
    if (end == begin || errno != 0)
        return std::nullopt;
    return v;
}

/// A child process with stdout and stderr in files of the work folder (no pipe to fill up); the
/// stdout file is read line by line as it grows.
class Child
{
public:
    Child(const std::vector<std::string> &argv, const std::string &outPath,
          const std::string &errPath, const std::vector<std::string> &extraEnv)
        : m_outPath(outPath)
    {
        std::vector<std::string> env;
        for (char **e = environ; e && *e; ++e)
            env.emplace_back(*e);
        for (const auto &e : extraEnv)
            env.push_back(e);
        std::vector<char *> cargv, cenv;
        for (const auto &a : argv)
            cargv.push_back(const_cast<char *>(a.c_str()));
        cargv.push_back(nullptr);
        for (auto &e : env)
            cenv.push_back(e.data());
        cenv.push_back(nullptr);
        const int out = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        m_started = Clock::now();
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL); // none outlives the benchmark
            ::dup2(in, STDIN_FILENO);
            ::dup2(out, STDOUT_FILENO);
            ::dup2(err, STDERR_FILENO);
            ::execve(cargv[0], cargv.data(), cenv.data());
            ::_exit(127);
        }
        ::close(out);
        ::close(err);
        ::close(in);
        m_pid = pid;
        m_in.open(outPath);
    }
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    ~Child()
    {
        if (running()) {
            ::kill(m_pid, SIGKILL);
            wait(10);
        }
    }

    bool started() const { return m_pid > 0; }
    Clock::time_point startedAt() const { return m_started; }

    bool running()
    {
        if (m_pid <= 0 || m_exited)
            return false;
        int status = 0;
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_exited = true;
            m_status = status;
        }
        return !m_exited;
    }

    void signal(int sig)
    {
        if (running())
            ::kill(m_pid, sig);
    }

    /// Waits up to `seconds` for the exit; false when it still runs.
    bool wait(double seconds)
    {
        const auto until = Clock::now() + std::chrono::duration<double>(seconds);
        while (running()) {
            if (Clock::now() >= until || g_stop)
                return false;
            std::this_thread::sleep_for(20ms);
        }
        return true;
    }

    std::string describeExit() const
    {
        if (!m_exited)
            return "running";
        if (WIFEXITED(m_status))
            return fmt::format("exit {}", WEXITSTATUS(m_status));
        if (WIFSIGNALED(m_status))
            return fmt::format("signal {}", WTERMSIG(m_status));
        return "?";
    }
    int exitCode() const { return m_exited && WIFEXITED(m_status) ? WEXITSTATUS(m_status) : -1; }

    /// The complete stdout lines written since the last call.
    std::vector<std::string> newLines()
    {
        std::vector<std::string> lines;
        m_in.clear();
        char buf[65536];
        while (m_in.read(buf, sizeof buf) || m_in.gcount() > 0)
            m_partial.append(buf, static_cast<std::size_t>(m_in.gcount()));
        m_in.clear();
        std::size_t at = 0, nl;
        while ((nl = m_partial.find('\n', at)) != std::string::npos) {
            lines.push_back(m_partial.substr(at, nl - at));
            at = nl + 1;
        }
        m_partial.erase(0, at);
        return lines;
    }

    std::string allOutput() const
    {
        std::ifstream in(m_outPath);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }

private:
    std::string m_outPath;
    std::ifstream m_in;
    std::string m_partial;
    pid_t m_pid = -1;
    bool m_exited = false;
    int m_status = 0;
    Clock::time_point m_started;
};

std::string lastNonEmptyLine(const std::string &text)
{
    std::size_t end = text.size();
    while (end > 0 && text[end - 1] == '\n')
        --end;
    const std::size_t begin = text.rfind('\n', end == 0 ? 0 : end - 1);
    return text.substr(begin == std::string::npos ? 0 : begin + 1,
                       end - (begin == std::string::npos ? 0 : begin + 1));
}

std::string tailOf(const std::string &path, std::size_t lines = 8)
{
    std::ifstream in(path);
    std::vector<std::string> all;
    for (std::string l; std::getline(in, l);)
        all.push_back(l);
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
        out += "    " + (all[i].size() > 400 ? all[i].substr(0, 400) + "..." : all[i]) + "\n";
    return out;
}

struct Args
{
    int users = 1'000'000;
    int products = 10'000;
    int rps = 50'000;
    double targetMb = 500; // MiB of state_bytes
    int partitions = 12;
    int checkpointMs = 2000;
    std::string sessionGap = "30m";
    std::string pageWindow = "1h";
    double limitSeconds = 30;
    std::string kafka = "single";
    double maxMinutes = 60;
    bool keep = false;
    std::string studio = STUDIO_EXECUTABLE;
};

int usage()
{
    fmt::print(stderr, "usage: bench_recovery [--users U] [--products P] [--rps R] [--target-mb M] "
                       "[--partitions N] [--checkpoint-ms C] [--session-gap D] [--page-window D] "
                       "[--limit-s S] [--kafka single|embedded] [--max-minutes M] [--studio PATH] "
                       "[--keep]\n");
    return 2;
}

/// What one status line says.
struct Status
{
    double stateBytes = 0, consumed = 0, lag = -1, partitions = 0, partitionsRestored = 0,
           restoredBytes = 0, lastRestoreSeconds = 0, rss = 0, checkpoints = 0, checkpointBytes = 0,
           compactions = 0, valid = 0, elapsed = 0;
};

std::optional<Status> parseStatus(const std::string &line)
{
    if (line.find("\"state_bytes\":") == std::string::npos)
        return std::nullopt;
    Status s;
    auto get = [&](const char *key, double &into) {
        if (auto v = jsonNumber(line, key))
            into = *v;
    };
    get("state_bytes", s.stateBytes);
    get("consumed", s.consumed);
    get("lag", s.lag);
    get("partitions", s.partitions);
    get("partitions_restored", s.partitionsRestored);
    get("restored_bytes", s.restoredBytes);
    get("last_restore_seconds", s.lastRestoreSeconds);
    get("rss_bytes", s.rss);
    get("checkpoints", s.checkpoints);
    get("checkpoint_bytes", s.checkpointBytes);
    get("compactions", s.compactions);
    get("valid", s.valid);
    get("elapsed", s.elapsed);
    return s;
}

std::string describe(const Status &s)
{
    return fmt::format(
        "state {:.1f} MiB, rss {:.1f} MiB, consumed {:.0f}, lag {:.0f}, "
        "partitions {:.0f}, checkpoints {:.0f} (last {:.1f} MiB), compactions {:.0f}",
        mib(s.stateBytes), mib(s.rss), s.consumed, s.lag, s.partitions, s.checkpoints,
        mib(s.checkpointBytes), s.compactions);
}

} // namespace

int main(int argc, char **argv)
{
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--keep") {
            a.keep = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const std::string v = argv[++i];
        try {
            if (flag == "--users")
                a.users = std::stoi(v);
            else if (flag == "--products")
                a.products = std::stoi(v);
            else if (flag == "--rps")
                a.rps = std::stoi(v);
            else if (flag == "--target-mb")
                a.targetMb = std::stod(v);
            else if (flag == "--partitions")
                a.partitions = std::stoi(v);
            else if (flag == "--checkpoint-ms")
                a.checkpointMs = std::stoi(v);
            else if (flag == "--session-gap")
                a.sessionGap = v;
            else if (flag == "--page-window")
                a.pageWindow = v;
            else if (flag == "--limit-s")
                a.limitSeconds = std::stod(v);
            else if (flag == "--kafka" && (v == "single" || v == "embedded"))
                a.kafka = v;
            else if (flag == "--max-minutes")
                a.maxMinutes = std::stod(v);
            else if (flag == "--studio")
                a.studio = v;
            else
                return usage();
        } catch (const std::exception &) {
            return usage();
        }
    }
    for (int sig : {SIGINT, SIGTERM})
        std::signal(sig, [](int) { g_stop = true; });
    const double targetBytes = a.targetMb * 1048576.0;
    const auto benchStart = Clock::now();
    const auto deadline = benchStart + std::chrono::duration<double>(a.maxMinutes * 60);
    auto timeLeft = [&] {
        return !g_stop && Clock::now() < deadline;
    };
    fmt::print("bench_recovery: {} users, {} products, {} events/s offered, {} partitions, "
               "checkpoint every {} ms, session gap {}, page window {}; kill at state_bytes >= "
               "{:.0f} MiB ({:.0f} bytes); load average at start {}\n",
               a.users, a.products, a.rps, a.partitions, a.checkpointMs, a.sessionGap, a.pageWindow,
               a.targetMb, targetBytes, loadAverage());
    std::fflush(stdout);

    char folder[] = "/tmp/bench-recovery-XXXXXX";
    if (!::mkdtemp(folder)) {
        fmt::print(stderr, "bench_recovery: cannot make a work folder\n");
        return 1;
    }
    const std::string dir = folder;
    auto cleanUp = [&] {
        if (a.keep)
            fmt::print("logs kept in {}\n", dir);
        else
            std::filesystem::remove_all(dir);
    };

    // PostgreSQL
    studio::test::PostgresServer pg;
    std::string error;
    if (!pg.start(&error)) {
        fmt::print(stderr, "bench_recovery: PostgreSQL: {}\n", error);
        cleanUp();
        return 1;
    }
    const std::string uri =
        fmt::format("postgresql://{}@127.0.0.1:{}/{}", pg.user(), pg.port(), pg.database());
    const std::vector<std::string> env = {"PGPASSWORD=" + pg.password()};

    // Kafka
    std::string bootstrap, topic = "clickstream";
    std::unique_ptr<Child> broker;
    studio::bench::BenchKafka kafka(studio::bench::BenchKafka::Kind::Single, 1);
    std::optional<studio::bench::BenchKafka::Target> target;
    if (a.kafka == "single") {
        if (!kafka.start(&error) || !(target = kafka.fresh(a.partitions, &error))) {
            fmt::print(stderr, "bench_recovery: Kafka: {}\n", error);
            cleanUp();
            return 1;
        }
        bootstrap = target->cluster.bootstrap;
        topic = target->topic;
        fmt::print("{}, topic {} ({} partitions)\n", kafka.describe(), topic, a.partitions);
    } else {
        broker =
            std::make_unique<Child>(std::vector<std::string>{a.studio, "broker", "--partitions",
                                                             std::to_string(a.partitions)},
                                    dir + "/broker.out", dir + "/broker.err", env);
        const auto until = Clock::now() + 30s;
        while (bootstrap.empty() && Clock::now() < until && broker->running()) {
            for (const auto &l : broker->newLines())
                if (bootstrap.empty())
                    bootstrap = l;
            std::this_thread::sleep_for(50ms);
        }
        if (bootstrap.empty()) {
            fmt::print(stderr, "bench_recovery: the broker wrote no bootstrap:\n{}",
                       tailOf(dir + "/broker.err"));
            cleanUp();
            return 1;
        }
        fmt::print("embedded broker process (librdkafka mock cluster, ~5 MiB kept per "
                   "partition) at {}\n",
                   bootstrap);
    }
    std::fflush(stdout);

    const std::vector<std::string> aggregation = {
        "--session-gap", a.sessionGap, "--page-window", a.pageWindow, "--max-keys-per-window", "0"};
    std::vector<std::string> headlessArgs = {a.studio,
                                             "headless",
                                             "--broker",
                                             bootstrap,
                                             "--topic",
                                             topic,
                                             "--producers",
                                             "0",
                                             "--group",
                                             "recovery",
                                             "--postgres",
                                             uri,
                                             "--checkpoint-ms",
                                             std::to_string(a.checkpointMs),
                                             "--session-timeout",
                                             "6",
                                             "--duration",
                                             "0",
                                             "--drain-timeout",
                                             "600",
                                             "--json",
                                             "--json-status"};
    headlessArgs.insert(headlessArgs.end(), aggregation.begin(), aggregation.end());
    auto printCommand = [](const char *what, const std::vector<std::string> &args) {
        std::string line;
        for (const auto &s : args)
            line += (line.empty() ? "" : " ") + s;
        fmt::print("{}: {}\n", what, line);
    };
    printCommand("aggregator", headlessArgs);

    bool ok = true;
    auto fail = [&](const std::string &why) {
        fmt::print("bench_recovery: FAILED: {}\n", why);
        ok = false;
    };

    // 1. The first aggregator joins the group, then the load starts.
    auto first =
        std::make_unique<Child>(headlessArgs, dir + "/headless1.out", dir + "/headless1.err", env);
    Status last1;
    auto pumpFirst = [&] {
        for (const auto &l : first->newLines())
            if (auto s = parseStatus(l))
                last1 = *s;
    };
    {
        const auto until = Clock::now() + 90s;
        while (last1.partitions < a.partitions && Clock::now() < until && first->running() &&
               !g_stop) {
            pumpFirst();
            std::this_thread::sleep_for(100ms);
        }
        if (last1.partitions < a.partitions) {
            fmt::print("bench_recovery: the aggregator did not get its partitions ({}):\n{}",
                       first->describeExit(), tailOf(dir + "/headless1.err"));
            cleanUp();
            return 1;
        }
    }
    std::vector<std::string> produceArgs = {a.studio,     "produce",
                                            "--broker",   bootstrap,
                                            "--topic",    topic,
                                            "--users",    std::to_string(a.users),
                                            "--products", std::to_string(a.products),
                                            "--rps",      std::to_string(a.rps),
                                            "--duration", "0",
                                            "--seed",     "19",
                                            "--json"};
    printCommand("producer", produceArgs);
    auto producer =
        std::make_unique<Child>(produceArgs, dir + "/produce.out", dir + "/produce.err", env);
    const auto loadStart = Clock::now();
    std::fflush(stdout);

    // 2. Until the state reaches the target.
    double nextReport = 10;
    while (last1.stateBytes < targetBytes) {
        std::this_thread::sleep_for(200ms);
        pumpFirst();
        if (!first->running() || !producer->running() || !timeLeft())
            break;
        if (since(loadStart) >= nextReport) {
            fmt::print("  {:6.0f} s: {}; load {}\n", since(loadStart), describe(last1),
                       loadAverage());
            std::fflush(stdout);
            nextReport += 10;
        }
    }
    if (last1.stateBytes < targetBytes) {
        fmt::print("bench_recovery: NOT MET: the state reached only {:.1f} MiB of {:.0f} "
                   "(aggregator {}, producer {}, {:.0f} s)\n  aggregator:\n{}  producer:\n{}",
                   mib(last1.stateBytes), a.targetMb, first->describeExit(),
                   producer->describeExit(), since(loadStart), tailOf(dir + "/headless1.err"),
                   tailOf(dir + "/produce.err"));
        cleanUp();
        return 1;
    }
    const Status atKill = last1;
    fmt::print("state reached {:.1f} MiB ({:.0f} bytes, the in-memory estimate state_bytes) after "
               "{:.0f} s of load: {}; load average {}\n",
               mib(atKill.stateBytes), atKill.stateBytes, since(loadStart), describe(atKill),
               loadAverage());
    first->signal(SIGKILL);
    first->wait(10);
    fmt::print("SIGKILL: aggregator {}\n", first->describeExit());
    first.reset();

    // 3. The restart, with the same arguments; the producer goes on.
    Child second(headlessArgs, dir + "/headless2.out", dir + "/headless2.err", env);
    Status last2, prev2;
    std::optional<double> assignedAt, restoredAt, resumedAt;
    Status atResume;
    auto pumpSecond = [&] {
        for (const auto &l : second.newLines()) {
            auto s = parseStatus(l);
            if (!s)
                continue;
            prev2 = last2;
            last2 = *s;
            const double t = since(second.startedAt());
            if (!assignedAt && s->partitions > 0)
                assignedAt = t;
            if (!restoredAt && s->partitionsRestored > 0)
                restoredAt = t;
            if (!resumedAt && s->partitions > 0 && s->partitionsRestored > 0 && s->consumed > 0 &&
                s->consumed > prev2.consumed) {
                resumedAt = t;
                atResume = *s;
            }
        }
    };
    while (!resumedAt && second.running() && timeLeft() &&
           since(second.startedAt()) < std::max(300.0, a.limitSeconds * 10)) {
        std::this_thread::sleep_for(50ms);
        pumpSecond();
    }
    if (!resumedAt) {
        fmt::print("bench_recovery: NOT MET: the restart did not resume ({}, {:.0f} s): {}\n{}",
                   second.describeExit(), since(second.startedAt()), describe(last2),
                   tailOf(dir + "/headless2.err"));
        cleanUp();
        return 1;
    }
    fmt::print("restart: partitions assigned at {:.1f} s, partitions_restored > 0 at {:.1f} s, "
               "consuming at {:.1f} s after its launch\n",
               assignedAt.value_or(-1), restoredAt.value_or(-1), *resumedAt);
    fmt::print("  restored {:.0f} partitions, restored_bytes {:.0f} ({:.1f} MiB stored pieces), "
               "last_restore_seconds {:.2f}; then {}\n",
               atResume.partitionsRestored, atResume.restoredBytes, mib(atResume.restoredBytes),
               atResume.lastRestoreSeconds, describe(atResume));
    const bool resumedInTime = *resumedAt <= a.limitSeconds;
    fmt::print("restart resumed in {:.1f} s against a {:.0f} s limit: ratio {:.2f} (>= 1.0 "
               "meets it)\n",
               *resumedAt, a.limitSeconds, a.limitSeconds / *resumedAt);
    std::fflush(stdout);

    // 4. Stop the load, drain, stop, verify.
    producer->signal(SIGTERM);
    if (!producer->wait(120))
        fail("the producer did not stop within 120 s of SIGTERM");
    const std::string produced = lastNonEmptyLine(producer->allOutput());
    const auto acked = jsonNumber(produced, "acked");
    const auto failed = jsonNumber(produced, "failed");
    fmt::print("producer stopped ({}): acked {:.0f}, failed {:.0f} in {:.0f} s\n",
               producer->describeExit(), acked.value_or(-1), failed.value_or(-1), since(loadStart));
    if (!acked || failed.value_or(1) != 0)
        fail("no acked count from the producer, or failed deliveries: " + produced);
    const auto drainStart = Clock::now();
    int zeroLags = 0;
    double seenElapsed = -1;
    while (zeroLags < 2 && second.running() && timeLeft()) {
        std::this_thread::sleep_for(200ms);
        pumpSecond();
        if (last2.elapsed != seenElapsed) {
            seenElapsed = last2.elapsed;
            zeroLags = last2.lag == 0 ? zeroLags + 1 : 0;
        }
    }
    fmt::print("restarted aggregator drained in {:.1f} s: {}\n", since(drainStart),
               describe(last2));
    second.signal(SIGTERM);
    if (!second.wait(900))
        fail("the restarted aggregator did not stop within 900 s of SIGTERM");
    const std::string summary = lastNonEmptyLine(second.allOutput());
    fmt::print("restarted aggregator stopped ({}): {}\n", second.describeExit(), summary);
    if (second.exitCode() != 0)
        fail("the restarted aggregator exited with " + second.describeExit() + "\n" +
             tailOf(dir + "/headless2.err"));

    std::vector<std::string> verifyArgs = {a.studio,    "verify", "--broker",   bootstrap,
                                           "--topic",   topic,    "--postgres", uri,
                                           "--timeout", "300",    "--examples", "3"};
    if (acked) {
        verifyArgs.push_back("--expect-events");
        verifyArgs.push_back(fmt::format("{:.0f}", *acked));
    }
    verifyArgs.insert(verifyArgs.end(), aggregation.begin(), aggregation.end());
    printCommand("verify", verifyArgs);
    std::fflush(stdout);
    const auto verifyStart = Clock::now();
    Child verify(verifyArgs, dir + "/verify.out", dir + "/verify.err", env);
    if (!verify.wait(
            std::max(600.0, std::chrono::duration<double>(deadline - Clock::now()).count())))
        fail("verify did not finish");
    const std::string verdict = verify.allOutput();
    fmt::print("verify ({}, {:.0f} s):\n{}", verify.describeExit(), since(verifyStart), verdict);
    const bool accounted =
        verdict.find("ALL-RECORDS-ACCOUNTED") != std::string::npos && verify.exitCode() == 0;
    if (!accounted)
        fmt::print("verify stderr:\n{}", tailOf(dir + "/verify.err", 20));

    fmt::print("recovery after SIGKILL at {:.1f} MiB of state (target {:.0f} MiB): restart "
               "resumed in {:.1f} s (limit {:.0f} s, ratio {:.2f}), restored {:.1f} MiB of "
               "pieces in {:.2f} s; verify {}; total {:.0f} s; load average at the end {}\n",
               mib(atKill.stateBytes), a.targetMb, *resumedAt, a.limitSeconds,
               a.limitSeconds / *resumedAt, mib(atResume.restoredBytes),
               atResume.lastRestoreSeconds,
               accounted ? "ALL-RECORDS-ACCOUNTED" : "did NOT account for every record",
               since(benchStart), loadAverage());
    if (!resumedInTime)
        fail("the restart took longer than the limit");
    if (!accounted)
        fail("verify");
    if (broker)
        broker->signal(SIGTERM);
    cleanUp();
    return ok ? 0 : 1;
}
