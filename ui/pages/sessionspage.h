#pragma once

#include "ui/charts/dashboardframe.h"
#include "ui/models/rowtablemodel.h"

#include <optional>

class QLabel;

namespace studio::ui {

class BarChartView;
class ChartToolbar;
class LiveChart;
class TablePanel;

/// Sessions: closed per minute (a line over wall-clock minutes, from the sessionsClosed counter),
/// histograms of session length and events per session and the conversion rate of the recently
/// closed sessions, and a table of them; beside them the sessions open now (their count over
/// time, and the same histograms of their length and events so far, from the aggregator's
/// OpenSessionSummary), so the first half hour (the session gap) is not empty.
class SessionsPage : public DashboardPage
{
    Q_OBJECT

public:
    explicit SessionsPage(QWidget *parent = nullptr);

    void updateFrame(const DashboardFrame &frame) override;

    /// Histogram bins, for labels and tests: length in minutes [from, to), events [from, to].
    static QStringList lengthBins();
    static QStringList eventBins();

    ChartToolbar *toolbar() const { return m_toolbar; }
    LiveChart *closedChart() const { return m_closed; }
    BarChartView *lengthChart() const { return m_lengths; }
    BarChartView *eventsChart() const { return m_events; }
    LiveChart *openChart() const { return m_open; }
    BarChartView *openLengthChart() const { return m_openLengths; }
    BarChartView *openEventsChart() const { return m_openEvents; }
    QString conversionText() const;
    QString openText() const;
    RowTableModel<core::SessionRow> *sessionsModel() const { return m_sessions; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void renderBars();

    ChartToolbar *m_toolbar = nullptr;
    LiveChart *m_closed = nullptr;
    BarChartView *m_lengths = nullptr;
    BarChartView *m_events = nullptr;
    QLabel *m_conversion = nullptr;
    LiveChart *m_open = nullptr;
    BarChartView *m_openLengths = nullptr;
    BarChartView *m_openEvents = nullptr;
    QLabel *m_openText = nullptr;
    core::OpenSessionSummary m_openSummary;
    RowTableModel<core::SessionRow> *m_sessions = nullptr;
    std::optional<std::uint64_t> m_lastClosed;
    std::int64_t m_minuteStart = -1;
    double m_minuteCount = 0;
    bool m_barsStale = false;
};

} // namespace studio::ui
