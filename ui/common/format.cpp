#include "ui/common/format.h"

#include <QLocale>

namespace studio::ui {

QString groupedNumber(double value)
{
    return QLocale().toString(static_cast<qlonglong>(value + 0.5));
}

QString compactNumber(double value)
{
    const double a = value < 0 ? -value : value;
    if (a < 10'000)
        return QLocale().toString(qint64(value)); // "4,997"
    if (a < 1e6)
        return QString::number(value / 1e3, 'f', 1) + QLatin1Char('k');
    if (a < 1e9)
        return QString::number(value / 1e6, 'f', 1) + QLatin1Char('M');
    return QString::number(value / 1e9, 'f', 1) + QLatin1Char('G');
}

} // namespace studio::ui
