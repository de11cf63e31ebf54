#pragma once

#include <QColor>
#include <QString>

namespace studio::ui {

/// The colour scheme: the system's palette (the default) or a fixed light or dark one.
enum class Theme { System, Light, Dark };

QString themeName(Theme theme);           ///< "system", "light", "dark" (the stored value)
Theme themeFromName(const QString &name); ///< System for anything unknown

/// Applies `theme` to the whole application. The first call remembers the palette the
/// application started with, so System restores it later.
void applyTheme(Theme theme);
/// The theme stored in QSettings ("view/theme"), System when none.
Theme storedTheme();
void storeTheme(Theme theme);

/// A Burrow status's color (OK green, WARN amber, STALL/STOP/REWIND red, UNKNOWN grey).
QColor lagStatusColor(const QString &status);

} // namespace studio::ui
