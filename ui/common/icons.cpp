#include "ui/common/icons.h"

#include <QImageReader>

// The resources of a static library are registered by name, outside any namespace.
static void initStudioIcons()
{
    Q_INIT_RESOURCE(icons);
}

namespace studio::ui {

QIcon themedIcon(const QString &themeName, const QString &fallback)
{
    static const bool once = [] {
        initStudioIcons();
        return true;
    }();
    (void)once;
    QIcon bundled;
    const QString base = QStringLiteral(":/icons/") + fallback;
    if (QImageReader::supportedImageFormats().contains("svg"))
        bundled.addFile(base + QStringLiteral(".svg"));
    bundled.addFile(base + QStringLiteral(".png"), QSize(24, 24));
    bundled.addFile(base + QStringLiteral("@2x.png"), QSize(48, 48));
    return QIcon::fromTheme(themeName, bundled);
}

} // namespace studio::ui
