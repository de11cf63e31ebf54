#pragma once

#include <QPointF>

#include <cstddef>
#include <span>
#include <vector>

namespace studio::ui {

/// The bounded history of one chart line: (time ms, value) points in increasing time, the newest
/// `capacity` kept. Stored contiguously (a sliding buffer of twice the capacity that drops its
/// older half when full) so the chart can decimate straight from a span without copying.
/// Not thread-safe: GUI thread only.
class PointHistory
{
public:
    explicit PointHistory(std::size_t capacity = 20'000)
        : m_capacity(capacity ? capacity : 1)
    {
    }

    /// Sets the value at time `x`: replaces the point with the same time (a window whose counts
    /// grew since the previous frame), appends a newer one. Older times not present are dropped:
    /// history is never reordered.
    void upsert(double x, double y);

    std::span<const QPointF> points() const { return {m_points.data() + m_begin, size()}; }
    std::size_t size() const { return m_points.size() - m_begin; }
    bool empty() const { return size() == 0; }
    std::size_t capacity() const { return m_capacity; }
    /// The point nearest in time to `x`; nullptr when empty.
    const QPointF *nearest(double x) const;

private:
    std::size_t m_capacity;
    std::vector<QPointF> m_points;
    std::size_t m_begin = 0;
};

} // namespace studio::ui
