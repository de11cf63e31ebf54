#include "core/engine/runrecording.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace studio::core;

namespace {

std::string tempPath(const char *name)
{
    return (std::filesystem::temp_directory_path() /
            (std::string("studio-run-") + std::to_string(::getpid()) + "-" + name))
        .string();
}

void writeText(const std::string &path, const std::string &text)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

} // namespace

TEST_CASE("The run recorder keeps one sample per second", "[runs]")
{
    RunRecorder recorder;
    int kept = 0;
    for (int i = 0; i < 100; ++i) { // 10 s at 10 Hz
        RunSample s;
        s.timeMs = 1'000'000 + i * 100;
        s.producedPerSecond = i;
        kept += recorder.addSample(s) ? 1 : 0;
    }
    CHECK(kept == 10);
    CHECK(recorder.recording().startMs == 1'000'000);
    CHECK(recorder.recording().samples.back().timeMs == 1'009'000);
    RunSample older;
    older.timeMs = 5;
    CHECK_FALSE(recorder.addSample(older));
    RunProducer p;
    p.id = 7;
    p.name = "p";
    recorder.noteProducer(p);
    p.name = "again";
    recorder.noteProducer(p);
    CHECK(recorder.recording().producers.size() == 1);
    recorder.clear();
    CHECK(recorder.recording().samples.empty());
}

TEST_CASE("A recorded run round-trips through a file", "[runs]")
{
    RunRecorder recorder;
    RunProducer producer;
    producer.id = 1;
    producer.name = "producer-1";
    producer.topic = "clickstream";
    producer.ratePerSecond = 5000;
    producer.compression = "lz4";
    producer.hotProduct = "prod_0042";
    producer.hotShare = 0.2;
    recorder.noteProducer(producer);
    for (int i = 0; i < 30; ++i) {
        RunSample s;
        s.timeMs = 2'000'000 + i * 1000;
        s.producedPerSecond = 5000 + i;
        s.consumedPerSecond = 4900.5 + i;
        s.lagMessages = i < 2 ? -1 : 100 * i;
        s.watermarkDelayMs = i < 3 ? -1 : 1500.25;
        s.latePerSecond = 0.5;
        s.invalidPerSecond = 1.25;
        s.validTotal = 1'000ull * i + (1ull << 40);
        s.revenuePerMinute = 123.45;
        recorder.addSample(s);
    }
    recorder.addMarker({2'010'000, "producer-1: 5,000 -> 20,000 ev/s"});
    recorder.addAlert({2'020'000, "ConsumerLagHigh", "firing", "lag 12000 > 10000"});

    const std::string path = tempPath("roundtrip.json");
    std::string error;
    REQUIRE(saveRun(recorder.recording(), path, &error));
    const auto loaded = loadRun(path, &error);
    REQUIRE(loaded);
    const RunRecording &a = recorder.recording();
    CHECK(loaded->startMs == a.startMs);
    REQUIRE(loaded->samples.size() == 30);
    for (std::size_t i = 0; i < a.samples.size(); ++i) {
        CHECK(loaded->samples[i].timeMs == a.samples[i].timeMs);
        CHECK(loaded->samples[i].producedPerSecond == a.samples[i].producedPerSecond);
        CHECK(loaded->samples[i].consumedPerSecond == a.samples[i].consumedPerSecond);
        CHECK(loaded->samples[i].lagMessages == a.samples[i].lagMessages);
        CHECK(loaded->samples[i].watermarkDelayMs == a.samples[i].watermarkDelayMs);
        CHECK(loaded->samples[i].validTotal == a.samples[i].validTotal);
        CHECK(loaded->samples[i].revenuePerMinute == a.samples[i].revenuePerMinute);
    }
    REQUIRE(loaded->markers.size() == 1);
    CHECK(loaded->markers[0].text == "producer-1: 5,000 -> 20,000 ev/s");
    REQUIRE(loaded->alerts.size() == 1);
    CHECK(loaded->alerts[0].rule == "ConsumerLagHigh");
    CHECK(loaded->alerts[0].state == "firing");
    REQUIRE(loaded->producers.size() == 1);
    CHECK(loaded->producers[0].name == "producer-1");
    CHECK(loaded->producers[0].ratePerSecond == 5000);
    CHECK(loaded->producers[0].hotShare == 0.2);
    std::remove(path.c_str());
}

TEST_CASE("Bad run files are rejected with a clear message", "[runs]")
{
    std::string error;
    CHECK_FALSE(loadRun(tempPath("does-not-exist.json"), &error));
    CHECK(error.find("no such file") != std::string::npos);

    const std::string path = tempPath("bad.json");
    writeText(path,
              "{\"format\": \"clickstream-studio-run\", \"version\": 1, \"startMs\": 1, \"sam");
    CHECK_FALSE(loadRun(path, &error));
    CHECK(error.find("not valid JSON") != std::string::npos);

    writeText(path, "{\"hello\": 1}");
    CHECK_FALSE(loadRun(path, &error));
    CHECK(error.find("format tag") != std::string::npos);

    writeText(path, "{\"format\": \"clickstream-studio-run\", \"version\": 99}");
    CHECK_FALSE(loadRun(path, &error));
    CHECK(error.find("newer version") != std::string::npos);

    writeText(path, "{\"format\": \"clickstream-studio-run\", \"version\": 1, \"startMs\": 1,"
                    " \"producers\": [], \"samples\": [[1, 2]], \"markers\": [], \"alerts\": []}");
    CHECK_FALSE(loadRun(path, &error));
    CHECK(error.find("corrupt") != std::string::npos);

    writeText(path, "{\"format\": \"clickstream-studio-run\", \"version\": 1, \"startMs\": \"x\","
                    " \"producers\": [], \"samples\": [], \"markers\": [], \"alerts\": []}");
    CHECK_FALSE(loadRun(path, &error));
    CHECK(error.find("corrupt") != std::string::npos);

    writeText(path, std::string("\0\xff\xfe garbage", 12));
    CHECK_FALSE(loadRun(path, &error));
    std::remove(path.c_str());

    CHECK_FALSE(saveRun({}, "/nonexistent-dir/x/run.json", &error));
    CHECK(error.find("cannot write") != std::string::npos);
}
