#include "core/common/backoff.h"

#include <algorithm>
#include <cmath>

namespace studio::core {

using std::chrono::milliseconds;

Backoff::Backoff(Settings settings, std::uint64_t seed)
    : m_settings(settings)
    , m_random(seed)
{
    m_settings.initial = std::max(m_settings.initial, milliseconds(1));
    m_settings.max = std::max(m_settings.max, m_settings.initial);
    m_settings.multiplier = std::max(m_settings.multiplier, 1.0);
    m_settings.jitter = std::clamp(m_settings.jitter, 0.0, 1.0);
    m_nextMs = double(m_settings.initial.count());
}

milliseconds Backoff::next()
{
    const double base = m_nextMs;
    m_nextMs = std::min(double(m_settings.max.count()), base * m_settings.multiplier);
    ++m_failures;
    double wait = base;
    if (m_settings.jitter > 0) {
        std::uniform_real_distribution<double> spread(1.0 - m_settings.jitter,
                                                      1.0 + m_settings.jitter);
        wait *= spread(m_random);
    }
    return milliseconds(std::max<std::int64_t>(1, std::llround(wait)));
}

void Backoff::reset()
{
    m_nextMs = double(m_settings.initial.count());
    m_failures = 0;
}

} // namespace studio::core
