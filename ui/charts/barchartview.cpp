#include "ui/charts/barchartview.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QLegend>
#include <QStackedBarSeries>
#include <QValueAxis>

#include <algorithm>

namespace studio::ui {

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
    m_valueAxis = new QValueAxis;
    m_valueAxis->setLabelFormat(QStringLiteral("%.0f"));
    chart->addAxis(m_categoryAxis, Qt::AlignBottom);
    chart->addAxis(m_valueAxis, Qt::AlignLeft);
    m_series->attachAxis(m_categoryAxis);
    m_series->attachAxis(m_valueAxis);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumSize(240, 160);
}

void BarChartView::setValueTitle(const QString &title)
{
    m_valueAxis->setTitleText(title);
}

void BarChartView::setCategoryLabelAngle(int degrees)
{
    m_categoryAxis->setLabelsAngle(degrees);
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
    m_categories.clear(); // refill every set
}

void BarChartView::setData(const QStringList &categories, const QList<QList<qreal>> &values)
{
    const bool sameCategories = categories == m_categories;
    if (!sameCategories) {
        m_categories = categories;
        m_categoryAxis->setCategories(categories.isEmpty() ? QStringList{QString()} : categories);
    }
    qreal maxValue = 0;
    QList<qreal> stackTotals(categories.size(), 0);
    const QList<QBarSet *> sets = m_series->barSets();
    for (int s = 0; s < sets.size(); ++s) {
        QBarSet *set = sets[s];
        QList<qreal> row = values.value(s);
        row.resize(categories.size(), 0);
        for (int c = 0; c < row.size(); ++c) {
            maxValue = std::max(maxValue, row[c]);
            stackTotals[c] += row[c];
        }
        if (sameCategories && set->count() == row.size()) {
            for (int c = 0; c < row.size(); ++c)
                if (set->at(c) != row[c])
                    set->replace(c, row[c]);
        } else {
            set->remove(0, set->count());
            set->append(row);
        }
    }
    if (m_kind == Kind::Stacked)
        for (qreal total : stackTotals)
            maxValue = std::max(maxValue, total);
    m_valueAxis->setRange(0, maxValue > 0 ? maxValue * 1.08 : 1);
    m_valueAxis->applyNiceNumbers();
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
