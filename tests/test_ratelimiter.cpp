#include "core/produce/ratelimiter.h"

#include <catch2/catch.hpp>

using namespace studio::core;
using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

namespace {

// Drives a limiter with a fake clock in `step` increments for `span`, sending everything due
// (up to `capacity` per step, to model a producer that cannot keep up). Returns events sent.
std::uint64_t drive(RateLimiter &limiter, Clock::time_point &now, Clock::duration span,
                    Clock::duration step, std::uint64_t capacity = UINT64_MAX)
{
    std::uint64_t total = 0;
    const Clock::time_point end = now + span;
    while (now < end) {
        now += step;
        const std::uint64_t n = std::min(limiter.due(now), capacity);
        limiter.sent(n);
        total += n;
    }
    return total;
}

} // namespace

TEST_CASE("rate limiter meets the target exactly over time", "[rate]")
{
    for (const double rate : {1.0, 7.0, 1000.0, 50'000.0, 1'000'000.0}) {
        INFO("rate " << rate);
        Clock::time_point now{};
        RateLimiter limiter(rate, now);
        const std::uint64_t sent = drive(limiter, now, 10s, 1ms);
        CHECK(static_cast<double>(sent) == Approx(rate * 10).margin(1.0));
        CHECK(limiter.shortfall() == 0);
    }
}

TEST_CASE("rate limiter does not drift with coarse, uneven wake-ups", "[rate]")
{
    Clock::time_point now{};
    RateLimiter limiter(12'345, now);
    std::uint64_t sent = 0;
    const Clock::duration steps[] = {3ms, 17ms, 1ms, 40ms, 9ms};
    for (int i = 0; i < 500; ++i)
        sent += drive(limiter, now, steps[i % 5], steps[i % 5]);
    const double seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
    CHECK(static_cast<double>(sent) == Approx(12'345 * seconds).margin(1.0));
}

TEST_CASE("rate changes apply from the moment they are made", "[rate]")
{
    Clock::time_point now{};
    RateLimiter limiter(1000, now);
    const std::uint64_t first = drive(limiter, now, 2s, 1ms);
    limiter.setRate(10'000, now);
    const std::uint64_t second = drive(limiter, now, 3s, 1ms);
    limiter.setRate(10, now);
    const std::uint64_t third = drive(limiter, now, 5s, 1ms);
    CHECK(first == 2000);
    CHECK(second == Approx(30'000).margin(1));
    CHECK(third == Approx(50).margin(1));
}

TEST_CASE("a producer that cannot keep up is reported, not burst at later", "[rate]")
{
    Clock::time_point now{};
    RateLimiter limiter(100'000, now, 500ms);
    // Can only send 50 events per ms = 50,000/s.
    const std::uint64_t slow = drive(limiter, now, 4s, 1ms, 50);
    CHECK(slow == 200'000);
    // Forgiven: what fell due beyond the half-second backlog.
    CHECK(limiter.shortfall() == Approx(400'000 - 200'000 - 50'000).margin(100));
    // Recovered capacity: only the capped backlog is caught up, not the whole debt.
    const std::uint64_t caughtUp = drive(limiter, now, 1s, 1ms);
    CHECK(caughtUp == Approx(100'000 + 50'000).margin(100));
}

TEST_CASE("after a restart nothing is owed for the paused time", "[rate]")
{
    Clock::time_point now{};
    RateLimiter limiter(1000, now);
    drive(limiter, now, 1s, 1ms);
    now += 30s; // paused
    limiter.restart(now);
    CHECK(limiter.due(now) == 0);
    const std::uint64_t after = drive(limiter, now, 1s, 1ms);
    CHECK(after == Approx(1000).margin(1));
    CHECK(limiter.shortfall() == 0);
}

TEST_CASE("time until the next event", "[rate]")
{
    Clock::time_point now{};
    RateLimiter limiter(10, now);
    CHECK(limiter.untilNext(now) == std::chrono::duration_cast<Clock::duration>(100ms));
    now += 100ms;
    CHECK(limiter.due(now) == 1);
    CHECK(limiter.untilNext(now) == Clock::duration::zero());
    limiter.sent(1);
    CHECK(limiter.untilNext(now) > 99ms);
    RateLimiter stopped(0, now);
    CHECK(stopped.due(now + 1h) == 0);
}
