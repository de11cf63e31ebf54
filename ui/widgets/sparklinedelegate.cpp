#include "ui/widgets/sparklinedelegate.h"

#include "ui/models/servicemodel.h"

#include <QPainter>
#include <QPainterPath>

#include <algorithm>

namespace studio::ui {

namespace {

QColor stateValueColor(double v)
{
    if (v >= 1)
        return ServiceModel::stateColor(core::ServiceState::Up);
    if (v >= 0.5)
        return ServiceModel::stateColor(core::ServiceState::Degraded);
    if (v >= 0)
        return ServiceModel::stateColor(core::ServiceState::Down);
    return ServiceModel::stateColor(core::ServiceState::Unknown);
}

} // namespace

void SparklineDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                              const QModelIndex &index) const
{
    QStyledItemDelegate::paint(painter, option, index); // background, selection
    const QVariantMap map = index.data(kSparklineRole).toMap();
    const auto latency = map.value(QStringLiteral("latency")).value<QList<double>>();
    const auto states = map.value(QStringLiteral("state")).value<QList<double>>();
    if (latency.isEmpty())
        return;
    const QRectF area = QRectF(option.rect).adjusted(3, 3, -3, -3);
    const int slots = ServiceModel::kHistory;
    const double step = area.width() / slots;
    // Right-aligned: the newest answer at the right edge, as in a scrolling chart.
    const double x0 = area.right() - step * double(latency.size());
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, false);
    const double band = 4;
    for (qsizetype i = 0; i < states.size(); ++i)
        painter->fillRect(
            QRectF(x0 + step * double(i), area.bottom() - band, std::max(1.0, step), band),
            stateValueColor(states[i]));
    const double top = *std::max_element(latency.begin(), latency.end());
    if (top <= 0) { // nothing measured (not configured, or no answers yet): the band only
        painter->restore();
        return;
    }
    const double h = area.height() - band - 2;
    QPainterPath path;
    for (qsizetype i = 0; i < latency.size(); ++i) {
        const double x = x0 + step * (double(i) + 0.5);
        const double y = area.top() + h - latency[i] / top * h;
        if (i == 0)
            path.moveTo(x, y);
        else
            path.lineTo(x, y);
    }
    painter->setRenderHint(QPainter::Antialiasing, true);
    painter->setPen(QPen(QColor(0x15, 0x65, 0xc0), 1.4));
    painter->drawPath(path);
    painter->restore();
}

QSize SparklineDelegate::sizeHint(const QStyleOptionViewItem &option,
                                  const QModelIndex &index) const
{
    return QStyledItemDelegate::sizeHint(option, index).expandedTo(QSize(160, 24));
}

} // namespace studio::ui
