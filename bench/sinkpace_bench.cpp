// Do the sinks keep up with the aggregator at 1,000,000 events/s of input?
//
// Phase 1 aggregates S seconds of event time at R events per second (default 30 s at 1,000,000/s,
// the generator's default users and products; --users/--products for a high-cardinality load)
// exactly as durable mode does: a FinalsCollector behind the aggregator and, every checkpoint
// interval of event time, one SinkBatch with the finals since the last one; the aggregator's open
// state (saveState) is measured at each interval and the largest is kept. The end of input
// flushes every open window and session into a last batch (a burst no steady stream has:
// conservative). Once per event-second it also takes the live Redis values, as `run` does.
//
// Phase 2 writes to a real PostgreSQL and a real Redis (both started here on loopback):
//   rows:  the final-row batches, one at a time (each its own transaction, as in a pipeline that
//          keeps up), with the live Redis values; the limit is the real-time budget, S seconds:
//          ratio S / time taken, 1.0 or more keeps up.
//   state: the largest open state with its offsets, as one checkpoint; the limit is the
//          configured checkpoint interval: ratio interval / time taken. Below 1.0 the pipeline
//          stretches its state cadence to this time (a batch carries the state only once the
//          previous state is stored), so a crash replays that much more input, nothing else.
//
//   bench_sinkpace [--rate R] [--seconds S] [--users U] [--products P] [--checkpoint-ms C]

#include "core/aggregate/aggregator.h"
#include "core/aggregate/finalscollector.h"
#include "core/common/recordbatch.h"
#include "core/produce/generator.h"
#include "core/store/sinkworker.h"

#include "serversupport.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace studio::core;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Args
{
    double rate = 1'000'000;
    int seconds = 30;
    int users = GeneratorConfig{}.users; // the generator's defaults (seed 004's load)
    int products = GeneratorConfig{}.products;
    int checkpointMs = 2000;
};

struct Demand
{
    std::vector<SinkBatch> batches; // final rows only
    std::vector<RedisBatch> live;   // one per event-second
    SinkBatch largestState;         // the largest open state, with its offsets
    std::uint64_t events = 0, rows = 0, checkpointBytes = 0, largestCheckpoint = 0;
    double seconds = 0; // wall time of phase 1
};

Demand aggregate(const Args &a)
{
    Demand d;
    FinalsCollector finals;
    Aggregator aggregator({}, &finals);
    GeneratorConfig gc;
    gc.users = a.users;
    gc.products = a.products;
    EventGenerator generator(gc);
    const std::int64_t t0 = 1'800'000'000'000;
    const auto total = static_cast<std::uint64_t>(a.rate * a.seconds);
    const auto perCheckpoint = static_cast<std::uint64_t>(a.rate * a.checkpointMs / 1000.0);
    const auto perSecond = static_cast<std::uint64_t>(a.rate);
    RecordBatch batch;
    auto checkpoint = [&](std::uint64_t offset, bool withState) {
        SinkBatch b;
        b.shard = "bench";
        b.groupId = "bench";
        if (withState) {
            std::string state = aggregator.saveState();
            d.checkpointBytes += state.size();
            if (state.size() > d.largestCheckpoint) {
                d.largestCheckpoint = state.size();
                d.largestState.shard = "bench";
                d.largestState.groupId = "bench";
                d.largestState.offsets = {{"clickstream", 0, static_cast<std::int64_t>(offset)}};
                d.largestState.checkpoint = std::move(state);
            }
        }
        b.results = finals.take();
        d.rows += b.rowCount();
        d.batches.push_back(std::move(b));
    };
    const auto started = Clock::now();
    for (std::uint64_t i = 0; i < total; ++i) {
        generator.next(t0 + static_cast<std::int64_t>(double(i) * 1000.0 / a.rate), batch);
        if (batch.size() >= 4096) {
            aggregator.ingestBatch(batch);
            batch.clear();
        }
        if ((i + 1) % perSecond == 0) {
            aggregator.ingestBatch(batch);
            batch.clear();
            const AggregatorSnapshot snap = aggregator.snapshot();
            RedisBatch live;
            live.pages = snap.pages;
            live.funnel = snap.funnel;
            d.live.push_back(std::move(live));
        }
        if ((i + 1) % perCheckpoint == 0) {
            aggregator.ingestBatch(batch);
            batch.clear();
            checkpoint(i + 1, true);
        }
    }
    aggregator.ingestBatch(batch);
    aggregator.flush();
    checkpoint(total, false);
    d.events = total;
    d.seconds = since(started);
    return d;
}

} // namespace

int main(int argc, char **argv)
{
    Args a;
    for (int i = 1; i < argc; ++i) {
        const bool more = i + 1 < argc;
        if (!std::strcmp(argv[i], "--rate") && more)
            a.rate = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--seconds") && more)
            a.seconds = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--users") && more)
            a.users = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--products") && more)
            a.products = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--checkpoint-ms") && more)
            a.checkpointMs = std::atoi(argv[++i]);
        else {
            fmt::print(stderr, "usage: bench_sinkpace [--rate R] [--seconds S] [--users U] "
                               "[--products P] [--checkpoint-ms C]\n");
            return 2;
        }
    }
    if (a.rate < 1000 || a.seconds < 2 || a.checkpointMs < 100 || a.users < 1 || a.products < 1) {
        fmt::print(stderr, "bench_sinkpace: --rate >= 1000, --seconds >= 2, --checkpoint-ms >= "
                           "100, --users and --products >= 1\n");
        return 2;
    }

    studio::test::PostgresServer pg;
    studio::test::RedisServer redis;
    std::string error;
    if (!pg.start(&error) || !redis.start(&error)) {
        fmt::print(stderr, "bench_sinkpace: cannot start the servers: {}\n", error);
        return 1;
    }

    fmt::print("phase 1: aggregating {} s of event time at {:.0f} events/s ({} users, {} products)"
               "...\n",
               a.seconds, a.rate, a.users, a.products);
    std::fflush(stdout);
    Demand d = aggregate(a);
    fmt::print("  {} events in {:.1f} s ({:.2f}M events/s on one core); {} batches, {} final rows, "
               "checkpoints {:.1f} MB in all (largest {:.1f} MB)\n",
               d.events, d.seconds, double(d.events) / d.seconds / 1e6, d.batches.size(), d.rows,
               double(d.checkpointBytes) / 1e6, double(d.largestCheckpoint) / 1e6);

    SinkSettings ss;
    ss.postgres = PostgresTarget{pg.connectionString(), pg.password()};
    ss.redis = RedisTarget{"127.0.0.1", redis.port(), {}, {}, 0};
    ss.durableNeedsRedis = true; // wait for both
    ss.shard = "bench";
    ss.groupId = "bench";
    SinkWorker sinks(ss);
    sinks.start();
    // Connect and migrate before the clock starts (a running pipeline is connected already).
    {
        const auto deadline = Clock::now() + 30s;
        while ((!sinks.postgresStatus().connected || !sinks.redisStatus().connected) &&
               Clock::now() < deadline)
            std::this_thread::sleep_for(20ms);
        if (!sinks.postgresStatus().connected || !sinks.redisStatus().connected) {
            fmt::print(stderr, "bench_sinkpace: sinks not connected: {} / {}\n",
                       sinks.postgresStatus().lastError, sinks.redisStatus().lastError);
            return 1;
        }
    }

    fmt::print("phase 2: writing the final rows to PostgreSQL and Redis, one batch at a time...\n");
    std::fflush(stdout);
    const std::size_t liveEvery = std::max<std::size_t>(1, d.live.size() / d.batches.size());
    std::size_t liveNext = 0;
    double slowest = 0;
    auto written = [&](const char *what) {
        if (sinks.flush(300s))
            return true;
        fmt::print(stderr, "bench_sinkpace: {} not written within 300 s: {} / {}\n", what,
                   sinks.postgresStatus().lastError, sinks.redisStatus().lastError);
        return false;
    };
    const auto started = Clock::now();
    for (SinkBatch &b : d.batches) {
        for (std::size_t k = 0; k < liveEvery && liveNext < d.live.size(); ++k)
            sinks.submitLive(std::move(d.live[liveNext++]));
        const auto t = Clock::now();
        sinks.submit(std::move(b));
        if (!written("a batch"))
            return 1;
        slowest = std::max(slowest, since(t));
    }
    const double rowsTook = since(started);
    const SinkStatus afterRows = sinks.postgresStatus();

    fmt::print("phase 3: writing the largest open state ({:.1f} MB) as one checkpoint...\n",
               double(d.largestCheckpoint) / 1e6);
    std::fflush(stdout);
    const auto stateStarted = Clock::now();
    sinks.submit(std::move(d.largestState));
    if (!written("the checkpoint"))
        return 1;
    const double stateTook = since(stateStarted);
    const SinkStatus ps = sinks.postgresStatus(), rs = sinks.redisStatus();
    sinks.stop();

    const double budget = a.seconds, interval = a.checkpointMs / 1000.0;
    fmt::print("  rows: {} final rows ({:.0f} per second of input) written in {:.2f} s ({:.0f} "
               "rows/s); slowest batch {:.2f} s against a {:.1f} s interval\n",
               afterRows.writtenRows, double(d.rows) / budget, rowsTook,
               double(afterRows.writtenRows) / rowsTook, slowest, interval);
    fmt::print("  state: {:.1f} MB in {:.2f} s ({:.1f} MB/s); PostgreSQL {} transactions, {} "
               "failures; Redis {} writes + {} live writes, {} failures\n",
               double(d.largestCheckpoint) / 1e6, stateTook,
               double(d.largestCheckpoint) / 1e6 / stateTook, ps.writes, ps.failures, rs.writes,
               rs.liveWrites, rs.failures);
    fmt::print("sink pace at {:.0f} events/s: final rows of {:.0f} s of input written in {:.2f} s: "
               "ratio {:.2f} (>= 1.0 keeps up)\n",
               a.rate, budget, rowsTook, budget / rowsTook);
    fmt::print("state checkpoint: {:.2f} s to store against a {:.1f} s interval: ratio {:.2f} "
               "(below 1.0 the state cadence stretches to {:.1f} s)\n",
               stateTook, interval, interval / stateTook, std::max(interval, stateTook));
    return ps.failures == 0 && rs.failures == 0 ? 0 : 1;
}
