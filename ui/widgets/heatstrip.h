#pragma once

#include <QVector>
#include <QWidget>

namespace studio::ui {

/// A row of colored cells, one per partition, shaded from cool (idle) to hot (the busiest), so a
/// hot key's skew stands out at a glance. Values are rates; the tooltip names cell and value.
class HeatStrip : public QWidget
{
    Q_OBJECT
public:
    explicit HeatStrip(QWidget *parent = nullptr);

    /// One value per cell; repaints only when something changed.
    void setValues(const QVector<double> &values);
    const QVector<double> &values() const { return m_values; }
    /// The cell under x (widget coordinates), or -1.
    int cellAt(int x) const;
    /// The shade of `value` on a scale whose top is `max`.
    static QColor heatColor(double value, double max);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    QVector<double> m_values;
};

} // namespace studio::ui
