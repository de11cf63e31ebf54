#include "ui/pages/geopage.h"

#include "ui/charts/barchartview.h"
#include "ui/common/format.h"
#include "ui/widgets/tablepanel.h"

#include <QGridLayout>
#include <QSortFilterProxyModel>

#include <algorithm>
#include <map>

namespace studio::ui {

namespace {

constexpr int kMaxCountries = 12;

std::vector<TableColumn<core::GeoRow>> geoColumns()
{
    using Row = core::GeoRow;
    return {
        {QObject::tr("Window start"),
         [](const Row &r) { return QVariant(qlonglong(r.windowStart)); },
         [](const Row &r) {
             return isoTime(r.windowStart);
         }},
        {QObject::tr("Window end"), [](const Row &r) { return QVariant(qlonglong(r.windowEnd)); },
         [](const Row &r) {
             return isoTime(r.windowEnd);
         }},
        {QObject::tr("Country"),
         [](const Row &r) {
             return QVariant(toQString(r.country));
         }},
        {QObject::tr("Browser"),
         [](const Row &r) {
             return QVariant(toQString(r.browser));
         }},
        {QObject::tr("Device"),
         [](const Row &r) {
             return QVariant(toQString(r.deviceType));
         }},
        {QObject::tr("Events"),
         [](const Row &r) {
             return QVariant(qulonglong(r.events));
         }},
        {QObject::tr("Final"),
         [](const Row &r) {
             return QVariant(r.final);
         }},
    };
}

// Keys by total, largest first.
template <typename Map> QStringList ranked(const Map &totals)
{
    std::vector<std::pair<QString, double>> items(totals.begin(), totals.end());
    std::stable_sort(items.begin(), items.end(),
                     [](const auto &a, const auto &b) { return a.second > b.second; });
    QStringList out;
    for (const auto &item : items)
        out.append(item.first);
    return out;
}

} // namespace

GeoPage::GeoPage(QWidget *parent)
    : DashboardPage(parent)
{
    m_countries = new BarChartView(tr("Events by country (recent geo windows)"), {tr("events")},
                                   BarChartView::Kind::Grouped, this);
    m_browsers = new BarChartView(tr("Events by browser and device type"), {},
                                  BarChartView::Kind::Stacked, this);
    m_countries->setValueTitle(tr("events"));
    m_browsers->setValueTitle(tr("events"));
    m_windows = new RowTableModel<core::GeoRow>(
        geoColumns(),
        [](const core::GeoRow &r) {
            return windowKey(r.windowStart, toQString(r.country) + QLatin1Char('|') +
                                                toQString(r.browser) + QLatin1Char('|') +
                                                toQString(r.deviceType));
        },
        this);
    m_windowsPanel = new TablePanel(tr("Geo windows (open and recently final)"), m_windows, this);
    m_windowsPanel->sortBy(5, Qt::DescendingOrder);

    auto *layout = new QGridLayout(this);
    layout->addWidget(m_countries, 0, 0);
    layout->addWidget(m_browsers, 0, 1);
    layout->addWidget(m_windowsPanel, 1, 0, 1, 2);
    layout->setRowStretch(0, 1);
    layout->setRowStretch(1, 1);
}

void GeoPage::updateFrame(const DashboardFrame &frame)
{
    m_barsStale = true;
    if (offScreen()) {
        m_pendingRows = frame.aggregates.geo; // the table follows on show
        return;
    }
    m_pendingRows.reset();
    m_windows->setRows(frame.aggregates.geo);
    if (isVisible())
        renderBars();
}

void GeoPage::showEvent(QShowEvent *event)
{
    DashboardPage::showEvent(event);
    if (m_pendingRows) {
        m_windows->setRows(std::move(*m_pendingRows));
        m_pendingRows.reset();
    }
    if (m_barsStale)
        renderBars();
}

void GeoPage::renderBars()
{
    std::map<QString, double> byCountry;
    std::map<QString, double> byBrowser;
    std::map<QString, double> byDevice;
    std::map<std::pair<QString, QString>, double> byBrowserDevice;
    for (const core::GeoRow &row : m_windows->rows()) {
        const auto events = static_cast<double>(row.events);
        byCountry[toQString(row.country)] += events;
        byBrowser[toQString(row.browser)] += events;
        byDevice[toQString(row.deviceType)] += events;
        byBrowserDevice[{toQString(row.browser), toQString(row.deviceType)}] += events;
    }

    QStringList countries = ranked(byCountry);
    QList<qreal> countryValues;
    double other = 0;
    // As many countries as the chart has room for with their labels whole (12 at most), then
    // "other": a narrow window shows fewer bars rather than cut labels ("o…").
    const int maxCountries =
        std::clamp(m_countries->categoriesFitting(tr("other")) - 1, 3, kMaxCountries);
    for (int i = 0; i < countries.size(); ++i) {
        if (i < maxCountries)
            countryValues.append(byCountry[countries[i]]);
        else
            other += byCountry[countries[i]];
    }
    if (countries.size() > maxCountries) {
        countries = countries.mid(0, maxCountries);
        countries.append(tr("other"));
        countryValues.append(other);
    }
    m_countries->setData(countries, {countryValues});

    const QStringList browsers = ranked(byBrowser);
    const QStringList devices = ranked(byDevice);
    m_browsers->setSetNames(devices);
    QList<QList<qreal>> values;
    for (const QString &device : devices) {
        QList<qreal> row;
        for (const QString &browser : browsers)
            row.append(byBrowserDevice[{browser, device}]);
        values.append(row);
    }
    m_browsers->setData(browsers, values);
    m_barsStale = false;
}

} // namespace studio::ui
