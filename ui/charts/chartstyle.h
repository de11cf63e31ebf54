#pragma once

#include <QColor>
#include <QString>

#include <functional>

QT_BEGIN_NAMESPACE
class QCategoryAxis;
class QChart;
class QChartView;
QT_END_NAMESPACE

namespace studio::ui {

/// A linear axis scale whose ticks read well: a step of 1, 2, 2.5 or 5 x 10^n, the range widened
/// to whole steps.
struct NiceScale
{
    double min = 0;
    double max = 1;
    double step = 1;
    int ticks() const; ///< tick marks, both ends included
};

/// The nice scale covering [min, max] with at most `maxTicks` ticks (at least 2). An empty or
/// inverted range becomes [min, min + 1].
NiceScale niceScale(double min, double max, int maxTicks = 6);

/// A value axis label: "0", "2.5", "40k", "1.2M", "3G" (SI suffixes from 10,000 up; `step` decides
/// the decimals, so the labels of one axis agree: 0, 2.5k, 5k, 7.5k).
QString siLabel(double value, double step);

/// Makes `axis` (a QCategoryAxis used as a value axis: labels on the tick values) show `scale`
/// with siLabel() labels followed by `unit` (e.g. "%" or " s"). Rebuilds the labels only when the
/// scale changed; returns whether it did.
bool applyNiceScale(QCategoryAxis *axis, const NiceScale &scale, const QString &unit = {});

/// Time ticks that read well: at whole multiples of a step of 1, 2, 5, 10, 15 or 30 seconds or
/// minutes, 1, 2, 3, 6 or 12 hours or days in local time (10:15:00, 10:15:30, ...), never more
/// than `maxTicks` inside [minMs, maxMs].
struct TimeTicks
{
    double first = 0; ///< the first tick at or after minMs (ms since the epoch)
    double step = 1000;
    int count = 0;
    QString format; ///< "HH:mm:ss", "HH:mm" or "dd HH:mm", after the step and the span
};
TimeTicks timeTicks(double minMs, double maxMs, int maxTicks, int utcOffsetSeconds);

/// Makes `axis` (a QCategoryAxis used as a time axis over ms since the epoch: labels on the tick
/// values) span [minMs, maxMs] with timeTicks() in local time. Rebuilds the labels only when the
/// ticks changed; returns whether it did.
bool applyTimeTicks(QCategoryAxis *axis, double minMs, double maxMs, int maxTicks);

/// True when the application palette is a dark one (window colour darker than its text).
bool paletteIsDark();

/// The colour of line or bar `index` (Tableau 10), lightened on a dark palette so it stays
/// readable on both.
QColor seriesColor(int index);

/// Styles `view`'s chart and its axes after the application palette now (call it again after
/// adding axes).
void applyChartStyle(QChartView *view);

/// Styles `view`'s chart after the application palette (Qt Charts' light or dark theme, the
/// background of the palette's base) now and at every palette change; `restyle` runs after each
/// (a theme change resets series pens: the owner sets its own again there).
void followTheme(QChartView *view, std::function<void()> restyle = {});

} // namespace studio::ui
