#pragma once

#include <optional>

#include "ui/charts/dashboardframe.h"
#include "ui/models/rowtablemodel.h"

class QLabel;

namespace studio::ui {

class BarChartView;
class TablePanel;

/// One product's funnel summed over the funnel windows of a snapshot.
struct ProductFunnel
{
    QString productId;
    std::uint64_t views = 0;
    std::uint64_t addToCart = 0;
    std::uint64_t purchases = 0;
    bool hotLowConversion = false; ///< flagged in any of those windows
    double cartRate() const;       ///< add to cart / views, percent
    double conversion() const;     ///< purchases / views, percent
};

/// Sums the funnel rows per product, most viewed first.
std::vector<ProductFunnel> productFunnels(const std::vector<core::FunnelRow> &rows);

/// The product funnel: views, carts and purchases of the most viewed products (grouped bars) and
/// their conversion (bars, where a low one shows next to the others), conversion per product in a
/// table, and the hot low-conversion product highlighted in both.
class ProductsPage : public DashboardPage
{
    Q_OBJECT

public:
    explicit ProductsPage(QWidget *parent = nullptr);

    void updateFrame(const DashboardFrame &frame) override;

    BarChartView *funnelChart() const { return m_chart; }
    BarChartView *conversionChart() const { return m_conversionChart; }
    RowTableModel<ProductFunnel> *productsModel() const { return m_products; }
    TablePanel *productsPanel() const { return m_panel; }
    QString hotText() const;

protected:
    void showEvent(QShowEvent *event) override;

private:
    void setRows(std::vector<ProductFunnel> rows); ///< the table and the hot label
    void renderBars();

    BarChartView *m_chart = nullptr;
    BarChartView *m_conversionChart = nullptr;
    QLabel *m_hot = nullptr;
    RowTableModel<ProductFunnel> *m_products = nullptr;
    TablePanel *m_panel = nullptr;
    bool m_barsStale = false;
    std::optional<std::vector<ProductFunnel>> m_pendingRows; // the latest, while off screen
};

} // namespace studio::ui
