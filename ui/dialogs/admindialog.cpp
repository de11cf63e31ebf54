#include "ui/dialogs/admindialog.h"

#include <QLabel>
#include <QMessageBox>

namespace studio::ui {

AdminDialog::AdminDialog(core::ClusterConfig cluster, const QString &topic, QWidget *parent)
    : QDialog(parent)
    , m_cluster(std::move(cluster))
    , m_topic(topic)
{
    m_confirm = [this](const QString &text) {
        return QMessageBox::question(this, windowTitle(), text,
                                     QMessageBox::Yes | QMessageBox::Cancel,
                                     QMessageBox::Cancel) == QMessageBox::Yes;
    };
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
}

QString AdminDialog::statusText() const
{
    return m_status->text();
}

void AdminDialog::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

void AdminDialog::report(bool ok, const QString &message)
{
    setStatus(message, !ok);
    Q_EMIT done(ok, message);
}

QString AdminDialog::embeddedReason(const QString &what)
{
    return tr("Not on the embedded broker: librdkafka's mock cannot %1.").arg(what);
}

void AdminDialog::connectNow(const QString &readyText, const QString &embeddedText)
{
    run<bool>(
        tr("Connecting to %1…").arg(QString::fromStdString(m_cluster.describe())),
        [](core::KafkaAdmin &, std::string *) { return std::optional<bool>(true); },
        [this, readyText, embeddedText](std::optional<bool> ok, const QString &error) {
            if (!ok) {
                QString text = error;
                if (!text.isEmpty())
                    text[0] = text[0].toUpper();
                setStatus(text, true);
            } else {
                setStatus(m_embedded.value_or(false) ? embeddedText : readyText,
                          m_embedded.value_or(false));
            }
        });
}

} // namespace studio::ui
