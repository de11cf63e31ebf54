#pragma once

#include <cstdint>
#include <vector>

namespace studio::core {

/// A fixed-capacity series of (second, value) samples at 1 s resolution: the newest `capacity`
/// seconds are kept, older ones are overwritten, so memory is bounded by construction (3,600
/// samples = one hour = 28 KiB). Samples must come in non-decreasing seconds; a second already
/// present is overwritten; seconds skipped are simply absent. Not thread-safe: the owner locks.
class TimeSeries
{
public:
    struct Sample
    {
        std::int64_t second = 0; ///< Unix seconds
        double value = 0;
    };

    explicit TimeSeries(std::size_t capacity = 3600)
        : m_capacity(capacity ? capacity : 1)
    {
    }

    void add(std::int64_t second, double value)
    {
        if (m_count > 0) {
            Sample &last = at(m_count - 1);
            if (second < last.second)
                return; // out of order: ignored rather than reordering history
            if (second == last.second) {
                last.value = value;
                return;
            }
        }
        if (m_data.size() < m_capacity) {
            m_data.push_back({second, value});
            ++m_count;
            return;
        }
        m_data[m_head] = {second, value};
        m_head = (m_head + 1) % m_capacity;
    }

    std::size_t size() const { return m_count; }
    std::size_t capacity() const { return m_capacity; }
    bool empty() const { return m_count == 0; }
    /// The i-th oldest sample, 0 <= i < size().
    const Sample &operator[](std::size_t i) const { return m_data[(m_head + i) % m_data.size()]; }
    const Sample &last() const { return (*this)[m_count - 1]; }

    /// Samples with second >= `fromSecond`, oldest first.
    std::vector<Sample> since(std::int64_t fromSecond) const
    {
        std::vector<Sample> out;
        for (std::size_t i = 0; i < m_count; ++i)
            if ((*this)[i].second >= fromSecond)
                out.push_back((*this)[i]);
        return out;
    }

private:
    Sample &at(std::size_t i) { return m_data[(m_head + i) % m_data.size()]; }

    std::size_t m_capacity;
    std::vector<Sample> m_data;
    std::size_t m_head = 0; // index of the oldest sample once full
    std::size_t m_count = 0;
};

} // namespace studio::core
