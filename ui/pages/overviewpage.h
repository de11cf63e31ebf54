#pragma once

#include "ui/charts/dashboardframe.h"
#include "ui/models/rowtablemodel.h"

#include <map>

namespace studio::core {
struct RunRecording;
}

class QFrame;
class QLabel;
class QPushButton;

namespace studio::ui {

class ChartToolbar;
class LiveChart;
class TablePanel;

/// The pipeline at a glance: produced vs consumed events/s, consumer lag, watermark delay, late
/// and invalid rates, revenue per minute (from the page windows), the top pages of the latest
/// page window, the big counters, and event time per partition (which partition holds the
/// watermark back, which are idle).
class OverviewPage : public DashboardPage
{
    Q_OBJECT

public:
    explicit OverviewPage(QWidget *parent = nullptr);

    void updateFrame(const DashboardFrame &frame) override;

    /// Overlays a recorded run on the charts (dashed), aligned by elapsed time to the current
    /// run's start (the first frame's time, or setRunStartMs()).
    void setComparison(const core::RunRecording &run);
    void clearComparison();
    void setRunStartMs(std::int64_t startMs);
    std::int64_t runStartMs() const { return m_runStartMs; }

    ChartToolbar *toolbar() const { return m_toolbar; }
    LiveChart *throughputChart() const { return m_throughput; }
    LiveChart *lagChart() const { return m_lag; }
    LiveChart *watermarkChart() const { return m_watermark; }
    LiveChart *problemChart() const { return m_problems; }
    LiveChart *revenueChart() const { return m_revenue; }
    QList<LiveChart *> charts() const;
    RowTableModel<core::PageRow> *topPagesModel() const { return m_topPages; }
    /// Event time per assigned partition: watermark, idle or not, held events, worker, state.
    RowTableModel<core::PartitionStatus> *partitionsModel() const { return m_partitions; }
    /// The text of one big counter, by its title ("Read", "Valid", "Late"...).
    QString counterText(const QString &title) const;
    /// Whether the counter is on the strip (some appear only once non-zero: "Deleted unread").
    bool counterShown(const QString &title) const;

    /// The first-run panel: shown while no producer runs and nothing was read, it says what to do
    /// and offers Start producer (startProducerRequested()) and the Producers page.
    void setFirstRun(bool firstRun);
    bool isFirstRun() const;
    QPushButton *startProducerButton() const { return m_startProducer; }

Q_SIGNALS:
    void startProducerRequested();
    void producersPageRequested();

private:
    QLabel *addCounter(const QString &title);

    ChartToolbar *m_toolbar = nullptr;
    LiveChart *m_throughput = nullptr;
    LiveChart *m_lag = nullptr;
    LiveChart *m_watermark = nullptr;
    LiveChart *m_problems = nullptr;
    LiveChart *m_revenue = nullptr;
    RowTableModel<core::PageRow> *m_topPages = nullptr;
    TablePanel *m_topPagesPanel = nullptr;
    RowTableModel<core::PartitionStatus> *m_partitions = nullptr;
    TablePanel *m_partitionsPanel = nullptr;
    QWidget *m_counterStrip = nullptr;
    QFrame *m_firstRun = nullptr;
    QPushButton *m_startProducer = nullptr;
    std::map<QString, QLabel *> m_counters;
    std::int64_t m_runStartMs = 0;
};

} // namespace studio::ui
