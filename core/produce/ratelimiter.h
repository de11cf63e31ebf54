#pragma once

#include <chrono>
#include <cstdint>

namespace studio::core {

/// Paces a producer at a target rate (events/s) that may change while running. The schedule is
/// "n events by time t" from a base point, so rounding never accumulates and a short stall is
/// caught up. A backlog larger than maxBacklog is forgiven rather than burst out later; what was
/// forgiven is counted as shortfall, so a producer that cannot keep up says so.
/// Not thread-safe: the owning producer thread calls it; other threads go through the producer.
class RateLimiter
{
public:
    using Clock = std::chrono::steady_clock;

    /// `maxBacklog` is how far behind schedule the limiter lets a producer fall before it stops
    /// asking for catch-up, as a duration of events at the current rate.
    explicit RateLimiter(double eventsPerSecond, Clock::time_point now,
                         std::chrono::milliseconds maxBacklog = std::chrono::milliseconds(500));

    /// Changes the rate from `now` on; what was due before `now` at the old rate stays due.
    void setRate(double eventsPerSecond, Clock::time_point now);
    double rate() const { return m_rate; }

    /// Restarts the schedule at `now` with nothing due (after a pause, nothing is owed).
    void restart(Clock::time_point now);

    /// Events due by `now` and not yet reported as sent.
    std::uint64_t due(Clock::time_point now);

    /// Reports `n` events as sent.
    void sent(std::uint64_t n) { m_sent += n; }

    /// Time from `now` until the next event falls due (zero when one is due already).
    Clock::duration untilNext(Clock::time_point now) const;

    /// Events that fell due but were forgiven because the producer was too far behind.
    std::uint64_t shortfall() const { return m_shortfall; }

private:
    double scheduled(Clock::time_point now) const;

    double m_rate;
    Clock::time_point m_base;
    double m_baseCount = 0; // events scheduled at m_base
    std::uint64_t m_sent = 0;
    std::uint64_t m_shortfall = 0;
    std::chrono::milliseconds m_maxBacklog;
};

} // namespace studio::core
