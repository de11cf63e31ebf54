#include "ui/dialogs/topicconfigdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <map>

namespace studio::ui {

namespace {

// Kafka sends each config's documentation (DescribeConfigs v3), but librdkafka 2.0.2 has no
// accessor for it: these are Kafka's own one-line summaries of the topic configs users change
// most (from kafka.apache.org/documentation/#topicconfigs).
const std::map<std::string, const char *> &documentation()
{
    static const std::map<std::string, const char *> docs = {
        {"cleanup.policy", "delete (drop old segments by time or size), compact (keep the latest "
                           "value per key) or both"},
        {"compression.type", "the final compression of the topic's data: uncompressed, gzip, "
                             "snappy, lz4, zstd or producer (keep the producer's)"},
        {"delete.retention.ms", "how long delete tombstones are kept in a compacted topic"},
        {"file.delete.delay.ms", "how long to wait before deleting a file from the file system"},
        {"flush.messages", "force an fsync after this many messages (normally left to the OS)"},
        {"flush.ms", "force an fsync after this many milliseconds (normally left to the OS)"},
        {"max.compaction.lag.ms", "the longest a message stays ineligible for compaction"},
        {"max.message.bytes", "the largest record batch Kafka accepts for this topic"},
        {"message.timestamp.type", "CreateTime (the producer's) or LogAppendTime (the broker's)"},
        {"min.cleanable.dirty.ratio", "how dirty the log must be before the cleaner compacts it"},
        {"min.compaction.lag.ms", "the shortest a message stays uncompacted"},
        {"min.insync.replicas", "the replicas that must acknowledge a write with acks=all"},
        {"preallocate", "preallocate the file on disk when a new segment is created"},
        {"retention.bytes", "the most a partition keeps before old segments are deleted "
                            "(-1: no limit)"},
        {"retention.ms", "how long a message is kept before its segment may be deleted "
                         "(-1: no limit)"},
        {"segment.bytes", "the size of a log segment file"},
        {"segment.ms", "after how long a segment is rolled even when not full"},
        {"unclean.leader.election.enable", "allow an out-of-sync replica to become leader "
                                           "(may lose data)"},
    };
    return docs;
}

QString valueText(const core::TopicConfigEntry &e)
{
    if (e.sensitive)
        return QObject::tr("(sensitive: not shown)");
    return e.hasValue ? QString::fromStdString(e.value) : QObject::tr("(none)");
}

} // namespace

QString TopicConfigDialog::describe(const core::TopicConfigEntry &e)
{
    QStringList lines;
    lines << QStringLiteral("<b>%1</b>").arg(QString::fromStdString(e.name).toHtmlEscaped());
    const auto doc = documentation().find(e.name);
    if (doc != documentation().end())
        lines << QString::fromUtf8(doc->second).toHtmlEscaped();
    lines << tr("Source: %1").arg(QString::fromStdString(e.source));
    if (e.readOnly)
        lines << tr("Read-only: it cannot be changed on a topic.");
    if (e.sensitive)
        lines << tr("Sensitive: Kafka does not send its value.");
    return lines.join(QStringLiteral("<br>"));
}

TopicConfigDialog::TopicConfigDialog(core::ClusterConfig cluster, const QString &topic,
                                     QWidget *parent)
    : AdminDialog(std::move(cluster), topic, parent)
{
    setWindowTitle(tr("Configuration of %1").arg(topic));
    const auto yesNo = [](bool b) {
        return b ? tr("yes") : QString();
    };
    m_model = new TopicConfigModel(
        {
            {tr("Name"),
             [](const core::TopicConfigEntry &e) -> QVariant {
                 return QString::fromStdString(e.name);
             }},
            {tr("Value"),
             [](const core::TopicConfigEntry &e) -> QVariant {
                 return valueText(e);
             }},
            {tr("Source"),
             [](const core::TopicConfigEntry &e) -> QVariant {
                 return QString::fromStdString(e.source);
             }},
            {tr("Read-only"),
             [](const core::TopicConfigEntry &e) -> QVariant { return e.readOnly; },
             [yesNo](const core::TopicConfigEntry &e) {
                 return yesNo(e.readOnly);
             }},
            {tr("Sensitive"),
             [](const core::TopicConfigEntry &e) -> QVariant { return e.sensitive; },
             [yesNo](const core::TopicConfigEntry &e) {
                 return yesNo(e.sensitive);
             }},
        },
        [](const core::TopicConfigEntry &e) { return QString::fromStdString(e.name); }, this);
    m_model->setDecoration([](const core::TopicConfigEntry &e, int role) -> QVariant {
        if (role == Qt::ToolTipRole)
            return describe(e);
        if (role == Qt::FontRole && e.source == "topic override") {
            QFont bold;
            bold.setBold(true);
            return bold; // what this topic sets itself stands out
        }
        return {};
    });
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterKeyColumn(0);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setSortRole(Qt::UserRole);
    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(22);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch); // the value
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAccessibleName(tr("Topic configs"));
    m_table->setToolTip(tr("The topic's configs: bold ones are set on this topic (topic "
                           "override); hover a row for its source and what it does"));
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter by name, e.g. retention"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Filter configs"));
    m_filter->setToolTip(tr("Show only the configs whose name contains this text"));
    m_value = new QLineEdit(this);
    m_value->setAccessibleName(tr("New value"));
    m_value->setToolTip(tr("The new value of the selected config; Kafka checks it"));
    m_apply = new QPushButton(tr("Apply…"), this);
    m_reload = new QPushButton(tr("Reload"), this);
    m_reload->setToolTip(tr("Read the topic's configs from Kafka again"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_reload, QDialogButtonBox::ActionRole);
    buttons->button(QDialogButtonBox::Close)
        ->setToolTip(tr("Close; nothing changes unless you "
                        "confirmed a change"));
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_reload, &QPushButton::clicked, this, &TopicConfigDialog::reload);
    connect(m_apply, &QPushButton::clicked, this, &TopicConfigDialog::apply);
    connect(m_value, &QLineEdit::returnPressed, this, &TopicConfigDialog::apply);
    connect(m_value, &QLineEdit::textChanged, this, [this] { updateControls(); });
    connect(m_filter, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                const QModelIndex source = m_proxy->mapToSource(current);
                m_selected =
                    source.isValid()
                        ? QString::fromStdString(m_model->rows()[std::size_t(source.row())].name)
                        : QString();
                const core::TopicConfigEntry *e = entry(m_selected);
                m_value->setText(e && !e->sensitive ? QString::fromStdString(e->value) : QString());
                updateControls();
            });

    auto *edit = new QHBoxLayout;
    edit->addWidget(m_value, 1);
    edit->addWidget(m_apply);
    auto *form = new QFormLayout;
    form->addRow(tr("Filter"), m_filter);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(
        new QLabel(tr("Topic <b>%1</b> on %2")
                       .arg(topic.toHtmlEscaped(),
                            QString::fromStdString(m_cluster.describe()).toHtmlEscaped()),
                   this));
    layout->addLayout(form);
    layout->addWidget(m_table, 1);
    auto *editForm = new QFormLayout;
    editForm->addRow(tr("New value"), edit);
    layout->addLayout(editForm);
    layout->addWidget(statusLabel());
    layout->addWidget(buttons);
    resize(820, 620);
    updateControls();
    reload();
}

void TopicConfigDialog::setFilter(const QString &text)
{
    m_filter->setText(text);
}

bool TopicConfigDialog::selectConfig(const QString &name)
{
    for (int r = 0; r < m_proxy->rowCount(); ++r) {
        const QModelIndex i = m_proxy->index(r, 0);
        if (i.data().toString() == name) {
            m_table->setCurrentIndex(i);
            return true;
        }
    }
    return false;
}

void TopicConfigDialog::setNewValue(const QString &value)
{
    m_value->setText(value);
}

const core::TopicConfigEntry *TopicConfigDialog::entry(const QString &name) const
{
    for (const core::TopicConfigEntry &e : m_model->rows())
        if (QString::fromStdString(e.name) == name)
            return &e;
    return nullptr;
}

void TopicConfigDialog::updateControls()
{
    const core::TopicConfigEntry *e = entry(m_selected);
    QString why;
    if (embedded().value_or(false))
        why = embeddedReason(tr("describe or alter configs"));
    else if (!e)
        why = tr("Select a config first");
    else if (e->readOnly)
        why = tr("%1 is read-only").arg(m_selected);
    else if (m_value->text().trimmed().isEmpty())
        why = tr("Type the new value");
    else if (!e->sensitive && m_value->text().trimmed() == QString::fromStdString(e->value))
        why = tr("That is the current value");
    m_apply->setEnabled(!isBusy() && why.isEmpty());
    m_apply->setToolTip(why.isEmpty() ? tr("Set %1 on this topic (asks first, shows the old and "
                                           "new value)")
                                            .arg(m_selected)
                                      : why);
    m_value->setEnabled(!embedded().value_or(false) && !(e && e->readOnly));
    m_reload->setEnabled(!isBusy() && !embedded().value_or(false));
}

void TopicConfigDialog::reload()
{
    if (isBusy())
        return;
    const std::string topic = m_topic.toStdString();
    run<std::vector<core::TopicConfigEntry>>(
        tr("Reading the configs of %1…").arg(m_topic),
        [topic](core::KafkaAdmin &admin, std::string *error) {
            return admin.isEmbeddedBroker() ? std::nullopt
                                            : admin.describeTopicConfigs(topic, error);
        },
        [this](std::optional<std::vector<core::TopicConfigEntry>> configs, const QString &error) {
            loaded(std::move(configs), error, QString(), true);
        });
}

void TopicConfigDialog::loaded(std::optional<std::vector<core::TopicConfigEntry>> configs,
                               const QString &error, const QString &afterText, bool afterOk)
{
    if (embedded().value_or(false)) {
        m_model->setRows({});
        report(false, embeddedReason(tr("describe or alter configs (it has no DescribeConfigs "
                                        "or AlterConfigs)")));
        return;
    }
    if (!configs) {
        report(false,
               afterText.isEmpty() ? tr("Could not read the configs: %1").arg(error) : afterText);
        return;
    }
    const int overrides =
        int(std::count_if(configs->begin(), configs->end(), [](const core::TopicConfigEntry &e) {
            return e.source == "topic override";
        }));
    m_model->setRows(std::move(*configs));
    // After a refusal the value typed stays, to be corrected.
    if (const core::TopicConfigEntry *e = entry(m_selected); e && !e->sensitive && afterOk)
        m_value->setText(QString::fromStdString(e->value));
    report(afterOk,
           afterText.isEmpty()
               ? tr("%1 configs, %2 set on this topic.").arg(m_model->rowCount()).arg(overrides)
               : afterText);
}

void TopicConfigDialog::apply()
{
    const core::TopicConfigEntry *e = entry(m_selected);
    if (isBusy() || !e || !m_apply->isEnabled())
        return;
    const QString name = m_selected;
    const QString oldValue = valueText(*e);
    const QString newValue = m_value->text().trimmed();
    if (!confirm(tr("Change %1 of topic %2 on %3?\n\n%1: %4 → %5\n\nThe topic's other settings "
                    "stay as they are.")
                     .arg(name, m_topic, QString::fromStdString(m_cluster.describe()), oldValue,
                          newValue))) {
        setStatus(tr("Change cancelled: nothing changed."), false);
        return;
    }
    struct Answer
    {
        bool altered = false;
        std::string alterError;
        std::optional<std::vector<core::TopicConfigEntry>> configs;
        std::string readError;
    };
    const std::string topic = m_topic.toStdString();
    const std::pair<std::string, std::string> change(name.toStdString(), newValue.toStdString());
    run<Answer>(
        tr("Setting %1 to %2…").arg(name, newValue),
        [topic, change](core::KafkaAdmin &admin, std::string *) {
            Answer a;
            a.altered = admin.alterTopicConfigs(topic, {change}, &a.alterError);
            a.configs = admin.describeTopicConfigs(topic, &a.readError);
            return std::optional<Answer>(std::move(a));
        },
        [this, name, oldValue](std::optional<Answer> a, const QString &error) {
            if (!a) {
                report(false, tr("Not changed: %1").arg(error));
                return;
            }
            QString text;
            if (!a->altered) {
                text =
                    tr("Kafka refused the change: %1").arg(QString::fromStdString(a->alterError));
            } else {
                QString now = tr("(not read back: %1)").arg(QString::fromStdString(a->readError));
                if (a->configs)
                    for (const core::TopicConfigEntry &e : *a->configs)
                        if (QString::fromStdString(e.name) == name)
                            now = tr("%1 (%2)").arg(valueText(e), QString::fromStdString(e.source));
                text = tr("Kafka accepted: %1 was %2, is now %3.").arg(name, oldValue, now);
            }
            loaded(std::move(a->configs), QString::fromStdString(a->readError), text, a->altered);
        });
}

} // namespace studio::ui
