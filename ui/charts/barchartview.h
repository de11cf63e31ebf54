#pragma once

#include <QChartView>
#include <QStringList>

QT_BEGIN_NAMESPACE
class QBarCategoryAxis;
class QAbstractBarSeries;
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

    QStringList categories() const { return m_categories; }
    QBarSet *barSet(int index) const;
    int setCount() const;

private:
    QAbstractBarSeries *m_series = nullptr;
    QBarCategoryAxis *m_categoryAxis = nullptr;
    QValueAxis *m_valueAxis = nullptr;
    QStringList m_categories;
    Kind m_kind;
};

} // namespace studio::ui
