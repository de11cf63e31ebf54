#include "core/common/timeutil.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

namespace studio::core {

namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

// The calendar is std::chrono's (proleptic Gregorian, as ISO-8601 has it).
constexpr std::int64_t daysSinceEpoch(std::chrono::year_month_day date)
{
    return std::chrono::sys_days(date).time_since_epoch().count();
}
static_assert(daysSinceEpoch(std::chrono::year(1970) / 1 / 1) == 0);
static_assert(daysSinceEpoch(std::chrono::year(0) / 1 / 1) * kMsPerDay == kFirstIsoMs);
static_assert((daysSinceEpoch(std::chrono::year(9999) / 12 / 31) + 1) * kMsPerDay - 1 ==
              kLastIsoMs);

void put2(char *p, unsigned v)
{
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned &out)
{
    if (pos + n > s.size())
        return false;
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return true;
}

} // namespace

std::int64_t wallClockMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t steadyClockMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

double msSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

int msLeft(std::chrono::steady_clock::time_point deadline)
{
    using namespace std::chrono;
    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    return static_cast<int>(std::clamp<std::int64_t>(left, 0, std::numeric_limits<int>::max()));
}

void formatIsoMs(std::int64_t ms, char *out)
{
    ms = std::clamp(ms, kFirstIsoMs, kLastIsoMs);
    std::int64_t days = ms / kMsPerDay;
    std::int64_t rem = ms % kMsPerDay;
    if (rem < 0) {
        rem += kMsPerDay;
        --days;
    }
    const std::chrono::year_month_day date{std::chrono::sys_days(std::chrono::days(days))};
    const auto y = static_cast<unsigned>(static_cast<int>(date.year()));
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, static_cast<unsigned>(date.month()));
    out[7] = '-';
    put2(out + 8, static_cast<unsigned>(date.day()));
    out[10] = 'T';
    const auto r = static_cast<unsigned>(rem);
    put2(out + 11, r / 3'600'000);
    out[13] = ':';
    put2(out + 14, (r / 60'000) % 60);
    out[16] = ':';
    put2(out + 17, (r / 1000) % 60);
    out[19] = '.';
    const unsigned milli = r % 1000;
    out[20] = static_cast<char>('0' + milli / 100);
    put2(out + 21, milli % 100);
    out[23] = 'Z';
}

std::string formatIsoMs(std::int64_t ms)
{
    std::string s(kIsoMsLength, '\0');
    formatIsoMs(ms, s.data());
    return s;
}

namespace {

// "YYYY-MM-DD" at the start of `s` (at least 20 characters long): its day number since the epoch,
// or nullopt for a malformed or impossible date.
std::optional<std::int64_t> parseIsoDate(std::string_view s)
{
    unsigned y, mo, d;
    if (!digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d))
        return std::nullopt;
    // ok(): a month 1..12 and a day that month has in that year (February 29 in leap years).
    const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(y)),
                                           std::chrono::month(mo), std::chrono::day(d)};
    if (!date.ok())
        return std::nullopt;
    return daysSinceEpoch(date);
}

inline unsigned digitAt(std::string_view s, std::size_t i)
{
    return static_cast<unsigned>(static_cast<unsigned char>(s[i])) - '0'; // >= 10 if no digit
}

// What follows the date in `s` (at least 20 characters long): "THH:MM:SS[.fff]Z" or with
// "+00:00"; milliseconds into the day, or -1 when malformed.
std::int64_t parseIsoTimeOfDay(std::string_view s)
{
    if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return -1;
    const unsigned h1 = digitAt(s, 11), h2 = digitAt(s, 12), m1 = digitAt(s, 14),
                   m2 = digitAt(s, 15), s1 = digitAt(s, 17), s2 = digitAt(s, 18);
    if (h1 > 9 || h2 > 9 || m1 > 9 || m2 > 9 || s1 > 9 || s2 > 9)
        return -1;
    const unsigned h = h1 * 10 + h2, mi = m1 * 10 + m2, sec = s1 * 10 + s2;
    if (h > 23 || mi > 59 || sec > 59)
        return -1;
    std::size_t pos = 19;
    unsigned milli = 0;
    if (s[pos] == '.') {
        ++pos;
        std::size_t n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 3)
                milli = milli * 10 + static_cast<unsigned>(s[pos] - '0');
            ++n;
            ++pos;
        }
        if (n == 0 || n > 9)
            return -1;
        for (; n < 3; ++n)
            milli *= 10;
    }
    const std::string_view zone = s.substr(pos);
    if (zone != "Z" && zone != "z" && zone != "+00:00")
        return -1;
    return (static_cast<std::int64_t>(h) * 60 + mi) * 60'000 +
           static_cast<std::int64_t>(sec) * 1000 + milli;
}

} // namespace

std::optional<std::int64_t> parseIsoMs(std::string_view s)
{
    if (s.size() < 20)
        return std::nullopt;
    const auto days = parseIsoDate(s);
    const std::int64_t time = parseIsoTimeOfDay(s);
    if (!days || time < 0)
        return std::nullopt;
    return *days * kMsPerDay + time;
}

std::optional<std::int64_t> IsoTimeParser::parse(std::string_view s)
{
    if (s.size() < 20)
        return std::nullopt;
    if (!m_haveDate || std::memcmp(s.data(), m_date, sizeof m_date) != 0) [[unlikely]] {
        const auto days = parseIsoDate(s);
        if (!days)
            return std::nullopt; // not remembered: only valid dates are
        std::memcpy(m_date, s.data(), sizeof m_date);
        m_days = *days;
        m_haveDate = true;
    }
    const std::int64_t time = parseIsoTimeOfDay(s);
    if (time < 0)
        return std::nullopt;
    return m_days * kMsPerDay + time;
}

} // namespace studio::core
