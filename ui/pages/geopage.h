#pragma once

#include <optional>
#include <vector>

#include "ui/charts/dashboardframe.h"
#include "ui/models/rowtablemodel.h"

namespace studio::ui {

class BarChartView;
class TablePanel;

/// Where the events come from, over the geo windows in the latest snapshot: events by country
/// (bars), by browser and device type (stacked bars), and a sortable table of the windows.
class GeoPage : public DashboardPage
{
    Q_OBJECT

public:
    explicit GeoPage(QWidget *parent = nullptr);

    void updateFrame(const DashboardFrame &frame) override;

    BarChartView *countryChart() const { return m_countries; }
    BarChartView *browserChart() const { return m_browsers; }
    RowTableModel<core::GeoRow> *windowsModel() const { return m_windows; }
    TablePanel *windowsPanel() const { return m_windowsPanel; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void renderBars(); // from m_windows' rows; only while visible

    BarChartView *m_countries = nullptr;
    BarChartView *m_browsers = nullptr;
    RowTableModel<core::GeoRow> *m_windows = nullptr;
    TablePanel *m_windowsPanel = nullptr;
    bool m_barsStale = false;
    std::optional<std::vector<core::GeoRow>> m_pendingRows; // the latest, while off screen
};

} // namespace studio::ui
