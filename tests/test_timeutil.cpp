#include "core/timeutil.h"

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
    for (const char *bad : {"", "2026-01-01", "2026-01-01 00:00:00Z", "2026-13-01T00:00:00Z",
                            "2026-02-29T00:00:00Z", "2026-02-30T25:61:00.000Z",
                            "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z", "2026-01-01T00:00:00",
                            "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z",
                            "2026-01-01T00:00:00+01:00", "20260-01-01T00:00:00Z", "abcd-01-01T00:00:00Z",
                            "2026-01-01T00:00:00ZZ"}) {
        INFO(bad);
        CHECK_FALSE(parseIsoMs(bad));
    }
}
