// core/common/backoff.h: the one retry-with-backoff policy of the sinks, the alert history and
// the webhook notifier.

#include "core/common/backoff.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace studio::core;
using namespace std::chrono_literals;

TEST_CASE("Backoff doubles from the initial wait up to the maximum and starts over on reset",
          "[backoff]")
{
    Backoff b({250ms, 5000ms, 2.0, 0.0});
    for (const auto expected : {250ms, 500ms, 1000ms, 2000ms, 4000ms, 5000ms, 5000ms})
        CHECK(b.next() == expected);
    CHECK(b.failures() == 7);
    b.reset();
    CHECK(b.failures() == 0);
    CHECK(b.next() == 250ms);
    CHECK(b.next() == 500ms);
}

TEST_CASE("Backoff takes any multiplier: below 1 the wait stays constant", "[backoff]")
{
    Backoff triple({100ms, 1000ms, 3.0, 0.0});
    for (const auto expected : {100ms, 300ms, 900ms, 1000ms})
        CHECK(triple.next() == expected);
    Backoff flat({100ms, 1000ms, 0.5, 0.0});
    for (int i = 0; i < 3; ++i)
        CHECK(flat.next() == 100ms);
}

TEST_CASE("Backoff jitter spreads each wait within the bounds, around the same progression",
          "[backoff]")
{
    Backoff b({1000ms, 8000ms, 2.0, 0.2}, 42);
    bool spread = false;
    for (int round = 0; round < 50; ++round) {
        double base = 1000;
        for (int i = 0; i < 5; ++i) {
            const auto wait = b.next();
            CHECK(wait.count() >= std::llround(base * 0.8));
            CHECK(wait.count() <= std::llround(base * 1.2));
            spread = spread || wait.count() != std::llround(base);
            base = std::min(base * 2, 8000.0);
        }
        b.reset();
    }
    CHECK(spread); // the jitter is there: not every wait is the plain doubling
    // The same seed gives the same waits (for tests that need to know them).
    Backoff x({1000ms, 8000ms, 2.0, 0.2}, 7), y({1000ms, 8000ms, 2.0, 0.2}, 7);
    for (int i = 0; i < 5; ++i)
        CHECK(x.next() == y.next());
}

TEST_CASE("Backoff keeps its settings sane: at least 1 ms, a maximum not below the start",
          "[backoff]")
{
    Backoff zero({0ms, 0ms, 2.0, 0.0});
    CHECK(zero.next() == 1ms);
    CHECK(zero.next() == 1ms);
    Backoff inverted({300ms, 100ms, 2.0, 0.0});
    CHECK(inverted.next() == 300ms);
    CHECK(inverted.next() == 300ms);
    Backoff wild({100ms, 1000ms, 2.0, 5.0}, 1); // jitter clamped to 100%: never below 1 ms
    for (int i = 0; i < 20; ++i) {
        const auto wait = wild.next();
        CHECK(wait >= 1ms);
        CHECK(wait <= 2000ms);
    }
}
