#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace studio::core {

/// One second of a recorded run: the rates and totals the Overview charts show.
struct RunSample
{
    std::int64_t timeMs = 0; ///< wall clock, ms since the epoch
    double producedPerSecond = 0;
    double consumedPerSecond = 0;
    std::int64_t lagMessages = -1; ///< -1 while unknown
    double watermarkDelayMs = -1;  ///< -1 while there is no watermark
    double latePerSecond = 0;
    double invalidPerSecond = 0;
    std::uint64_t validTotal = 0;
    double revenuePerMinute = 0; ///< of the newest page window, scaled to a minute
};

/// A cause drawn on the time axes: a producer setting changed, a producer started or stopped.
struct RunMarker
{
    std::int64_t timeMs = 0;
    std::string text;
};

/// An alert transition (firing or resolved) during the run.
struct RunAlert
{
    std::int64_t timeMs = 0;
    std::string rule;
    std::string state; ///< "firing", "resolved", ...
    std::string summary;
};

/// A producer's settings when the run first saw it (later changes are markers).
struct RunProducer
{
    int id = 0;
    std::string name;
    std::string topic;
    double ratePerSecond = 0;
    std::string compression;
    std::string hotProduct;
    double hotShare = 0;
    double lateFraction = 0;
    double malformedFraction = 0;
    std::int64_t firstSeenMs = 0;
};

/// A whole recorded run, as saved to and loaded from a file.
struct RunRecording
{
    static constexpr int kFormatVersion = 1;

    std::int64_t startMs = 0; ///< the first sample's time; 0 while empty
    std::vector<RunProducer> producers;
    std::vector<RunSample> samples; ///< increasing time, about one per second
    std::vector<RunMarker> markers;
    std::vector<RunAlert> alerts;
};

/// Builds a RunRecording from a stream of (10 Hz or any rate) samples, keeping one per
/// `intervalMs`. Plain data, not thread-safe: fed from one thread (the GUI tick).
///
/// Bounded, so a window left open for weeks does not grow without end: the newest kMaxSamples
/// samples are kept (24 hours at one a second, about 6 MiB); past that the oldest are dropped,
/// kMaxSamples / 16 (1.5 hours) at a time, and startMs moves to the first sample kept. Markers
/// and alerts keep their newest kMaxMarkers and kMaxAlerts the same way, producers the first
/// kMaxProducers seen.
class RunRecorder
{
public:
    static constexpr std::size_t kMaxSamples = 86'400;
    static constexpr std::size_t kMaxMarkers = 10'000;
    static constexpr std::size_t kMaxAlerts = 10'000;
    static constexpr std::size_t kMaxProducers = 1'000;

    explicit RunRecorder(std::int64_t intervalMs = 1000)
        : m_intervalMs(intervalMs)
    {
    }

    /// Keeps `sample` when it is the first or at least intervalMs after the last kept one; true
    /// when kept. Older or equal times are ignored. May drop the oldest samples (see above).
    bool addSample(const RunSample &sample);
    void addMarker(RunMarker marker);
    void addAlert(RunAlert alert);
    /// Adds the producer's settings unless a producer with this id is already known.
    void noteProducer(const RunProducer &producer);
    bool knowsProducer(int id) const;
    /// Starts over (a new run).
    void clear();

    const RunRecording &recording() const { return m_run; }
    /// How many times the oldest samples were dropped since the start (or clear()).
    std::uint64_t droppedSampleBlocks() const { return m_droppedBlocks; }

private:
    std::int64_t m_intervalMs;
    RunRecording m_run;
    std::uint64_t m_droppedBlocks = 0;
};

/// The run as compact JSON text (format version kFormatVersion).
std::string runToJson(const RunRecording &run);
/// Parses runToJson() text; nullopt with a message in `error` for text that is not JSON, lacks
/// the format tag, has a newer version or malformed fields. Never throws.
std::optional<RunRecording> runFromJson(const std::string &text, std::string *error);

/// Writes the run to `path` (through a temporary file renamed into place); false with a message.
bool saveRun(const RunRecording &run, const std::string &path, std::string *error);
/// Reads a run saved by saveRun(); nullopt with a message for a missing, unreadable, corrupt or
/// newer file. Never throws.
std::optional<RunRecording> loadRun(const std::string &path, std::string *error);

} // namespace studio::core
