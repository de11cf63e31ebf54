#include "core/common/timeutil.h"

#include <catch2/catch.hpp>

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
