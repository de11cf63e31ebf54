#include "core/engine/runrecording.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <utility>

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

// Checked reads: a run file is user input, so every field is checked for its type and range
// and a mismatch throws std::runtime_error naming the field (runFromJson catches it). nlohmann's
// own get<>() would convert 1e300 to an integer (undefined behaviour) or wrap a negative number.
[[noreturn]] void corrupt(const std::string &what)
{
    throw std::runtime_error(what);
}

template <class Int> Int integerOf(const json &value, const std::string &what)
{
    if (value.is_number_unsigned()) {
        const auto u = value.get<std::uint64_t>();
        if (!std::in_range<Int>(u))
            corrupt(what + " is out of range");
        return static_cast<Int>(u);
    }
    if (value.is_number_integer()) {
        const auto i = value.get<std::int64_t>();
        if (!std::in_range<Int>(i))
            corrupt(what + " is out of range");
        return static_cast<Int>(i);
    }
    corrupt(what + " is not an integer");
}

double numberOf(const json &value, const std::string &what)
{
    if (!value.is_number())
        corrupt(what + " is not a number");
    const double d = value.get<double>();
    if (!std::isfinite(d))
        corrupt(what + " is not a finite number");
    return d;
}

std::string stringOf(const json &value, const std::string &what)
{
    if (!value.is_string())
        corrupt(what + " is not a string");
    return value.get<std::string>();
}

const json &member(const json &object, const char *key, const std::string &where)
{
    const auto it = object.find(key);
    if (it == object.end())
        corrupt(where + " has no \"" + key + "\"");
    return *it;
}

const json *optionalMember(const json &object, const char *key)
{
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

const json &arrayMember(const json &object, const char *key)
{
    const json &value = member(object, key, "the run");
    if (!value.is_array())
        corrupt(std::string("\"") + key + "\" is not an array");
    return value;
}

const json &objectAt(const json &value, const std::string &what)
{
    if (!value.is_object())
        corrupt(what + " is not an object");
    return value;
}

RunSample sampleOf(const json &row, std::size_t index)
{
    const std::string what = "sample " + std::to_string(index + 1);
    if (!row.is_array() || row.size() < 9)
        corrupt(what + " is not an array of 9 numbers");
    RunSample s;
    s.timeMs = integerOf<std::int64_t>(row[0], what + " time");
    s.producedPerSecond = numberOf(row[1], what + " produced/s");
    s.consumedPerSecond = numberOf(row[2], what + " consumed/s");
    s.lagMessages = integerOf<std::int64_t>(row[3], what + " lag");
    s.watermarkDelayMs = numberOf(row[4], what + " watermark delay");
    s.latePerSecond = numberOf(row[5], what + " late/s");
    s.invalidPerSecond = numberOf(row[6], what + " invalid/s");
    s.validTotal = integerOf<std::uint64_t>(row[7], what + " valid total");
    s.revenuePerMinute = numberOf(row[8], what + " revenue/min");
    return s;
}

RunProducer producerOf(const json &value, std::size_t index)
{
    const std::string what = "producer " + std::to_string(index + 1);
    const json &p = objectAt(value, what);
    RunProducer producer;
    producer.id = integerOf<int>(member(p, "id", what), what + " id");
    producer.name = stringOf(member(p, "name", what), what + " name");
    producer.ratePerSecond = numberOf(member(p, "ratePerSecond", what), what + " rate");
    if (const json *v = optionalMember(p, "topic"))
        producer.topic = stringOf(*v, what + " topic");
    if (const json *v = optionalMember(p, "compression"))
        producer.compression = stringOf(*v, what + " compression");
    if (const json *v = optionalMember(p, "hotProduct"))
        producer.hotProduct = stringOf(*v, what + " hot product");
    if (const json *v = optionalMember(p, "hotShare"))
        producer.hotShare = numberOf(*v, what + " hot share");
    if (const json *v = optionalMember(p, "lateFraction"))
        producer.lateFraction = numberOf(*v, what + " late fraction");
    if (const json *v = optionalMember(p, "malformedFraction"))
        producer.malformedFraction = numberOf(*v, what + " malformed fraction");
    if (const json *v = optionalMember(p, "firstSeenMs"))
        producer.firstSeenMs = integerOf<std::int64_t>(*v, what + " first seen");
    return producer;
}

RunMarker markerOf(const json &value, std::size_t index)
{
    const std::string what = "marker " + std::to_string(index + 1);
    const json &m = objectAt(value, what);
    return {integerOf<std::int64_t>(member(m, "timeMs", what), what + " time"),
            stringOf(member(m, "text", what), what + " text")};
}

RunAlert alertOf(const json &value, std::size_t index)
{
    const std::string what = "alert " + std::to_string(index + 1);
    const json &a = objectAt(value, what);
    RunAlert alert;
    alert.timeMs = integerOf<std::int64_t>(member(a, "timeMs", what), what + " time");
    alert.rule = stringOf(member(a, "rule", what), what + " rule");
    alert.state = stringOf(member(a, "state", what), what + " state");
    if (const json *v = optionalMember(a, "summary"))
        alert.summary = stringOf(*v, what + " summary");
    return alert;
}

/// Drops the oldest entries once `items` holds more than `limit`: a block of limit/16 at a time,
/// so a full recorder moves its elements once per limit/16 additions, not on every one.
template <class T> void keepNewest(std::vector<T> &items, std::size_t limit)
{
    if (items.size() <= limit)
        return;
    const std::size_t drop = items.size() - limit + limit / 16;
    items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(drop));
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
    if (m_run.samples.size() > kMaxSamples) {
        keepNewest(m_run.samples, kMaxSamples);
        m_run.startMs = m_run.samples.front().timeMs;
        ++m_droppedBlocks;
    }
    return true;
}

void RunRecorder::addMarker(RunMarker marker)
{
    m_run.markers.push_back(std::move(marker));
    keepNewest(m_run.markers, kMaxMarkers);
}

void RunRecorder::addAlert(RunAlert alert)
{
    m_run.alerts.push_back(std::move(alert));
    keepNewest(m_run.alerts, kMaxAlerts);
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
    if (!knowsProducer(producer.id) && m_run.producers.size() < kMaxProducers)
        m_run.producers.push_back(producer);
}

void RunRecorder::clear()
{
    m_run = {};
    m_droppedBlocks = 0;
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
    // Everything below may meet any JSON at all: every read is checked (see integerOf() and the
    // others) and anything unexpected ends in the catch, so a bad file is a message, never an
    // exception out of here (which, from a QFutureWatcher's result(), would end the GUI).
    try {
        const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded() || !doc.is_object()) {
            setError(error, "not a recorded run: the file is not valid JSON");
            return std::nullopt;
        }
        const auto format = doc.find("format");
        if (format == doc.end() || !format->is_string() ||
            format->get<std::string>() != kFormatTag) {
            setError(error, "not a recorded run: the format tag is missing");
            return std::nullopt;
        }
        const auto version = doc.find("version");
        if (version == doc.end() || !version->is_number_integer()) {
            setError(error, "not a recorded run: no format version");
            return std::nullopt;
        }
        // (nlohmann keeps a non-negative integer as unsigned; above INT64_MAX it is just "newer".)
        const std::int64_t formatVersion =
            version->is_number_unsigned() &&
                    !std::in_range<std::int64_t>(version->get<std::uint64_t>())
                ? std::numeric_limits<std::int64_t>::max()
                : version->get<std::int64_t>();
        if (formatVersion > RunRecording::kFormatVersion) {
            setError(error, "the run was saved by a newer version (format " + version->dump() +
                                ", this build reads up to " +
                                std::to_string(RunRecording::kFormatVersion) + ")");
            return std::nullopt;
        }
        if (formatVersion < 1) {
            setError(error,
                     "not a recorded run: format version " + version->dump() + " does not exist");
            return std::nullopt;
        }
        RunRecording run;
        run.startMs = integerOf<std::int64_t>(member(doc, "startMs", "the run"), "startMs");
        const json &producers = arrayMember(doc, "producers");
        for (std::size_t i = 0; i < producers.size(); ++i)
            run.producers.push_back(producerOf(producers[i], i));
        const json &samples = arrayMember(doc, "samples");
        run.samples.reserve(samples.size());
        for (std::size_t i = 0; i < samples.size(); ++i)
            run.samples.push_back(sampleOf(samples[i], i));
        const json &markers = arrayMember(doc, "markers");
        for (std::size_t i = 0; i < markers.size(); ++i)
            run.markers.push_back(markerOf(markers[i], i));
        const json &alerts = arrayMember(doc, "alerts");
        for (std::size_t i = 0; i < alerts.size(); ++i)
            run.alerts.push_back(alertOf(alerts[i], i));
        for (std::size_t i = 1; i < run.samples.size(); ++i) {
            if (run.samples[i].timeMs <= run.samples[i - 1].timeMs)
                corrupt("sample times are not increasing");
        }
        return run;
    } catch (const std::bad_alloc &) {
        setError(error, "corrupt run file: too large to read");
        return std::nullopt;
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
    std::string text;
    try {
        text.resize(static_cast<std::size_t>(size));
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(in.gcount()));
    } catch (const std::exception &) { // bad_alloc: no memory for the file
        setError(error, "cannot read " + path + ": not enough memory");
        return std::nullopt;
    }
    if (in.bad()) {
        setError(error, "cannot read " + path);
        return std::nullopt;
    }
    return runFromJson(text, error);
}

} // namespace studio::core
