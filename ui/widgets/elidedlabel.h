#pragma once

#include <QLabel>

namespace studio::ui {

/// A one-line label that shrinks below its text's width and elides it ("Broker: embed…") instead
/// of overlapping its neighbours; the full text is its tooltip while elided. For status bars.
class ElidedLabel : public QLabel
{
    Q_OBJECT

public:
    explicit ElidedLabel(QWidget *parent = nullptr, Qt::TextElideMode mode = Qt::ElideRight);

    /// What the field is; the tooltip, followed by the full text while it is elided.
    void setDescription(const QString &description);
    /// True when the last paint had to elide the text.
    bool isElided() const { return m_elided; }
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    Qt::TextElideMode m_mode;
    bool m_elided = false;
    QString m_description;
};

} // namespace studio::ui
