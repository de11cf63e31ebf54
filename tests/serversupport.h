#pragma once

// Real PostgreSQL and Redis servers on loopback, started and stopped by the tests.
//
//   RedisServer redis;                        // nothing runs yet
//   if (!RedisServer::available(&why)) { WARN(why); return; }
//   REQUIRE(redis.start(&error));             // redis-server on 127.0.0.1:<free port>
//   redis.stop(); redis.start(&error);        // down and back up on the same port
//
//   PostgresServer pg;                        // initdb into a temp dir on the first start()
//   REQUIRE(pg.start(&error));                // postgres on 127.0.0.1:<free port>, ready
//   pqxx::connection c{pg.connectionString() + " password=" + pg.password()};
//
// Each server lives in its own temporary directory (removed by the destructor), listens on
// 127.0.0.1 only, keeps nothing on disk it would need again (Redis: no RDB, no AOF), and is stopped
// by the destructor. start() waits for readiness (Redis answers PING, pg_isready says accepting)
// with a deadline and, on failure, returns a message with the tail of the server's log.
// PostgreSQL refuses to run as root, so when the tests run as root (CI) initdb, postgres and psql
// run as the `postgres` system user (the temp dir is chowned to it). Test passwords are fixed and
// written to files in the temp dir (mode 0600), never put on a command line.
// Not thread-safe: drive one server object from one thread.

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace studio::test {

namespace serverdetail {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline void setError(std::string *error, std::string message)
{
    if (error)
        *error = std::move(message);
}

/// A port that was free on 127.0.0.1 a moment ago (the kernel's choice for port 0).
inline int freeLoopbackPort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

/// Connects to 127.0.0.1:port with send/receive timeouts; -1 when refused.
inline int connectLoopback(int port, std::chrono::milliseconds timeout)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// The last `lines` lines of a log file, for failure messages.
inline std::string logTail(const std::string &path, std::size_t lines = 15)
{
    std::ifstream in(path);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);)
        all.push_back(line);
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
        out += "\n    " + all[i];
    return out.empty() ? std::string(" (log empty)") : out;
}

/// The user a child runs as: `postgres` when we are root (PostgreSQL refuses root), else us.
struct RunAs
{
    bool switchUser = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

/// Starts argv[0] (an absolute path) with stdout and stderr appended to `logPath`, in `cwd`,
/// as `runAs` when it says so. The child dies with the test process (PR_SET_PDEATHSIG).
inline pid_t spawn(const std::vector<std::string> &argv, const std::string &logPath,
                   const std::string &cwd, const RunAs &runAs, const std::string &stdinPath = {})
{
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid != 0)
        return pid; // parent (or -1)
    // Child: only async-signal-safe calls from here on.
    if (runAs.switchUser) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(runAs.gid) != 0 || ::setuid(runAs.uid) != 0)
            ::_exit(126);
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL); // after setuid, which would clear it
    if (::chdir(cwd.c_str()) != 0)
        ::_exit(126);
    const int in = ::open(stdinPath.empty() ? "/dev/null" : stdinPath.c_str(), O_RDONLY);
    const int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || log < 0)
        ::_exit(126);
    ::dup2(in, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    for (int fd = 3; fd < 4096; ++fd) // no inherited sockets (other servers, test listeners)
        ::close(fd);
    ::execv(args[0], args.data());
    ::_exit(127);
}

/// Waits for `pid` up to `timeout`; returns its exit code, or nullopt (still running).
inline std::optional<int> waitExit(pid_t pid, std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0)
            return -1;
        if (Clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(20ms);
    }
}

/// Runs a command to completion (killed after `timeout`); its exit code, -1 on timeout.
inline int run(const std::vector<std::string> &argv, const std::string &logPath,
               const std::string &cwd, const RunAs &runAs, std::chrono::milliseconds timeout,
               const std::string &stdinPath = {})
{
    const pid_t pid = spawn(argv, logPath, cwd, runAs, stdinPath);
    if (pid < 0)
        return -1;
    if (auto code = waitExit(pid, timeout))
        return *code;
    ::kill(pid, SIGKILL);
    waitExit(pid, 5s);
    return -1;
}

/// Sends `sig`, waits up to `grace`, then SIGKILL. Resets pid to 0.
inline void terminate(pid_t &pid, int sig, std::chrono::milliseconds grace)
{
    if (pid <= 0)
        return;
    ::kill(pid, sig);
    if (!waitExit(pid, grace)) {
        ::kill(pid, SIGKILL);
        waitExit(pid, 5s);
    }
    pid = 0;
}

/// A fresh directory under /tmp, removed with everything in it by the destructor.
struct TempDir
{
    std::string path;
    explicit TempDir(const char *prefix)
    {
        std::string pattern = std::string("/tmp/") + prefix + "-XXXXXX";
        if (::mkdtemp(pattern.data()))
            path = pattern;
    }
    ~TempDir()
    {
        // STUDIO_KEEP_TEMP=1 keeps the directory (logs, data) to look at after a run.
        const char *keep = std::getenv("STUDIO_KEEP_TEMP");
        std::error_code ec;
        if (!path.empty() && !(keep && *keep && *keep != '0'))
            std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
};

inline bool writeFile(const std::string &path, const std::string &text)
{
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    ::chmod(path.c_str(), 0600);
    return bool(out);
}

} // namespace serverdetail

/// redis-server on 127.0.0.1, no persistence. Optional `requirepass` for the default user and an
/// ACL user with its own password (all commands, all keys).
class RedisServer
{
public:
    struct Options
    {
        std::string password; ///< requirepass of the default user; empty = none
        std::string aclUser;  ///< an extra ACL user; empty = none
        std::string aclPassword;
    };

    /// True when redis-server is installed; otherwise `why` says what is missing.
    static bool available(std::string *why = nullptr)
    {
        if (::access(binary().c_str(), X_OK) == 0)
            return true;
        serverdetail::setError(why, binary() + " not found (install the redis-server package)");
        return false;
    }
    static std::string binary()
    {
        const char *env = std::getenv("STUDIO_REDIS_SERVER");
        return env ? env : "/usr/bin/redis-server";
    }

    RedisServer()
        : m_options()
    {
    }
    explicit RedisServer(Options options)
        : m_options(std::move(options))
    {
    }
    ~RedisServer() { stop(); }
    RedisServer(const RedisServer &) = delete;
    RedisServer &operator=(const RedisServer &) = delete;

    /// Starts the server (again on the same port after stop()) and waits until it answers PING,
    /// for up to `deadline`. False with a message (and the log's tail) otherwise.
    bool start(std::string *error = nullptr,
               std::chrono::seconds deadline = std::chrono::seconds(15))
    {
        using namespace serverdetail;
        if (m_pid > 0)
            return true;
        if (!available(error))
            return false;
        if (m_dir.path.empty())
            return setError(error, "cannot create a temporary directory"), false;
        const bool firstStart = m_port == 0;
        for (int attempt = 0; attempt < (firstStart ? 3 : 1); ++attempt) {
            if (firstStart)
                m_port = freeLoopbackPort();
            std::ostringstream conf;
            conf << "port " << m_port << "\nbind 127.0.0.1\ndir " << m_dir.path
                 << "\nsave \"\"\nappendonly no\ndaemonize no\nlogfile \"\"\n";
            if (!m_options.password.empty())
                conf << "requirepass \"" << m_options.password << "\"\n";
            if (!m_options.aclUser.empty())
                conf << "user " << m_options.aclUser << " on >" << m_options.aclPassword
                     << " ~* &* +@all\n";
            const std::string confPath = m_dir.path + "/redis.conf";
            writeFile(confPath, conf.str());
            m_pid = spawn({binary(), confPath}, logPath(), m_dir.path, RunAs{});
            if (m_pid < 0) {
                m_pid = 0;
                return setError(error, "cannot fork redis-server"), false;
            }
            std::string why;
            if (waitReady(deadline, &why))
                return true;
            terminate(m_pid, SIGKILL, std::chrono::seconds(5));
            setError(error, "redis-server on port " + std::to_string(m_port) +
                                " did not start: " + why + logTail(logPath()));
        }
        return false;
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s). The port stays reserved for start().
    void stop() { serverdetail::terminate(m_pid, SIGTERM, std::chrono::seconds(5)); }

    bool isRunning() const { return m_pid > 0; }
    int port() const { return m_port; }
    std::string host() const { return "127.0.0.1"; }
    const Options &options() const { return m_options; }
    std::string logPath() const { return m_dir.path + "/redis.log"; }

private:
    bool waitReady(std::chrono::seconds deadline, std::string *why)
    {
        using namespace serverdetail;
        const auto until = Clock::now() + deadline;
        while (Clock::now() < until) {
            if (auto code = waitExit(m_pid, std::chrono::milliseconds(0))) {
                m_pid = 0;
                *why = "exited with code " + std::to_string(*code);
                return false;
            }
            const int fd = connectLoopback(m_port, std::chrono::milliseconds(500));
            if (fd >= 0) {
                char reply[64] = {};
                const bool sent = ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6;
                const ssize_t n = sent ? ::recv(fd, reply, sizeof reply - 1, 0) : -1;
                ::close(fd);
                // +PONG, or -NOAUTH when a password is required: either way it is serving.
                if (n > 0 && (reply[0] == '+' || std::string(reply).rfind("-NOAUTH", 0) == 0))
                    return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        *why = "no answer to PING within " + std::to_string(deadline.count()) + " s";
        return false;
    }

    Options m_options;
    serverdetail::TempDir m_dir{"studio-redis"};
    int m_port = 0;
    pid_t m_pid = 0;
};

/// A PostgreSQL 15 cluster made by initdb in a temp dir, served by `postgres` on 127.0.0.1 and on
/// a Unix socket in the same dir. It has a login role and a database for the tests (both named by
/// Options) with a SCRAM password over TCP; the `postgres` superuser connects over the socket
/// without a password (superuserConnectionString(), psql()).
class PostgresServer
{
public:
    struct Options
    {
        std::string user = "studio";
        std::string password = "studio-test-password";
        std::string database = "studio";
    };

    /// Where the server binaries are: $STUDIO_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin.
    static std::string binDir()
    {
        if (const char *env = std::getenv("STUDIO_PG_BINDIR"))
            return env;
        std::string best;
        int bestVersion = 0;
        std::error_code ec;
        for (const auto &entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
            const int version = std::atoi(entry.path().filename().c_str());
            if (version > bestVersion &&
                std::filesystem::exists(entry.path() / "bin" / "postgres", ec)) {
                bestVersion = version;
                best = (entry.path() / "bin").string();
            }
        }
        return best.empty() ? "/usr/lib/postgresql/15/bin" : best;
    }

    /// True when initdb, postgres, pg_isready and psql are installed (and, as root, the postgres
    /// user exists); otherwise `why` says what is missing.
    static bool available(std::string *why = nullptr)
    {
        for (const char *tool : {"initdb", "postgres", "pg_isready", "psql"}) {
            if (::access((binDir() + "/" + tool).c_str(), X_OK) != 0) {
                serverdetail::setError(why, binDir() + "/" + tool +
                                                " not found (install postgresql-15)");
                return false;
            }
        }
        if (::getuid() == 0 && !::getpwnam("postgres")) {
            serverdetail::setError(why, "running as root and there is no postgres user");
            return false;
        }
        return true;
    }

    PostgresServer()
        : m_options()
    {
    }
    explicit PostgresServer(Options options)
        : m_options(std::move(options))
    {
    }
    ~PostgresServer() { stop(); }
    PostgresServer(const PostgresServer &) = delete;
    PostgresServer &operator=(const PostgresServer &) = delete;

    /// The first call runs initdb and creates the test role and database; every call starts the
    /// server (on the same port after stop()) and waits until it accepts connections, for up to
    /// `deadline`. False with a message (and the log's tail) otherwise.
    bool start(std::string *error = nullptr,
               std::chrono::seconds deadline = std::chrono::seconds(60))
    {
        using namespace serverdetail;
        if (m_pid > 0)
            return true;
        if (!available(error))
            return false;
        if (m_dir.path.empty())
            return setError(error, "cannot create a temporary directory"), false;
        m_runAs = runAs();
        if (m_runAs.switchUser && ::chown(m_dir.path.c_str(), m_runAs.uid, m_runAs.gid) != 0)
            return setError(error, "cannot chown " + m_dir.path + " to postgres"), false;
        const bool firstStart = m_port == 0;
        if (firstStart && !initCluster(error))
            return false;
        for (int attempt = 0; attempt < (firstStart ? 3 : 1); ++attempt) {
            if (firstStart)
                m_port = freeLoopbackPort();
            m_pid = spawn({binDir() + "/postgres",
                           "-D",
                           dataDir(),
                           "-p",
                           std::to_string(m_port),
                           "-k",
                           m_dir.path,
                           "-c",
                           "listen_addresses=127.0.0.1",
                           "-c",
                           "fsync=off",
                           "-c",
                           "synchronous_commit=off",
                           "-c",
                           "full_page_writes=off",
                           "-c",
                           "shared_buffers=16MB",
                           "-c",
                           "max_connections=40",
                           "-c",
                           "max_wal_senders=0",
                           "-c",
                           "wal_level=minimal"},
                          logPath(), m_dir.path, m_runAs);
            if (m_pid < 0) {
                m_pid = 0;
                return setError(error, "cannot fork postgres"), false;
            }
            std::string why;
            if (waitReady(deadline, &why)) {
                if (!m_roleCreated && !createRole(error)) {
                    stop();
                    return false;
                }
                return true;
            }
            terminate(m_pid, SIGKILL, std::chrono::seconds(5));
            setError(error, "postgres on port " + std::to_string(m_port) +
                                " did not start: " + why + logTail(logPath()));
        }
        return false;
    }

    /// Fast shutdown (SIGINT: open sessions are cut), SIGKILL after 10 s. The data and the port
    /// stay for start().
    void stop() { serverdetail::terminate(m_pid, SIGINT, std::chrono::seconds(10)); }

    bool isRunning() const { return m_pid > 0; }
    int port() const { return m_port; }
    std::string host() const { return "127.0.0.1"; }
    const std::string &user() const { return m_options.user; }
    const std::string &password() const { return m_options.password; }
    const std::string &database() const { return m_options.database; }
    std::string logPath() const { return m_dir.path + "/postgres.log"; }

    /// libpq key=value string for the test role over TCP, without the password.
    std::string connectionString() const
    {
        return "host=127.0.0.1 port=" + std::to_string(m_port) + " dbname=" + m_options.database +
               " user=" + m_options.user;
    }
    /// The superuser over the Unix socket (trust, no password).
    std::string superuserConnectionString() const
    {
        return "host=" + m_dir.path + " port=" + std::to_string(m_port) +
               " dbname=postgres user=postgres";
    }

    /// Runs SQL as the superuser in `database` (default: the test database) through psql; the
    /// unaligned, tuples-only output, or nullopt on failure (message in `error`).
    std::optional<std::string> psql(const std::string &sql, std::string *error = nullptr,
                                    const std::string &database = {})
    {
        using namespace serverdetail;
        const std::string sqlPath = m_dir.path + "/query.sql";
        const std::string outPath = m_dir.path + "/query.out";
        writeFile(sqlPath, sql);
        std::filesystem::remove(outPath);
        if (m_runAs.switchUser)
            (void)!::chown(sqlPath.c_str(), m_runAs.uid, m_runAs.gid);
        const int code =
            run({binDir() + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                 m_dir.path, "-p", std::to_string(m_port), "-U", "postgres", "-d",
                 database.empty() ? m_options.database : database, "-f", sqlPath},
                outPath, m_dir.path, m_runAs, std::chrono::seconds(30));
        std::ifstream in(outPath);
        std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (code != 0) {
            setError(error, "psql exited with " + std::to_string(code) + ": " + out);
            return std::nullopt;
        }
        return out;
    }

private:
    static serverdetail::RunAs runAs()
    {
        serverdetail::RunAs as;
        if (::getuid() != 0)
            return as;
        if (const passwd *pw = ::getpwnam("postgres")) {
            as.switchUser = true;
            as.uid = pw->pw_uid;
            as.gid = pw->pw_gid;
            as.name = "postgres";
        }
        return as;
    }

    std::string dataDir() const { return m_dir.path + "/data"; }

    bool initCluster(std::string *error)
    {
        using namespace serverdetail;
        const std::string initLog = m_dir.path + "/initdb.log";
        const int code =
            run({binDir() + "/initdb", "-D", dataDir(), "-U", "postgres", "-E", "UTF8",
                 "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"},
                initLog, m_dir.path, m_runAs, std::chrono::seconds(120));
        if (code != 0)
            return setError(error, "initdb exited with " + std::to_string(code) + logTail(initLog)),
                   false;
        return true;
    }

    bool createRole(std::string *error)
    {
        // Single quotes doubled: the fixed test password is SQL text, not a command-line argument.
        std::string quoted;
        for (char c : m_options.password)
            quoted += c == '\'' ? std::string("''") : std::string(1, c);
        if (!psql("CREATE ROLE \"" + m_options.user + "\" LOGIN PASSWORD '" + quoted +
                      "';\n"
                      "CREATE DATABASE \"" +
                      m_options.database + "\" OWNER \"" + m_options.user + "\";\n",
                  error, "postgres"))
            return false;
        m_roleCreated = true;
        return true;
    }

    bool waitReady(std::chrono::seconds deadline, std::string *why)
    {
        using namespace serverdetail;
        const auto until = Clock::now() + deadline;
        const std::string readyLog = m_dir.path + "/pg_isready.log";
        while (Clock::now() < until) {
            if (auto code = waitExit(m_pid, std::chrono::milliseconds(0))) {
                m_pid = 0;
                *why = "exited with code " + std::to_string(*code);
                return false;
            }
            if (run({binDir() + "/pg_isready", "-q", "-h", "127.0.0.1", "-p",
                     std::to_string(m_port), "-d", "postgres", "-t", "2"},
                    readyLog, m_dir.path, m_runAs, std::chrono::seconds(5)) == 0)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        *why = "not accepting connections within " + std::to_string(deadline.count()) + " s";
        return false;
    }

    Options m_options;
    serverdetail::TempDir m_dir{"studio-pg"};
    serverdetail::RunAs m_runAs;
    int m_port = 0;
    pid_t m_pid = 0;
    bool m_roleCreated = false;
};

/// A TCP listener on 127.0.0.1 that completes connections (the kernel's backlog does) and never
/// answers a byte: a hung server, for timeout tests.
class SilentTcpServer
{
public:
    SilentTcpServer()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 &&
            ::listen(m_fd, 64) == 0 &&
            ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0)
            m_port = ntohs(addr.sin_port);
    }
    ~SilentTcpServer()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    SilentTcpServer(const SilentTcpServer &) = delete;
    SilentTcpServer &operator=(const SilentTcpServer &) = delete;

    /// 0 when the listener could not be opened.
    int port() const { return m_port; }

private:
    int m_fd = -1;
    int m_port = 0;
};

} // namespace studio::test
