#include "ui/pages/productspage.h"

#include "ui/charts/barchartview.h"
#include "ui/common/format.h"
#include "ui/widgets/tablepanel.h"

#include <QBrush>
#include <QLabel>
#include <QLocale>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <map>

namespace studio::ui {

namespace {

constexpr int kTopProducts = 8;
const QColor kHotColor(0xd6, 0x27, 0x28);
const QColor kHotBackground(0xfd, 0xe0, 0xdc);

std::vector<TableColumn<ProductFunnel>> productColumns()
{
    using Row = ProductFunnel;
    const auto pct = [](double value) -> QString {
        return QLocale().toString(value, 'f', 2) + QLatin1Char('%');
    };
    return {
        {QObject::tr("Product"),
         [](const Row &r) {
             return QVariant(r.productId);
         }},
        {QObject::tr("Views"),
         [](const Row &r) {
             return QVariant(qulonglong(r.views));
         }},
        {QObject::tr("Add to cart"),
         [](const Row &r) {
             return QVariant(qulonglong(r.addToCart));
         }},
        {QObject::tr("Purchases"),
         [](const Row &r) {
             return QVariant(qulonglong(r.purchases));
         }},
        {QObject::tr("Cart rate"), [](const Row &r) { return QVariant(r.cartRate()); },
         [pct](const Row &r) {
             return pct(r.cartRate());
         }},
        {QObject::tr("Conversion"), [](const Row &r) { return QVariant(r.conversion()); },
         [pct](const Row &r) {
             return pct(r.conversion());
         }},
        {QObject::tr("Hot, low conversion"),
         [](const Row &r) {
             return QVariant(r.hotLowConversion);
         }},
    };
}

} // namespace

double ProductFunnel::cartRate() const
{
    return percent(double(addToCart), double(views));
}

double ProductFunnel::conversion() const
{
    return percent(double(purchases), double(views));
}

std::vector<ProductFunnel> productFunnels(const std::vector<core::FunnelRow> &rows)
{
    std::map<std::string, ProductFunnel> byProduct;
    for (const core::FunnelRow &row : rows) {
        ProductFunnel &p = byProduct[row.productId];
        p.productId = toQString(row.productId);
        p.views += row.views;
        p.addToCart += row.addToCart;
        p.purchases += row.purchases;
        p.hotLowConversion = p.hotLowConversion || row.hotLowConversion;
    }
    std::vector<ProductFunnel> out;
    out.reserve(byProduct.size());
    for (auto &entry : byProduct)
        out.push_back(std::move(entry.second));
    std::stable_sort(out.begin(), out.end(),
                     [](const auto &a, const auto &b) { return a.views > b.views; });
    return out;
}

ProductsPage::ProductsPage(QWidget *parent)
    : DashboardPage(parent)
{
    m_chart = new BarChartView(tr("Funnel of the most viewed products (recent funnel windows)"),
                               {tr("views"), tr("add to cart"), tr("purchases")},
                               BarChartView::Kind::Grouped, this);
    m_conversionChart =
        new BarChartView(tr("Conversion of the most viewed products"), {tr("purchases / views")},
                         BarChartView::Kind::Grouped, this);
    // Views dwarf carts and purchases on a linear axis: decades show all three.
    m_chart->setLogarithmic(true);
    m_chart->setValueTitle(tr("events (log scale)"));
    m_conversionChart->setValueTitle(tr("conversion (%)"));
    m_hot = new QLabel(tr("No hot low-conversion product"), this);
    QFont big = m_hot->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_hot->setFont(big);

    m_products = new RowTableModel<ProductFunnel>(
        productColumns(), [](const ProductFunnel &p) { return p.productId; }, this);
    m_products->setDecoration([](const ProductFunnel &p, int role) -> QVariant {
        if (!p.hotLowConversion)
            return {};
        if (role == Qt::BackgroundRole)
            return QBrush(kHotBackground);
        if (role == Qt::ForegroundRole)
            return QBrush(kHotColor.darker(140));
        if (role == Qt::ToolTipRole)
            return QObject::tr("Many views, few purchases: flagged hot with low conversion");
        return {};
    });
    m_panel = new TablePanel(tr("Conversion per product"), m_products, this);
    m_panel->sortBy(1, Qt::DescendingOrder);

    auto *charts = new QSplitter(Qt::Horizontal, this);
    charts->addWidget(m_chart);
    charts->addWidget(m_conversionChart);
    charts->setSizes({550, 450}); // the conversion chart needs room for eight product labels
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(charts);
    splitter->addWidget(m_panel);
    splitter->setSizes({400, 400});
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_hot);
    layout->addWidget(splitter, 1);
}

QString ProductsPage::hotText() const
{
    return m_hot->text();
}

void ProductsPage::updateFrame(const DashboardFrame &frame)
{
    m_barsStale = true;
    if (offScreen()) {
        m_pendingRows = productFunnels(frame.aggregates.funnel); // the rest follows on show
        return;
    }
    m_pendingRows.reset();
    setRows(productFunnels(frame.aggregates.funnel));
    if (isVisible())
        renderBars();
}

void ProductsPage::setRows(std::vector<ProductFunnel> rows)
{
    m_products->setRows(std::move(rows));
    QStringList hot;
    const QLocale locale;
    for (const ProductFunnel &p : m_products->rows())
        if (p.hotLowConversion)
            hot.append(tr("%1 (%2 views, %3% conversion)")
                           .arg(p.productId, locale.toString(qulonglong(p.views)),
                                locale.toString(p.conversion(), 'f', 2)));
    m_hot->setText(hot.isEmpty()
                       ? tr("No hot low-conversion product")
                       : tr("⚠ Hot, low conversion: %1").arg(hot.join(QStringLiteral(", "))));
    // Only on a change: a style sheet set repolishes the label (fonts, palette) even when equal.
    const QString style =
        hot.isEmpty() ? QString() : QStringLiteral("color: %1;").arg(kHotColor.name());
    if (m_hot->styleSheet() != style)
        m_hot->setStyleSheet(style);
}

void ProductsPage::showEvent(QShowEvent *event)
{
    DashboardPage::showEvent(event);
    if (m_pendingRows) {
        setRows(std::move(*m_pendingRows));
        m_pendingRows.reset();
    }
    if (m_barsStale)
        renderBars();
}

void ProductsPage::renderBars()
{
    std::vector<ProductFunnel> top = m_products->rows();
    std::stable_sort(top.begin(), top.end(),
                     [](const auto &a, const auto &b) { return a.views > b.views; });
    if (top.size() > kTopProducts)
        top.resize(kTopProducts);
    QStringList categories;
    QList<QList<qreal>> values(3);
    QList<qreal> conversion;
    QStringList shortNames; // the narrower chart has room for the product numbers only
    int hotIndex = -1;
    for (const ProductFunnel &p : top) {
        if (p.hotLowConversion && hotIndex < 0)
            hotIndex = static_cast<int>(categories.size());
        categories.append(p.productId);
        shortNames.append(QString(p.productId).remove(QStringLiteral("prod_")));
        values[0].append(double(p.views));
        values[1].append(double(p.addToCart));
        values[2].append(double(p.purchases));
        conversion.append(p.conversion());
    }
    m_chart->setData(categories, values);
    m_chart->setHighlightedCategory(hotIndex, kHotColor);
    m_conversionChart->setData(shortNames, {conversion});
    m_conversionChart->setHighlightedCategory(hotIndex, kHotColor);
    m_barsStale = false;
}

} // namespace studio::ui
