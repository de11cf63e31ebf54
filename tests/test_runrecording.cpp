#include "core/engine/runrecording.h"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>

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

namespace {

/// A small valid run as JSON text: one producer, three samples, a marker and an alert.
std::string validRunJson()
{
    RunRecorder recorder;
    RunProducer producer;
    producer.id = 1;
    producer.name = "producer-1";
    producer.topic = "clickstream";
    producer.ratePerSecond = 5000;
    recorder.noteProducer(producer);
    for (int i = 0; i < 3; ++i) {
        RunSample s;
        s.timeMs = 2'000'000 + i * 1000;
        s.producedPerSecond = 5000;
        s.lagMessages = 10 * i;
        s.validTotal = 1000u * static_cast<unsigned>(i);
        recorder.addSample(s);
    }
    recorder.addMarker({2'001'000, "producer-1: 5,000 -> 20,000 ev/s"});
    recorder.addAlert({2'002'000, "ConsumerLagHigh", "firing", "lag"});
    return runToJson(recorder.recording());
}

/// runFromJson on `text`: never throws; either a run or a non-empty message.
void checkParsesOrRefuses(const std::string &text)
{
    INFO("input: " << text.substr(0, 300));
    std::string error;
    std::optional<RunRecording> run;
    REQUIRE_NOTHROW(run = runFromJson(text, &error));
    if (!run)
        CHECK_FALSE(error.empty());
}

// Every place in the document, as a JSON pointer.
void collectPointers(const nlohmann::json &value, const nlohmann::json::json_pointer &at,
                     std::vector<nlohmann::json::json_pointer> &out)
{
    out.push_back(at);
    if (value.is_object())
        for (auto it = value.begin(); it != value.end(); ++it)
            collectPointers(it.value(), at / it.key(), out);
    else if (value.is_array())
        for (std::size_t i = 0; i < value.size(); ++i)
            collectPointers(value[i], at / i, out);
}

} // namespace

// Regression: a "format" that is not a string, or no "version" at all, threw out of runFromJson
// (nlohmann's type_error from value(), and operator[] on a missing key of a const object), and
// from QFutureWatcher::result() in the window's slot that ended the GUI.
TEST_CASE("A run file whose format is not a string or without a version is refused, not thrown",
          "[runs]")
{
    std::string error;
    for (const char *text : {
             R"({"format": 1, "version": 1})",
             R"({"format": null, "version": 1})",
             R"({"format": ["clickstream-studio-run"], "version": 1})",
             R"({"format": {"a": 1}, "version": 1})",
             R"({"format": "clickstream-studio-run"})",
             R"({"format": "clickstream-studio-run", "version": "1"})",
             R"({"format": "clickstream-studio-run", "version": 1.5})",
             R"({"format": "clickstream-studio-run", "version": null})",
         }) {
        INFO(text);
        std::optional<RunRecording> run;
        REQUIRE_NOTHROW(run = runFromJson(text, &error));
        CHECK_FALSE(run);
        CHECK((error.find("format tag") != std::string::npos ||
               error.find("no format version") != std::string::npos));
    }
    for (const char *text : {R"({"format": "clickstream-studio-run", "version": 0})",
                             R"({"format": "clickstream-studio-run", "version": -5})"}) {
        REQUIRE_NOTHROW(runFromJson(text, &error));
        CHECK(error.find("does not exist") != std::string::npos);
    }
    REQUIRE_NOTHROW(runFromJson(
        R"({"format": "clickstream-studio-run", "version": 18446744073709551615})", &error));
    CHECK(error.find("newer version") != std::string::npos);
}

TEST_CASE("Malformed run files of every kind give a message and never throw", "[runs]")
{
    const std::string valid = validRunJson();
    {
        std::string error;
        REQUIRE(runFromJson(valid, &error));
    }

    SECTION("every value replaced by each wrong type, and every member removed")
    {
        const nlohmann::json doc = nlohmann::json::parse(valid);
        std::vector<nlohmann::json::json_pointer> pointers;
        collectPointers(doc, nlohmann::json::json_pointer(), pointers);
        const std::vector<nlohmann::json> replacements = {nullptr,
                                                          true,
                                                          "text",
                                                          "",
                                                          0,
                                                          -1,
                                                          1.5,
                                                          -1e308,
                                                          1e308,
                                                          std::numeric_limits<std::int64_t>::min(),
                                                          std::numeric_limits<std::uint64_t>::max(),
                                                          nlohmann::json::array(),
                                                          nlohmann::json::array({1, 2}),
                                                          nlohmann::json::object(),
                                                          nlohmann::json::object({{"x", 1}})};
        for (const auto &pointer : pointers) {
            for (const nlohmann::json &r : replacements) {
                nlohmann::json changed = doc;
                changed[pointer] = r;
                checkParsesOrRefuses(changed.dump());
            }
            if (!pointer.empty()) {
                nlohmann::json removed = doc;
                const auto parent = pointer.parent_pointer();
                if (removed[parent].is_object())
                    removed[parent].erase(pointer.back());
                else
                    removed[parent].erase(std::stoul(pointer.back()));
                checkParsesOrRefuses(removed.dump());
            }
        }
        CHECK(pointers.size() > 40);
    }

    SECTION("every truncation of a valid file")
    {
        for (std::size_t n = 0; n < valid.size(); ++n) {
            std::string error;
            std::optional<RunRecording> run;
            REQUIRE_NOTHROW(run = runFromJson(valid.substr(0, n), &error));
            CHECK_FALSE(run);
            CHECK_FALSE(error.empty());
        }
    }

    SECTION("huge numbers, an empty file, binary garbage, deep nesting")
    {
        for (const std::string &text :
             {std::string(), std::string(" "), std::string("null"), std::string("[]"),
              std::string("\"clickstream-studio-run\""), std::string("\0\0\0", 3),
              std::string("\xef\xbb\xbf{}"), std::string(100'000, '['), std::string(100'000, '{'),
              std::string("{\"format\": \"\xff\xfe\"}"),
              std::string(R"({"format": "clickstream-studio-run", "version": 1e400})"),
              std::string(R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1e300,)"
                          R"( "producers": [], "samples": [], "markers": [], "alerts": []})"),
              std::string(R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1,)"
                          R"( "producers": [], "samples": [[1e300,0,0,0,0,0,0,0,0]],)"
                          R"( "markers": [], "alerts": []})"),
              std::string(R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1,)"
                          R"( "producers": [], "samples": [[1,0,0,0,0,0,0,-1,0]],)"
                          R"( "markers": [], "alerts": []})"),
              std::string(R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1,)"
                          R"( "producers": [{"id": 99999999999, "name": "p", "ratePerSecond": 1}],)"
                          R"( "samples": [], "markers": [], "alerts": []})"),
              std::string(R"({"format": "clickstream-studio-run", "version": 1, "startMs": 1,)"
                          R"( "producers": {}, "samples": "x", "markers": 3, "alerts": null})")})
            checkParsesOrRefuses(text);
    }

    SECTION("random bytes flipped, inserted and removed (fixed seed)")
    {
        std::mt19937 random(16);
        for (int i = 0; i < 3000; ++i) {
            std::string text = valid;
            const int edits = 1 + static_cast<int>(random() % 4);
            for (int e = 0; e < edits && !text.empty(); ++e) {
                const std::size_t at = random() % text.size();
                switch (random() % 3) {
                case 0:
                    text[at] = static_cast<char>(random() % 256);
                    break;
                case 1:
                    text.insert(at, 1, "0123456789-+.eE\"[]{},:ntf"[random() % 26]);
                    break;
                default:
                    text.erase(at, 1);
                }
            }
            checkParsesOrRefuses(text);
        }
    }
}

TEST_CASE("A bad run file on disk gives a message through loadRun", "[runs]")
{
    const std::string path = tempPath("malformed.json");
    for (const std::string &text : {std::string(), std::string(R"({"format": 7, "version": 1})"),
                                    std::string(R"({"format": "clickstream-studio-run"})"),
                                    std::string("\x7f\x45\x4c\x46\x02\x01\x01\0\0\0", 10)}) {
        writeText(path, text);
        std::string error;
        std::optional<RunRecording> run;
        REQUIRE_NOTHROW(run = loadRun(path, &error));
        CHECK_FALSE(run);
        CHECK_FALSE(error.empty());
    }
    std::remove(path.c_str());
}

// Regression: RunRecorder kept every sample of a session (one a second, forever).
TEST_CASE("The run recorder stays bounded over a week-long run", "[runs]")
{
    RunRecorder recorder;
    const std::int64_t start = 1'700'000'000'000;
    const std::int64_t seconds = 7 * 24 * 3600;
    std::size_t maxSamples = 0, maxCapacity = 0;
    for (std::int64_t i = 0; i < seconds; ++i) {
        RunSample s;
        s.timeMs = start + i * 1000;
        s.validTotal = static_cast<std::uint64_t>(i);
        REQUIRE(recorder.addSample(s));
        if (i % 60 == 0) { // a marker and an alert a minute: 10,080 of each in the week
            recorder.addMarker({s.timeMs, "marker " + std::to_string(i)});
            recorder.addAlert({s.timeMs, "rule", "firing", ""});
        }
        maxSamples = std::max(maxSamples, recorder.recording().samples.size());
        maxCapacity = std::max(maxCapacity, recorder.recording().samples.capacity());
    }
    const RunRecording &run = recorder.recording();
    CHECK(maxSamples <= RunRecorder::kMaxSamples);
    // The vector never grows past its first reallocation above the limit.
    CHECK(maxCapacity <= 2 * RunRecorder::kMaxSamples);
    CHECK(run.samples.size() >= RunRecorder::kMaxSamples - RunRecorder::kMaxSamples / 16);
    // The newest are kept, in order, and the run starts at the first one kept.
    CHECK(run.samples.back().timeMs == start + (seconds - 1) * 1000);
    CHECK(run.startMs == run.samples.front().timeMs);
    for (std::size_t i = 1; i < run.samples.size(); ++i)
        REQUIRE(run.samples[i].timeMs - run.samples[i - 1].timeMs == 1000);
    CHECK(run.markers.size() <= RunRecorder::kMaxMarkers);
    CHECK(run.alerts.size() <= RunRecorder::kMaxAlerts);
    CHECK(run.markers.back().text == "marker " + std::to_string((seconds - 1) / 60 * 60));
    CHECK(recorder.droppedSampleBlocks() > 0);
    // What a save writes stays bounded too: about 6 MiB for a day of samples.
    CHECK(runToJson(run).size() < 16u * 1024 * 1024);

    for (int i = 0; i < 2000; ++i) {
        RunProducer p;
        p.id = i;
        recorder.noteProducer(p);
    }
    CHECK(recorder.recording().producers.size() == RunRecorder::kMaxProducers);
}
