#pragma once

#include <QList>
#include <QPointF>

#include <span>

namespace studio::ui {

/// The points of `points` (sorted by x) that a chart `buckets` pixels wide needs to draw the
/// x range [xMin, xMax]: the points inside the range plus one neighbour on each side, so lines
/// run to the edges. When more than two points per bucket remain, each bucket keeps only its
/// minimum and maximum (in x order), plus the first and last points in range: a min/max envelope
/// that keeps every spike visible (PulseView's approach). The result never holds more than
/// 2 * buckets + 4 points.
QList<QPointF> decimate(std::span<const QPointF> points, double xMin, double xMax, int buckets);

} // namespace studio::ui
