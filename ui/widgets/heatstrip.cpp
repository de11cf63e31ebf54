#include "ui/widgets/heatstrip.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

namespace studio::ui {

HeatStrip::HeatStrip(QWidget *parent)
    : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void HeatStrip::setValues(const QVector<double> &values)
{
    if (values == m_values)
        return;
    m_values = values;
    update();
}

int HeatStrip::cellAt(int x) const
{
    if (m_values.isEmpty() || x < 0 || x >= width())
        return -1;
    return std::min(int(qint64(x) * m_values.size() / std::max(1, width())),
                    int(m_values.size()) - 1);
}

QColor HeatStrip::heatColor(double value, double max)
{
    if (max <= 0 || value <= 0)
        return QColor(0xe3, 0xe8, 0xee); // idle: light grey-blue
    const double t = std::clamp(value / max, 0.0, 1.0);
    // light yellow -> orange -> deep red, on hue so the skew reads without a legend
    return QColor::fromHsvF(float(0.16 * (1.0 - t)), float(0.25 + 0.75 * t), float(1.0 - 0.25 * t));
}

QSize HeatStrip::sizeHint() const
{
    return {400, 34};
}

QSize HeatStrip::minimumSizeHint() const
{
    return {60, 34};
}

void HeatStrip::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    if (m_values.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("no partitions"));
        return;
    }
    const double max = *std::max_element(m_values.begin(), m_values.end());
    const int n = int(m_values.size());
    const bool labels = width() / n >= 18;
    for (int i = 0; i < n; ++i) {
        const int x0 = int(qint64(i) * width() / n);
        const int x1 = int(qint64(i + 1) * width() / n);
        const QRect cell(x0, 0, std::max(1, x1 - x0 - 1), height());
        const QColor color = heatColor(m_values[i], max);
        p.fillRect(cell, color);
        if (labels) {
            p.setPen(color.lightnessF() < 0.55 ? Qt::white : Qt::black);
            p.drawText(cell, Qt::AlignCenter, QString::number(i));
        }
    }
}

bool HeatStrip::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const int cell = cellAt(help->pos().x());
        if (cell >= 0)
            QToolTip::showText(
                help->globalPos(),
                tr("partition %1: %2 msg/s").arg(cell).arg(m_values[cell], 0, 'f', 1), this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

} // namespace studio::ui
