#include "ui/common/format.h"

#include <QLocale>
#include <QRegularExpression>

#include <cmath>

namespace studio::ui {

QString groupedNumber(double value)
{
    return QLocale().toString(static_cast<qlonglong>(std::llround(value)));
}

QString localizedNumberText(const QString &plain)
{
    static const QRegularExpression number(QStringLiteral("^-?[0-9]+(\\.[0-9]+)?$"));
    const QRegularExpressionMatch m = number.match(plain);
    if (!m.hasMatch())
        return plain;
    const QLocale locale;
    const qsizetype dot = plain.indexOf(QLatin1Char('.'));
    if (dot < 0) {
        bool ok = false;
        const qlonglong whole = plain.toLongLong(&ok);
        return ok ? locale.toString(whole) : plain;
    }
    const int decimals = static_cast<int>(plain.size() - dot - 1);
    return locale.toString(plain.toDouble(), 'f', decimals);
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
