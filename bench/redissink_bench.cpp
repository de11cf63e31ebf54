// Redis sink benchmark: RedisStore writing page rows (commands/s, rows/s) against the server's own
// bulk path measured in the same run: pipelined SET of as many keys as our commands, with the
// same pipeline depth (what `redis-benchmark -P` does), and `redis-benchmark -t set -P 64` itself
// when it is installed. Issue 4's target: at least 50% of the pipelined SET rate in commands/s.
//
//   bench_redissink [--pages P] [--windows W] [--depth D] [--repeat R] [--no-redis-benchmark]
//
// It starts its own redis-server (no persistence) on a free loopback port and stops it at the end.
// Input: P pages x W one-minute windows; each window's P rows are one write() (what the sink does
// with one snapshot). Ours and SET alternate R times on an emptied server (FLUSHALL); medians.

#include "core/store/redisclient.h"
#include "core/store/redisstore.h"

#include "../tests/serversupport.h"

#include <fmt/core.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace studio::core;
using Clock = std::chrono::steady_clock;

namespace {

struct Run
{
    double seconds = 0;
    std::size_t commands = 0;
    std::size_t rows = 0;
    std::size_t bytes = 0;
    double commandsPerSecond() const { return commands / seconds; }
    double rowsPerSecond() const { return rows / seconds; }
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

double secondsSince(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

RedisContextPtr plainClient(int port)
{
    RedisContextPtr c(redisConnectWithTimeout("127.0.0.1", port, {10, 0}));
    if (!c || c->err) {
        fmt::print(stderr, "cannot connect to redis-server: {}\n", c ? c->errstr : "no memory");
        std::exit(1);
    }
    return c;
}

bool flushAll(redisContext *c)
{
    const RedisReplyPtr r = redisCommandArgs(c, {"FLUSHALL"});
    return r && r->type != REDIS_REPLY_ERROR;
}

Run runOurs(RedisStore &store, const std::vector<RedisBatch> &batches)
{
    Run run;
    const auto start = Clock::now();
    for (const RedisBatch &batch : batches) {
        RedisWriteResult r;
        std::string error;
        if (!store.write(batch, &r, &error)) {
            fmt::print(stderr, "write failed: {}\n", error);
            std::exit(1);
        }
        run.commands += r.commands;
        run.rows += r.rows;
        run.bytes += r.bytes;
    }
    run.seconds = secondsSince(start);
    return run;
}

/// `count` pipelined SETs of small numeric values, `depth` in flight, replies checked.
Run runSet(redisContext *c, std::size_t count, std::size_t depth)
{
    Run run;
    const auto start = Clock::now();
    std::size_t pending = 0;
    auto drain = [&] {
        for (; pending > 0; --pending) {
            void *raw = nullptr;
            const bool ok = redisGetReply(c, &raw) == REDIS_OK;
            const RedisReplyPtr reply = adoptRedisReply(raw);
            if (!ok || !reply || reply->type == REDIS_REPLY_ERROR) {
                fmt::print(stderr, "SET failed: {}\n", c->errstr);
                std::exit(1);
            }
        }
    };
    char key[32];
    char value[24];
    for (std::size_t i = 0; i < count; ++i) {
        const int keyLen = std::snprintf(key, sizeof key, "bench:set:%zu", i);
        const int valueLen = std::snprintf(value, sizeof value, "%zu", i % 1000);
        const char *argv[] = {"SET", key, value};
        const std::size_t lens[] = {3, std::size_t(keyLen), std::size_t(valueLen)};
        redisAppendCommandArgv(c, 3, argv, lens);
        run.bytes += 4 + 4 + 5 + 3 + std::size_t(keyLen) + 5 + std::size_t(valueLen) + 4;
        if (++pending >= depth)
            drain();
    }
    drain();
    run.commands = run.rows = count;
    run.seconds = secondsSince(start);
    return run;
}

/// `redis-benchmark -t set -P 64 -n 1000000 -q`: its requests/s, or 0 when not installed.
double redisBenchmark(int port)
{
    if (::access("/usr/bin/redis-benchmark", X_OK) != 0)
        return 0;
    const std::string cmd = fmt::format(
        "/usr/bin/redis-benchmark -h 127.0.0.1 -p {} -t set -P 64 -n 1000000 -q 2>/dev/null", port);
    FILE *pipe = ::popen(cmd.c_str(), "r");
    if (!pipe)
        return 0;
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe))
        out += buf;
    ::pclose(pipe);
    // "SET: 1234567.89 requests per second, p50=..." (after \r-separated progress lines)
    const std::size_t at = out.rfind("SET: ");
    return at == std::string::npos ? 0 : std::atof(out.c_str() + at + 5);
}

} // namespace

int main(int argc, char **argv)
{
    int pages = 2000;
    int windows = 50;
    std::size_t depth = 1024;
    int repeat = 3;
    bool withRedisBenchmark = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&] {
            return i + 1 < argc ? std::atoi(argv[++i]) : 0;
        };
        if (a == "--pages")
            pages = next();
        else if (a == "--windows")
            windows = next();
        else if (a == "--depth")
            depth = std::size_t(std::max(next(), 1));
        else if (a == "--repeat")
            repeat = std::max(next(), 1);
        else if (a == "--no-redis-benchmark")
            withRedisBenchmark = false;
        else {
            fmt::print(stderr, "usage: bench_redissink [--pages P] [--windows W] [--depth D] "
                               "[--repeat R] [--no-redis-benchmark]\n");
            return 2;
        }
    }

    studio::test::RedisServer server;
    std::string error;
    if (!server.start(&error)) {
        fmt::print(stderr, "cannot start redis-server: {}\n", error);
        return 1;
    }

    // Realistic rows: page paths, event counts in the hundreds, one-minute windows.
    const std::int64_t w0 = 1'795'000'000'000 / 60'000 * 60'000;
    std::vector<RedisBatch> batches(static_cast<std::size_t>(windows));
    for (int w = 0; w < windows; ++w) {
        for (int p = 0; p < pages; ++p) {
            PageRow r;
            r.windowStart = w0 + w * 60'000;
            r.windowEnd = r.windowStart + 60'000;
            r.page = fmt::format("/category/c{:02d}/product/prod_{:05d}", p % 20, p);
            r.views = std::uint64_t(100 + (p * 7 + w) % 900);
            r.clicks = r.views / 3;
            r.addToCart = r.views / 20;
            r.purchases = r.views / 100;
            batches[std::size_t(w)].pages.push_back(std::move(r));
        }
    }

    RedisStoreOptions options;
    options.pipelineDepth = depth;
    RedisStore store(options);
    if (!store.connect({server.host(), server.port(), "", "", 0}, std::chrono::seconds(10),
                       &error)) {
        fmt::print(stderr, "{}\n", error);
        return 1;
    }
    const RedisContextPtr client = plainClient(server.port());
    redisContext *plain = client.get();

    fmt::print("redis sink benchmark: redis-server on 127.0.0.1:{} (no persistence), {} pages x {} "
               "windows = {} page rows, one write() per window, pipeline depth {}, ttl 24 h\n",
               server.port(), pages, windows, std::size_t(pages) * windows, depth);
    std::vector<double> oursCps, oursRps, setCps;
    for (int i = 0; i < repeat; ++i) {
        flushAll(plain);
        const Run ours = runOurs(store, batches);
        fmt::print("  RedisStore.write:     {:>9.0f} commands/s, {:>9.0f} rows/s  ({} commands, "
                   "{:.1f} MB, {:.2f} s)\n",
                   ours.commandsPerSecond(), ours.rowsPerSecond(), ours.commands, ours.bytes / 1e6,
                   ours.seconds);
        flushAll(plain);
        const Run set = runSet(plain, ours.commands, depth);
        fmt::print("  pipelined SET:        {:>9.0f} commands/s                     ({} commands, "
                   "{:.1f} MB, {:.2f} s)\n",
                   set.commandsPerSecond(), set.commands, set.bytes / 1e6, set.seconds);
        oursCps.push_back(ours.commandsPerSecond());
        oursRps.push_back(ours.rowsPerSecond());
        setCps.push_back(set.commandsPerSecond());
    }
    flushAll(plain);
    const double ours = median(oursCps);
    const double set = median(setCps);
    fmt::print("  medians of {}: ours {:.0f} commands/s ({:.0f} rows/s), pipelined SET {:.0f} "
               "commands/s\n",
               repeat, ours, median(oursRps), set);
    if (withRedisBenchmark) {
        const double rb = redisBenchmark(server.port());
        if (rb > 0)
            fmt::print("  redis-benchmark -t set -P 64 -n 1000000 (50 clients): {:.0f} requests/s "
                       "(ours = {:.2f} of it)\n",
                       rb, ours / rb);
        else
            fmt::print("  redis-benchmark: not installed or no result\n");
    }
    const double ratio = ours / set;
    fmt::print("\nratio ours/pipelined SET (commands/s) = {:.2f} (target >= 0.50): {}\n", ratio,
               ratio >= 0.5 ? "met" : "NOT met");
    fmt::print("rows/s = {:.0f} ({:.2f} of the SET rate: about {:.1f} commands per row)\n",
               median(oursRps), median(oursRps) / set, ours / median(oursRps));
    server.stop();
    return ratio >= 0.5 ? 0 : 1;
}
