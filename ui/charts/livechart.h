#pragma once

#include "ui/charts/dashboardframe.h"
#include "ui/charts/pointhistory.h"

#include <QChartView>
#include <QElapsedTimer>
#include <QStringList>
#include <QTimer>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>

QT_BEGIN_NAMESPACE
class QCategoryAxis;
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace studio::ui {

/// A live time-series chart: named lines whose history (wall-clock or window-start ms) is kept in
/// bounded buffers, a time range (last N ms, or everything), pause/follow, hover values, and
/// vertical markers drawn on the same time axis. Data may arrive at any rate; the chart decimates
/// to its pixel width and repaints at most 10 times a second, only while visible, with one
/// QXYSeries::replace() per line and one range set per axis. GUI thread only.
class LiveChart : public QChartView
{
    Q_OBJECT

public:
    explicit LiveChart(const QString &title, QWidget *parent = nullptr);
    ~LiveChart() override;

    /// The value axis title, with its unit: "events/s", "messages", "s".
    void setValueTitle(const QString &title);
    /// "%.0f" keeps the value ticks whole (counts); anything else allows fractional steps. The
    /// labels themselves are nice numbers with SI suffixes (see siLabel()).
    void setValueLabelFormat(const QString &format);
    /// Points of `series` at or after `timeMs` belong to a window still open (partial). Once the
    /// line has a closed point in view they stay out of its series (the history keeps them and
    /// hover names them), so a per-window total does not seem to drop at the end; `dashed` draws
    /// them as a dashed tail instead of leaving them out. Negative: none (the default).
    void setOpenFrom(const QString &series, double timeMs, bool dashed = false);
    /// Draws a dot at every point: for lines of one point per window (a minute apart), where a
    /// single closed window would otherwise be an invisible line of one point.
    void setPointsVisible(bool visible);
    /// The open tail drawn dashed for `series` at the last render (empty when none).
    QList<QPointF> openTail(const QString &series) const;

    /// Sets the value of line `series` at `timeMs` (replaces a point with the same time).
    void setPoint(const QString &series, std::int64_t timeMs, double value);
    /// Lines to draw, in this order; empty (the default) draws every line in creation order.
    void setShownSeries(const QStringList &names);
    /// Forgets every line (its history too) not named in `keep`: for charts whose line names
    /// come from data of unbounded variety (pages), so lines never seen again do not pile up.
    void removeLinesExcept(const QStringList &keep);
    void addMarkers(const std::vector<ChartMarker> &markers);
    /// The wall clock of the latest frame: the right edge while following.
    void setNow(std::int64_t nowMs);

    /// A recorded run's line drawn dashed beside the live line `name` (same colour family):
    /// `elapsedPoints` are (ms since that run's start, value), shown shifted to start at the
    /// reference origin (the current run's start), so two runs compare on one time axis.
    void setReference(const QString &name, const QList<QPointF> &elapsedPoints);
    /// The wall clock the reference runs are aligned to (the current run's start).
    void setReferenceOrigin(std::int64_t startMs);
    /// The recorded run's markers, times in ms since that run's start.
    void setReferenceMarkers(const std::vector<ChartMarker> &elapsedMarkers);
    void clearReferences();
    QStringList referenceNames() const;
    int referencePointCount(const QString &name) const;
    QLineSeries *referenceSeries(const QString &name) const;

    void setRangeMs(std::int64_t rangeMs); ///< 0 = all history
    std::int64_t rangeMs() const { return m_rangeMs; }
    void setPaused(bool paused); ///< paused: the view stays put while data keeps arriving
    bool isPaused() const { return m_paused; }

    /// Marks the chart stale; it renders within 100 ms if visible, or when next shown.
    void requestRender();
    /// Renders now (visible or not): decimate, replace each line, set the axes.
    void render();

    // Read-only views, for hover text and tests.
    QStringList seriesNames() const { return m_order; }
    QStringList shownSeries() const;
    QLineSeries *lineSeries(const QString &name) const;
    const PointHistory *history(const QString &name) const;
    double viewMinMs() const { return m_viewMin; }
    double viewMaxMs() const { return m_viewMax; }
    int renderCount() const { return m_renderCount; }
    /// The nearest point's time and each shown line's value there, as the tooltip shows it.
    QString hoverText(double timeMs) const;
    /// The value axis tick labels as drawn, bottom to top (e.g. "0", "10k", "20k").
    QStringList valueLabels() const;
    /// The time axis' labels now, left to right (see timeTicks()).
    QStringList timeLabels() const;
    /// Markers inside the current view, with their x position in the chart's scene coordinates.
    QList<QPair<double, QString>> visibleMarkers() const;

protected:
    void drawForeground(QPainter *painter, const QRectF &rect) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    bool event(QEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    struct Line;
    struct Reference;
    Line &line(const QString &name);
    void styleReference(const QString &name);
    void restyle();
    void syncShownLines();

    std::map<QString, std::unique_ptr<Line>> m_lines;
    QStringList m_order;
    QStringList m_shown; // empty: all
    std::deque<ChartMarker> m_markers;
    std::map<QString, std::unique_ptr<Reference>> m_references;
    std::vector<ChartMarker> m_referenceMarkers; // elapsed ms
    std::int64_t m_referenceOriginMs = 0;
    QCategoryAxis *m_timeAxis = nullptr; // labels at timeTicks()
    QCategoryAxis *m_valueAxis = nullptr;
    bool m_wholeValues = true;
    bool m_pointsVisible = false;
    std::int64_t m_nowMs = 0;
    std::int64_t m_rangeMs = 15 * 60'000;
    bool m_paused = false;
    bool m_dirty = false;
    bool m_axesAdded = false;
    double m_viewMin = 0;
    double m_viewMax = 1;
    int m_renderCount = 0;
    QTimer m_renderTimer;
    QElapsedTimer m_sinceRender;
};

} // namespace studio::ui
