#include "ui/dialogs/addpartitionsdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <chrono>
#include <thread>

namespace studio::ui {

namespace {

constexpr int kMaxPartitions = 10'000;

} // namespace

AddPartitionsDialog::AddPartitionsDialog(core::ClusterConfig cluster, const QString &topic,
                                         int partitions, QWidget *parent)
    : AdminDialog(std::move(cluster), topic, parent)
{
    setWindowTitle(tr("Add partitions to %1").arg(topic));
    m_total = new QSpinBox(this);
    m_total->setRange(1, kMaxPartitions);
    m_total->setAccessibleName(tr("New partition count"));
    m_total->setToolTip(tr("The topic's partition count afterwards: more than it has now"));
    m_add = new QPushButton(tr("Add…"), this);
    m_add->setDefault(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_add, QDialogButtonBox::ActionRole);
    buttons->button(QDialogButtonBox::Close)
        ->setToolTip(tr("Close; nothing changes unless you "
                        "confirmed"));
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_add, &QPushButton::clicked, this, &AddPartitionsDialog::add);
    connect(m_total, &QSpinBox::valueChanged, this, [this] { updateControls(); });

    auto *form = new QFormLayout;
    form->addRow(tr("Topic"),
                 new QLabel(QStringLiteral("<b>%1</b> on %2")
                                .arg(topic.toHtmlEscaped(),
                                     QString::fromStdString(m_cluster.describe()).toHtmlEscaped()),
                            this));
    form->addRow(tr("New partition count"), m_total);
    auto *note = new QLabel(tr("Partitions cannot be removed again. Messages with a key go to "
                               "the partition their key hashes to: with more partitions, new "
                               "messages of a key may land elsewhere than its old ones."),
                            this);
    note->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(statusLabel());
    layout->addStretch();
    layout->addWidget(buttons);
    resize(520, 260);
    setCurrent(partitions);

    // Connect, and read the count from Kafka (the monitor's may be a refresh old).
    const std::string name = topic.toStdString();
    run<std::vector<std::int32_t>>(
        tr("Connecting to %1…").arg(QString::fromStdString(m_cluster.describe())),
        [name](core::KafkaAdmin &admin, std::string *error) {
            return admin.topicPartitions(name, error);
        },
        [this](std::optional<std::vector<std::int32_t>> ids, const QString &error) {
            if (ids)
                setCurrent(int(ids->size()));
            if (!ids)
                setStatus(tr("Could not read the partitions: %1").arg(error), true);
            else if (embedded().value_or(false))
                setStatus(embeddedReason(tr("add partitions (it has no CreatePartitions)")), true);
            else
                setStatus(tr("%1 has %2 partitions.").arg(m_topic).arg(m_current), false);
        });
}

void AddPartitionsDialog::setCurrent(int partitions)
{
    m_current = partitions;
    m_total->setMinimum(partitions > 0 ? partitions + 1 : 1);
    m_total->setValue(std::max(m_total->value(), m_total->minimum()));
    updateControls();
}

void AddPartitionsDialog::setNewTotal(int total)
{
    m_total->setValue(total);
}

void AddPartitionsDialog::updateControls()
{
    QString why;
    if (embedded().value_or(false))
        why = embeddedReason(tr("add partitions"));
    else if (m_current <= 0)
        why = tr("The current partition count is not known yet");
    else if (m_total->value() <= m_current)
        why = tr("The new count must be greater than %1").arg(m_current);
    m_add->setEnabled(!isBusy() && why.isEmpty());
    m_add->setToolTip(why.isEmpty()
                          ? tr("Add %1 partitions (asks first)").arg(m_total->value() - m_current)
                          : why);
    m_total->setEnabled(!embedded().value_or(false));
}

void AddPartitionsDialog::add()
{
    if (isBusy() || !m_add->isEnabled())
        return;
    const int total = m_total->value();
    if (!confirm(tr("Add partitions to topic %1 on %2?\n\n%3 → %4 partitions\n\nThis cannot be "
                    "undone, and new messages of a key may go to another partition than its "
                    "old ones.")
                     .arg(m_topic, QString::fromStdString(m_cluster.describe()))
                     .arg(m_current)
                     .arg(total))) {
        setStatus(tr("Cancelled: nothing changed."), false);
        return;
    }
    const std::string name = m_topic.toStdString();
    const int before = m_current;
    run<std::vector<std::int32_t>>(
        tr("Adding partitions…"),
        [name, total](core::KafkaAdmin &admin, std::string *error) {
            if (!admin.createPartitions(name, total, error))
                return std::optional<std::vector<std::int32_t>>();
            // The broker answering the metadata may learn of the new partitions a moment after
            // the controller made them.
            std::optional<std::vector<std::int32_t>> ids;
            for (int attempt = 0; attempt < 20; ++attempt) {
                ids = admin.topicPartitions(name, error);
                if (!ids || int(ids->size()) >= total)
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(250));
            }
            return ids;
        },
        [this, before](std::optional<std::vector<std::int32_t>> ids, const QString &error) {
            if (!ids) {
                report(false, tr("Kafka refused: %1").arg(error));
                return;
            }
            setCurrent(int(ids->size()));
            report(true, tr("Done: %1 had %2 partitions and has %3 now.")
                             .arg(m_topic)
                             .arg(before)
                             .arg(ids->size()));
        });
}

} // namespace studio::ui
