#pragma once

#include "core/common/timeutil.h"

#include <QString>

#include <cstdint>
#include <string>

namespace studio::ui {

inline QString toQString(const std::string &text)
{
    return QString::fromStdString(text);
}

/// "2026-11-23T15:37:03.123Z", the form the CSV reports use.
inline QString isoTime(std::int64_t ms)
{
    return QString::fromLatin1(core::formatIsoMs(ms));
}

/// A window's identity in a table: its start and a key, e.g. "1700000000000|/home".
inline QString windowKey(std::int64_t windowStart, const QString &key)
{
    return QString::number(windowStart) + QLatin1Char('|') + key;
}

/// `part` of `whole` in percent; 0 when `whole` is 0.
inline double percent(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

/// 1234567.4 -> "1,234,567" in the user's locale.
QString groupedNumber(double value);

/// A plain number as a report writes it ("799962.81", "-250", "10177") with the user's locale's
/// group and decimal separators and the same decimals ("799,962.81"); any other text unchanged.
QString localizedNumberText(const QString &plain);

/// "1.2k", "3.4M" for counts; grouped below 10,000 ("4,997").
QString compactNumber(double value);

} // namespace studio::ui
