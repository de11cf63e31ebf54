#include "core/produce/ratelimiter.h"

#include <algorithm>
#include <cmath>

namespace studio::core {

RateLimiter::RateLimiter(double eventsPerSecond, Clock::time_point now,
                         std::chrono::milliseconds maxBacklog)
    : m_rate(std::max(0.0, eventsPerSecond))
    , m_base(now)
    , m_maxBacklog(maxBacklog)
{
}

double RateLimiter::scheduled(Clock::time_point now) const
{
    const double elapsed = std::chrono::duration<double>(now - m_base).count();
    return m_baseCount + std::max(0.0, elapsed) * m_rate;
}

void RateLimiter::setRate(double eventsPerSecond, Clock::time_point now)
{
    m_baseCount = scheduled(now);
    m_base = now;
    m_rate = std::max(0.0, eventsPerSecond);
}

void RateLimiter::restart(Clock::time_point now)
{
    m_base = now;
    m_baseCount = static_cast<double>(m_sent);
}

std::uint64_t RateLimiter::due(Clock::time_point now)
{
    const double target = scheduled(now);
    const double backlog = target - static_cast<double>(m_sent);
    // At least one event of slack, so very low rates are never "behind" by rounding.
    const double allowed =
        std::max(1.0, m_rate * std::chrono::duration<double>(m_maxBacklog).count());
    if (backlog > allowed) {
        // Whole events only, so the shortfall counts exactly what the schedule lost.
        const double forgiven = std::floor(backlog - allowed);
        m_shortfall += static_cast<std::uint64_t>(forgiven);
        m_baseCount -= forgiven;
        return static_cast<std::uint64_t>(backlog - forgiven);
    }
    return backlog >= 1.0 ? static_cast<std::uint64_t>(backlog) : 0;
}

RateLimiter::Clock::duration RateLimiter::untilNext(Clock::time_point now) const
{
    if (m_rate <= 0)
        return std::chrono::hours(1);
    const double missing = static_cast<double>(m_sent) + 1.0 - scheduled(now);
    if (missing <= 0)
        return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(missing / m_rate));
}

} // namespace studio::core
