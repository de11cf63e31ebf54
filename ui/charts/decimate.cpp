#include "ui/charts/decimate.h"

#include <algorithm>

namespace studio::ui {

QList<QPointF> decimate(std::span<const QPointF> points, double xMin, double xMax, int buckets)
{
    QList<QPointF> out;
    if (points.empty() || xMax < xMin)
        return out;
    const auto byX = [](const QPointF &p, double x) {
        return p.x() < x;
    };
    auto first = std::lower_bound(points.begin(), points.end(), xMin, byX);
    auto last = std::upper_bound(points.begin(), points.end(), xMax,
                                 [](double x, const QPointF &p) { return x < p.x(); });
    // One neighbour outside the range on each side.
    if (first != points.begin())
        --first;
    if (last != points.end())
        ++last;
    const auto count = std::distance(first, last);
    buckets = std::max(buckets, 1);
    if (count <= 2 * static_cast<std::ptrdiff_t>(buckets) + 2) {
        out.reserve(count);
        for (auto it = first; it != last; ++it)
            out.append(*it);
        return out;
    }

    out.reserve(2 * buckets + 4);
    auto inner = first;
    auto innerEnd = last;
    if (inner->x() < xMin) // the left neighbour stays as it is
        out.append(*inner++);
    const bool rightNeighbour = std::prev(innerEnd)->x() > xMax;
    if (rightNeighbour)
        --innerEnd;

    const double width = xMax > xMin ? xMax - xMin : 1.0;
    out.append(*inner); // the first and last points in range keep the line's ends in place
    auto it = inner;
    while (it != innerEnd) {
        const int bucket =
            std::min(buckets - 1, static_cast<int>((it->x() - xMin) / width * buckets));
        auto minIt = it;
        auto maxIt = it;
        auto next = it;
        for (; next != innerEnd; ++next) {
            const int b =
                std::min(buckets - 1, static_cast<int>((next->x() - xMin) / width * buckets));
            if (b != bucket)
                break;
            if (next->y() < minIt->y())
                minIt = next;
            if (next->y() > maxIt->y())
                maxIt = next;
        }
        if (minIt == maxIt) {
            if (out.back() != *minIt)
                out.append(*minIt);
        } else {
            const bool minFirst = minIt->x() <= maxIt->x();
            const QPointF &a = minFirst ? *minIt : *maxIt;
            if (out.back() != a)
                out.append(a);
            out.append(minFirst ? *maxIt : *minIt);
        }
        it = next;
    }
    if (out.back() != *std::prev(innerEnd))
        out.append(*std::prev(innerEnd));
    if (rightNeighbour)
        out.append(*innerEnd);
    return out;
}

} // namespace studio::ui
