#include "ui/dialogs/deletetopicdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace studio::ui {

DeleteTopicDialog::DeleteTopicDialog(core::ClusterConfig cluster, const QString &topic,
                                     QWidget *parent)
    : AdminDialog(std::move(cluster), topic, parent)
{
    setWindowTitle(tr("Delete topic %1").arg(topic));
    auto *warning =
        new QLabel(tr("Deleting <b>%1</b> on %2 removes the topic and every message "
                      "in it, for every consumer. It cannot be undone.")
                       .arg(topic.toHtmlEscaped(),
                            QString::fromStdString(m_cluster.describe()).toHtmlEscaped()),
                   this);
    warning->setWordWrap(true);
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(topic);
    m_name->setAccessibleName(tr("Type the topic's name to confirm"));
    m_name->setToolTip(tr("Type %1 exactly: Delete is enabled only then").arg(topic));
    m_delete = new QPushButton(tr("Delete topic"), this);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_delete, QDialogButtonBox::DestructiveRole);
    buttons->button(QDialogButtonBox::Close)->setToolTip(tr("Close; nothing is deleted"));
    buttons->button(QDialogButtonBox::Close)->setDefault(true);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_delete, &QPushButton::clicked, this, &DeleteTopicDialog::deleteTopic);
    connect(m_name, &QLineEdit::textChanged, this, [this] { updateControls(); });

    auto *form = new QFormLayout;
    form->addRow(tr("Topic name"), m_name);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(warning);
    layout->addLayout(form);
    layout->addWidget(statusLabel());
    layout->addStretch();
    layout->addWidget(buttons);
    resize(520, 220);
    updateControls();
    connectNow(tr("Type the topic's name to enable Delete."),
               embeddedReason(tr("delete a topic (it has no DeleteTopics)")));
}

void DeleteTopicDialog::setTypedName(const QString &name)
{
    m_name->setText(name);
}

void DeleteTopicDialog::updateControls()
{
    QString why;
    if (m_deleted)
        why = tr("%1 is deleted").arg(m_topic);
    else if (embedded().value_or(false))
        why = embeddedReason(tr("delete a topic"));
    else if (!embedded())
        why = connectFailed() ? tr("Not connected: see the message below") : tr("Connecting…");
    else if (m_name->text() != m_topic)
        why = tr("Type the topic's name, %1, to enable Delete").arg(m_topic);
    m_delete->setEnabled(!isBusy() && why.isEmpty());
    m_delete->setToolTip(why.isEmpty() ? tr("Delete %1 and all its messages now").arg(m_topic)
                                       : why);
    m_name->setEnabled(!m_deleted && !embedded().value_or(false));
}

void DeleteTopicDialog::deleteTopic()
{
    if (isBusy() || !m_delete->isEnabled() || m_name->text() != m_topic)
        return;
    const std::string name = m_topic.toStdString();
    run<bool>(
        tr("Deleting %1…").arg(m_topic),
        [name](core::KafkaAdmin &admin, std::string *error) {
            return admin.deleteTopic(name, error) ? std::optional<bool>(true) : std::nullopt;
        },
        [this](std::optional<bool> ok, const QString &error) {
            m_deleted = ok.has_value();
            report(m_deleted, m_deleted ? tr("Deleted topic %1.").arg(m_topic)
                                        : tr("Kafka refused: %1").arg(error));
        });
}

} // namespace studio::ui
