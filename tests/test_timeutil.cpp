#include "core/common/timeutil.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <limits>
#include <string>
#include <vector>

using namespace studio::core;

TEST_CASE("ISO-8601 times round-trip with milliseconds", "[time]")
{
    for (const std::int64_t ms : {0LL, 1LL, 999LL, 1767225600000LL, 1767225600123LL,
                                  951782400000LL /* 2000-02-29 */, 4102444799999LL}) {
        const std::string text = formatIsoMs(ms);
        REQUIRE(text.size() == kIsoMsLength);
        const auto back = parseIsoMs(text);
        REQUIRE(back);
        CHECK(*back == ms);
    }
    CHECK(formatIsoMs(1767225600123LL) == "2026-01-01T00:00:00.123Z");
    CHECK(formatIsoMs(951782400000LL) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("ISO-8601 parsing is strict", "[time]")
{
    CHECK(parseIsoMs("2026-01-01T00:00:00Z") == 1767225600000LL);
    CHECK(parseIsoMs("2026-01-01T00:00:00.5Z") == 1767225600500LL);
    CHECK(parseIsoMs("2026-01-01T00:00:00.123456789Z") == 1767225600123LL);
    CHECK(parseIsoMs("2026-01-01T00:00:00.000+00:00") == 1767225600000LL);
    for (const char *bad :
         {"", "2026-01-01", "2026-01-01 00:00:00Z", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
          "2026-02-30T25:61:00.000Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z",
          "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z",
          "2026-01-01T00:00:00+01:00", "20260-01-01T00:00:00Z", "abcd-01-01T00:00:00Z",
          "2026-01-01T00:00:00ZZ"}) {
        INFO(bad);
        CHECK_FALSE(parseIsoMs(bad));
    }
}

TEST_CASE("IsoTimeParser gives what parseIsoMs gives, whatever came before", "[time]")
{
    // The parser remembers the last valid date: runs of one day, a bad time after a good date, a
    // bad date after a good one with the same time, and every date of a leap and a common year.
    std::vector<std::string> texts = {"2026-01-01T00:00:00Z",
                                      "2026-01-01T00:00:00.5Z",
                                      "2026-01-01T00:00:00.123456789Z",
                                      "2026-01-01T00:00:00.000+00:00",
                                      "2026-01-01T23:59:59.999Z",
                                      "2026-01-01t12:30:45.1z",
                                      "2026-01-01T24:00:00Z",
                                      "2026-01-01T00:60:00Z",
                                      "2026-01-01T00:00:60Z",
                                      "2026-01-01T00:00:00",
                                      "2026-01-01T00:00:00.Z",
                                      "2026-01-01T00:00:00.1234567890Z",
                                      "2026-01-01T00:00:00+01:00",
                                      "2026-01-01T00:00:00ZZ",
                                      "2026-01-01 00:00:00Z",
                                      "2026-01-01T0a:00:00Z",
                                      "2026-01-01T00:0:00.000Z",
                                      "2026-01-01T00:00:00.000Z",
                                      "2026-02-29T00:00:00.000Z",
                                      "2026-02-28T00:00:00.000Z",
                                      "2024-02-29T00:00:00.000Z",
                                      "2026-13-01T00:00:00.000Z",
                                      "2026-00-01T00:00:00.000Z",
                                      "2026-01-00T00:00:00.000Z",
                                      "2026-01-32T00:00:00.000Z",
                                      "20260-01-01T00:00:00Z",
                                      "abcd-01-01T00:00:00Z",
                                      "",
                                      "2026-01-01",
                                      "0000-01-01T00:00:00.000Z",
                                      "9999-12-31T23:59:59.999Z",
                                      "2026-01-01T00:00:00.000Z",
                                      "2026/01/01T00:00:00.000Z",
                                      "2026-01-01T00:00:00.000Z"};
    for (int year : {2024, 2026}) {
        for (std::int64_t day = 0; day < 366; ++day) {
            const std::int64_t ms = *parseIsoMs(std::to_string(year) + "-01-01T00:00:00Z") +
                                    day * 86'400'000 + day * 1'000'003 % 86'400'000;
            texts.push_back(formatIsoMs(ms));
        }
    }
    // Random corruptions of valid times, each next to an intact time of the same date.
    std::uint64_t rng = 0x9E3779B97F4A7C15ULL;
    auto next = [&] {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
    };
    const std::string alphabet = "0123456789-:.TtZz+ \x01\xff";
    for (int i = 0; i < 20'000; ++i) {
        const auto offset = static_cast<std::int64_t>(next() % 400'000'000'000ULL);
        const std::string good = formatIsoMs(1767225600000LL + offset);
        std::string bad = good;
        const char c = alphabet[next() % alphabet.size()];
        const std::size_t at = next() % bad.size();
        switch (next() % 4) {
        case 0:
            bad[at] = c;
            break;
        case 1:
            bad.resize(at);
            break;
        case 2:
            bad.insert(at, 1, c);
            break;
        default:
            bad.replace(19, 5, next() % 2 ? "+00:00" : ".1234Z");
            break;
        }
        texts.push_back(good);
        texts.push_back(bad);
        texts.push_back(good);
    }
    IsoTimeParser parser;
    for (int pass = 0; pass < 2; ++pass) {
        for (const std::string &text : texts) {
            INFO(text);
            REQUIRE(parser.parse(text) == parseIsoMs(text));
        }
    }
}

TEST_CASE("ISO-8601 dates follow the Gregorian leap years", "[time]")
{
    // Divisible by 4 is leap, by 100 is not, by 400 is again; year 0 (1 BC) is divisible by 400.
    for (const char *leap :
         {"2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "1600-02-29T00:00:00Z",
          "0000-02-29T00:00:00Z", "9996-02-29T00:00:00Z", "0004-02-29T00:00:00Z"}) {
        INFO(leap);
        const auto ms = parseIsoMs(leap);
        REQUIRE(ms);
        CHECK(formatIsoMs(*ms).substr(0, 10) == std::string(leap).substr(0, 10));
        // The day after February 29 is March 1.
        CHECK(formatIsoMs(*ms + 86'400'000).substr(5, 5) == "03-01");
    }
    for (const char *common :
         {"2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
          "0100-02-29T00:00:00Z", "9999-02-29T00:00:00Z"}) {
        INFO(common);
        CHECK_FALSE(parseIsoMs(common));
    }
    // Leap and common years have 366 and 365 days.
    CHECK(*parseIsoMs("2025-01-01T00:00:00Z") - *parseIsoMs("2024-01-01T00:00:00Z") ==
          366LL * 86'400'000);
    CHECK(*parseIsoMs("2101-01-01T00:00:00Z") - *parseIsoMs("2100-01-01T00:00:00Z") ==
          365LL * 86'400'000);
    CHECK(*parseIsoMs("2000-03-01T00:00:00Z") - *parseIsoMs("2000-02-28T00:00:00Z") ==
          2LL * 86'400'000);
    // Days of each month, a common year: 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31.
    const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m <= 12; ++m) {
        char last[32], over[32];
        std::snprintf(last, sizeof last, "2026-%02d-%02dT00:00:00Z", m, days[m - 1]);
        std::snprintf(over, sizeof over, "2026-%02d-%02dT00:00:00Z", m, days[m - 1] + 1);
        INFO(last);
        CHECK(parseIsoMs(last));
        CHECK_FALSE(parseIsoMs(over));
    }
}

TEST_CASE("ISO-8601 times cover years 0000 to 9999 and clamp outside them", "[time]")
{
    CHECK(parseIsoMs("0000-01-01T00:00:00.000Z") == kFirstIsoMs);
    CHECK(parseIsoMs("9999-12-31T23:59:59.999Z") == kLastIsoMs);
    CHECK(parseIsoMs("1970-01-01T00:00:00.000Z") == 0);
    CHECK(parseIsoMs("1969-12-31T23:59:59.999Z") == -1);
    CHECK(formatIsoMs(kFirstIsoMs) == "0000-01-01T00:00:00.000Z");
    CHECK(formatIsoMs(kLastIsoMs) == "9999-12-31T23:59:59.999Z");
    CHECK(formatIsoMs(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(formatIsoMs(-62135596800000LL) == "0001-01-01T00:00:00.000Z");
    // Outside the four-digit years: the nearest end, never a wrong date.
    CHECK(formatIsoMs(kFirstIsoMs - 1) == "0000-01-01T00:00:00.000Z");
    CHECK(formatIsoMs(kLastIsoMs + 1) == "9999-12-31T23:59:59.999Z");
    CHECK(formatIsoMs(std::numeric_limits<std::int64_t>::min()) == "0000-01-01T00:00:00.000Z");
    CHECK(formatIsoMs(std::numeric_limits<std::int64_t>::max()) == "9999-12-31T23:59:59.999Z");
    CHECK_FALSE(parseIsoMs("10000-01-01T00:00:00Z"));
    CHECK_FALSE(parseIsoMs("-0001-01-01T00:00:00Z"));
    // Every first of a month across the whole range round-trips.
    for (int y = 0; y <= 9999; y += 7) {
        for (int m = 1; m <= 12; ++m) {
            char text[32];
            std::snprintf(text, sizeof text, "%04d-%02d-01T12:34:56.789Z", y, m);
            INFO(text);
            const auto ms = parseIsoMs(text);
            REQUIRE(ms);
            CHECK(formatIsoMs(*ms) == text);
        }
    }
}
