#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace studio::core {

/// Burrow's partition and group lag statuses. Unknown: not enough samples (or no committed
/// offset) to judge.
enum class LagStatus { Ok, Warn, Stall, Stop, Rewind, Unknown };

/// "OK", "WARN", "STALL", "STOP", "REWIND", "UNKNOWN".
const char *lagStatusName(LagStatus status);

/// Rank used for "worst of": Unknown 0 < OK 1 < WARN 2 < STALL 3 < REWIND 4 < STOP 5. STOP ranks
/// above REWIND because a stopped consumer makes no progress at all, while a rewind is a one-off
/// event that leaves the window by itself once the group moves on.
int lagStatusSeverity(LagStatus status);

/// One poll of a partition's committed offset and watermarks.
struct LagSample
{
    std::int64_t timeMs = 0;     ///< any monotonic millisecond clock (the same for every sample)
    std::int64_t committed = -1; ///< the group's committed offset; -1 when it has none
    std::int64_t high = 0;       ///< high watermark
    std::int64_t low = 0;        ///< low watermark: the lag base when nothing is committed
    /// A commit was seen since the previous sample even if the offset did not move (the app's
    /// own commit counter advanced). False when nothing says so, which is all that can be known
    /// of an external group: polling committed offsets cannot see a commit of the same offset.
    bool commitSeen = false;

    /// high - committed (high - low when nothing is committed), never below 0.
    std::int64_t lag() const;
};

/// What a window says about one partition.
struct LagEvaluation
{
    LagStatus status = LagStatus::Unknown;
    std::string reason;    ///< e.g. "committed offset 1200 unchanged for 42 s while lag 5000"
    std::int64_t lag = -1; ///< lag of the newest sample, -1 without samples
    std::int64_t committed = -1;
};

/// Burrow's sliding-window evaluation (anchors.md) mapped onto samples taken every refresh.
///
/// Burrow judges the last N *commits*; we poll committed offsets, so a window here is the last N
/// polls, and a "commit" is a poll that saw the offset move or that was told (commitSeen) about
/// a commit. Rules, checked in this order on the window (newest sample = "now" unless given):
///  1. UNKNOWN while the window holds fewer than kMinSamples samples or the newest has no
///     committed offset.
///  2. REWIND if the committed offset went backwards between two samples of the window (checked
///     before rule 4 so an offset reset is reported even if lag was zero just before it).
///  3. STOP if lag > 0 and the last sign of progress is at least as old as the window's span
///     (now - lastProgress >= newest.time - oldest.time, i.e. nothing moved after the oldest
///     sample; strictly older while the window is still filling, so a half-empty window does not
///     call a group STOP on its first samples alone). Progress is a sample that saw the offset
///     move, a commitSeen sample, or a sample with zero lag (a caught-up consumer of an idle
///     topic has nothing to commit, so that is not a stop). Progress is remembered past the
///     window, and the very first sample counts as progress.
///  4. OK if the lag was zero in any sample of the window.
///  5. STALL if the committed offset is the same in every sample, lag > 0, and commits were seen
///     within the window (commitSeen): the group is alive and commits, but repeats its offset.
///     Without commitSeen an unchanged offset can only end as STOP (rule 3) once the window
///     spans without a change: for external groups STALL is not observable.
///  6. WARN if the offset advanced over the window (newest > oldest) and the lag never shrank
///     between consecutive samples (lag > 0 throughout).
///  7. OK otherwise.
/// Not thread-safe: owned by one thread. Deterministic: no clock is read.
class LagWindow
{
public:
    static constexpr std::size_t kMinSamples = 3;

    explicit LagWindow(std::size_t capacity = 10);

    /// Appends a sample, dropping the oldest beyond capacity. A sample older than the newest is
    /// ignored.
    void add(const LagSample &sample);
    void clear();

    std::size_t size() const { return m_samples.size(); }
    std::size_t capacity() const { return m_capacity; }
    const std::deque<LagSample> &samples() const { return m_samples; }
    /// Time of the last sign of progress (see rule 3); -1 before any sample.
    std::int64_t lastProgressMs() const { return m_lastProgressMs; }
    /// Committed offsets per second over the window (0 when it did not move or went back).
    double consumeRate() const;

    LagEvaluation evaluate() const;
    /// The same with "now" later than the newest sample (polls that failed): STOP can follow.
    LagEvaluation evaluate(std::int64_t nowMs) const;

private:
    std::size_t m_capacity;
    std::deque<LagSample> m_samples;
    std::int64_t m_lastProgressMs = -1;
};

/// A partition's evaluation with its name for the group's reason ("clickstream[3]").
struct NamedLagEvaluation
{
    std::string name;
    LagEvaluation evaluation;
};

/// The group status: the worst partition by lagStatusSeverity (ties: the larger lag, then the
/// first given), with a reason naming it ("clickstream[3]: committed offset ..."). Unknown
/// partitions count only when every partition is unknown. OK groups get "N partitions OK, total
/// lag L". `lag` is the total over partitions with a known lag.
LagEvaluation evaluateGroupLag(const std::vector<NamedLagEvaluation> &partitions);

/// "42 s" for 10 s and more, "4.2 s" below: how durations read in reasons.
std::string formatLagDuration(double seconds);

} // namespace studio::core
