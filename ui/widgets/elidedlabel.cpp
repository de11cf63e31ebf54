#include "ui/widgets/elidedlabel.h"

#include <QPainter>
#include <QStyle>
#include <QStyleOption>

namespace studio::ui {

ElidedLabel::ElidedLabel(QWidget *parent, Qt::TextElideMode mode)
    : QLabel(parent)
    , m_mode(mode)
{
    setTextFormat(Qt::PlainText);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
}

void ElidedLabel::setDescription(const QString &description)
{
    if (description == m_description)
        return; // (set on every status tick)
    m_description = description;
    setToolTip(description);
    setAccessibleDescription(description);
}

QSize ElidedLabel::minimumSizeHint() const
{
    // Room for a few characters and the ellipsis: the layout may squeeze the rest.
    const QFontMetrics metrics(font());
    return {metrics.horizontalAdvance(QStringLiteral("Wor…")) + 2 * margin(),
            QLabel::minimumSizeHint().height()};
}

void ElidedLabel::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QRect area = contentsRect().adjusted(margin(), margin(), -margin(), -margin());
    const QString shown = fontMetrics().elidedText(text(), m_mode, area.width());
    m_elided = shown != text();
    QString tip = m_description;
    if (m_elided)
        tip += (tip.isEmpty() ? QString() : QStringLiteral("\n")) + text();
    if (tip != toolTip())
        setToolTip(tip);
    QStyleOption option;
    option.initFrom(this);
    style()->drawItemText(&painter, area, static_cast<int>(alignment()), option.palette,
                          isEnabled(), shown, foregroundRole());
}

} // namespace studio::ui
