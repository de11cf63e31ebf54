#include "ui/charts/pointhistory.h"

#include <algorithm>
#include <cmath>

namespace studio::ui {

void PointHistory::upsert(double x, double y)
{
    if (!empty()) {
        QPointF &last = m_points.back();
        if (x == last.x()) {
            last.setY(y);
            return;
        }
        if (x < last.x()) {
            const auto span = points();
            auto it = std::lower_bound(span.begin(), span.end(), x,
                                       [](const QPointF &p, double v) { return p.x() < v; });
            if (it != span.end() && it->x() == x)
                m_points[m_begin + std::distance(span.begin(), it)].setY(y);
            return;
        }
    }
    m_points.emplace_back(x, y);
    if (size() > m_capacity)
        ++m_begin;
    if (m_begin >= m_capacity) { // slide: keep the newest `capacity` points at the front
        m_points.erase(m_points.begin(), m_points.begin() + static_cast<std::ptrdiff_t>(m_begin));
        m_begin = 0;
    }
}

const QPointF *PointHistory::nearest(double x) const
{
    const auto span = points();
    if (span.empty())
        return nullptr;
    auto it = std::lower_bound(span.begin(), span.end(), x,
                               [](const QPointF &p, double v) { return p.x() < v; });
    if (it == span.end())
        return &span.back();
    if (it != span.begin() && std::abs(std::prev(it)->x() - x) <= std::abs(it->x() - x))
        --it;
    return &*it;
}

} // namespace studio::ui
