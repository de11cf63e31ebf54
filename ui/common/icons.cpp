#include "ui/common/icons.h"

#include <QImage>
#include <QImageReader>
#include <QPainter>
#include <QPixmap>

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
    // On a selected row (the highlight is blue too) the same shape in the highlighted text colour.
    const QStringList files = {QString(base + QStringLiteral(".png")),
                               QString(base + QStringLiteral("@2x.png"))};
    for (const QString &file : files) {
        QImage image(file);
        if (image.isNull())
            continue;
        image = image.convertToFormat(QImage::Format_ARGB32_Premultiplied);
        QPainter painter(&image);
        painter.setCompositionMode(QPainter::CompositionMode_SourceIn);
        painter.fillRect(image.rect(), QColor(Qt::white));
        painter.end();
        bundled.addPixmap(QPixmap::fromImage(image), QIcon::Selected);
    }
    return QIcon::fromTheme(themeName, bundled);
}

} // namespace studio::ui
