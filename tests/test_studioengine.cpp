#include "core/engine/studioengine.h"
#include "core/produce/producerpool.h"

#include "kafkatestsupport.h"
#include "serversupport.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace studio::core;
using namespace studio::test;
using namespace std::chrono_literals;

namespace {

StudioEngineSettings smallEngine()
{
    StudioEngineSettings s;
    s.embeddedOptions.brokers = 1;
    s.embeddedOptions.partitions = 4;
    return s;
}

StudioProducerSettings producerAt(double rate, const std::string &name)
{
    StudioProducerSettings p;
    p.producer.name = name;
    p.producer.ratePerSecond = rate;
    return p;
}

const ProducerSample *find(const EngineSample &s, int id)
{
    for (const ProducerSample &p : s.producers) {
        if (p.id == id)
            return &p;
    }
    return nullptr;
}

} // namespace

TEST_CASE("the studio engine produces, aggregates, marks rate changes, pauses and stops", "[kafka]")
{
    StudioEngine engine(smallEngine());
    std::string error;
    REQUIRE(engine.start(&error));
    EngineSample first = engine.sample();
    CHECK(first.broker.rfind("embedded (127.0.0.1:", 0) == 0);
    CHECK(first.brokerError.empty());
    CHECK(first.producers.empty());
    CHECK_FALSE(first.sinksConfigured);
    CHECK(first.postgres.state == ServiceState::NotConfigured);

    const int id = engine.addProducer(producerAt(5000, "p1"));
    REQUIRE(id > 0);
    const int copy = engine.duplicateProducer(id);
    REQUIRE(copy > id);
    EngineSample s = engine.sample();
    REQUIRE(s.producers.size() == 2);
    CHECK(s.producers[1].settings.producer.name == "p1 copy");
    CHECK(s.producers[0].stats.state == ProducerState::Stopped);

    REQUIRE(engine.startProducer(id));
    std::vector<EngineMarker> markers;
    std::uint64_t seen = 0; // this reader's newest marker
    double bestProduced = 0, bestConsumed = 0;
    REQUIRE(waitFor(
        [&] {
            s = engine.sample(seen);
            seen = s.markerSequence;
            markers.insert(markers.end(), s.markers.begin(), s.markers.end());
            bestProduced = std::max(bestProduced, s.producedPerSecond);
            bestConsumed = std::max(bestConsumed, s.consumedPerSecond);
            return s.pipeline.consumed > 5000 && s.aggregates.counters.valid > 5000 &&
                   !s.aggregates.pages.empty() && bestConsumed > 1000;
        },
        60s));
    CHECK(find(s, id)->stats.state == ProducerState::Running);
    CHECK(find(s, id)->stats.acked > 0);
    CHECK(find(s, copy)->stats.produced == 0);
    CHECK(bestProduced > 1000);
    CHECK(s.watermarkDelayMs >= 0);
    REQUIRE(markers.size() == 1);
    CHECK(markers[0].text == "p1 started at 5,000 ev/s");

    REQUIRE(engine.setProducerRate(id, 20000));
    REQUIRE(engine.setProducerHotShare(id, 0.5));
    s = engine.sample(seen);
    seen = s.markerSequence;
    REQUIRE(s.markers.size() == 2);
    CHECK(s.markers[0].text == "p1: 5,000 -> 20,000 ev/s");
    CHECK(s.markers[0].timeMs > 0);
    CHECK(s.markers[1].text == "p1: prod_0042 share 20% -> 50%");
    CHECK(find(s, id)->stats.targetRate == 20000);
    CHECK(engine.sample(seen).markers.empty()); // each marker is handed out once (per reader)

    REQUIRE(engine.pauseProducer(id));
    engine.waitIdle();
    s = engine.sample(seen);
    seen = s.markerSequence;
    CHECK(find(s, id)->stats.state == ProducerState::Paused);
    REQUIRE(s.markers.size() == 1);
    CHECK(s.markers[0].text == "p1 paused");
    REQUIRE(engine.stopProducer(id));
    engine.waitIdle();
    s = engine.sample(seen);
    seen = s.markerSequence;
    CHECK(find(s, id)->stats.state == ProducerState::Stopped);
    CHECK(find(s, id)->stats.inFlight == 0);
    REQUIRE(s.markers.size() == 1);
    CHECK(s.markers[0].text == "p1 stopped");
    const std::uint64_t acked = find(s, id)->stats.acked;

    // Everything acknowledged reaches the aggregator.
    REQUIRE(waitFor([&] { return engine.sample().pipeline.consumed >= acked; }, 30s));

    REQUIRE(engine.removeProducer(copy));
    CHECK(engine.sample().producers.size() == 1);
    engine.waitIdle();
    CHECK(engine.pool().size() == 1);
}

TEST_CASE("the studio engine applies fixed settings at the next start and refuses bad sinks",
          "[kafka]")
{
    StudioEngineSettings settings = smallEngine();
    settings.monitor = false;
    StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));
    const int id = engine.addProducer(producerAt(2000, "p"));
    REQUIRE(id > 0);
    StudioProducerSettings changed = producerAt(3000, "p");
    changed.producer.compression = "zstd";
    changed.generator.malformedFraction = 0.1;
    REQUIRE(engine.updateProducer(id, changed));
    REQUIRE(engine.startProducer(id));
    REQUIRE(waitFor([&] { return engine.sample().aggregates.counters.invalid > 50; }, 60s));
    const EngineSample s = engine.sample();
    CHECK(s.producers[0].settings.producer.compression == "zstd");
    CHECK(s.producers[0].stats.targetRate == 3000);
    CHECK(s.invalidPerSecond >= 0);

    CHECK_FALSE(engine.configureSinks("postgresql://u:secret@localhost/db", "", "", "", &error));
    CHECK(error.find("password") != std::string::npos);
    CHECK(error.find("secret") == std::string::npos);
    CHECK_FALSE(engine.configureSinks("", "", "redis://localhost:notaport", "", &error));
    CHECK(engine.addProducer(producerAt(-5, "bad")) == 0);
}

TEST_CASE("the studio engine switches to durable mode and back while producing", "[kafka]")
{
    StudioEngineSettings settings = smallEngine();
    settings.monitor = false;
    StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));
    const int id = engine.addProducer(producerAt(2000, "p"));
    REQUIRE(engine.startProducer(id));
    REQUIRE(waitFor([&] { return engine.sample().pipeline.consumed > 1000; }, 60s));

    // A PostgreSQL that is not there: the sink reports it, nothing blocks, the GUI keeps sampling.
    REQUIRE(engine.configureSinks("host=127.0.0.1 port=1 dbname=none connect_timeout=1",
                                  "not-shown", "", "", &error));
    engine.waitIdle();
    EngineSample s = engine.sample();
    CHECK(s.sinksConfigured);
    CHECK(s.postgres.state != ServiceState::NotConfigured);
    CHECK(s.redis.state == ServiceState::NotConfigured);
    CHECK(s.postgres.target.find("not-shown") == std::string::npos);
    REQUIRE(waitFor([&] { return engine.sample().postgres.state == ServiceState::Down; }, 30s));
    std::vector<std::string> texts;
    for (const auto &m : s.markers)
        texts.push_back(m.text);
    CHECK(std::find(texts.begin(), texts.end(), "aggregator restarted with sinks") != texts.end());

    // Back to no sinks: consumption goes on (the rate spans the restart without a dip below 0).
    REQUIRE(engine.configureSinks("", "", "", "", &error));
    engine.waitIdle();
    s = engine.sample();
    CHECK_FALSE(s.sinksConfigured);
    CHECK(s.postgres.state == ServiceState::NotConfigured);
    REQUIRE(waitFor([&] { return engine.sample().consumedPerSecond > 500; }, 60s));
    REQUIRE(engine.stopProducer(id));
    engine.waitIdle();
}

TEST_CASE("reading the studio engine changes nothing: every reader gets every marker, and the "
          "rates come from the engine's own tick",
          "[kafka]")
{
    StudioEngineSettings settings = smallEngine();
    settings.monitor = false;
    StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));
    const int id = engine.addProducer(producerAt(5000, "p"));
    REQUIRE(engine.startProducer(id));
    engine.waitIdle(); // started (and marked) on the control thread
    REQUIRE(engine.setProducerRate(id, 6000));

    // Two readers from the start: each gets both markers, in order, neither takes them away.
    const EngineSample a = engine.sample(0);
    const EngineSample b = engine.sample(0);
    REQUIRE(a.markers.size() == 2);
    REQUIRE(b.markers.size() == 2);
    CHECK(a.markers[0].sequence < a.markers[1].sequence);
    CHECK(a.markerSequence == a.markers[1].sequence);
    CHECK(a.markers[0].text == "p started at 5,000 ev/s");
    CHECK(b.markers[0].text == a.markers[0].text);
    CHECK(b.markers[1].text == a.markers[1].text);
    const EngineSample later = engine.sample(a.markers[0].sequence);
    REQUIRE(later.markers.size() == 1);
    CHECK(later.markers[0].text == "p: 5,000 -> 6,000 ev/s");

    // Nobody calls sample(): status() still shows rates, computed on the engine's tick.
    EngineStatus st;
    REQUIRE(waitFor(
        [&] {
            st = engine.status();
            return st.producedPerSecond > 1000 && st.consumedPerSecond > 1000 &&
                   st.counters.valid > 0 && st.watermarkDelayMs >= 0;
        },
        60s));
    // status()'s counters are as of the last tick; sample() reads the aggregator itself.
    CHECK(st.counters.valid <= engine.sample().aggregates.counters.valid);
    CHECK_FALSE(st.sinksConfigured);
    REQUIRE(engine.stopProducer(id));
    engine.waitIdle();
}

TEST_CASE("in durable mode the engine writes the live Redis values itself, with no reader",
          "[kafka][servers]")
{
    using studio::test::RedisServer;
    std::string why;
    if (!RedisServer::available(&why))
        FAIL("redis-server is needed: " << why);
    RedisServer redis;
    std::string error;
    REQUIRE(redis.start(&error));

    StudioEngineSettings settings = smallEngine();
    settings.monitor = false;
    SinkSettings sinks;
    sinks.redis = RedisTarget{};
    sinks.redis->host = redis.host();
    sinks.redis->port = redis.port();
    settings.sinks = sinks;
    StudioEngine engine(settings);
    REQUIRE(engine.start(&error));
    const int id = engine.addProducer(producerAt(2000, "p"));
    REQUIRE(engine.startProducer(id));

    // Only status() is read (it never writes anything): the open windows' values reach Redis
    // once a second all the same, from the engine's tick, as in the GUI and in headless.
    EngineStatus st;
    REQUIRE(waitFor(
        [&] {
            st = engine.status();
            return st.redis.liveWrites >= 2;
        },
        60s));
    CHECK(st.sinksConfigured);
    CHECK(st.redis.state == ServiceState::Up);
    CHECK(st.postgres.state == ServiceState::NotConfigured);
    REQUIRE(engine.stopProducer(id));
    engine.waitIdle();
}

// Regression: StudioEngine::Impl::monitor was assigned in start() while sample() (the GUI's pool
// thread) and monitor() read it without a lock (ThreadSanitizer reports the race: build-tsan in
// tests/README.md). Since the one-engine rework it is guarded by the engine's mutex; this case
// keeps it so.
TEST_CASE("the engine's monitor may be read from another thread while start runs",
          "[kafka][threads]")
{
    StudioEngine engine(smallEngine());
    std::atomic<bool> started{false};
    std::atomic<int> samples{0}, withMonitor{0};
    std::thread reader([&] {
        for (;;) {
            const bool last = started; // one more round after start() returned
            if (Monitor *monitor = engine.monitor()) {
                (void)monitor->status();
                ++withMonitor;
            }
            (void)engine.status();
            (void)engine.sample();
            ++samples;
            if (last)
                return;
        }
    });
    std::string error;
    const bool ok = engine.start(&error);
    started = true;
    reader.join();
    INFO(error);
    REQUIRE(ok);
    CHECK(samples > 0);
    REQUIRE(engine.monitor());
    CHECK(engine.monitor()->status().firing == 0);
    CHECK(withMonitor >= 1);
}
