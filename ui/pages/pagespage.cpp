#include "ui/pages/pagespage.h"

#include "core/aggregate/aggregates.h"

#include "ui/charts/charttoolbar.h"
#include "ui/charts/livechart.h"
#include "ui/common/format.h"
#include "ui/widgets/tablepanel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace studio::ui {

namespace {

std::vector<TableColumn<core::PageRow>> windowColumns()
{
    using Row = core::PageRow;
    const auto count = [](std::uint64_t Row::*field) {
        return [field](const Row &r) {
            return QVariant(qulonglong(r.*field));
        };
    };
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
        {QObject::tr("Page"),
         [](const Row &r) {
             return QVariant(toQString(r.page));
         }},
        {QObject::tr("Views"), count(&Row::views)},
        {QObject::tr("Clicks"), count(&Row::clicks)},
        {QObject::tr("Add to cart"), count(&Row::addToCart)},
        {QObject::tr("Purchases"), count(&Row::purchases)},
        {QObject::tr("Revenue"),
         [](const Row &r) { return QVariant(double(r.revenueCents) / 100.0); },
         [](const Row &r) {
             return QLocale().toString(double(r.revenueCents) / 100.0, 'f', 2);
         }},
        {QObject::tr("Unique users"),
         [](const Row &r) { return QVariant(std::round(r.uniqueUsers)); },
         [](const Row &r) {
             return QLocale().toString(std::llround(r.uniqueUsers));
         }},
        {QObject::tr("Final"),
         [](const Row &r) {
             return QVariant(r.final);
         }},
    };
}

/// Chart lines kept at most: the pages most viewed over the frame's windows (at least the top N
/// drawn, 20 at most). Pages outside never get a line, and lines of pages that left are dropped
/// once twice as many pile up: with a page per event (issue 24) a line per page seen would grow
/// without bound (and freeze the GUI thread creating them).
constexpr int kChartPagesKept = 50;

/// The `n` pages with the most views over `rows` (ties: by name), most viewed first.
std::vector<std::string_view> mostViewed(const std::vector<core::PageRow> &rows, std::size_t n)
{
    std::unordered_map<std::string_view, std::uint64_t> views;
    views.reserve(rows.size());
    for (const core::PageRow &row : rows)
        views[row.page] += row.views;
    std::vector<std::pair<std::string_view, std::uint64_t>> ranked(views.begin(), views.end());
    const auto before = [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    n = std::min(n, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                      before);
    std::vector<std::string_view> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(ranked[i].first);
    return out;
}

/// Rows the table keeps per window: the most viewed pages, and the (other) row of the keys the
/// aggregator folded. The table diffs and re-sorts its rows at each frame; at one new page per
/// event (issue 24) a snapshot holds 10,001 rows for each open and recent window, and showing
/// the page with 40,000 of them stalled the GUI thread for 250-450 ms.
constexpr std::size_t kTableRowsPerWindow = 1000;

/// `rows` with at most `perWindow` pages of each window besides (other): the most viewed (ties:
/// by name). `leftOut` counts the rows dropped.
std::vector<core::PageRow> tableRows(const std::vector<core::PageRow> &rows, std::size_t perWindow,
                                     std::size_t &leftOut)
{
    std::map<std::int64_t, std::vector<std::size_t>> byWindow; // row indices, (other) apart
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].page != core::kOtherKey)
            byWindow[rows[i].windowStart].push_back(i);
    const auto before = [&rows](std::size_t a, std::size_t b) {
        return rows[a].views != rows[b].views ? rows[a].views > rows[b].views
                                              : rows[a].page < rows[b].page;
    };
    std::vector<bool> dropped(rows.size(), false);
    leftOut = 0;
    for (auto &[start, pages] : byWindow) {
        if (pages.size() <= perWindow)
            continue;
        const auto cut = pages.begin() + static_cast<std::ptrdiff_t>(perWindow);
        std::nth_element(pages.begin(), cut, pages.end(), before);
        for (auto it = cut; it != pages.end(); ++it)
            dropped[*it] = true;
        leftOut += pages.size() - perWindow;
    }
    if (leftOut == 0)
        return rows;
    std::vector<core::PageRow> kept;
    kept.reserve(rows.size() - leftOut);
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (!dropped[i])
            kept.push_back(rows[i]);
    return kept;
}

} // namespace

PagesPage::PagesPage(QWidget *parent)
    : DashboardPage(parent)
{
    m_toolbar = new ChartToolbar(this);
    m_topN = new QSpinBox(this);
    m_topN->setRange(1, 20);
    m_topN->setValue(5);
    m_topN->setPrefix(tr("Top "));
    m_topN->setSuffix(tr(" pages"));
    m_topN->setAccessibleName(tr("Pages drawn"));
    m_topN->setToolTip(tr("How many of the most viewed pages the chart draws"));
    connect(m_topN, &QSpinBox::valueChanged, this, [this] { updateShownPages(); });

    m_views = new LiveChart(tr("Views per page (per page window)"), this);
    m_views->chart()->legend()->setAlignment(Qt::AlignRight);
    m_views->setValueTitle(tr("views per window"));
    m_views->setPointsVisible(true);
    m_toolbar->attach(m_views);

    m_windows = new RowTableModel<core::PageRow>(
        windowColumns(),
        [](const core::PageRow &r) { return windowKey(r.windowStart, toQString(r.page)); }, this);
    m_windowsPanel = new TablePanel(tr("Page windows (open and recently final)"), m_windows, this);
    m_windowsPanel->sortBy(0, Qt::DescendingOrder);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_toolbar, 1);
    controls->addWidget(m_topN);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_views);
    splitter->addWidget(m_windowsPanel);
    splitter->setSizes({420, 380});
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(splitter, 1);
}

void PagesPage::setTopN(int n)
{
    m_topN->setValue(n);
}

int PagesPage::topN() const
{
    return m_topN->value();
}

void PagesPage::updateFrame(const DashboardFrame &frame)
{
    std::size_t leftOut = 0;
    std::vector<core::PageRow> rows =
        tableRows(frame.aggregates.pages, kTableRowsPerWindow, leftOut);
    if (leftOut != m_rowsLeftOut) {
        m_rowsLeftOut = leftOut;
        m_windowsPanel->setTitle(
            leftOut == 0
                ? tr("Page windows (open and recently final)")
                : tr("Page windows (open and recently final): the %1 most viewed pages of each "
                     "window and (other); %2 less viewed rows not listed (the CSV reports and "
                     "PostgreSQL hold every row)")
                      .arg(QLocale().toString(qulonglong(kTableRowsPerWindow)),
                           QLocale().toString(qulonglong(leftOut))));
    }
    if (offScreen()) {
        m_pendingRows = std::move(rows); // the table and the top N follow on show
    } else {
        m_pendingRows.reset();
        m_windows->setRows(std::move(rows));
        updateShownPages(); // first, so the pages outside the top N never get a line series
    }
    const std::vector<std::string_view> tracked =
        mostViewed(frame.aggregates.pages, kChartPagesKept);
    const std::unordered_set<std::string_view> lines(tracked.begin(), tracked.end());
    std::int64_t openFrom = -1; // the oldest window still open: partial, not drawn
    for (const core::PageRow &row : frame.aggregates.pages) {
        if (lines.contains(row.page))
            m_views->setPoint(toQString(row.page), row.windowStart, static_cast<double>(row.views));
        if (!row.final && (openFrom < 0 || row.windowStart < openFrom))
            openFrom = row.windowStart;
    }
    if (m_views->seriesNames().size() > 2 * kChartPagesKept) {
        QStringList keep;
        for (const std::string_view page : tracked)
            keep.append(toQString(std::string(page)));
        m_views->removeLinesExcept(keep);
    }
    if (openFrom >= 0)
        for (const QString &page : m_views->seriesNames())
            m_views->setOpenFrom(page, static_cast<double>(openFrom), true);
    m_views->addMarkers(frame.markers);
    m_views->setNow(frame.nowMs);
    m_views->requestRender();
}

void PagesPage::showEvent(QShowEvent *event)
{
    DashboardPage::showEvent(event);
    if (m_pendingRows) {
        m_windows->setRows(std::move(*m_pendingRows));
        m_pendingRows.reset();
        updateShownPages();
    }
}

// The top N pages by views over the windows in the latest snapshot; the others keep their
// history but are not drawn.
void PagesPage::updateShownPages()
{
    QStringList shown;
    for (const std::string_view page :
         mostViewed(m_windows->rows(), static_cast<std::size_t>(topN())))
        shown.append(toQString(std::string(page)));
    if (shown.isEmpty())
        return;
    m_views->setShownSeries(shown);
    m_views->requestRender();
}

} // namespace studio::ui
