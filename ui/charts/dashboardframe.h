#pragma once

#include "core/aggregate/aggregator.h"

#include <QString>
#include <QWidget>

#include <cstdint>
#include <vector>

namespace studio::ui {

/// A cause worth seeing on every time axis: a producer's rate or skew changed, a producer started
/// or stopped. Drawn as a vertical marker on the dashboards' charts.
struct ChartMarker
{
    std::int64_t timeMs = 0; ///< wall clock, ms since the epoch
    QString text;            ///< e.g. "producer-1: 5,000 -> 20,000 ev/s"
};

/// One tick of live data (at most 10 per second), assembled by the main window from the engine's
/// snapshots on the GUI thread and handed to every dashboard page. Plain values: a page never
/// reaches into the engine itself.
struct DashboardFrame
{
    std::int64_t nowMs = 0;              ///< wall clock of this tick, ms since the epoch
    core::AggregatorSnapshot aggregates; ///< open and recently final windows, sessions, counters
    double producedPerSecond = 0;        ///< all producers, events handed to Kafka per second
    double consumedPerSecond = 0;        ///< the aggregator's consumer, events per second
    std::int64_t lagMessages = -1;       ///< consumer-group lag; -1 while unknown
    double watermarkDelayMs = -1;        ///< nowMs - watermark; -1 while there is no watermark
    double latePerSecond = 0;            ///< late events per second (counter delta)
    double invalidPerSecond = 0;         ///< invalid events per second (counter delta)
    std::uint64_t deletedUnread = 0;     ///< records the broker deleted before they were read
    std::vector<ChartMarker> markers;    ///< new since the previous frame
};

/// A page that follows the live data. updateFrame() is called on every tick for every page, so a
/// page keeps its history even while hidden; it should repaint charts only while visible.
class DashboardPage : public QWidget
{
    Q_OBJECT

public:
    using QWidget::QWidget;
    virtual void updateFrame(const DashboardFrame &frame) = 0;

protected:
    /// True for a page of a shown window that is not the current page. Such a page keeps its
    /// chart history but may leave its tables until it is shown: a sorted table model updated
    /// ten times a second for nobody is most of a hidden page's cost (bench_gui). A page on its
    /// own (not in a window) is never off screen in this sense, so it updates as it is told.
    bool offScreen() const { return !isVisible() && window() != this && window()->isVisible(); }
};

} // namespace studio::ui
