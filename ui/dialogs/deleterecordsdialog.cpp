#include "ui/dialogs/deleterecordsdialog.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpressionValidator>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace studio::ui {

namespace {

QString offsetText(std::int64_t offset)
{
    return offset < 0 ? QStringLiteral("–") : QLocale().toString(qlonglong(offset));
}

constexpr int kMaxConfirmLines = 20;

} // namespace

DeleteRecordsDialog::DeleteRecordsDialog(core::ClusterConfig cluster, const QString &topic,
                                         std::vector<core::PartitionInfo> partitions,
                                         QWidget *parent)
    : AdminDialog(std::move(cluster), topic, parent)
{
    setWindowTitle(tr("Delete records of %1").arg(topic));
    std::sort(partitions.begin(), partitions.end(),
              [](const core::PartitionInfo &a, const core::PartitionInfo &b) {
                  return a.partition < b.partition;
              });
    m_partition = new QComboBox(this);
    m_partition->addItem(tr("All partitions"), -1);
    for (const core::PartitionInfo &p : partitions)
        m_partition->addItem(tr("Partition %1").arg(p.partition), p.partition);
    m_partition->setAccessibleName(tr("Partition"));
    m_partition->setToolTip(tr("Delete in one partition, or in every partition of the topic"));
    m_toEnd = new QRadioButton(tr("Every record (up to the end offset)"), this);
    m_toEnd->setToolTip(tr("Empties the partitions: their first offset becomes their end "
                           "offset"));
    m_before = new QRadioButton(tr("The records before offset"), this);
    m_before->setToolTip(tr("Deletes the records with a smaller offset than this one"));
    auto *group = new QButtonGroup(this);
    group->addButton(m_toEnd);
    group->addButton(m_before);
    m_before->setChecked(true);
    m_offset = new QLineEdit(this);
    m_offset->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("[0-9]{0,18}")), m_offset));
    m_offset->setPlaceholderText(tr("e.g. 1000"));
    m_offset->setAccessibleName(tr("Before offset"));
    m_offset->setToolTip(tr("Records before this offset are deleted; at most the partition's end "
                            "offset"));

    m_model = new PartitionWatermarkModel(
        {
            {tr("Partition"),
             [](const core::PartitionInfo &p) -> QVariant {
                 return p.partition;
             }},
            {tr("First offset (low)"),
             [](const core::PartitionInfo &p) -> QVariant { return qlonglong(p.low); },
             [](const core::PartitionInfo &p) {
                 return offsetText(p.low);
             }},
            {tr("End offset (high)"),
             [](const core::PartitionInfo &p) -> QVariant { return qlonglong(p.high); },
             [](const core::PartitionInfo &p) {
                 return offsetText(p.high);
             }},
            {tr("Messages"),
             [](const core::PartitionInfo &p) -> QVariant {
                 return qlonglong(p.low >= 0 && p.high >= 0 ? p.high - p.low : -1);
             },
             [](const core::PartitionInfo &p) {
                 return offsetText(p.low >= 0 && p.high >= 0 ? p.high - p.low : -1);
             }},
        },
        [](const core::PartitionInfo &p) { return QString::number(p.partition); }, this);
    m_model->setRows(std::move(partitions));
    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(22);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAccessibleName(tr("Partitions and their offsets"));
    m_table->setToolTip(tr("Each partition's first and end offset: as the monitor last read "
                           "them, then as Kafka answered the deletion"));

    m_delete = new QPushButton(tr("Delete records…"), this);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_delete, QDialogButtonBox::DestructiveRole);
    buttons->button(QDialogButtonBox::Close)
        ->setToolTip(tr("Close; nothing is deleted unless "
                        "you confirmed"));
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_delete, &QPushButton::clicked, this, &DeleteRecordsDialog::deleteRecords);
    connect(m_partition, &QComboBox::currentIndexChanged, this, [this] { updateControls(); });
    connect(m_toEnd, &QRadioButton::toggled, this, [this] { updateControls(); });
    connect(m_offset, &QLineEdit::textChanged, this, [this] { updateControls(); });

    auto *offsetRow = new QHBoxLayout;
    offsetRow->addWidget(m_before);
    offsetRow->addWidget(m_offset, 1);
    auto *what = new QVBoxLayout;
    what->addLayout(offsetRow);
    what->addWidget(m_toEnd);
    auto *form = new QFormLayout;
    form->addRow(tr("Topic"),
                 new QLabel(QStringLiteral("<b>%1</b> on %2")
                                .arg(topic.toHtmlEscaped(),
                                     QString::fromStdString(m_cluster.describe()).toHtmlEscaped()),
                            this));
    form->addRow(tr("Partition"), m_partition);
    form->addRow(tr("Delete"), what);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_table, 1);
    layout->addWidget(statusLabel());
    layout->addWidget(buttons);
    resize(620, 440);
    updateControls();
    connectNow(tr("Deleted records cannot be read again by anyone. Choose the partition and the "
                  "offset; you confirm before anything goes."),
               embeddedReason(tr("delete records (it has no DeleteRecords)")));
}

void DeleteRecordsDialog::setPartition(int partition)
{
    m_partition->setCurrentIndex(std::max(0, m_partition->findData(partition)));
}

void DeleteRecordsDialog::setBeforeOffset(qint64 offset)
{
    (offset < 0 ? m_toEnd : m_before)->setChecked(true);
    m_offset->setText(offset < 0 ? QString() : QString::number(offset));
}

qint64 DeleteRecordsDialog::beforeOffset() const
{
    if (m_toEnd->isChecked())
        return -1;
    bool ok = false;
    const qint64 offset = m_offset->text().toLongLong(&ok);
    return ok ? offset : -2;
}

std::vector<std::int32_t> DeleteRecordsDialog::chosen(QString *why) const
{
    std::vector<std::int32_t> out;
    const int partition = m_partition->currentData().toInt();
    for (const core::PartitionInfo &p : m_model->rows())
        if (partition < 0 || p.partition == partition)
            out.push_back(p.partition);
    const qint64 offset = beforeOffset();
    if (embedded().value_or(false))
        *why = embeddedReason(tr("delete records"));
    else if (!embedded())
        *why = connectFailed() ? tr("Not connected: see the message below") : tr("Connecting…");
    else if (out.empty())
        *why = tr("The topic's partitions are not known yet");
    else if (offset == -2)
        *why = tr("Type the offset to delete up to, or choose every record");
    return out;
}

void DeleteRecordsDialog::updateControls()
{
    QString why;
    chosen(&why);
    m_offset->setEnabled(m_before->isChecked());
    m_delete->setEnabled(!isBusy() && why.isEmpty());
    m_delete->setToolTip(why.isEmpty() ? tr("Delete the records (asks first, listing what goes)")
                                       : why);
}

void DeleteRecordsDialog::deleteRecords()
{
    QString why;
    const std::vector<std::int32_t> partitions = chosen(&why);
    if (isBusy() || !why.isEmpty())
        return;
    const qint64 offset = beforeOffset();
    QStringList lines;
    int listed = 0;
    for (const core::PartitionInfo &p : m_model->rows()) {
        if (std::find(partitions.begin(), partitions.end(), p.partition) == partitions.end())
            continue;
        if (++listed > kMaxConfirmLines)
            continue;
        const std::int64_t to = offset < 0 ? p.high : offset;
        lines << tr("partition %1: first offset %2 → %3 (%4 records go)")
                     .arg(p.partition)
                     .arg(offsetText(p.low), offsetText(to),
                          p.low >= 0 && to >= p.low ? offsetText(to - p.low) : tr("up to"));
    }
    if (listed > kMaxConfirmLines)
        lines << tr("… and %1 more partitions").arg(listed - kMaxConfirmLines);
    if (!confirm(tr("Delete records of topic %1 on %2?\n\n%3\n\nDeleted records cannot be read "
                    "again by anyone (offsets as last read; Kafka deletes up to the offset "
                    "given).")
                     .arg(m_topic, QString::fromStdString(m_cluster.describe()),
                          lines.join(QLatin1Char('\n'))))) {
        setStatus(tr("Cancelled: nothing deleted."), false);
        return;
    }
    const std::string name = m_topic.toStdString();
    // All partitions: send them explicitly, so a partition added since is not touched.
    run<std::vector<core::DeletedRecords>>(
        tr("Deleting records…"),
        [name, partitions, offset](core::KafkaAdmin &admin, std::string *error) {
            return admin.deleteRecords(name, partitions, offset, error);
        },
        [this](std::optional<std::vector<core::DeletedRecords>> result, const QString &error) {
            if (!result) {
                report(false, tr("Kafka refused: %1").arg(error));
                return;
            }
            std::vector<core::PartitionInfo> rows = m_model->rows();
            QStringList done, failed;
            for (const core::DeletedRecords &d : *result) {
                if (!d.error.empty()) {
                    failed << tr("partition %1: %2")
                                  .arg(d.partition)
                                  .arg(QString::fromStdString(d.error));
                    continue;
                }
                for (core::PartitionInfo &p : rows)
                    if (p.partition == d.partition) {
                        p.low = d.lowWatermark;
                        p.high = std::max(p.high, d.lowWatermark);
                    }
                done << tr("partition %1 now starts at %2")
                            .arg(d.partition)
                            .arg(offsetText(d.lowWatermark));
            }
            m_model->setRows(std::move(rows));
            QString text = done.isEmpty() ? QString()
                                          : tr("Deleted: %1.").arg(done.join(QStringLiteral("; ")));
            if (!failed.isEmpty())
                text += (text.isEmpty() ? QString() : QStringLiteral(" ")) +
                        tr("Kafka refused %1.").arg(failed.join(QStringLiteral("; ")));
            report(failed.isEmpty(), text);
        });
}

} // namespace studio::ui
