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
