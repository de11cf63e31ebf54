#pragma once

#include <QIcon>
#include <QString>

namespace studio::ui {

/// The icon theme's `themeName` (freedesktop naming, e.g. "network-server") when the desktop has
/// one, else the bundled fallback `:/icons/<fallback>` (resources/icons: PNGs at 24 and 48 px,
/// the SVG too where Qt reads SVG).
QIcon themedIcon(const QString &themeName, const QString &fallback);

} // namespace studio::ui
