#include "core/engine/runrecording.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace studio::core {

using nlohmann::json;

namespace {

constexpr const char *kFormatTag = "clickstream-studio-run";
constexpr std::uintmax_t kMaxFileBytes = 512ull * 1024 * 1024; // refuse absurd files

void setError(std::string *error, std::string message)
{
    if (error)
        *error = std::move(message);
}

// Samples as arrays, not objects: a one-hour run is 3,600 rows and keys would triple the file.
json sampleRow(const RunSample &s)
{
    return json::array({s.timeMs, s.producedPerSecond, s.consumedPerSecond, s.lagMessages,
                        s.watermarkDelayMs, s.latePerSecond, s.invalidPerSecond, s.validTotal,
                        s.revenuePerMinute});
}

RunSample sampleOf(const json &row)
{
    if (!row.is_array() || row.size() < 9)
        throw std::runtime_error("a sample is not an array of 9 numbers");
    RunSample s;
    s.timeMs = row.at(0).get<std::int64_t>();
    s.producedPerSecond = row.at(1).get<double>();
    s.consumedPerSecond = row.at(2).get<double>();
    s.lagMessages = row.at(3).get<std::int64_t>();
    s.watermarkDelayMs = row.at(4).get<double>();
    s.latePerSecond = row.at(5).get<double>();
    s.invalidPerSecond = row.at(6).get<double>();
    s.validTotal = row.at(7).get<std::uint64_t>();
    s.revenuePerMinute = row.at(8).get<double>();
    return s;
}

} // namespace

bool RunRecorder::addSample(const RunSample &sample)
{
    if (!m_run.samples.empty()) {
        const std::int64_t last = m_run.samples.back().timeMs;
        if (sample.timeMs <= last || sample.timeMs - last < m_intervalMs)
            return false;
    } else {
        m_run.startMs = sample.timeMs;
    }
    m_run.samples.push_back(sample);
    return true;
}

void RunRecorder::addMarker(RunMarker marker)
{
    m_run.markers.push_back(std::move(marker));
}

void RunRecorder::addAlert(RunAlert alert)
{
    m_run.alerts.push_back(std::move(alert));
}

bool RunRecorder::knowsProducer(int id) const
{
    for (const RunProducer &p : m_run.producers) {
        if (p.id == id)
            return true;
    }
    return false;
}

void RunRecorder::noteProducer(const RunProducer &producer)
{
    if (!knowsProducer(producer.id))
        m_run.producers.push_back(producer);
}

void RunRecorder::clear()
{
    m_run = {};
}

std::string runToJson(const RunRecording &run)
{
    json producers = json::array();
    for (const RunProducer &p : run.producers)
        producers.push_back({{"id", p.id},
                             {"name", p.name},
                             {"topic", p.topic},
                             {"ratePerSecond", p.ratePerSecond},
                             {"compression", p.compression},
                             {"hotProduct", p.hotProduct},
                             {"hotShare", p.hotShare},
                             {"lateFraction", p.lateFraction},
                             {"malformedFraction", p.malformedFraction},
                             {"firstSeenMs", p.firstSeenMs}});
    json samples = json::array();
    for (const RunSample &s : run.samples)
        samples.push_back(sampleRow(s));
    json markers = json::array();
    for (const RunMarker &m : run.markers)
        markers.push_back({{"timeMs", m.timeMs}, {"text", m.text}});
    json alerts = json::array();
    for (const RunAlert &a : run.alerts)
        alerts.push_back(
            {{"timeMs", a.timeMs}, {"rule", a.rule}, {"state", a.state}, {"summary", a.summary}});
    const json doc = {
        {"format", kFormatTag},
        {"version", RunRecording::kFormatVersion},
        {"startMs", run.startMs},
        {"sampleColumns",
         {"timeMs", "producedPerSecond", "consumedPerSecond", "lagMessages", "watermarkDelayMs",
          "latePerSecond", "invalidPerSecond", "validTotal", "revenuePerMinute"}},
        {"producers", producers},
        {"samples", samples},
        {"markers", markers},
        {"alerts", alerts}};
    return doc.dump();
}

std::optional<RunRecording> runFromJson(const std::string &text, std::string *error)
{
    const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        setError(error, "not a recorded run: the file is not valid JSON");
        return std::nullopt;
    }
    if (doc.value("format", std::string()) != kFormatTag) {
        setError(error, "not a recorded run: the format tag is missing");
        return std::nullopt;
    }
    const json &version = doc["version"];
    if (!version.is_number_integer()) {
        setError(error, "not a recorded run: no format version");
        return std::nullopt;
    }
    if (version.get<int>() > RunRecording::kFormatVersion) {
        setError(error, "the run was saved by a newer version (format " +
                            std::to_string(version.get<int>()) + ", this build reads up to " +
                            std::to_string(RunRecording::kFormatVersion) + ")");
        return std::nullopt;
    }
    try {
        RunRecording run;
        run.startMs = doc.at("startMs").get<std::int64_t>();
        for (const json &p : doc.at("producers")) {
            RunProducer producer;
            producer.id = p.at("id").get<int>();
            producer.name = p.at("name").get<std::string>();
            producer.topic = p.value("topic", std::string());
            producer.ratePerSecond = p.at("ratePerSecond").get<double>();
            producer.compression = p.value("compression", std::string());
            producer.hotProduct = p.value("hotProduct", std::string());
            producer.hotShare = p.value("hotShare", 0.0);
            producer.lateFraction = p.value("lateFraction", 0.0);
            producer.malformedFraction = p.value("malformedFraction", 0.0);
            producer.firstSeenMs = p.value("firstSeenMs", std::int64_t{0});
            run.producers.push_back(std::move(producer));
        }
        for (const json &row : doc.at("samples"))
            run.samples.push_back(sampleOf(row));
        for (const json &m : doc.at("markers"))
            run.markers.push_back(
                {m.at("timeMs").get<std::int64_t>(), m.at("text").get<std::string>()});
        for (const json &a : doc.at("alerts"))
            run.alerts.push_back({a.at("timeMs").get<std::int64_t>(),
                                  a.at("rule").get<std::string>(), a.at("state").get<std::string>(),
                                  a.value("summary", std::string())});
        for (std::size_t i = 1; i < run.samples.size(); ++i) {
            if (run.samples[i].timeMs <= run.samples[i - 1].timeMs)
                throw std::runtime_error("sample times are not increasing");
        }
        return run;
    } catch (const std::exception &e) {
        setError(error, std::string("corrupt run file: ") + e.what());
        return std::nullopt;
    }
}

bool saveRun(const RunRecording &run, const std::string &path, std::string *error)
{
    const std::string tmp = path + ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            setError(error, "cannot write " + tmp);
            return false;
        }
        out << runToJson(run);
        out.flush();
        if (!out) {
            setError(error, "cannot write " + tmp + " (disk full?)");
            std::remove(tmp.c_str());
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        setError(error, "cannot replace " + path + ": " + ec.message());
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

std::optional<RunRecording> loadRun(const std::string &path, std::string *error)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        setError(error, "no such file: " + path);
        return std::nullopt;
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size > kMaxFileBytes) {
        setError(error, ec ? "cannot read " + path + ": " + ec.message()
                           : path + " is too large for a recorded run");
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        setError(error, "cannot open " + path);
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return runFromJson(text.str(), error);
}

} // namespace studio::core
