#include "ui/charts/chartstyle.h"

#include <QApplication>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QEvent>
#include <QLocale>
#include <QPalette>
#include <QPen>

#include <algorithm>
#include <cmath>
#include <utility>

namespace studio::ui {

int NiceScale::ticks() const
{
    return step > 0 ? static_cast<int>(std::llround((max - min) / step)) + 1 : 2;
}

NiceScale niceScale(double min, double max, int maxTicks)
{
    if (!std::isfinite(min) || !std::isfinite(max))
        return {};
    if (max <= min)
        max = min + 1;
    maxTicks = std::max(maxTicks, 2);
    const double rough = (max - min) / (maxTicks - 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
    NiceScale best;
    for (double mantissa : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        const double step = mantissa * magnitude;
        const double lo = std::floor(min / step + 1e-9) * step;
        const double hi = std::ceil(max / step - 1e-9) * step;
        best = {lo, hi, step};
        if (best.ticks() <= maxTicks)
            break;
    }
    return best;
}

namespace {

/// Decimals that show every multiple of `step` exactly (2.5 -> 1, 0.25 -> 2), at most 3.
int decimalsFor(double step)
{
    int d = 0;
    double scaled = std::abs(step);
    while (d < 3 && std::abs(scaled - std::round(scaled)) > 1e-6 * std::max(1.0, scaled)) {
        scaled *= 10;
        ++d;
    }
    return d;
}

QString trimmed(QString text, const QLocale &locale)
{
    if (!text.contains(locale.decimalPoint()))
        return text;
    while (text.endsWith(QLatin1Char('0')))
        text.chop(1);
    if (text.endsWith(locale.decimalPoint()))
        text.chop(locale.decimalPoint().size());
    return text;
}

} // namespace

QString siLabel(double value, double step)
{
    static constexpr std::pair<double, char> kUnits[] = {{1e9, 'G'}, {1e6, 'M'}, {1e3, 'k'}};
    const double a = std::abs(value);
    const QLocale locale;
    if (a < 1e-9 || (step != 0 && a < 1e-6 * std::abs(step)))
        return QStringLiteral("0");
    for (const auto &[scale, suffix] : kUnits) {
        if (a >= scale) {
            const int decimals = std::min(decimalsFor(step / scale), 2);
            return trimmed(locale.toString(value / scale, 'f', decimals), locale) +
                   QLatin1Char(suffix);
        }
    }
    return trimmed(locale.toString(value, 'f', decimalsFor(step)), locale);
}

bool applyNiceScale(QCategoryAxis *axis, const NiceScale &scale, const QString &unit)
{
    const bool same = axis->property("niceMin").toDouble() == scale.min &&
                      axis->property("niceMax").toDouble() == scale.max &&
                      axis->property("niceStep").toDouble() == scale.step &&
                      axis->property("niceUnit").toString() == unit &&
                      axis->categoriesLabels().size() == scale.ticks();
    if (same)
        return false;
    for (const QString &label : axis->categoriesLabels())
        axis->remove(label);
    axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    axis->setStartValue(scale.min);
    for (int i = 0; i < scale.ticks(); ++i) {
        const double v = scale.min + i * scale.step;
        // Category labels must be unique: a zero-width space keeps two equal texts apart.
        QString label = siLabel(v, scale.step) + unit;
        while (axis->categoriesLabels().contains(label))
            label += QChar(0x200B);
        axis->append(label, v);
    }
    axis->setRange(scale.min, scale.max);
    axis->setProperty("niceMin", scale.min);
    axis->setProperty("niceMax", scale.max);
    axis->setProperty("niceStep", scale.step);
    axis->setProperty("niceUnit", unit);
    return true;
}

TimeTicks timeTicks(double minMs, double maxMs, int maxTicks, int utcOffsetSeconds)
{
    TimeTicks t;
    if (!std::isfinite(minMs) || !std::isfinite(maxMs) || maxMs <= minMs)
        return t;
    maxTicks = std::max(maxTicks, 1);
    static constexpr double kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute,
                            kDay = 24 * kHour;
    static constexpr double kSteps[] = {
        kSecond,  2 * kSecond, 5 * kSecond, 10 * kSecond, 15 * kSecond, 30 * kSecond,
        kMinute,  2 * kMinute, 5 * kMinute, 10 * kMinute, 15 * kMinute, 30 * kMinute,
        kHour,    2 * kHour,   3 * kHour,   6 * kHour,    12 * kHour,   kDay,
        2 * kDay, 7 * kDay,    14 * kDay,   30 * kDay,    91 * kDay,    365 * kDay};
    const double offset = utcOffsetSeconds * kSecond; // ticks on whole local minutes and hours
    for (double step : kSteps) {
        t.step = step;
        t.first = std::ceil((minMs + offset) / step) * step - offset;
        t.count = t.first > maxMs ? 0 : static_cast<int>(std::floor((maxMs - t.first) / step)) + 1;
        if (t.count <= maxTicks)
            break;
    }
    const double span = maxMs - minMs;
    t.format = t.step < kMinute     ? QStringLiteral("HH:mm:ss")
               : span <= 20 * kHour ? QStringLiteral("HH:mm")
                                    : QStringLiteral("dd HH:mm");
    return t;
}

bool applyTimeTicks(QCategoryAxis *axis, double minMs, double maxMs, int maxTicks)
{
    const int offset = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(minMs)).offsetFromUtc();
    const TimeTicks t = timeTicks(minMs, maxMs, maxTicks, offset);
    axis->setRange(minMs, maxMs);
    const bool same = axis->property("timeFirst").toDouble() == t.first &&
                      axis->property("timeStep").toDouble() == t.step &&
                      axis->property("timeFormat").toString() == t.format &&
                      axis->categoriesLabels().size() == t.count;
    if (same)
        return false;
    for (const QString &label : axis->categoriesLabels())
        axis->remove(label);
    axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    axis->setStartValue(minMs);
    for (int i = 0; i < t.count; ++i) {
        const double v = t.first + i * t.step;
        QString label = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(v)).toString(t.format);
        while (axis->categoriesLabels().contains(label)) // labels must be unique
            label += QChar(0x200B);
        axis->append(label, v);
    }
    axis->setProperty("timeFirst", t.first);
    axis->setProperty("timeStep", t.step);
    axis->setProperty("timeFormat", t.format);
    return true;
}

bool paletteIsDark()
{
    const QPalette p = QApplication::palette();
    return p.color(QPalette::Window).lightness() < p.color(QPalette::WindowText).lightness();
}

QColor seriesColor(int index)
{
    static const QColor colors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                    QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                                    QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                    QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f),
                                    QColor(0xbc, 0xbd, 0x22), QColor(0x17, 0xbe, 0xcf)};
    const QColor c = colors[static_cast<std::size_t>(index) % std::size(colors)];
    return paletteIsDark() ? c.lighter(135) : c;
}

void applyChartStyle(QChartView *view)
{
    QChart *chart = view->chart();
    if (!chart)
        return;
    const bool dark = paletteIsDark();
    const QChart::ChartTheme theme = dark ? QChart::ChartThemeDark : QChart::ChartThemeLight;
    if (chart->theme() != theme || !chart->property("themed").toBool())
        chart->setTheme(theme);
    chart->setProperty("themed", true);
    // The theme's fonts are fixed point sizes; the application's font follows the desktop.
    const QPalette palette = QApplication::palette();
    chart->setBackgroundBrush(palette.color(QPalette::Base));
    chart->setBackgroundRoundness(0);
    chart->setTitleBrush(palette.color(QPalette::WindowText));
    chart->legend()->setLabelColor(palette.color(QPalette::WindowText));
    QFont title = QApplication::font();
    title.setBold(true);
    chart->setTitleFont(title);
    chart->legend()->setFont(QApplication::font());
    const QColor grid = dark ? QColor(0x4a, 0x4a, 0x4a) : QColor(0xe0, 0xe0, 0xe0);
    for (QAbstractAxis *axis : chart->axes()) {
        axis->setLabelsColor(palette.color(QPalette::WindowText));
        axis->setLabelsFont(QApplication::font());
        axis->setTitleBrush(palette.color(QPalette::WindowText));
        axis->setGridLineColor(grid);
        // A log axis's eight minor lines per decade stay faint and solid: dashed and as strong as
        // the major ones they made the funnel chart read as a hatch.
        QColor minor = grid;
        minor.setAlphaF(0.45);
        axis->setMinorGridLinePen(QPen(minor, 1));
        axis->setLinePenColor(palette.color(QPalette::Mid));
    }
    view->setBackgroundBrush(palette.color(QPalette::Base));
}

namespace {

class ThemeFollower : public QObject
{
public:
    ThemeFollower(QChartView *view, std::function<void()> restyle)
        : QObject(view)
        , m_view(view)
        , m_restyle(std::move(restyle))
    {
        view->installEventFilter(this);
        apply();
    }

    void apply()
    {
        applyChartStyle(m_view);
        if (m_restyle)
            m_restyle();
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (watched == m_view && event->type() == QEvent::PaletteChange)
            apply();
        return QObject::eventFilter(watched, event);
    }

private:
    QChartView *m_view;
    std::function<void()> m_restyle;
};

} // namespace

void followTheme(QChartView *view, std::function<void()> restyle)
{
    new ThemeFollower(view, std::move(restyle));
}

} // namespace studio::ui
