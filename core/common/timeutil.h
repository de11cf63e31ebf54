#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace studio::core {

/// Milliseconds since the Unix epoch, UTC, from the system clock.
std::int64_t wallClockMs();

/// Length of the fixed ISO-8601 form written by formatIsoMs: "2026-11-23T15:37:03.123Z".
inline constexpr std::size_t kIsoMsLength = 24;

/// Writes `ms` (since the epoch, UTC) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into `out` (24 chars, no NUL).
/// Years 0000..9999 only; thread-safe.
void formatIsoMs(std::int64_t ms, char *out);
std::string formatIsoMs(std::int64_t ms);

/// Strict ISO-8601 UTC parse: "YYYY-MM-DDTHH:MM:SS[.fff]Z" or with a "+00:00" offset; fractions of
/// 1 to 9 digits are truncated to milliseconds. Any other form, or an impossible date or time,
/// gives nullopt.
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
