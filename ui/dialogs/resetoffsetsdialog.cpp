#include "ui/dialogs/resetoffsetsdialog.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpressionValidator>
#include <QSet>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace studio::ui {

namespace {

QString offsetText(std::int64_t offset)
{
    return offset < 0 ? QStringLiteral("–") : QLocale().toString(qlonglong(offset));
}

QString rowKey(const core::OffsetResetRow &r)
{
    return QString::fromStdString(r.topic) + QLatin1Char('/') + QString::number(r.partition);
}

constexpr int kMaxConfirmLines = 20;

QString partitionsText(int n)
{
    return n == 1 ? QObject::tr("1 partition") : QObject::tr("%1 partitions").arg(n);
}

} // namespace

QString ResetOffsetsDialog::embeddedTimeReason()
{
    return tr("Not on the embedded broker: librdkafka's mock cannot look offsets up by time.");
}

struct ResetOffsetsDialog::Outcome
{
    bool connected = false;
    bool embedded = false;
    bool ok = false;
    std::optional<core::OffsetResetPlan> plan;
    std::string error;
};

ResetOffsetsDialog::ResetOffsetsDialog(core::ClusterConfig cluster, const QString &group,
                                       const QStringList &topics,
                                       const QList<QPair<QString, int>> &partitions,
                                       QWidget *parent)
    : QDialog(parent)
    , m_cluster(std::move(cluster))
    , m_group(group)
    , m_topics(topics)
{
    setWindowTitle(tr("Reset offsets of %1").arg(group));
    m_confirm = [this](const QString &text) {
        return QMessageBox::question(this, tr("Reset offsets"), text,
                                     QMessageBox::Yes | QMessageBox::Cancel,
                                     QMessageBox::Cancel) == QMessageBox::Yes;
    };

    m_target = new QComboBox(this);
    m_target->addItem(tr("Earliest offset"), Earliest);
    m_target->addItem(tr("Latest offset"), Latest);
    m_target->addItem(tr("Date and time (UTC)"), DateTime);
    m_target->addItem(tr("Offset"), Offset);
    m_target->addItem(tr("Shift by N"), Shift);
    m_target->setAccessibleName(tr("Reset to"));
    m_target->setToolTip(tr("Where the group's committed offsets go: the log's start or end, the "
                            "first message at or after a time, an offset, or N back (negative) or "
                            "forward"));
    m_dateTime = new QDateTimeEdit(QDateTime::currentDateTimeUtc().addSecs(-3600), this);
    m_dateTime->setTimeSpec(Qt::UTC);
    m_dateTime->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    m_dateTime->setCalendarPopup(true);
    m_dateTime->setAccessibleName(tr("Date and time (UTC)"));
    m_dateTime->setToolTip(tr("Each partition goes to its first message at or after this UTC "
                              "time (the log's end when there is none)"));
    m_value = new QLineEdit(this);
    m_value->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("-?[0-9]{0,18}")), m_value));
    m_value->setAccessibleName(tr("Offset or shift"));
    m_value->setToolTip(tr("The offset to go to, or how many messages to move (negative: back, "
                           "to read them again)"));
    m_valueLabel = new QLabel(tr("Value"), this);

    m_all = new QRadioButton(tr("All partitions"), this);
    m_all->setToolTip(tr("Reset every partition of the group's topics"));
    m_only = new QRadioButton(tr("Only the partitions checked below"), this);
    m_only->setToolTip(tr("Reset only the checked partitions; the others keep their offsets"));
    auto *scope = new QButtonGroup(this);
    scope->addButton(m_all);
    scope->addButton(m_only);
    m_all->setChecked(true);
    m_partitions = new QListWidget(this);
    m_partitions->setAccessibleName(tr("Partitions to reset"));
    m_partitions->setToolTip(tr("Check the partitions to reset"));
    m_partitions->setMaximumHeight(64);
    m_partitions->setFlow(QListView::LeftToRight);
    m_partitions->setWrapping(true);
    for (const auto &[topic, partition] : partitions) {
        auto *item = new QListWidgetItem(QStringLiteral("%1 [%2]").arg(topic).arg(partition));
        item->setData(Qt::UserRole, topic);
        item->setData(Qt::UserRole + 1, partition);
        item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
        item->setCheckState(Qt::Unchecked);
        m_partitions->addItem(item);
    }
    m_only->setEnabled(!partitions.isEmpty());

    m_model = new OffsetResetModel(
        {
            {tr("Topic"),
             [](const core::OffsetResetRow &r) -> QVariant {
                 return QString::fromStdString(r.topic);
             }},
            {tr("Partition"),
             [](const core::OffsetResetRow &r) -> QVariant {
                 return r.partition;
             }},
            {tr("Old offset"),
             [](const core::OffsetResetRow &r) -> QVariant { return qlonglong(r.oldOffset); },
             [](const core::OffsetResetRow &r) {
                 return offsetText(r.oldOffset);
             }},
            {tr("New offset"),
             [](const core::OffsetResetRow &r) -> QVariant { return qlonglong(r.newOffset); },
             [](const core::OffsetResetRow &r) {
                 return offsetText(r.newOffset);
             }},
            {tr("Lag after"),
             [](const core::OffsetResetRow &r) -> QVariant { return qlonglong(r.lagAfter); },
             [](const core::OffsetResetRow &r) {
                 return offsetText(r.lagAfter);
             }},
            {tr("Log start"),
             [](const core::OffsetResetRow &r) -> QVariant { return qlonglong(r.low); },
             [](const core::OffsetResetRow &r) {
                 return offsetText(r.low);
             }},
            {tr("Log end"),
             [](const core::OffsetResetRow &r) -> QVariant { return qlonglong(r.high); },
             [](const core::OffsetResetRow &r) {
                 return offsetText(r.high);
             }},
            {tr("Note"),
             [](const core::OffsetResetRow &r) -> QVariant {
                 return QString::fromStdString(r.note);
             }},
        },
        rowKey, this);
    m_model->setDecoration([](const core::OffsetResetRow &r, int role) -> QVariant {
        if (role == Qt::FontRole && r.newOffset >= 0 && r.newOffset != r.oldOffset) {
            QFont bold;
            bold.setBold(true);
            return bold; // what the reset changes stands out
        }
        return {};
    });
    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(22);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAccessibleName(tr("Old and new offsets"));
    m_table->setToolTip(tr("Per partition: the committed offset now, the one the reset commits "
                           "(bold when it changes) and the lag it leaves"));
    m_table->setMinimumHeight(160);

    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);

    m_preview = new QPushButton(tr("Preview"), this);
    m_preview->setToolTip(tr("Dry run: show the old and new offsets and the lag left; nothing "
                             "changes"));
    m_preview->setDefault(true);
    m_reset = new QPushButton(tr("Reset…"), this);
    m_reset->setToolTip(tr("Commit the previewed offsets (asks first)"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_preview, QDialogButtonBox::ActionRole);
    buttons->addButton(m_reset, QDialogButtonBox::ActionRole);
    buttons->button(QDialogButtonBox::Close)
        ->setToolTip(tr("Close; a reset not confirmed "
                        "changes nothing"));
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_preview, &QPushButton::clicked, this, &ResetOffsetsDialog::preview);
    connect(m_reset, &QPushButton::clicked, this, &ResetOffsetsDialog::reset);

    auto *valueRow = new QHBoxLayout;
    valueRow->addWidget(m_dateTime);
    valueRow->addWidget(m_value);
    m_form = new QFormLayout;
    auto *form = m_form;
    form->addRow(tr("Group"),
                 new QLabel(QStringLiteral("<b>%1</b> on %2")
                                .arg(group.toHtmlEscaped(),
                                     QString::fromStdString(m_cluster.describe()).toHtmlEscaped()),
                            this));
    form->addRow(tr("Reset to"), m_target);
    form->addRow(m_valueLabel, valueRow);
    auto *scopeBox = new QVBoxLayout;
    scopeBox->addWidget(m_all);
    scopeBox->addWidget(m_only);
    scopeBox->addWidget(m_partitions);
    form->addRow(tr("Partitions"), scopeBox);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_note);
    layout->addWidget(m_status);
    layout->addWidget(buttons);
    resize(760, 560);

    connect(m_target, &QComboBox::currentIndexChanged, this, [this] { inputsChanged(); });
    connect(m_dateTime, &QDateTimeEdit::dateTimeChanged, this, [this] { inputsChanged(); });
    connect(m_value, &QLineEdit::textChanged, this, [this] { inputsChanged(); });
    connect(m_all, &QRadioButton::toggled, this, [this] { inputsChanged(); });
    connect(m_partitions, &QListWidget::itemChanged, this, [this] { inputsChanged(); });
    inputsChanged();
    run(Job::Connect);
}

void ResetOffsetsDialog::setTarget(Target target)
{
    m_target->setCurrentIndex(m_target->findData(int(target)));
}

void ResetOffsetsDialog::setValueText(const QString &text)
{
    m_value->setText(text);
}

void ResetOffsetsDialog::setDateTime(const QDateTime &utc)
{
    m_dateTime->setDateTime(utc.toUTC());
}

void ResetOffsetsDialog::choosePartitions(const QList<QPair<QString, int>> &chosen)
{
    (chosen.isEmpty() ? m_all : m_only)->setChecked(true);
    for (int i = 0; i < m_partitions->count(); ++i) {
        QListWidgetItem *item = m_partitions->item(i);
        const QPair<QString, int> p(item->data(Qt::UserRole).toString(),
                                    item->data(Qt::UserRole + 1).toInt());
        item->setCheckState(chosen.contains(p) ? Qt::Checked : Qt::Unchecked);
    }
}

std::optional<core::OffsetResetSpec> ResetOffsetsDialog::spec(QString *why) const
{
    core::OffsetResetSpec s;
    const Target target = Target(m_target->currentData().toInt());
    bool ok = true;
    switch (target) {
    case Earliest:
        s.kind = core::OffsetResetSpec::Kind::Earliest;
        break;
    case Latest:
        s.kind = core::OffsetResetSpec::Kind::Latest;
        break;
    case DateTime:
        if (m_embedded.value_or(false)) {
            if (why)
                *why = embeddedTimeReason();
            return std::nullopt;
        }
        s.kind = core::OffsetResetSpec::Kind::Timestamp;
        s.value = m_dateTime->dateTime().toMSecsSinceEpoch();
        break;
    case Offset:
        s.kind = core::OffsetResetSpec::Kind::Offset;
        s.value = m_value->text().toLongLong(&ok);
        if (ok && s.value < 0) {
            if (why)
                *why = tr("An offset is 0 or more.");
            return std::nullopt;
        }
        break;
    case Shift:
        s.kind = core::OffsetResetSpec::Kind::Shift;
        s.value = m_value->text().toLongLong(&ok);
        break;
    }
    if (!ok) {
        if (why)
            *why = target == Offset ? tr("Type the offset to go to.")
                                    : tr("Type how many messages to shift by (negative: back).");
        return std::nullopt;
    }
    return s;
}

QString ResetOffsetsDialog::statusText() const
{
    return m_status->text();
}

void ResetOffsetsDialog::inputsChanged()
{
    const Target target = Target(m_target->currentData().toInt());
    m_dateTime->setVisible(target == DateTime);
    m_value->setVisible(target == Offset || target == Shift);
    m_valueLabel->setText(target == DateTime ? tr("UTC")
                          : target == Offset ? tr("Offset")
                          : target == Shift  ? tr("Shift by")
                                             : QString());
    m_value->setPlaceholderText(target == Shift ? tr("e.g. -100 to read 100 messages again")
                                                : tr("e.g. 0"));
    m_form->setRowVisible(m_valueLabel, target != Earliest && target != Latest);
    m_partitions->setEnabled(m_only->isChecked());
    // A preview describes the inputs it ran with: any change makes it stale.
    if (m_plan) {
        m_plan.reset();
        m_model->setRows({});
        m_refusal.clear();
        setStatus(tr("Changed: press Preview again."), false);
    }
    updateControls();
}

void ResetOffsetsDialog::updateControls()
{
    QString why;
    const bool specOk = spec(&why).has_value();
    bool scopeOk = true;
    if (m_only->isChecked()) {
        scopeOk = false;
        for (int i = 0; i < m_partitions->count(); ++i)
            scopeOk = scopeOk || m_partitions->item(i)->checkState() == Qt::Checked;
        if (!scopeOk)
            why = tr("Check at least one partition.");
    }
    m_preview->setEnabled(!m_busy && specOk && scopeOk);
    m_preview->setToolTip(specOk && scopeOk ? tr("Dry run: show the old and new offsets and the "
                                                 "lag left; nothing changes")
                                            : why);
    const bool anyChange =
        m_plan &&
        std::any_of(m_plan->rows.begin(), m_plan->rows.end(), [](const core::OffsetResetRow &r) {
            return r.newOffset >= 0 && r.newOffset != r.oldOffset;
        });
    m_reset->setEnabled(!m_busy && anyChange && m_refusal.isEmpty());
    m_reset->setToolTip(!m_refusal.isEmpty() ? m_refusal
                        : !m_plan            ? tr("Preview first: Reset commits what the preview "
                                                             "shows")
                        : !anyChange         ? tr("The preview changes nothing")
                                             : tr("Commit the previewed offsets (asks first)"));
    if (m_embedded.value_or(false))
        m_note->setText(tr("Embedded broker: it cannot describe groups, so whether the group has "
                           "active members is not checked (a consumer still running would "
                           "overwrite the new offsets); no reset by date-time."));
}

void ResetOffsetsDialog::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

void ResetOffsetsDialog::preview()
{
    if (!m_busy)
        run(Job::Plan);
}

void ResetOffsetsDialog::reset()
{
    if (m_busy || !m_plan || !m_reset->isEnabled())
        return;
    if (!m_confirm(changesText())) {
        setStatus(tr("Reset cancelled: nothing changed."), false);
        return;
    }
    run(Job::Commit);
}

QString ResetOffsetsDialog::changesText() const
{
    QStringList lines;
    int changed = 0;
    for (const core::OffsetResetRow &r : m_plan->rows) {
        if (r.newOffset < 0 || r.newOffset == r.oldOffset)
            continue;
        if (++changed <= kMaxConfirmLines)
            lines << tr("%1 [%2]: %3 → %4 (lag after: %5)")
                         .arg(QString::fromStdString(r.topic))
                         .arg(r.partition)
                         .arg(offsetText(r.oldOffset), offsetText(r.newOffset),
                              offsetText(r.lagAfter));
    }
    if (changed > kMaxConfirmLines)
        lines << tr("… and %1 more partitions").arg(changed - kMaxConfirmLines);
    QString text = tr("Commit new offsets for group %1 on %2?\n\n%3")
                       .arg(m_group, QString::fromStdString(m_cluster.describe()),
                            lines.join(QLatin1Char('\n')));
    if (m_plan->activeMembers < 0)
        text += tr("\n\nThe group's members are not known here: a consumer still running "
                   "overwrites these offsets with its next commit.");
    return text;
}

void ResetOffsetsDialog::run(Job job)
{
    QString why;
    const std::optional<core::OffsetResetSpec> s =
        job == Job::Connect ? core::OffsetResetSpec{} : spec(&why);
    if (!s) {
        setStatus(why, true);
        return;
    }
    std::vector<std::string> topics;
    for (const QString &t : m_topics)
        topics.push_back(t.toStdString());
    std::vector<std::int32_t> partitions;
    QSet<QPair<QString, int>> chosen;
    if (m_only->isChecked()) {
        QSet<int> numbers;
        for (int i = 0; i < m_partitions->count(); ++i) {
            const QListWidgetItem *item = m_partitions->item(i);
            if (item->checkState() != Qt::Checked)
                continue;
            const int p = item->data(Qt::UserRole + 1).toInt();
            chosen.insert({item->data(Qt::UserRole).toString(), p});
            if (!numbers.contains(p))
                partitions.push_back(p);
            numbers.insert(p);
        }
    }
    m_busy = true;
    updateControls();
    setStatus(job == Job::Commit ? tr("Committing the new offsets…")
              : job == Job::Plan
                  ? tr("Computing the new offsets…")
                  : tr("Connecting to %1…").arg(QString::fromStdString(m_cluster.describe())),
              false);

    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, job] {
        const Outcome o = watcher->result();
        watcher->deleteLater();
        finished(o, job);
    });
    // Everything the task uses is copied into it: a closed dialog neither waits nor is read.
    const std::optional<core::OffsetResetPlan> plan = m_plan;
    const std::string group = m_group.toStdString();
    watcher->setFuture(QtConcurrent::run(
        [cluster = m_cluster, group, topics, partitions, spec = *s, job, plan, chosen] {
            Outcome o;
            core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
            if (!admin.connect(&o.error))
                return o;
            o.connected = true;
            o.embedded = admin.isEmbeddedBroker();
            if (job == Job::Connect) {
                o.ok = true;
                return o;
            }
            if (job == Job::Commit) {
                o.plan = plan;
                o.ok = plan && admin.commitOffsetReset(*plan, &o.error);
                return o;
            }
            o.plan = admin.planOffsetReset(group, topics, partitions, spec, &o.error);
            if (o.plan && !chosen.isEmpty()) {
                // The admin filters by partition number over every topic; keep only the pairs
                // checked.
                auto &rows = o.plan->rows;
                rows.erase(
                    std::remove_if(
                        rows.begin(), rows.end(),
                        [&](const core::OffsetResetRow &r) {
                            return !chosen.contains({QString::fromStdString(r.topic), r.partition});
                        }),
                    rows.end());
            }
            o.ok = o.plan.has_value();
            return o;
        }));
}

void ResetOffsetsDialog::finished(const Outcome &o, Job job)
{
    m_busy = false;
    if (o.connected && !m_embedded) {
        m_embedded = o.embedded;
        if (o.embedded) {
            // What the mock cannot do is off, with the reason, rather than answered wrongly.
            auto *items = qobject_cast<QStandardItemModel *>(m_target->model());
            if (QStandardItem *item = items ? items->item(m_target->findData(DateTime)) : nullptr) {
                item->setEnabled(false);
                item->setToolTip(embeddedTimeReason());
            }
            if (m_target->currentData().toInt() == DateTime)
                setTarget(Earliest);
        }
    }
    const QString error = QString::fromStdString(o.error);
    if (job == Job::Connect) {
        if (o.ok)
            setStatus(tr("Choose where the offsets go and press Preview: nothing changes until "
                         "you confirm a reset."),
                      false);
        else
            setStatus(tr("Cannot connect: %1").arg(error), true);
        updateControls();
        Q_EMIT connected(o.ok);
        return;
    }
    if (job == Job::Commit) {
        const QString message =
            o.ok ? tr("Committed the new offsets of %1 on %2.")
                       .arg(m_group,
                            partitionsText(int(std::count_if(
                                o.plan->rows.begin(), o.plan->rows.end(),
                                [](const core::OffsetResetRow &r) { return r.newOffset >= 0; }))))
                 : tr("Kafka refused the reset: %1").arg(error);
        setStatus(message, !o.ok);
        if (o.ok) {
            // What was committed is now the old offset: a second Reset would change nothing.
            for (core::OffsetResetRow &r : m_plan->rows)
                if (r.newOffset >= 0)
                    r.oldOffset = r.newOffset;
            m_model->setRows(m_plan->rows);
        }
        updateControls();
        Q_EMIT resetDone(o.ok, message);
        return;
    }
    if (!o.ok) {
        m_plan.reset();
        m_model->setRows({});
        setStatus(tr("Preview failed: %1").arg(error), true);
        updateControls();
        Q_EMIT previewDone(false);
        return;
    }
    m_plan = o.plan;
    m_model->setRows(m_plan->rows);
    m_table->resizeColumnsToContents(); // the bold (changing) rows are wider than a first guess
    m_refusal = m_plan->activeMembers > 0
                    ? QString::fromStdString(core::activeGroupRefusal(*m_plan))
                    : QString();
    const int changing = int(
        std::count_if(m_plan->rows.begin(), m_plan->rows.end(), [](const core::OffsetResetRow &r) {
            return r.newOffset >= 0 && r.newOffset != r.oldOffset;
        }));
    QString text =
        tr("Dry run: %1 would change; nothing is committed yet.").arg(partitionsText(changing));
    if (m_plan->activeMembers >= 0)
        text += QLatin1Char(' ') + tr("Group state %1, %2 member(s).")
                                       .arg(QString::fromStdString(m_plan->state))
                                       .arg(m_plan->activeMembers);
    if (!m_refusal.isEmpty())
        text += QLatin1Char(' ') + m_refusal;
    setStatus(text, !m_refusal.isEmpty());
    updateControls();
    Q_EMIT previewDone(true);
}

} // namespace studio::ui
