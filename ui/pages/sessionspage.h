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
/// closed sessions, and a table of them.
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
    QString conversionText() const;
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
    RowTableModel<core::SessionRow> *m_sessions = nullptr;
    std::optional<std::uint64_t> m_lastClosed;
    std::int64_t m_minuteStart = -1;
    double m_minuteCount = 0;
    bool m_barsStale = false;
};

} // namespace studio::ui
