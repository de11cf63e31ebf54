#include "ui/charts/barchartview.h"

#include "ui/charts/chartstyle.h"

#include <QApplication>
#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QCursor>
#include <QGraphicsTextItem>
#include <QLegend>
#include <QLocale>
#include <QLogValueAxis>
#include <QRegularExpression>
#include <QStackedBarSeries>
#include <QTextDocument>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace studio::ui {

namespace {

// Category names are many and short: a smaller font keeps "10–30" whole on a narrow chart, and a
// smaller one still keeps "Samsung" whole where nothing else would.
constexpr qreal kCategoryFontScale = 0.85;
constexpr qreal kNarrowCategoryFontScale = 0.75;

QFont categoryFont(qreal scale)
{
    QFont font = QApplication::font();
    font.setPointSizeF(font.pointSizeF() * scale);
    return font;
}

// A label's width as Qt Charts measures it before it cuts it: the label as rich text in a text item
// with a margin of half a pixel (ChartPresenter::textBoundingRect).
qreal labelWidth(const QFont &font, const QString &label)
{
    static QGraphicsTextItem item;
    item.document()->setDocumentMargin(0.5);
    item.setFont(font);
    item.setHtml(label);
    return item.boundingRect().width();
}

} // namespace

BarChartView::BarChartView(const QString &title, const QStringList &setNames, Kind kind,
                           QWidget *parent)
    : QChartView(parent)
    , m_kind(kind)
{
    auto *chart = new QChart;
    chart->setTitle(title);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->legend()->setVisible(setNames.size() > 1);
    if (kind == Kind::Stacked)
        m_series = new QStackedBarSeries;
    else
        m_series = new QBarSeries;
    for (const QString &name : setNames)
        m_series->append(new QBarSet(name));
    chart->addSeries(m_series);
    m_categoryAxis = new QBarCategoryAxis;
    m_valueAxis = new QCategoryAxis;
    m_valueAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    chart->addAxis(m_categoryAxis, Qt::AlignBottom);
    connect(chart, &QChart::plotAreaChanged, this, [this] { fitCategoryLabels(); });
    chart->addAxis(m_valueAxis, Qt::AlignLeft);
    m_series->attachAxis(m_categoryAxis);
    m_series->attachAxis(m_valueAxis);
    // A bar's own figure on hover, under its full category name (the axis may show it short).
    connect(m_series, &QAbstractBarSeries::hovered, this,
            [this](bool status, int index, QBarSet *set) {
                if (!status || !set) {
                    QToolTip::hideText();
                    return;
                }
                QString text = QStringLiteral("%1: %2").arg(m_categories.value(index),
                                                            QLocale().toString(set->at(index)));
                if (m_series->count() > 1)
                    text = set->label() + QStringLiteral(", ") + text;
                QToolTip::showText(QCursor::pos(), text, this);
            });
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumSize(240, 160);
    setAccessibleName(title);
    setToolTip(title);
    followTheme(this, [this] { restyle(); });
}

// Bar colours from the shared palette (a theme change resets them).
void BarChartView::restyle()
{
    const QList<QBarSet *> sets = m_series->barSets();
    for (int i = 0; i < sets.size(); ++i) {
        sets[i]->setColor(seriesColor(i));
        sets[i]->setBorderColor(seriesColor(i));
    }
    m_categoryAxis->setLabelsFont(categoryFont(kCategoryFontScale));
    fitCategoryLabels(); // (with the theme's font)
}

void BarChartView::setLogarithmic(bool logarithmic)
{
    if (logarithmic == isLogarithmic())
        return;
    QAbstractAxis *old = logarithmic ? static_cast<QAbstractAxis *>(m_valueAxis)
                                     : static_cast<QAbstractAxis *>(m_logAxis);
    m_series->detachAxis(old);
    chart()->removeAxis(old);
    delete old;
    m_valueAxis = nullptr;
    if (logarithmic) {
        m_logAxis = new QLogValueAxis;
        m_logAxis->setBase(10);
        m_logAxis->setLabelFormat(QStringLiteral("%.0f"));
        m_logAxis->setMinorTickCount(-1);
        m_logAxis->setRange(1, 10); // before it meets the bars: log(0) has no place on it
        chart()->addAxis(m_logAxis, Qt::AlignLeft);
        m_series->attachAxis(m_logAxis);
        m_logAxis->setTitleText(m_valueTitle);
    } else {
        m_logAxis = nullptr;
        m_valueAxis = new QCategoryAxis;
        m_valueAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
        m_valueAxis->setTitleText(m_valueTitle);
        chart()->addAxis(m_valueAxis, Qt::AlignLeft);
        m_series->attachAxis(m_valueAxis);
    }
    chart()->setLocalizeNumbers(true); // thousands separators on the log axis' labels
    applyChartStyle(this);
    setValueRange();
}

QStringList BarChartView::valueLabels() const
{
    if (m_logAxis)
        return {};
    QStringList labels = m_valueAxis->categoriesLabels();
    for (QString &label : labels)
        label.remove(QChar(0x200B));
    return labels;
}

void BarChartView::setValueRange()
{
    if (m_logAxis) {
        // Whole decades: from 1 up to the decade above the largest value.
        const double top = std::pow(10.0, std::ceil(std::log10(std::max<qreal>(m_maxValue, 10))));
        m_logAxis->setRange(1, top);
        return;
    }
    const int ticks = std::clamp(static_cast<int>(chart()->plotArea().height() / 40), 3, 7);
    applyNiceScale(m_valueAxis, niceScale(0, m_maxValue > 0 ? m_maxValue : 1, ticks));
}

void BarChartView::setValueTitle(const QString &title)
{
    m_valueTitle = title;
    if (m_logAxis)
        m_logAxis->setTitleText(title);
    else
        m_valueAxis->setTitleText(title);
}

void BarChartView::setCategoryLabelAngle(int degrees)
{
    m_categoryAxis->setLabelsAngle(degrees);
}

QStringList BarChartView::shownCategories() const
{
    return m_categoryAxis->categories();
}

void BarChartView::setShortCategories(const QStringList &labels, const QString &title)
{
    m_shortCategories = labels;
    m_shortTitle = title;
    m_categoryAxis->setCategories(m_categories.isEmpty() ? QStringList{QString()} : m_categories);
    m_categoryAxis->setTitleText({});
    fitCategoryLabels();
}

qreal BarChartView::categoryLabelRoom() const
{
    // What Qt Charts leaves a category label before it cuts it (its horizontal axis divides the
    // width by the categories + 1 and keeps a padding of 4 px on either side).
    return chart()->plotArea().width() / (m_categories.size() + 1) - 8;
}

QStringList BarChartView::cutCategoryLabels() const
{
    QStringList cut;
    const qreal room = categoryLabelRoom();
    for (const QString &label : m_categoryAxis->categories())
        if (labelWidth(m_categoryAxis->labelsFont(), label) > room)
            cut << label;
    return cut;
}

int BarChartView::categoriesFitting(const QString &label) const
{
    const qreal plotWidth = chart()->plotArea().width();
    if (plotWidth <= 0)
        return std::numeric_limits<int>::max(); // not laid out yet
    // plotWidth / (n + 1) - 8 >= width: see categoryLabelRoom().
    return std::max(
        1, static_cast<int>(plotWidth / (labelWidth(m_categoryAxis->labelsFont(), label) + 8)) - 1);
}

void BarChartView::fitCategoryLabels()
{
    if (m_categories.isEmpty())
        return;
    if (chart()->plotArea().width() <= 0)
        return; // not laid out yet: plotAreaChanged() calls again
    const qreal perCategory = categoryLabelRoom();
    const QFont font = categoryFont(kCategoryFontScale);
    const auto longest = [&](const QStringList &labels, qsizetype skip) {
        qreal widest = 0;
        for (const QString &label : labels)
            widest = std::max(widest, labelWidth(font, label.mid(skip)));
        return widest;
    };
    // Labels that do not fit lose what they all start with ("prod_0042" -> "0042"; the prefix
    // becomes the axis title): Qt Charts would cut each to "0…" (and cuts turned labels too).
    QString prefix;
    if (longest(m_categories, 0) > perCategory && m_categories.size() > 1) {
        prefix = m_categories.front();
        for (const QString &category : m_categories) {
            qsizetype n = 0;
            while (n < prefix.size() && n < category.size() - 1 && prefix[n] == category[n])
                ++n;
            prefix.truncate(n);
        }
        // Whole leading parts only: "prod_00" would leave "42"; cut after the last separator.
        const qsizetype cut =
            prefix.lastIndexOf(QRegularExpression(QStringLiteral("[^0-9A-Za-z]")));
        prefix.truncate(cut + 1);
    }
    // Still too wide ("10–30" in a narrow histogram): the short labels, when there are some.
    const bool useShort = m_shortCategories.size() == m_categories.size() &&
                          longest(m_categories, prefix.size()) > perCategory;
    QStringList shown = useShort ? m_shortCategories : m_categories;
    if (!useShort)
        for (QString &category : shown) {
            category.remove(0, prefix.size());
            // Whole leading words rather than cut ones: "Samsung" for "Samsung Internet", not
            // "Samsu…" (Qt Charts draws a category on one line; the bar's tooltip has it whole).
            while (labelWidth(font, category) > perCategory &&
                   category.lastIndexOf(QLatin1Char(' ')) > 0)
                category.truncate(category.lastIndexOf(QLatin1Char(' ')));
        }
    // The last resort: a smaller font (Qt Charts would cut "Samsung" to "Sams…").
    const QFont shownFont =
        longest(shown, 0) > perCategory ? categoryFont(kNarrowCategoryFontScale) : font;
    if (shownFont != m_categoryAxis->labelsFont())
        m_categoryAxis->setLabelsFont(shownFont);
    if (shown == m_categoryAxis->categories())
        return; // (setting them again would lay the chart out again, and call this again)
    m_categoryAxis->setCategories(shown);
    m_categoryAxis->setTitleText(useShort           ? m_shortTitle
                                 : prefix.isEmpty() ? QString()
                                                    : prefix + QChar(0x2026));
}

QBarSet *BarChartView::barSet(int index) const
{
    return m_series->barSets().value(index);
}

int BarChartView::setCount() const
{
    return static_cast<int>(m_series->count());
}

void BarChartView::setSetNames(const QStringList &names)
{
    QStringList current;
    for (const QBarSet *set : m_series->barSets())
        current.append(set->label());
    if (current == names)
        return;
    m_series->clear();
    for (const QString &name : names)
        m_series->append(new QBarSet(name));
    chart()->legend()->setVisible(names.size() > 1);
    restyle();
    m_categories.clear(); // refill every set
}

void BarChartView::setData(const QStringList &categories, const QList<QList<qreal>> &values)
{
    qreal maxValue = 0;
    QList<qreal> stackTotals(categories.size(), 0);
    QList<QBarSet *> sets = m_series->barSets();
    QList<QList<qreal>> rows;
    bool resized = false;
    for (int s = 0; s < sets.size(); ++s) {
        QList<qreal> row = values.value(s);
        row.resize(categories.size(), 0);
        // On the log axis (from 1) a zero is an empty bar: 1, since log(0) has no place on it.
        if (m_logAxis)
            for (qreal &v : row)
                v = std::max<qreal>(v, 1);
        for (int c = 0; c < row.size(); ++c) {
            maxValue = std::max(maxValue, row[c]);
            stackTotals[c] += row[c];
        }
        resized = resized || sets[s]->count() != row.size();
        rows.append(std::move(row));
    }
    // Qt Charts lays the bars out again at every change of a set, synchronously: while one set is
    // longer than another, the shorter one reads 0 for its missing bars, which a log axis cannot
    // place (a warning per bar, dozens a second on the Products page). So a change of the bar
    // count swaps in whole new sets at once; otherwise the values are replaced in place.
    if (resized) {
        QList<QBarSet *> fresh;
        for (int s = 0; s < sets.size(); ++s) {
            auto *set = new QBarSet(sets[s]->label());
            set->append(rows[s]);
            fresh.append(set);
        }
        m_series->clear();
        sets = fresh;
    }
    if (categories != m_categories) {
        m_categories = categories;
        m_categoryAxis->setCategories(categories.isEmpty() ? QStringList{QString()} : categories);
        m_categoryAxis->setTitleText({});
        fitCategoryLabels();
    }
    if (resized) {
        m_series->append(sets);
        restyle();
    } else {
        for (int s = 0; s < sets.size(); ++s)
            for (int c = 0; c < rows[s].size(); ++c)
                if (sets[s]->at(c) != rows[s][c])
                    sets[s]->replace(c, rows[s][c]);
    }
    if (m_kind == Kind::Stacked)
        for (qreal total : stackTotals)
            maxValue = std::max(maxValue, total);
    m_maxValue = maxValue;
    setValueRange();
}

void BarChartView::setHighlightedCategory(int category, const QColor &color)
{
    for (QBarSet *set : m_series->barSets()) {
        set->deselectAllBars();
        if (category >= 0 && category < set->count()) {
            set->setSelectedColor(color);
            set->selectBar(category);
        }
    }
}

} // namespace studio::ui
