#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace studio::core {

/// When to try again after a failure: exponential backoff with optional jitter. The first wait
/// is `initial`; each further one is `multiplier` times the one before, up to `max`; every wait
/// is then spread at random by up to +-`jitter` (a fraction: 0.2 = +-20%), so that several
/// instances that failed together do not retry in step. reset() after a success starts over.
/// One per retry loop; not thread-safe.
class Backoff
{
public:
    struct Settings
    {
        std::chrono::milliseconds initial{200};
        std::chrono::milliseconds max{10'000};
        double multiplier = 2.0; ///< below 1 is taken as 1 (a constant wait)
        double jitter = 0.0;     ///< clamped to 0..1
    };

    /// `seed` fixes the jitter's random sequence (tests); by default it comes from
    /// std::random_device. `initial` is at least 1 ms and `max` at least `initial`.
    explicit Backoff(Settings settings, std::uint64_t seed = std::random_device{}());

    /// The wait before the next attempt (at least 1 ms); the one after it grows.
    std::chrono::milliseconds next();
    /// After a success: the next wait is `initial` again.
    void reset();
    /// How many waits next() has given since the start or the last reset().
    int failures() const { return m_failures; }

private:
    Settings m_settings;
    double m_nextMs;
    int m_failures = 0;
    std::mt19937_64 m_random;
};

} // namespace studio::core
