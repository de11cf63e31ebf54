#include "ui/common/theme.h"

#include <QApplication>
#include <QPalette>
#include <QSettings>
#include <QStyle>

#include <optional>

namespace studio::ui {

namespace {

const QString kThemeKey = QStringLiteral("view/theme");

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2b, 0x2b), base(0x1e, 0x1e, 0x1e), text(0xe6, 0xe6, 0xe6);
    const QColor highlight(0x2f, 0x6f, 0xb3);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, QColor(0x5a, 0xa9, 0xe6));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(0x80, 0x80, 0x80));
    return p;
}

} // namespace

QString themeName(Theme theme)
{
    switch (theme) {
    case Theme::Light:
        return QStringLiteral("light");
    case Theme::Dark:
        return QStringLiteral("dark");
    case Theme::System:
        break;
    }
    return QStringLiteral("system");
}

Theme themeFromName(const QString &name)
{
    if (name == QLatin1String("light"))
        return Theme::Light;
    if (name == QLatin1String("dark"))
        return Theme::Dark;
    return Theme::System;
}

void applyTheme(Theme theme)
{
    static std::optional<QPalette> systemPalette; // set once a fixed theme replaced it
    switch (theme) {
    case Theme::System:
        // Untouched unless a fixed theme was applied, so the platform keeps its own palette.
        if (systemPalette)
            QApplication::setPalette(*systemPalette);
        break;
    case Theme::Light:
        if (!systemPalette)
            systemPalette = QApplication::palette();
        QApplication::setPalette(QApplication::style()->standardPalette());
        break;
    case Theme::Dark:
        if (!systemPalette)
            systemPalette = QApplication::palette();
        QApplication::setPalette(darkPalette());
        break;
    }
}

Theme storedTheme()
{
    return themeFromName(QSettings().value(kThemeKey).toString());
}

void storeTheme(Theme theme)
{
    QSettings().setValue(kThemeKey, themeName(theme));
}

QColor lagStatusColor(const QString &status)
{
    if (status == QLatin1String("OK"))
        return QColor(0x2e, 0x7d, 0x32);
    if (status == QLatin1String("WARN"))
        return QColor(0xef, 0x6c, 0x00);
    if (status == QLatin1String("UNKNOWN") || status.isEmpty())
        return QColor(0x75, 0x75, 0x75);
    return QColor(0xc6, 0x28, 0x28);
}

} // namespace studio::ui
