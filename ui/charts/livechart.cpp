#include "ui/charts/livechart.h"

#include <QSet>

#include "ui/charts/chartstyle.h"
#include "ui/charts/decimate.h"

#include <QCategoryAxis>
#include <QDateTime>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace studio::ui {

namespace {

constexpr int kRenderIntervalMs = 100; // at most 10 Hz
constexpr std::size_t kMaxMarkers = 500;

QString timeText(double ms)
{
    return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(ms))
        .toString(QStringLiteral("HH:mm:ss"));
}

} // namespace

struct LiveChart::Line
{
    PointHistory history;
    double openFrom = -1; // points from here on are a window still open
    bool openDashed = false;
    QList<QPointF> openTail;       // drawn dashed in drawForeground()
    QLineSeries *series = nullptr; // owned by the chart while shown
};

struct LiveChart::Reference
{
    QList<QPointF> points;         // elapsed ms since the reference run's start
    QLineSeries *series = nullptr; // owned by the chart
};

LiveChart::LiveChart(const QString &title, QWidget *parent)
    : QChartView(parent)
{
    auto *chart = new QChart;
    chart->setTitle(title);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    m_timeAxis = new QCategoryAxis(chart); // added to the chart at the first render
    m_timeAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_valueAxis = new QCategoryAxis(chart);
    m_valueAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    setChart(chart); // the view owns the chart
    followTheme(this, [this] { restyle(); });
    setRenderHint(QPainter::Antialiasing);
    setMouseTracking(true);
    setMinimumSize(240, 160);
    setAccessibleName(title);
    setToolTip(title);

    m_renderTimer.setSingleShot(true);
    connect(&m_renderTimer, &QTimer::timeout, this, [this] {
        if (m_dirty && isVisible())
            render();
    });
    m_sinceRender.start();
}

LiveChart::~LiveChart() = default;

void LiveChart::setValueTitle(const QString &title)
{
    m_valueAxis->setTitleText(title);
}

void LiveChart::setValueLabelFormat(const QString &format)
{
    m_wholeValues = format == QStringLiteral("%.0f");
    m_dirty = true;
}

void LiveChart::setOpenFrom(const QString &series, double timeMs, bool dashed)
{
    Line &l = line(series);
    if (l.openFrom != timeMs || l.openDashed != dashed) {
        l.openFrom = timeMs;
        l.openDashed = dashed;
        m_dirty = true;
    }
}

void LiveChart::setPointsVisible(bool visible)
{
    m_pointsVisible = visible;
    for (auto &[name, l] : m_lines)
        if (l->series)
            l->series->setPointsVisible(visible);
}

QList<QPointF> LiveChart::openTail(const QString &series) const
{
    auto it = m_lines.find(series);
    return it == m_lines.end() ? QList<QPointF>() : it->second->openTail;
}

// After a theme change (which resets the pens of every series) and on a new line.
void LiveChart::restyle()
{
    syncShownLines();
    for (const auto &[name, ref] : m_references)
        styleReference(name);
    chart()->legend()->setVisible(shownSeries().size() + m_references.size() > 1);
}

QStringList LiveChart::timeLabels() const
{
    QStringList labels = m_timeAxis->categoriesLabels();
    for (QString &label : labels)
        label.remove(QChar(0x200B));
    return labels;
}

QStringList LiveChart::valueLabels() const
{
    QStringList labels = m_valueAxis->categoriesLabels();
    for (QString &label : labels)
        label.remove(QChar(0x200B));
    return labels;
}

LiveChart::Line &LiveChart::line(const QString &name)
{
    auto it = m_lines.find(name);
    if (it != m_lines.end())
        return *it->second;
    auto line = std::make_unique<Line>();
    m_order.append(name);
    Line &ref = *line;
    m_lines.emplace(name, std::move(line));
    syncShownLines();
    return ref;
}

void LiveChart::setPoint(const QString &series, std::int64_t timeMs, double value)
{
    line(series).history.upsert(static_cast<double>(timeMs), value);
    m_dirty = true;
}

void LiveChart::setShownSeries(const QStringList &names)
{
    if (names == m_shown)
        return;
    m_shown = names;
    for (const QString &name : names)
        line(name); // creates missing lines so the legend shows them
    syncShownLines();
    m_dirty = true;
}

void LiveChart::removeLinesExcept(const QStringList &keep)
{
    const QSet<QString> kept(keep.begin(), keep.end());
    for (auto it = m_lines.begin(); it != m_lines.end();) {
        if (kept.contains(it->first)) {
            ++it;
            continue;
        }
        if (it->second->series) {
            chart()->removeSeries(it->second->series);
            delete it->second->series;
        }
        it = m_lines.erase(it);
    }
    const auto gone = [&kept](const QString &name) {
        return !kept.contains(name);
    };
    m_order.removeIf(gone);
    m_shown.removeIf(gone);
    syncShownLines();
    m_dirty = true;
}

QStringList LiveChart::shownSeries() const
{
    return m_shown.isEmpty() ? m_order : m_shown;
}

// Creates the QLineSeries of lines to show and deletes the others; rare (the top N changed).
void LiveChart::syncShownLines()
{
    const QStringList shown = shownSeries();
    for (auto &[name, line] : m_lines) {
        if (line->series && !shown.contains(name)) {
            chart()->removeSeries(line->series);
            delete line->series;
            line->series = nullptr;
        }
    }
    // Colours by position among the shown lines, so a top-N selection never repeats one.
    for (int i = 0; i < shown.size(); ++i) {
        auto it = m_lines.find(shown[i]);
        if (it == m_lines.end())
            continue; // setShownSeries() is still creating it
        Line &l = *it->second;
        if (!l.series) {
            l.series = new QLineSeries;
            l.series->setName(shown[i]);
            // Attached to the axes only once it has points (see render()).
            l.series->replace(decimate(l.history.points(), m_viewMin, m_viewMax, 64));
            chart()->addSeries(l.series);
            if (m_axesAdded) {
                l.series->attachAxis(m_timeAxis);
                l.series->attachAxis(m_valueAxis);
            }
        }
        QPen pen(seriesColor(i));
        pen.setWidthF(1.6);
        l.series->setPen(pen);
        l.series->setPointsVisible(m_pointsVisible);
    }
    chart()->legend()->setVisible(shown.size() + m_references.size() > 1);
}

void LiveChart::addMarkers(const std::vector<ChartMarker> &markers)
{
    for (const ChartMarker &marker : markers)
        m_markers.push_back(marker);
    while (m_markers.size() > kMaxMarkers)
        m_markers.pop_front();
    if (!markers.empty())
        m_dirty = true;
}

void LiveChart::setReference(const QString &name, const QList<QPointF> &elapsedPoints)
{
    auto &ref = m_references[name];
    if (!ref) {
        ref = std::make_unique<Reference>();
        ref->series = new QLineSeries;
        ref->series->setName(name + tr(" (recorded)"));
        chart()->addSeries(ref->series);
        if (m_axesAdded) {
            ref->series->attachAxis(m_timeAxis);
            ref->series->attachAxis(m_valueAxis);
        }
    }
    ref->points = elapsedPoints;
    styleReference(name);
    m_dirty = true;
    requestRender();
}

// Dashed, in a lighter shade of the live line's colour.
void LiveChart::styleReference(const QString &name)
{
    auto it = m_references.find(name);
    if (it == m_references.end())
        return;
    const int index = std::max<qsizetype>(shownSeries().indexOf(name), 0);
    QPen pen(seriesColor(static_cast<int>(index)).lighter(140));
    pen.setStyle(Qt::DashLine);
    pen.setWidthF(1.4);
    it->second->series->setPen(pen);
}

void LiveChart::setReferenceOrigin(std::int64_t startMs)
{
    m_referenceOriginMs = startMs;
    m_dirty = true;
}

void LiveChart::setReferenceMarkers(const std::vector<ChartMarker> &elapsedMarkers)
{
    m_referenceMarkers = elapsedMarkers;
    m_dirty = true;
}

void LiveChart::clearReferences()
{
    for (auto &[name, ref] : m_references) {
        chart()->removeSeries(ref->series);
        delete ref->series;
    }
    m_references.clear();
    m_referenceMarkers.clear();
    m_dirty = true;
    requestRender();
}

QStringList LiveChart::referenceNames() const
{
    QStringList names;
    for (const auto &[name, ref] : m_references)
        names.append(name);
    return names;
}

int LiveChart::referencePointCount(const QString &name) const
{
    auto it = m_references.find(name);
    return it == m_references.end() ? 0 : static_cast<int>(it->second->points.size());
}

QLineSeries *LiveChart::referenceSeries(const QString &name) const
{
    auto it = m_references.find(name);
    return it == m_references.end() ? nullptr : it->second->series;
}

void LiveChart::setNow(std::int64_t nowMs)
{
    m_nowMs = nowMs;
    if (!m_paused)
        m_dirty = true;
}

void LiveChart::setRangeMs(std::int64_t rangeMs)
{
    m_rangeMs = std::max<std::int64_t>(rangeMs, 0);
    m_dirty = true;
    requestRender();
}

void LiveChart::setPaused(bool paused)
{
    m_paused = paused;
    m_dirty = true;
    requestRender();
}

void LiveChart::requestRender()
{
    m_dirty = true;
    if (!isVisible() || m_renderTimer.isActive())
        return;
    const qint64 wait = kRenderIntervalMs - m_sinceRender.elapsed();
    m_renderTimer.start(static_cast<int>(std::clamp<qint64>(wait, 0, kRenderIntervalMs)));
}

void LiveChart::render()
{
    const QStringList shown = shownSeries();
    // The view: follow the newest time unless paused (then keep the previous view).
    if (!m_paused || m_renderCount == 0) {
        double newest = static_cast<double>(m_nowMs);
        double oldest = std::numeric_limits<double>::max();
        for (const QString &name : shown) {
            const auto points = m_lines.at(name)->history.points();
            if (points.empty())
                continue;
            newest = std::max(newest, points.back().x());
            oldest = std::min(oldest, points.front().x());
        }
        if (oldest == std::numeric_limits<double>::max())
            oldest = newest;
        m_viewMax = newest;
        // Since the first point until the chosen range is filled: a two-minute run fills the
        // width rather than being a sliver at the right edge of fifteen minutes.
        m_viewMin =
            m_rangeMs > 0 ? std::max(newest - static_cast<double>(m_rangeMs), oldest) : oldest;
        if (m_viewMax - m_viewMin < 30'000)
            m_viewMin = m_viewMax - 30'000; // the first seconds still get a readable axis
        // Points (one per window) sit inside the plot, not on its edges: the first window's
        // point is not cut in half by the axis.
        if (m_pointsVisible) {
            const double pad = (m_viewMax - m_viewMin) * 0.04;
            m_viewMin -= pad;
            m_viewMax += pad;
        }
    }

    const int buckets = std::max(16, static_cast<int>(chart()->plotArea().width()));
    double yMin = 0;
    double yMax = 0;
    bool any = false;
    for (const QString &name : shown) {
        Line &l = *m_lines.at(name);
        QList<QPointF> points = decimate(l.history.points(), m_viewMin, m_viewMax, buckets);
        l.openTail.clear();
        if (l.openFrom >= 0) {
            const auto open = std::find_if(points.begin(), points.end(),
                                           [&](const QPointF &p) { return p.x() >= l.openFrom; });
            // Before the first window closes the open points are all there is: drawn as usual.
            if (open != points.begin() && open != points.end()) {
                if (l.openDashed)
                    l.openTail = QList<QPointF>(open - 1, points.end());
                points.erase(open, points.end());
            }
        }
        for (const QPointF &p : points) {
            if (p.x() < m_viewMin || p.x() > m_viewMax)
                continue;
            yMin = any ? std::min(yMin, p.y()) : p.y();
            yMax = any ? std::max(yMax, p.y()) : p.y();
            any = true;
        }
        l.series->replace(points);
    }
    const auto origin = static_cast<double>(m_referenceOriginMs);
    for (auto &[name, ref] : m_references) {
        QList<QPointF> points;
        for (const QPointF &p : ref->points) {
            const double x = p.x() + origin;
            if (x < m_viewMin || x > m_viewMax)
                continue;
            points.append(QPointF(x, p.y()));
            yMin = any ? std::min(yMin, p.y()) : p.y();
            yMax = any ? std::max(yMax, p.y()) : p.y();
            any = true;
        }
        ref->series->replace(points);
    }
    // The axes join the chart at the first render that has points (say, once the lag is known):
    // Qt 6.4 hid the time axis for good (a QDateTimeAxis then) when it was attached while its
    // series were empty, and an empty chart has no range to label.
    if (!m_axesAdded && any) {
        chart()->addAxis(m_timeAxis, Qt::AlignBottom);
        chart()->addAxis(m_valueAxis, Qt::AlignLeft);
        for (const QString &name : shown) {
            m_lines.at(name)->series->attachAxis(m_timeAxis);
            m_lines.at(name)->series->attachAxis(m_valueAxis);
        }
        for (auto &[name, ref] : m_references) {
            ref->series->attachAxis(m_timeAxis);
            ref->series->attachAxis(m_valueAxis);
        }
        m_axesAdded = true;
        applyChartStyle(this); // the new axes take the theme's colours and the window's font
    }
    yMin = std::min(yMin, 0.0); // rates and counts read best from zero
    if (yMax <= yMin)
        yMax = yMin + 1;
    // Whole-number data on a span under 4 would get steps of 0.5: keep at least 0..4 there.
    if (yMax - yMin < 4 && m_wholeValues)
        yMax = yMin + 4;
    // Time ticks at whole steps (10:15:00, 10:15:30, ...), as many as their labels have room
    // for (a narrow chart with six "HH:mm:ss" labels elides every one of them): seconds only
    // where they tell something.
    const double span = m_viewMax - m_viewMin;
    const double labelWidth = span > 10 * 60'000.0 ? 56.0 : 76.0;
    const int ticks = std::clamp(static_cast<int>(chart()->plotArea().width() / labelWidth), 2, 7);
    applyTimeTicks(m_timeAxis, m_viewMin, m_viewMax, ticks);
    // As many value ticks as fit at about 40 px each, at 1, 2, 2.5 or 5 x 10^n.
    const int valueTicks = std::clamp(static_cast<int>(chart()->plotArea().height() / 40), 3, 7);
    applyNiceScale(m_valueAxis, niceScale(yMin, yMax, valueTicks));

    m_dirty = false;
    ++m_renderCount;
    m_sinceRender.restart();
    viewport()->update();
}

QLineSeries *LiveChart::lineSeries(const QString &name) const
{
    auto it = m_lines.find(name);
    return it == m_lines.end() ? nullptr : it->second->series;
}

const PointHistory *LiveChart::history(const QString &name) const
{
    auto it = m_lines.find(name);
    return it == m_lines.end() ? nullptr : &it->second->history;
}

QString LiveChart::hoverText(double timeMs) const
{
    const QPointF *best = nullptr;
    const QStringList shown = shownSeries();
    for (const QString &name : shown) {
        const QPointF *p = m_lines.at(name)->history.nearest(timeMs);
        if (p && (!best || std::abs(p->x() - timeMs) < std::abs(best->x() - timeMs)))
            best = p;
    }
    if (!best)
        return {};
    const QLocale locale;
    QString text = timeText(best->x());
    for (const QString &name : shown) {
        const QPointF *p = m_lines.at(name)->history.nearest(timeMs);
        if (!p)
            continue;
        text += QLatin1Char('\n') + name + QStringLiteral(": ") +
                locale.toString(p->y(), 'f', std::abs(p->y()) < 10 ? 2 : 0);
        if (const double open = m_lines.at(name)->openFrom; open >= 0 && p->x() >= open)
            text += tr(" (window still open)");
        if (p->x() != best->x())
            text += QStringLiteral(" (at ") + timeText(p->x()) + QLatin1Char(')');
    }
    return text;
}

QList<QPair<double, QString>> LiveChart::visibleMarkers() const
{
    QList<QPair<double, QString>> out;
    const QRectF plot = chart()->plotArea();
    const double span = m_viewMax - m_viewMin;
    if (span <= 0)
        return out;
    for (const ChartMarker &marker : m_markers) {
        const auto t = static_cast<double>(marker.timeMs);
        if (t < m_viewMin || t > m_viewMax)
            continue;
        const double x = plot.left() + (t - m_viewMin) / span * plot.width();
        out.append({chart()->mapToScene(QPointF(x, plot.top())).x(), marker.text});
    }
    for (const ChartMarker &marker : m_referenceMarkers) {
        const auto t = static_cast<double>(marker.timeMs + m_referenceOriginMs);
        if (t < m_viewMin || t > m_viewMax)
            continue;
        const double x = plot.left() + (t - m_viewMin) / span * plot.width();
        out.append(
            {chart()->mapToScene(QPointF(x, plot.top())).x(), tr("recorded: ") + marker.text});
    }
    return out;
}

void LiveChart::drawForeground(QPainter *painter, const QRectF &rect)
{
    QChartView::drawForeground(painter, rect);
    // The windows still open: a dashed tail after each line's last closed point.
    const QRectF plotArea = chart()->mapRectToScene(chart()->plotArea());
    for (const QString &name : shownSeries()) {
        const Line &l = *m_lines.at(name);
        if (l.openTail.size() < 2 || !l.series)
            continue;
        QPolygonF tail;
        for (const QPointF &p : l.openTail)
            tail << chart()->mapToScene(chart()->mapToPosition(p, l.series));
        painter->save();
        painter->setClipRect(plotArea);
        QPen pen = l.series->pen();
        pen.setStyle(Qt::DashLine);
        painter->setPen(pen);
        painter->drawPolyline(tail);
        painter->restore();
    }
    const auto markers = visibleMarkers();
    if (markers.isEmpty())
        return;
    const QRectF plot = chart()->mapRectToScene(chart()->plotArea());
    painter->save();
    QPen pen(paletteIsDark() ? QColor(0xff, 0x6b, 0x5b) : QColor(0xc0, 0x39, 0x2b));
    pen.setStyle(Qt::DashLine);
    pen.setWidthF(1.2);
    QFont font = painter->font();
    font.setPointSizeF(font.pointSizeF() * 0.85);
    painter->setFont(font);
    const QFontMetrics metrics(font);
    painter->setPen(pen);
    for (const auto &[x, text] : markers)
        painter->drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
    // Labels newest first, each in the first of three rows where it overlaps no other label;
    // one that fits nowhere is left out (its line stays, and hovering names it).
    constexpr int kRows = 3;
    std::array<QList<QRectF>, kRows> taken;
    for (auto it = markers.crbegin(); it != markers.crend(); ++it) {
        const auto &[x, text] = *it;
        const QString label = metrics.elidedText(text, Qt::ElideRight, 160);
        for (int row = 0; row < kRows; ++row) {
            const double y = plot.top() + 2 + row * (metrics.height() + 1);
            QRectF box(x + 3, y, metrics.horizontalAdvance(label) + 4, metrics.height());
            if (box.right() > plot.right())
                box.moveRight(x - 3);
            if (box.left() < plot.left()) // never over the value axis' labels
                box.setLeft(plot.left());
            const bool overlaps = std::any_of(taken[row].cbegin(), taken[row].cend(),
                                              [&](const QRectF &r) { return r.intersects(box); });
            if (overlaps)
                continue;
            taken[row].append(box);
            QColor background = palette().color(QPalette::Base);
            background.setAlpha(215);
            painter->fillRect(box, background);
            painter->setPen(paletteIsDark() ? QColor(0xff, 0x9e, 0x8f) : QColor(0x80, 0x20, 0x18));
            painter->drawText(box, Qt::AlignCenter,
                              metrics.elidedText(label, Qt::ElideRight, int(box.width()) - 2));
            break;
        }
    }
    painter->restore();
}

void LiveChart::mouseMoveEvent(QMouseEvent *event)
{
    QChartView::mouseMoveEvent(event);
    const QPointF chartPos = chart()->mapFromScene(mapToScene(event->position().toPoint()));
    if (!chart()->plotArea().contains(chartPos)) {
        QToolTip::hideText();
        return;
    }
    const QRectF plot = chart()->plotArea();
    const double t =
        m_viewMin + (chartPos.x() - plot.left()) / plot.width() * (m_viewMax - m_viewMin);
    QString text = hoverText(t);
    // The markers under the pointer, whose labels may have been left out for room.
    const double sceneX = mapToScene(event->position().toPoint()).x();
    for (const auto &[x, label] : visibleMarkers()) {
        if (std::abs(x - sceneX) <= 4)
            text += (text.isEmpty() ? QString() : QStringLiteral("\n")) + label;
    }
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

bool LiveChart::event(QEvent *event)
{
    // Over the plot the hover values are the tooltip (mouseMoveEvent); elsewhere the chart's own.
    if (event->type() == QEvent::ToolTip) {
        const auto *help = static_cast<QHelpEvent *>(event);
        const QPointF chartPos = chart()->mapFromScene(mapToScene(help->pos()));
        if (chart()->plotArea().contains(chartPos))
            return true;
    }
    return QChartView::event(event);
}

void LiveChart::showEvent(QShowEvent *event)
{
    QChartView::showEvent(event);
    if (m_dirty || m_renderCount == 0)
        requestRender();
}

void LiveChart::resizeEvent(QResizeEvent *event)
{
    QChartView::resizeEvent(event);
    requestRender(); // the pixel width, hence the decimation, changed
}

} // namespace studio::ui
