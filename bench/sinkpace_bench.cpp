// Do the sinks keep up with the aggregator at 1,000,000 events/s of input, final rows and the
// incremental per-partition checkpoints (issue 19) alike?
//
// Phase 1 aggregates S seconds of event time at R events per second (default 30 s at 1,000,000/s,
// 500 users and 100 products, the generator's defaults before issue 25; --users/--products for a
// high-cardinality load, --users 0 for the generator's own: as many users as the rate needs)
// exactly as durable mode does: a FinalsCollector behind the aggregator and, every checkpoint
// interval of event time, one SinkBatch with the finals since the last one, the checkpoint pieces
// (Aggregator::checkpointPieces(): a base per partition the first time, then increments of what
// changed), piecesTopic "clickstream", the head (saveHead()) and the next offset per partition.
// The generator's records carry no partition (RecordBatch::partition() is -1 and the events have
// no "partition" field, so all of them would land in partition 0); here each record is put into
// one of --partitions (default 12) partitions by an FNV-1a hash of its key, the user id, as a
// Kafka producer keyed by user id would, with offsets counted per partition: the state is per
// partition as in a real run. Next to each checkpoint's piece bytes the whole open state's size
// is recorded (counters().stateBytes, the partitions' in-memory estimate); at the last
// checkpoint the whole state is also serialised once (saveState()) to compare with what the
// whole-state checkpoints wrote before issue 19. The pieces are spilled to an anonymous temporary
// file (read back before each timed write), so memory holds the aggregator, not every piece. The
// end of input flushes every open window and session into a last batch of finals only (a burst
// no steady stream has: conservative). Once per event-second it also takes the live Redis values,
// as `run` does.
//
// Phase 2 writes the batches in order, one at a time (each its own transaction: finals, pieces,
// head and offsets together), through a SinkWorker to a real PostgreSQL and a real Redis (both
// started here on loopback), each timed, while a CheckpointCompactor (own thread and connection,
// owning every partition) folds chains on the same database, as durable mode does. Limits:
//   rows:  everything (finals and checkpoints) written within the real-time budget of S
//          seconds: ratio S / time taken, 1.0 or more keeps up.
//   state: every checkpoint stored within the checkpoint interval: ratio interval / slowest
//          checkpoint batch. Below 1.0 the pipeline stretches its state cadence to that time (a
//          batch carries the state only once the previous one is stored), so a crash replays
//          that much more input, nothing else.
// Then a restore check: the stored chains (SinkWorker::loadChains) and head (loadResumePoint)
// are restored into a fresh Aggregator (restoreHead + restorePieces) and its counters compared
// with the phase-1 aggregator's at the last checkpoint (valid, read, duplicates, late, invalid,
// open windows and sessions, dedupe entries, windows finalized, watermark; per partition read,
// valid, late, invalid, held, open sessions, next offset, watermark: all exactly; the state-bytes
// estimate, which counts hash-table capacities, within 10%), and its chains' offsets with the
// offsets stored then.
//
// Exit status: 1 on any write failure (as before), on a restore mismatch, or when either ratio
// (rows or state checkpoint) is below 1.0; 0 otherwise; 2 on bad arguments.
//
//   bench_sinkpace [--rate R] [--seconds S] [--users U] [--products P] [--checkpoint-ms C]
//                  [--partitions N] [--no-compactor]
// (--no-compactor: a diagnosis of the writes alone; durable mode always compacts.)

#include "core/aggregate/aggregator.h"
#include "core/aggregate/finalscollector.h"
#include "core/common/recordbatch.h"
#include "core/produce/generator.h"
#include "core/store/checkpointcompactor.h"
#include "core/store/sinkworker.h"

#include "serversupport.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace studio::core;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr const char *kTopic = "clickstream";
constexpr const char *kGroup = "bench";
constexpr const char *kShard = "bench";

double since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

double mb(std::uint64_t bytes)
{
    return double(bytes) / 1e6;
}

struct Args
{
    double rate = 1'000'000;
    int seconds = 30;
    // The load this benchmark has measured since it began: 500 users (the generator's default
    // until issue 25 made 0, as many as the rate needs, the default) and its 100 products.
    int users = 500;
    int products = GeneratorConfig{}.products;
    int checkpointMs = 2000;
    int partitions = 12;
    bool compactor = true; // --no-compactor: to see the writes without compaction beside
};

/// Where one piece's bytes wait in the spill file.
struct SpilledPiece
{
    long offset = 0;
    std::size_t size = 0;
};

/// One interval's batch as phase 1 made it, with what phase 2 prints next to it.
struct Interval
{
    SinkBatch batch; // the pieces' bytes are in the spill file until phase 2
    std::vector<SpilledPiece> spilled;
    bool withState = false;
    double eventSeconds = 0;
    std::uint64_t baseBytes = 0, incrementBytes = 0, bases = 0, increments = 0;
    std::uint64_t stateBytes = 0; // counters().stateBytes at that moment
    double piecesSeconds = 0;     // checkpointPieces() + saveHead() on the ingest thread
    // phase 2
    double storeSeconds = 0;
    double transactionMs = 0;
};

/// What the restore is compared with: the phase-1 aggregator at the last checkpoint.
struct Reference
{
    AggregateCounters counters;
    std::vector<KafkaOffset> offsets;
    std::uint64_t wholeStateBytes = 0; // saveState().size()
    double wholeStateSeconds = 0;
};

struct Demand
{
    std::vector<Interval> intervals;
    std::vector<RedisBatch> live; // one per event-second
    Reference reference;
    std::FILE *spill = nullptr;
    std::uint64_t events = 0, rows = 0, pieceBytes = 0;
    double seconds = 0; // wall time of phase 1
};

std::uint32_t fnv1a(std::string_view s)
{
    std::uint32_t h = 2166136261u;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return h;
}

bool aggregate(const Args &a, Demand &d, std::string *error)
{
    d.spill = std::tmpfile();
    if (!d.spill) {
        *error = std::string("cannot create the spill file: ") + std::strerror(errno);
        return false;
    }
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
    std::vector<std::int64_t> nextOffset(static_cast<std::size_t>(a.partitions), 0);
    RecordBatch generated, batch;
    bool spillOk = true;
    auto offsets = [&] {
        std::vector<KafkaOffset> out;
        for (std::size_t p = 0; p < nextOffset.size(); ++p)
            out.push_back({kTopic, static_cast<std::int32_t>(p), nextOffset[p]});
        return out;
    };
    auto checkpoint = [&](std::uint64_t events, bool withState) {
        Interval iv;
        iv.withState = withState;
        iv.eventSeconds = double(events) / a.rate;
        iv.batch.shard = kShard;
        iv.batch.groupId = kGroup;
        if (withState) {
            const auto t = Clock::now();
            iv.batch.offsets = offsets();
            iv.batch.checkpoint = aggregator.saveHead();
            iv.batch.piecesTopic = kTopic;
            iv.batch.pieces = aggregator.checkpointPieces();
            iv.piecesSeconds = since(t);
            const AggregateCounters c = aggregator.counters();
            iv.stateBytes = c.stateBytes;
            d.reference.counters = c;
            d.reference.offsets = iv.batch.offsets;
            if (events == total) { // the last checkpoint: the whole state once, to compare
                const auto w = Clock::now();
                d.reference.wholeStateBytes = aggregator.saveState().size();
                d.reference.wholeStateSeconds = since(w);
            }
            for (PartitionPiece &piece : iv.batch.pieces) {
                (piece.base ? iv.baseBytes : iv.incrementBytes) += piece.bytes.size();
                ++(piece.base ? iv.bases : iv.increments);
                SpilledPiece s{std::ftell(d.spill), piece.bytes.size()};
                if (s.offset < 0 || std::fwrite(piece.bytes.data(), 1, piece.bytes.size(),
                                                d.spill) != piece.bytes.size())
                    spillOk = false;
                iv.spilled.push_back(s);
                d.pieceBytes += piece.bytes.size();
                std::string().swap(piece.bytes);
            }
        }
        iv.batch.results = finals.take();
        d.rows += iv.batch.rowCount();
        d.intervals.push_back(std::move(iv));
    };
    const auto started = Clock::now();
    for (std::uint64_t i = 0; i < total; ++i) {
        generator.next(t0 + static_cast<std::int64_t>(double(i) * 1000.0 / a.rate), generated);
        for (std::size_t r = 0; r < generated.size(); ++r) {
            const std::string_view key = generated.key(r);
            const auto p = static_cast<std::int32_t>(fnv1a(key) % nextOffset.size());
            batch.addFrom(p, nextOffset[static_cast<std::size_t>(p)]++, key, generated.value(r));
        }
        generated.clear();
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
    if (!spillOk || std::fflush(d.spill) != 0) {
        *error = std::string("cannot write the spill file: ") + std::strerror(errno);
        return false;
    }
    return true;
}

bool unspill(std::FILE *f, Interval &iv)
{
    for (std::size_t k = 0; k < iv.spilled.size(); ++k) {
        std::string &bytes = iv.batch.pieces[k].bytes;
        bytes.resize(iv.spilled[k].size);
        if (std::fseek(f, iv.spilled[k].offset, SEEK_SET) != 0 ||
            std::fread(bytes.data(), 1, bytes.size(), f) != bytes.size())
            return false;
    }
    return true;
}

/// Every compaction the compactor reports, sampled often enough to see each one.
struct CompactionLog
{
    struct Entry
    {
        std::int32_t partition = -1;
        std::uint64_t chainBytes = 0, bytes = 0;
        double seconds = 0;
    };
    std::mutex mutex;
    std::vector<Entry> entries;
    std::uint64_t seen = 0, missed = 0;
    CompactionStatus last;

    void sample(const CheckpointCompactor &c)
    {
        const CompactionStatus s = c.status();
        std::lock_guard lock(mutex);
        if (s.compactions > seen) {
            missed += s.compactions - seen - 1; // more than one between two samples
            entries.push_back({s.lastPartition, s.lastChainBytes, s.lastBytes, s.lastSeconds});
            seen = s.compactions;
        }
        last = s;
    }
};

int compareRestored(const Reference &ref, const AggregateCounters &got,
                    const std::map<std::int32_t, StoredChain> &chains)
{
    int mismatches = 0;
    auto check = [&](const char *what, auto expected, auto actual) {
        if (expected == actual)
            return;
        ++mismatches;
        fmt::print("  MISMATCH {}: at the last checkpoint {}, restored {}\n", what, expected,
                   actual);
    };
    const AggregateCounters &e = ref.counters;
    check("read", e.read, got.read);
    check("valid", e.valid, got.valid);
    check("invalid", e.invalid, got.invalid);
    check("duplicates", e.duplicates, got.duplicates);
    check("late", e.late, got.late);
    check("held", e.held, got.held);
    check("open windows", e.openWindows, got.openWindows);
    check("open sessions", e.openSessions, got.openSessions);
    check("sessions closed", e.sessionsClosed, got.sessionsClosed);
    check("dedupe entries", e.dedupeEntries, got.dedupeEntries);
    check("windows finalized", e.windowsFinalized, got.windowsFinalized);
    check("keys folded", e.keysFolded, got.keysFolded);
    check("max event time", e.maxEventTimeMs, got.maxEventTimeMs);
    check("watermark", e.watermarkMs, got.watermarkMs);
    check("partitions", e.partitions.size(), got.partitions.size());
    for (std::size_t k = 0; k < std::min(e.partitions.size(), got.partitions.size()); ++k) {
        const PartitionStatus &x = e.partitions[k], &y = got.partitions[k];
        const std::string p = fmt::format("partition {} ", x.partition);
        check((p + "number").c_str(), x.partition, y.partition);
        check((p + "read").c_str(), x.read, y.read);
        check((p + "valid").c_str(), x.valid, y.valid);
        check((p + "late").c_str(), x.late, y.late);
        check((p + "invalid").c_str(), x.invalid, y.invalid);
        check((p + "held").c_str(), x.held, y.held);
        check((p + "open sessions").c_str(), x.openSessions, y.openSessions);
        check((p + "next offset").c_str(), x.nextOffset, y.nextOffset);
        check((p + "watermark").c_str(), x.watermarkMs, y.watermarkMs);
    }
    // stateBytes is an estimate that counts hash-table capacities: a restored table is sized for
    // its contents, a live one grew by doubling, so the two differ a little by construction.
    // Everything counted exactly is compared exactly above; the estimate within 10%.
    const double drift =
        e.stateBytes ? std::abs(double(got.stateBytes) - double(e.stateBytes)) / e.stateBytes : 0;
    fmt::print("  state bytes (estimate): at the last checkpoint {:.1f} MB, restored {:.1f} MB "
               "({:+.2f}%)\n",
               mb(e.stateBytes), mb(got.stateBytes),
               e.stateBytes
                   ? 100.0 * (double(got.stateBytes) - double(e.stateBytes)) / double(e.stateBytes)
                   : 0.0);
    if (drift > 0.10) {
        ++mismatches;
        fmt::print("  MISMATCH state bytes: more than 10% apart\n");
    }
    for (const KafkaOffset &o : ref.offsets) {
        const auto it = chains.find(o.partition);
        check(fmt::format("partition {} chain offset", o.partition).c_str(), o.nextOffset,
              it == chains.end() ? std::int64_t{-1} : it->second.nextOffset);
    }
    return mismatches;
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
        else if (!std::strcmp(argv[i], "--partitions") && more)
            a.partitions = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--no-compactor"))
            a.compactor = false;
        else {
            fmt::print(stderr, "usage: bench_sinkpace [--rate R] [--seconds S] [--users U] "
                               "[--products P] [--checkpoint-ms C] [--partitions N] "
                               "[--no-compactor]\n");
            return 2;
        }
    }
    if (a.rate < 1000 || a.seconds < 2 || a.checkpointMs < 100 || a.users < 0 || a.products < 1 ||
        a.partitions < 1 || a.partitions > 1024) {
        fmt::print(stderr, "bench_sinkpace: --rate >= 1000, --seconds >= 2, --checkpoint-ms >= "
                           "100, --users >= 0 (0: as many as the rate needs), --products >= 1, "
                           "--partitions 1..1024\n");
        return 2;
    }

    studio::test::PostgresServer pg;
    studio::test::RedisServer redis;
    std::string error;
    if (!pg.start(&error) || !redis.start(&error)) {
        fmt::print(stderr, "bench_sinkpace: cannot start the servers: {}\n", error);
        return 1;
    }

    fmt::print("phase 1: aggregating {} s of event time at {:.0f} events/s ({} users, {} products, "
               "{} partitions by user id)...\n",
               a.seconds, a.rate, a.users, a.products, a.partitions);
    std::fflush(stdout);
    Demand d;
    if (!aggregate(a, d, &error)) {
        fmt::print(stderr, "bench_sinkpace: {}\n", error);
        return 1;
    }
    std::size_t checkpoints = 0;
    double piecesSlowest = 0;
    for (const Interval &iv : d.intervals) {
        checkpoints += iv.withState ? 1 : 0;
        piecesSlowest = std::max(piecesSlowest, iv.piecesSeconds);
    }
    fmt::print("  {} events in {:.1f} s ({:.2f}M events/s on one core); {} batches, {} final rows, "
               "{} checkpoints of {:.1f} MB of pieces in all (slowest checkpointPieces + saveHead "
               "{:.2f} s); whole state at the last checkpoint {:.1f} MB (saveState {:.2f} s)\n",
               d.events, d.seconds, double(d.events) / d.seconds / 1e6, d.intervals.size(), d.rows,
               checkpoints, mb(d.pieceBytes), piecesSlowest, mb(d.reference.wholeStateBytes),
               d.reference.wholeStateSeconds);

    SinkSettings ss;
    ss.postgres = PostgresTarget{pg.connectionString(), pg.password()};
    ss.redis = RedisTarget{"127.0.0.1", redis.port(), {}, {}, 0};
    ss.durableNeedsRedis = true; // wait for both
    ss.shard = kShard;
    ss.groupId = kGroup;
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

    // The compactor as durable mode runs it: its own aggregator of the same settings to fold.
    std::vector<std::int32_t> partitions;
    for (int p = 0; p < a.partitions; ++p)
        partitions.push_back(p);
    CompactionSettings cs;
    cs.postgres = *sinks.postgresTarget();
    cs.options = sinks.postgresOptions();
    cs.groupId = kGroup;
    cs.topic = kTopic;
    cs.compact = [folder = std::make_shared<Aggregator>(AggregatorConfig{})](
                     const std::vector<std::string> &chain, std::string *why) {
        return folder->compactChain(chain, why);
    };
    CheckpointCompactor compactor(std::move(cs));
    CompactionLog compactions;
    std::atomic<bool> sampling{a.compactor};
    std::thread sampler;
    if (a.compactor) {
        compactor.setOwned(partitions);
        compactor.start();
        sampler = std::thread([&] {
            while (sampling.load()) {
                compactions.sample(compactor);
                std::this_thread::sleep_for(10ms);
            }
        });
    }

    fmt::print("phase 2: writing {} batches (finals, checkpoint pieces, head, offsets) to "
               "PostgreSQL and Redis one at a time, {}...\n",
               d.intervals.size(), a.compactor ? "a compactor running beside" : "NO compactor");
    fmt::print("  {:>4} {:>6} {:>12} {:>10} {:>10} {:>10} {:>9} {:>8} {:>7}\n", "#", "event s",
               "pieces b/i", "base MB", "incr MB", "state MB", "store s", "tx ms", "MB/s");
    std::fflush(stdout);
    const std::size_t liveEvery = std::max<std::size_t>(1, d.live.size() / d.intervals.size());
    std::size_t liveNext = 0;
    auto written = [&](const char *what) {
        if (sinks.flush(300s))
            return true;
        fmt::print(stderr, "bench_sinkpace: {} not written within 300 s: {} / {}\n", what,
                   sinks.postgresStatus().lastError, sinks.redisStatus().lastError);
        return false;
    };
    double took = 0; // the timed writes only (reading the spill back is not the pipeline's)
    for (std::size_t n = 0; n < d.intervals.size(); ++n) {
        Interval &iv = d.intervals[n];
        if (!unspill(d.spill, iv)) {
            fmt::print(stderr, "bench_sinkpace: cannot read the spill file back\n");
            return 1;
        }
        for (std::size_t k = 0; k < liveEvery && liveNext < d.live.size(); ++k)
            sinks.submitLive(std::move(d.live[liveNext++]));
        const std::uint64_t stored = sinks.postgresStatus().checkpointsStored;
        const auto t = Clock::now();
        sinks.submit(std::move(iv.batch));
        if (!written(iv.withState ? "a checkpoint batch" : "the last batch"))
            return 1;
        iv.storeSeconds = since(t);
        took += iv.storeSeconds;
        iv.batch = SinkBatch{}; // free the pieces
        const SinkStatus ps = sinks.postgresStatus();
        if (iv.withState && ps.checkpointsStored > stored)
            iv.transactionMs = ps.lastCheckpointMs;
        const std::uint64_t bytes = iv.baseBytes + iv.incrementBytes;
        if (iv.withState)
            fmt::print("  {:>4} {:>6.1f} {:>5}/{:<6} {:>10.2f} {:>10.2f} {:>10.1f} {:>9.3f} "
                       "{:>8.0f} {:>7.1f}\n",
                       n + 1, iv.eventSeconds, iv.bases, iv.increments, mb(iv.baseBytes),
                       mb(iv.incrementBytes), mb(iv.stateBytes), iv.storeSeconds, iv.transactionMs,
                       iv.storeSeconds > 0 ? mb(bytes) / iv.storeSeconds : 0.0);
        else
            fmt::print("  {:>4} {:>6.1f}  (end of input: finals only) {:>31.3f}\n", n + 1,
                       iv.eventSeconds, iv.storeSeconds);
        std::fflush(stdout);
    }
    const SinkStatus ps = sinks.postgresStatus(), rs = sinks.redisStatus();
    // Let a compaction in flight finish (bounded), then stop the compactor before the restore.
    if (a.compactor) {
        const auto deadline = Clock::now() + 30s;
        while (Clock::now() < deadline) {
            const std::uint64_t before = compactor.status().compactions;
            std::this_thread::sleep_for(3s); // longer than its 2 s look interval
            if (compactor.status().compactions == before)
                break;
        }
    }
    compactor.stop();
    sampling = false;
    if (sampler.joinable())
        sampler.join();
    compactions.sample(compactor);

    // ---- summary ----
    const double budget = a.seconds, interval = a.checkpointMs / 1000.0;
    std::vector<std::uint64_t> sizes;
    std::uint64_t largestState = 0, base0 = 0, incrAll = 0;
    double slowest = 0;
    std::size_t slowestAt = 0;
    for (std::size_t n = 0; n < d.intervals.size(); ++n) {
        const Interval &iv = d.intervals[n];
        if (!iv.withState)
            continue;
        sizes.push_back(iv.baseBytes + iv.incrementBytes);
        largestState = std::max(largestState, iv.stateBytes);
        base0 += iv.baseBytes;
        incrAll += iv.incrementBytes;
        if (iv.storeSeconds > slowest) {
            slowest = iv.storeSeconds;
            slowestAt = n + 1;
        }
    }
    std::sort(sizes.begin(), sizes.end());
    const std::uint64_t largest = sizes.empty() ? 0 : sizes.back();
    const std::uint64_t median = sizes.empty() ? 0 : sizes[sizes.size() / 2];
    fmt::print("  checkpoints: {} stored; pieces largest {:.2f} MB, median {:.2f} MB (bases {:.2f} "
               "MB in all, increments {:.2f} MB in all); largest open state {:.1f} MB "
               "(stateBytes), whole state at the end {:.1f} MB (saveState)\n",
               ps.checkpointsStored, mb(largest), mb(median), mb(base0), mb(incrAll),
               mb(largestState), mb(d.reference.wholeStateBytes));
    fmt::print("  writes: {} final rows ({:.0f} per second of input) and {:.1f} MB of pieces in "
               "{:.2f} s ({:.1f} MB/s of pieces); slowest checkpoint batch #{} {:.2f} s against a "
               "{:.1f} s interval\n",
               ps.writtenRows, double(d.rows) / budget, mb(d.pieceBytes), took,
               mb(d.pieceBytes) / took, slowestAt, slowest, interval);
    fmt::print("  PostgreSQL {} transactions, {} failures; Redis {} writes + {} live writes, {} "
               "failures\n",
               ps.writes, ps.failures, rs.writes, rs.liveWrites, rs.failures);
    {
        std::lock_guard lock(compactions.mutex);
        const CompactionStatus &cst = compactions.last;
        fmt::print("  compactions: {} done, {} failures{}{}\n", cst.compactions, cst.failures,
                   compactions.missed ? fmt::format(" ({} not sampled)", compactions.missed) : "",
                   cst.lastError.empty() ? "" : "; last error: " + cst.lastError);
        for (const CompactionLog::Entry &e : compactions.entries)
            fmt::print("    partition {:>3}: chain {:.2f} MB folded into a base of {:.2f} MB in "
                       "{:.2f} s\n",
                       e.partition, mb(e.chainBytes), mb(e.bytes), e.seconds);
    }

    // ---- restore check ----
    fmt::print("restore: loading the chains and the head back into a fresh aggregator...\n");
    std::fflush(stdout);
    int mismatches = 0;
    {
        const auto t = Clock::now();
        std::optional<Checkpoint> head;
        std::vector<KafkaOffset> storedOffsets;
        std::map<std::int32_t, StoredChain> chains;
        if (!sinks.loadResumePoint(kGroup, kTopic, kShard, &head, &storedOffsets, &error) ||
            !sinks.loadChains(kGroup, kTopic, partitions, &chains, &error)) {
            fmt::print(stderr, "bench_sinkpace: cannot load the checkpoint: {}\n", error);
            return 1;
        }
        const double loadSeconds = since(t);
        std::uint64_t bytes = 0, pieces = 0;
        std::map<std::int32_t, std::vector<std::string>> byPartition;
        for (auto &[partition, chain] : chains) {
            bytes += chain.bytes;
            pieces += chain.pieces.size();
            byPartition[partition] = std::move(chain.pieces);
        }
        Aggregator restored{AggregatorConfig{}};
        const auto r = Clock::now();
        if (!head) {
            fmt::print("  MISMATCH: no head stored\n");
            ++mismatches;
        } else if (!restored.restoreHead(head->state, &error) ||
                   !restored.restorePieces(byPartition, &error)) {
            fmt::print("  MISMATCH: restore refused: {}\n", error);
            ++mismatches;
        }
        const double applySeconds = since(r);
        fmt::print("  read {} chains ({} pieces, {:.1f} MB) in {:.2f} s, restored in {:.2f} s: "
                   "{:.2f} s in all\n",
                   chains.size(), pieces, mb(bytes), loadSeconds, applySeconds, since(t));
        if (mismatches == 0)
            mismatches += compareRestored(d.reference, restored.counters(), chains);
        const AggregateCounters c = restored.counters();
        fmt::print("  restored: {} valid, {} duplicates, {} open windows, {} open sessions, {} "
                   "dedupe entries, state {:.1f} MB: {}\n",
                   c.valid, c.duplicates, c.openWindows, c.openSessions, c.dedupeEntries,
                   mb(c.stateBytes), mismatches == 0 ? "matches the last checkpoint" : "MISMATCH");
    }
    sinks.stop();
    std::fclose(d.spill);

    const double rowsRatio = budget / took, stateRatio = slowest > 0 ? interval / slowest : 0;
    fmt::print("sink pace at {:.0f} events/s: final rows and checkpoints of {:.0f} s of input "
               "written in {:.2f} s: ratio {:.2f} (>= 1.0 keeps up)\n",
               a.rate, budget, took, rowsRatio);
    fmt::print("state checkpoint: slowest {:.2f} s to store against a {:.1f} s interval: ratio "
               "{:.2f} (below 1.0 the state cadence stretches to {:.1f} s)\n",
               slowest, interval, stateRatio, std::max(interval, slowest));
    const bool failures = ps.failures != 0 || rs.failures != 0;
    if (failures || mismatches || rowsRatio < 1.0 || stateRatio < 1.0) {
        fmt::print("bench_sinkpace: NOT MET:{}{}{}{}\n", failures ? " write failures" : "",
                   mismatches ? " restore mismatch" : "", rowsRatio < 1.0 ? " rows ratio" : "",
                   stateRatio < 1.0 ? " state checkpoint ratio" : "");
        return 1;
    }
    return 0;
}
