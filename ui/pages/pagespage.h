#pragma once

#include <optional>
#include <vector>

#include "ui/charts/dashboardframe.h"
#include "ui/models/rowtablemodel.h"

class QSpinBox;

namespace studio::ui {

class ChartToolbar;
class LiveChart;
class TablePanel;

/// Page metrics: views per page over time (one point per page window, the top N pages drawn, N
/// adjustable) and a sortable table of the current and recently final page windows.
class PagesPage : public DashboardPage
{
    Q_OBJECT

public:
    explicit PagesPage(QWidget *parent = nullptr);

    void updateFrame(const DashboardFrame &frame) override;

    void setTopN(int n);
    int topN() const;
    ChartToolbar *toolbar() const { return m_toolbar; }
    LiveChart *viewsChart() const { return m_views; }
    RowTableModel<core::PageRow> *windowsModel() const { return m_windows; }
    TablePanel *windowsPanel() const { return m_windowsPanel; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void updateShownPages();

    ChartToolbar *m_toolbar = nullptr;
    QSpinBox *m_topN = nullptr;
    LiveChart *m_views = nullptr;
    RowTableModel<core::PageRow> *m_windows = nullptr;
    TablePanel *m_windowsPanel = nullptr;
    std::optional<std::vector<core::PageRow>> m_pendingRows; // the latest, while off screen
    std::size_t m_rowsLeftOut = 0; ///< rows of the latest frame the table does not list
};

} // namespace studio::ui
