#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace studio::core {

/// Milliseconds since the Unix epoch, UTC, from the system clock. Thread-safe.
std::int64_t wallClockMs();

/// Milliseconds on the monotonic clock (std::chrono::steady_clock), for deadlines and intervals
/// kept as plain numbers; its epoch is unspecified, so only differences mean anything.
std::int64_t steadyClockMs();

/// Milliseconds (with fractions) from `start` to now on the monotonic clock: a latency.
double msSince(std::chrono::steady_clock::time_point start);

/// Whole milliseconds from now to `deadline`, 0 once it has passed: the timeout to hand a
/// blocking call that must end by the deadline.
int msLeft(std::chrono::steady_clock::time_point deadline);

/// Length of the fixed ISO-8601 form written by formatIsoMs: "2026-11-23T15:37:03.123Z".
inline constexpr std::size_t kIsoMsLength = 24;

/// The first and last millisecond that have a four-digit year: 0000-01-01T00:00:00.000Z and
/// 9999-12-31T23:59:59.999Z (proleptic Gregorian calendar, year 0 = 1 BC, a leap year).
inline constexpr std::int64_t kFirstIsoMs = -62'167'219'200'000;
inline constexpr std::int64_t kLastIsoMs = 253'402'300'799'999;

/// Writes `ms` (since the epoch, UTC) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into `out` (24 chars, no NUL).
/// Years 0000..9999 only: an instant outside them is written as kFirstIsoMs or kLastIsoMs.
/// Thread-safe.
void formatIsoMs(std::int64_t ms, char *out);
std::string formatIsoMs(std::int64_t ms);

/// Strict ISO-8601 UTC parse: "YYYY-MM-DDTHH:MM:SS[.fff]Z" or with a "+00:00" offset; fractions of
/// 1 to 9 digits are truncated to milliseconds. Years 0000..9999. Any other form, or an impossible
/// date or time (February 29 of a common year, 24:00, a leap second), gives nullopt.
std::optional<std::int64_t> parseIsoMs(std::string_view text);

/// parseIsoMs with a memory of the last valid date it read ("YYYY-MM-DD" and its day number), so
/// a stream of times from the same day skips the calendar checks and arithmetic. Gives exactly
/// what parseIsoMs gives for every input. Not thread-safe: one per thread (say, per parser).
class IsoTimeParser
{
public:
    std::optional<std::int64_t> parse(std::string_view text);

private:
    char m_date[10] = {};
    std::int64_t m_days = 0;
    bool m_haveDate = false;
};

} // namespace studio::core
