#pragma once

#include <QChartView>
#include <QStringList>

QT_BEGIN_NAMESPACE
class QBarCategoryAxis;
class QAbstractBarSeries;
class QCategoryAxis;
class QLogValueAxis;
class QBarSet;
class QValueAxis;
QT_END_NAMESPACE

namespace studio::ui {

/// A bar chart of a few named sets over categories (grouped, or stacked), animations off. setData()
/// updates the sets in place (QBarSet::replace when the categories stay the same) and sets each
/// axis once.
class BarChartView : public QChartView
{
    Q_OBJECT

public:
    enum class Kind { Grouped, Stacked };

    BarChartView(const QString &title, const QStringList &setNames, Kind kind,
                 QWidget *parent = nullptr);

    /// Replaces the sets when the names differ (e.g. a new device type appeared).
    void setSetNames(const QStringList &names);
    /// values[set][category]; missing values are 0.
    void setData(const QStringList &categories, const QList<QList<qreal>> &values);
    /// Highlights one category in every set (e.g. the hot product); -1 for none.
    void setHighlightedCategory(int category, const QColor &color);
    void setValueTitle(const QString &title);
    void setCategoryLabelAngle(int degrees); ///< e.g. -45 when the labels are long for the width
    /// The category labels as drawn: categories() without the prefix they all share when they
    /// would not fit their width otherwise (that prefix is then the axis title, "prod_…").
    QStringList shownCategories() const;
    /// Shorter labels, one per category, drawn when the categories do not fit their width even
    /// without a shared prefix (a histogram's bins by their lower bound: "10" for "10–30"); the
    /// category axis is then titled `title`. The bars' tooltips keep the full names.
    void setShortCategories(const QStringList &labels, const QString &title);
    /// The labels as drawn that Qt Charts cuts ("10…") at the current width: none, ideally.
    QStringList cutCategoryLabels() const;
    /// How many categories fit the current width with `label` as the widest label whole (no
    /// limit before the chart is laid out): a ranking shows that many and folds the rest.
    int categoriesFitting(const QString &label) const;
    /// A logarithmic value axis (base 10), for values spanning orders of magnitude (a funnel's
    /// views beside its purchases). Bars start at 1; a value under 1 shows no bar.
    void setLogarithmic(bool logarithmic);
    bool isLogarithmic() const { return m_logAxis != nullptr; }
    /// The value axis labels as drawn (linear axis), bottom to top.
    QStringList valueLabels() const;

    QStringList categories() const { return m_categories; }
    QBarSet *barSet(int index) const;
    int setCount() const;

private:
    void fitCategoryLabels();
    qreal categoryLabelRoom() const; ///< the width Qt Charts gives one category label
    QStringList m_shortCategories;
    QString m_shortTitle;
    QAbstractBarSeries *m_series = nullptr;
    QBarCategoryAxis *m_categoryAxis = nullptr;
    QCategoryAxis *m_valueAxis = nullptr;
    QLogValueAxis *m_logAxis = nullptr; // replaces m_valueAxis when logarithmic
    QString m_valueTitle;
    qreal m_maxValue = 0;
    void restyle();
    void setValueRange();
    QStringList m_categories;
    Kind m_kind;
};

} // namespace studio::ui
