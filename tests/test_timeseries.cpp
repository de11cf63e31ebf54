#include "core/common/timeseries.h"

#include <catch2/catch.hpp>

using studio::core::TimeSeries;

TEST_CASE("a time series keeps the newest seconds and overwrites the oldest", "[timeseries]")
{
    TimeSeries s(3);
    CHECK(s.empty());
    s.add(10, 1);
    s.add(11, 2);
    s.add(11, 3); // same second: replaced
    REQUIRE(s.size() == 2);
    CHECK(s.last().value == 3);
    s.add(9, 100); // out of order: ignored
    CHECK(s.size() == 2);
    s.add(12, 4);
    s.add(14, 5); // 13 skipped
    REQUIRE(s.size() == 3);
    CHECK(s[0].second == 11);
    CHECK(s[1].second == 12);
    CHECK(s[2].second == 14);
    s.add(14, 6);
    CHECK(s.last().value == 6);
    const auto recent = s.since(12);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].value == 4);
    CHECK(recent[1].value == 6);
}
