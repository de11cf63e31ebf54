#include "ui/dialogs/createtopicdialog.h"

#include "core/monitor/clustermonitor.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace studio::ui {

CreateTopicDialog::CreateTopicDialog(QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Create topic"));
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("e.g. clickstream-replay"));
    m_partitions = new QSpinBox(this);
    m_partitions->setRange(1, 10'000);
    m_partitions->setValue(12);
    m_replication = new QSpinBox(this);
    m_replication->setRange(1, 32);
    m_replication->setValue(1);
    m_replication->setToolTip(tr("The embedded broker gives every partition min(3, brokers) "
                                 "replicas whatever is asked."));
    m_message = new QLabel(this);
    m_message->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_message->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Partitions"), m_partitions);
    form->addRow(tr("Replication factor"), m_replication);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_name, &QLineEdit::textChanged, this, [this] { validate(); });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_message);
    layout->addWidget(buttons);
    validate();
}

QString CreateTopicDialog::name() const
{
    return m_name->text().trimmed();
}

int CreateTopicDialog::partitions() const
{
    return m_partitions->value();
}

int CreateTopicDialog::replicationFactor() const
{
    return m_replication->value();
}

void CreateTopicDialog::validate()
{
    const std::string why = core::ClusterMonitor::validateTopicName(name().toStdString());
    m_message->setText(name().isEmpty() ? QString() : QString::fromStdString(why));
    m_ok->setEnabled(why.empty());
}

} // namespace studio::ui
