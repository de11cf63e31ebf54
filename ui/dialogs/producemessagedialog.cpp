#include "ui/dialogs/producemessagedialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <map>

namespace studio::ui {

// ---- HeaderModel ------------------------------------------------------------------------------

int HeaderModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int HeaderModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HeaderModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    if (role != Qt::DisplayRole && role != Qt::EditRole)
        return {};
    const auto &row = m_rows[std::size_t(index.row())];
    return index.column() == Name ? row.first : row.second;
}

bool HeaderModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (role != Qt::EditRole ||
        !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    auto &row = m_rows[std::size_t(index.row())];
    (index.column() == Name ? row.first : row.second) = value.toString();
    Q_EMIT dataChanged(index, index, {Qt::DisplayRole, Qt::EditRole});
    return true;
}

Qt::ItemFlags HeaderModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsEditable;
}

QVariant HeaderModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::DisplayRole)
        return section == Name ? tr("Header") : tr("Value");
    return QAbstractTableModel::headerData(section, orientation, role);
}

void HeaderModel::addHeader(const QString &name, const QString &value)
{
    const int row = int(m_rows.size());
    beginInsertRows({}, row, row);
    m_rows.emplace_back(name, value);
    endInsertRows();
}

void HeaderModel::removeHeader(int row)
{
    if (row < 0 || row >= int(m_rows.size()))
        return;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
}

std::vector<std::pair<std::string, std::string>> HeaderModel::headers() const
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto &[name, value] : m_rows)
        if (!name.trimmed().isEmpty())
            out.emplace_back(name.trimmed().toStdString(), value.toStdString());
    return out;
}

// ---- ProduceMessageDialog ---------------------------------------------------------------------

namespace {

struct Outcome
{
    std::optional<std::vector<core::DeliveryReport>> reports;
    std::string error;
};

} // namespace

ProduceMessageDialog::ProduceMessageDialog(core::ClusterConfig cluster, const QString &topic,
                                           int partitions, QWidget *parent)
    : QDialog(parent)
    , m_cluster(std::move(cluster))
{
    setWindowTitle(tr("Produce a message to %1").arg(topic));
    m_topic = new QLineEdit(topic, this);
    m_topic->setAccessibleName(tr("Topic"));
    m_topic->setToolTip(tr("The topic to produce to"));
    m_partition = new QComboBox(this);
    m_partition->addItem(tr("By key (spread when there is none)"), -1);
    for (int p = 0; p < partitions; ++p)
        m_partition->addItem(tr("Partition %1").arg(p), p);
    m_partition->setAccessibleName(tr("Partition"));
    m_partition->setToolTip(tr("A fixed partition, or the one the producer's partitioner picks "
                               "from the key"));
    m_key = new QLineEdit(this);
    m_key->setPlaceholderText(tr("no key"));
    m_key->setAccessibleName(tr("Key"));
    m_key->setToolTip(tr("The message key; empty sends a message without a key"));
    m_mode = new QComboBox(this);
    m_mode->addItem(tr("JSON"), true);
    m_mode->addItem(tr("Text"), false);
    m_mode->setAccessibleName(tr("Value format"));
    m_mode->setToolTip(tr("JSON is checked before it is sent; text goes as typed"));
    m_value = new QPlainTextEdit(this);
    m_value->setAccessibleName(tr("Value"));
    m_value->setToolTip(tr("The message value (UTF-8)"));
    m_value->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_value->setPlainText(QStringLiteral("{}"));
    m_format = new QPushButton(tr("Format"), this);
    m_format->setToolTip(tr("Pretty-print the JSON value (its keys come out sorted)"));
    m_valueCheck = new QLabel(this);
    m_valueCheck->setWordWrap(true);

    m_headers = new HeaderModel(this);
    m_headerView = new QTableView(this);
    m_headerView->setModel(m_headers);
    m_headerView->verticalHeader()->hide();
    m_headerView->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_headerView->setMaximumHeight(110);
    m_headerView->setAccessibleName(tr("Headers"));
    m_headerView->setToolTip(tr("The message's headers: double-click a cell to edit it; rows "
                                "without a name are not sent"));
    m_addHeader = new QPushButton(tr("Add header"), this);
    m_addHeader->setToolTip(tr("Add a header row"));
    m_removeHeader = new QPushButton(tr("Remove header"), this);
    m_removeHeader->setToolTip(tr("Remove the selected header row"));
    m_copies = new QSpinBox(this);
    m_copies->setRange(1, 100'000);
    m_copies->setAccessibleName(tr("Copies"));
    m_copies->setToolTip(tr("How many copies of the message to produce"));

    m_setTimestamp = new QCheckBox(tr("Set"), this);
    m_setTimestamp->setToolTip(tr("Give the message this timestamp (CreateTime); unchecked, the "
                                  "producer stamps it with the time it is sent"));
    m_timestamp = new QDateTimeEdit(QDateTime::currentDateTimeUtc(), this);
    m_timestamp->setTimeSpec(Qt::UTC);
    m_timestamp->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    m_timestamp->setCalendarPopup(true);
    m_timestamp->setEnabled(false);
    m_timestamp->setAccessibleName(tr("Timestamp (UTC)"));
    m_timestamp->setToolTip(tr("The message's timestamp, UTC (a topic with "
                               "message.timestamp.type=LogAppendTime replaces it)"));
    connect(m_setTimestamp, &QCheckBox::toggled, m_timestamp, &QWidget::setEnabled);

    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_produce = new QPushButton(tr("Produce"), this);
    m_produce->setDefault(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_produce, QDialogButtonBox::ActionRole);
    buttons->button(QDialogButtonBox::Close)->setToolTip(tr("Close the dialog"));
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_produce, &QPushButton::clicked, this, &ProduceMessageDialog::produce);
    connect(m_format, &QPushButton::clicked, this, &ProduceMessageDialog::formatValue);
    connect(m_addHeader, &QPushButton::clicked, this, [this] {
        m_headers->addHeader();
        m_headerView->edit(m_headers->index(m_headers->rowCount() - 1, HeaderModel::Name));
    });
    connect(m_removeHeader, &QPushButton::clicked, this,
            [this] { m_headers->removeHeader(m_headerView->currentIndex().row()); });

    auto *valueBar = new QHBoxLayout;
    valueBar->addWidget(m_mode);
    valueBar->addWidget(m_format);
    valueBar->addStretch();
    auto *headerBar = new QHBoxLayout;
    headerBar->addWidget(m_addHeader);
    headerBar->addWidget(m_removeHeader);
    headerBar->addStretch();
    auto *headerBox = new QVBoxLayout;
    headerBox->addWidget(m_headerView);
    headerBox->addLayout(headerBar);
    auto *form = new QFormLayout;
    form->addRow(tr("Topic"), m_topic);
    form->addRow(tr("Partition"), m_partition);
    form->addRow(tr("Key"), m_key);
    form->addRow(tr("Value"), valueBar);
    form->addRow(m_value);
    form->addRow(m_valueCheck);
    form->addRow(tr("Headers"), headerBox);
    auto *timestampRow = new QHBoxLayout;
    timestampRow->addWidget(m_setTimestamp);
    timestampRow->addWidget(m_timestamp, 1);
    form->addRow(tr("Timestamp (UTC)"), timestampRow);
    form->addRow(tr("Copies"), m_copies);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form, 1);
    layout->addWidget(m_status);
    layout->addWidget(buttons);
    resize(640, 640);

    connect(m_value, &QPlainTextEdit::textChanged, this, [this] { validate(); });
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this] { validate(); });
    connect(m_topic, &QLineEdit::textChanged, this, [this] { validate(); });
    validate();
}

void ProduceMessageDialog::setJson(bool json)
{
    m_mode->setCurrentIndex(m_mode->findData(json));
}

void ProduceMessageDialog::setValue(const QString &value)
{
    m_value->setPlainText(value);
}

void ProduceMessageDialog::setKey(const QString &key)
{
    m_key->setText(key);
}

void ProduceMessageDialog::setPartition(int partition)
{
    m_partition->setCurrentIndex(std::max(0, m_partition->findData(partition)));
}

void ProduceMessageDialog::setCopies(int copies)
{
    m_copies->setValue(copies);
}

void ProduceMessageDialog::setTimestamp(const QDateTime &utc)
{
    m_setTimestamp->setChecked(utc.isValid());
    if (utc.isValid())
        m_timestamp->setDateTime(utc.toUTC());
}

QString ProduceMessageDialog::value() const
{
    return m_value->toPlainText();
}

QString ProduceMessageDialog::statusText() const
{
    return m_status->text();
}

core::ProduceRequest ProduceMessageDialog::request(QString *why) const
{
    core::ProduceRequest r;
    r.topic = m_topic->text().trimmed().toStdString();
    r.partition = m_partition->currentData().toInt();
    if (!m_key->text().isEmpty())
        r.key = m_key->text().toStdString();
    r.value = value().toStdString();
    r.headers = m_headers->headers();
    r.copies = m_copies->value();
    r.timestampMs = m_setTimestamp->isChecked() ? m_timestamp->dateTime().toMSecsSinceEpoch() : 0;
    if (why) {
        why->clear();
        if (r.topic.empty()) {
            *why = tr("Name the topic.");
        } else if (m_mode->currentData().toBool()) {
            QJsonParseError error;
            QJsonDocument::fromJson(value().toUtf8(), &error);
            if (error.error != QJsonParseError::NoError) {
                // The line and column of the byte offset Qt reports.
                const QByteArray bytes = value().toUtf8().left(error.offset);
                const int line = int(bytes.count('\n')) + 1;
                const int column = int(bytes.size() - bytes.lastIndexOf('\n'));
                *why = tr("Not valid JSON: %1 at line %2, column %3 (choose Text to send it "
                          "as it is).")
                           .arg(error.errorString())
                           .arg(line)
                           .arg(column);
            }
        }
    }
    return r;
}

void ProduceMessageDialog::validate()
{
    QString why;
    request(&why);
    const bool json = m_mode->currentData().toBool();
    m_format->setEnabled(json && why.isEmpty());
    m_valueCheck->setText(why.isEmpty() ? (json ? tr("Valid JSON.") : QString()) : why);
    m_valueCheck->setStyleSheet(why.isEmpty() ? QString() : QStringLiteral("color: #c62828;"));
    m_produce->setEnabled(!m_busy && why.isEmpty());
    m_produce->setToolTip(why.isEmpty() ? tr("Send the message (acks=all) and show where it went")
                                        : why);
}

void ProduceMessageDialog::formatValue()
{
    const QJsonDocument doc = QJsonDocument::fromJson(value().toUtf8());
    if (doc.isNull())
        return;
    m_value->setPlainText(QString::fromUtf8(doc.toJson(QJsonDocument::Indented)).trimmed());
}

void ProduceMessageDialog::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

void ProduceMessageDialog::produce()
{
    QString why;
    const core::ProduceRequest r = request(&why);
    if (m_busy || !why.isEmpty())
        return;
    m_busy = true;
    validate();
    setStatus(r.copies == 1 ? tr("Sending…") : tr("Sending %1 copies…").arg(r.copies), false);
    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher] {
        const Outcome o = watcher->result();
        watcher->deleteLater();
        m_busy = false;
        validate();
        QString message;
        bool ok = o.reports.has_value();
        if (!ok) {
            message = tr("Not sent: %1").arg(QString::fromStdString(o.error));
        } else {
            // One line per partition: "partition 1: offset 5" or "offsets 5–7".
            std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> spans;
            QStringList failures;
            for (const core::DeliveryReport &d : *o.reports) {
                if (!d.error.empty()) {
                    failures << QString::fromStdString(d.error);
                    continue;
                }
                auto [it, fresh] = spans.try_emplace(d.partition, d.offset, d.offset);
                if (!fresh) {
                    it->second.first = std::min(it->second.first, d.offset);
                    it->second.second = std::max(it->second.second, d.offset);
                }
            }
            QStringList where;
            for (const auto &[partition, span] : spans)
                where << (span.first == span.second
                              ? tr("partition %1, offset %2").arg(partition).arg(span.first)
                              : tr("partition %1, offsets %2–%3")
                                    .arg(partition)
                                    .arg(span.first)
                                    .arg(span.second));
            const int delivered = int(o.reports->size()) - int(failures.size());
            message = tr("Delivered %1 of %2: %3")
                          .arg(delivered)
                          .arg(o.reports->size())
                          .arg(where.join(QStringLiteral("; ")));
            if (!failures.isEmpty()) {
                ok = false;
                failures.removeDuplicates();
                message +=
                    QLatin1Char(' ') + tr("Failed: %1").arg(failures.join(QStringLiteral("; ")));
            }
        }
        setStatus(message, !ok);
        Q_EMIT produced(ok, message);
    });
    watcher->setFuture(QtConcurrent::run([cluster = m_cluster, r] {
        Outcome o;
        core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
        if (admin.connect(&o.error))
            o.reports = admin.produce(r, &o.error);
        return o;
    }));
}

} // namespace studio::ui
