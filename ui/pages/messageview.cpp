#include "ui/pages/messageview.h"

#include "core/kafka/messagebrowser.h"
#include "core/store/reporttable.h"
#include "ui/models/kafkamodels.h"
#include "ui/models/messagemodel.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QRegularExpressionValidator>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <sstream>

namespace studio::ui {

namespace {

struct ReadOutcome
{
    bool ok = false;
    bool timedOut = false;
    std::string error;
    std::vector<core::BrowsedMessage> messages;
    std::string note;
};

// The shown rows (view order) as a report: what Export writes and Copy puts on the clipboard.
core::ReportData reportOf(const MessageModel &model, const QSortFilterProxyModel &proxy,
                          const QList<int> &onlyRows)
{
    core::ReportData report;
    report.columns = {"topic", "partition", "offset", "timestamp", "key", "value"};
    report.textColumn = {true, false, false, false, true, true};
    const auto add = [&](int proxyRow) {
        const MessageRow *r = model.rowAt(proxy.mapToSource(proxy.index(proxyRow, 0)).row());
        if (!r)
            return;
        report.rows.push_back({r->topic.toStdString(), std::to_string(r->partition),
                               std::to_string(r->offset),
                               MessageModel::isoTime(r->timestampMs).toStdString(),
                               r->key.toStdString(), r->value.toStdString()});
    };
    if (onlyRows.isEmpty())
        for (int i = 0; i < proxy.rowCount(); ++i)
            add(i);
    else
        for (int i : onlyRows)
            add(i);
    return report;
}

} // namespace

MessageView::MessageView(const core::ClusterConfig &cluster, QWidget *parent)
    : QWidget(parent)
    , m_browser(std::make_shared<core::MessageBrowser>(cluster))
{
    m_model = new MessageModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(kSortRole);

    m_topic = new QComboBox(this);
    m_topic->setMinimumContentsLength(18);
    m_topic->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_partition = new QComboBox(this);
    m_partition->addItem(tr("All partitions"), -1);
    m_mode = new QComboBox(this);
    m_mode->addItem(tr("Last N"), int(Mode::LastN));
    m_mode->addItem(tr("From offset"), int(Mode::FromOffset));
    m_mode->addItem(tr("From timestamp"), int(Mode::FromTimestamp));
    m_mode->addItem(tr("Live tail"), int(Mode::LiveTail));
    m_count = new QSpinBox(this);
    m_count->setRange(1, 100'000);
    m_count->setValue(100);
    m_count->setPrefix(tr("N = "));
    // Offsets pass 2^31 on a busy partition: a 64-bit field, not a QSpinBox.
    m_offset = new QLineEdit(QStringLiteral("0"), this);
    m_offset->setValidator(new QRegularExpressionValidator(
        QRegularExpression(QStringLiteral("[0-9]{1,18}")), m_offset));
    m_offset->setPlaceholderText(tr("offset"));
    m_offset->setToolTip(tr("First offset to read (clamped to the low watermark)"));
    m_offset->setMaximumWidth(140);
    m_time = new QDateTimeEdit(this);
    m_time->setTimeSpec(Qt::UTC);
    m_time->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
    m_time->setDateTime(QDateTime::currentDateTimeUtc().addSecs(-600));
    m_read = new QPushButton(tr("Read"), this);
    m_read->setDefault(true);
    m_stop = new QPushButton(tr("Stop tail"), this);
    m_stop->setEnabled(false);
    m_needle = new QLineEdit(this);
    m_needle->setPlaceholderText(tr("Search key, value and headers…"));
    m_needle->setClearButtonEnabled(true);
    m_search = new QPushButton(tr("Search"), this);
    m_copy = new QPushButton(tr("Copy"), this);
    m_export = new QPushButton(tr("Export CSV…"), this);
    m_status = new QLabel(this);

    m_view = new QTableView(this);
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // as read: by partition, then offset
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(22);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setColumnWidth(MessageModel::Partition, 70);
    m_view->setColumnWidth(MessageModel::Offset, 80);
    m_view->setColumnWidth(MessageModel::Timestamp, 190);
    m_view->setColumnWidth(MessageModel::Key, 140);
    m_view->setWordWrap(false);
    m_detail = new QPlainTextEdit(this);
    m_detail->setReadOnly(true);
    m_detail->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_detail->setPlaceholderText(tr("Select a message to see it in full."));

    auto *row1 = new QHBoxLayout;
    row1->addWidget(new QLabel(tr("Topic"), this));
    row1->addWidget(m_topic);
    row1->addWidget(m_partition);
    row1->addWidget(m_mode);
    row1->addWidget(m_count);
    row1->addWidget(m_offset);
    row1->addWidget(m_time);
    row1->addWidget(m_read);
    row1->addWidget(m_stop);
    row1->addStretch();
    auto *row2 = new QHBoxLayout;
    row2->addWidget(m_needle, 1);
    row2->addWidget(m_search);
    row2->addSpacing(16);
    row2->addWidget(m_copy);
    row2->addWidget(m_export);
    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_detail);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(row1);
    layout->addLayout(row2);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);

    connect(m_mode, &QComboBox::currentIndexChanged, this, [this] { updateModeWidgets(); });
    connect(m_topic, &QComboBox::currentIndexChanged, this, [this] { updatePartitions(); });
    connect(m_read, &QPushButton::clicked, this, &MessageView::read);
    connect(m_stop, &QPushButton::clicked, this, &MessageView::stopTail);
    connect(m_search, &QPushButton::clicked, this, [this] { search(m_needle->text()); });
    connect(m_needle, &QLineEdit::returnPressed, this, [this] { search(m_needle->text()); });
    connect(m_copy, &QPushButton::clicked, this, &MessageView::copyToClipboard);
    connect(m_export, &QPushButton::clicked, this, &MessageView::chooseExportFile);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this] { showDetail(); });
    updateModeWidgets();
}

MessageView::~MessageView()
{
    // Stopping joins the tail's thread, which may sit in a metadata request: not on the GUI
    // thread. The task holds the browser, so it lives until then.
    std::shared_ptr<core::MessageBrowser> browser = m_browser;
    chainTailOp([browser] {
        browser->stopTail();
        return std::string();
    });
}

QFuture<std::string> MessageView::chainTailOp(std::function<std::string()> op)
{
    // startTail()/stopTail() join the previous tail's thread: off the GUI thread, in order.
    m_tailOp = m_tailOp.then(QtFuture::Launch::Async,
                             [op = std::move(op)](const std::string &) { return op(); });
    return m_tailOp;
}

void MessageView::setTopics(const core::ClusterSnapshot &snapshot)
{
    m_partitionCounts.clear();
    m_highs.clear();
    QStringList names;
    for (const core::TopicInfo &t : snapshot.topics) {
        m_partitionCounts[t.name] = int(t.partitions.size());
        for (const core::PartitionInfo &p : t.partitions)
            m_highs[t.name][p.partition] = p.high;
        names << QString::fromStdString(t.name);
    }
    QStringList current;
    for (int i = 0; i < m_topic->count(); ++i)
        current << m_topic->itemText(i);
    if (current != names) {
        const QString keep = m_topic->currentText();
        QSignalBlocker block(m_topic);
        m_topic->clear();
        m_topic->addItems(names);
        const int i = m_topic->findText(keep);
        m_topic->setCurrentIndex(i >= 0 ? i : 0);
    }
    updatePartitions();
}

void MessageView::setTopic(const QString &topic)
{
    int i = m_topic->findText(topic);
    if (i < 0) {
        m_topic->addItem(topic);
        i = m_topic->count() - 1;
    }
    m_topic->setCurrentIndex(i);
    updatePartitions();
}

QString MessageView::topic() const
{
    return m_topic->currentText();
}

void MessageView::setPartition(int partition)
{
    const int i = m_partition->findData(partition);
    if (i >= 0) {
        m_partition->setCurrentIndex(i);
    } else {
        m_partition->addItem(tr("Partition %1").arg(partition), partition);
        m_partition->setCurrentIndex(m_partition->count() - 1);
    }
}

int MessageView::partition() const
{
    return m_partition->currentData().toInt();
}

void MessageView::setMode(Mode mode)
{
    m_mode->setCurrentIndex(m_mode->findData(int(mode)));
}

MessageView::Mode MessageView::mode() const
{
    return Mode(m_mode->currentData().toInt());
}

void MessageView::setCount(int n)
{
    m_count->setValue(n);
}

void MessageView::setOffset(qint64 offset)
{
    m_offset->setText(QString::number(std::max<qint64>(0, offset)));
}

void MessageView::setTimestamp(const QDateTime &utc)
{
    m_time->setDateTime(utc.toUTC());
}

void MessageView::updateModeWidgets()
{
    const Mode m = mode();
    m_count->setVisible(m == Mode::LastN || m == Mode::FromOffset || m == Mode::FromTimestamp);
    m_count->setPrefix(m == Mode::LastN ? tr("last ") : tr("max "));
    m_offset->setVisible(m == Mode::FromOffset);
    m_time->setVisible(m == Mode::FromTimestamp);
    m_read->setText(m == Mode::LiveTail ? tr("Start tail") : tr("Read"));
}

void MessageView::updatePartitions()
{
    const auto it = m_partitionCounts.find(topic().toStdString());
    const int count = it == m_partitionCounts.end() ? 0 : it->second;
    if (m_partition->count() == count + 1)
        return;
    const int keep = partition();
    QSignalBlocker block(m_partition);
    m_partition->clear();
    m_partition->addItem(tr("All partitions"), -1);
    for (int p = 0; p < count; ++p)
        m_partition->addItem(tr("Partition %1").arg(p), p);
    const int i = m_partition->findData(keep);
    m_partition->setCurrentIndex(i >= 0 ? i : 0);
}

void MessageView::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

void MessageView::read()
{
    const std::string topicName = topic().toStdString();
    if (topicName.empty()) {
        setStatus(tr("Choose a topic first."), true);
        return;
    }
    const Mode m = mode();
    const std::int32_t part = partition();
    if (m == Mode::LiveTail) {
        std::map<std::int32_t, std::int64_t> from;
        if (part >= 0) {
            // One partition from its end as the cluster view last saw it; when that is unknown
            // every partition is tailed and the others filtered out.
            const auto t = m_highs.find(topicName);
            if (t != m_highs.end()) {
                const auto h = t->second.find(part);
                if (h != t->second.end() && h->second >= 0)
                    from[part] = h->second;
            }
        }
        ++m_readSeq; // a one-shot read still running must not replace the tail's rows
        m_tailPartition = part;
        m_tailStarting = true; // until the new tail exists, the old ring is not read
        m_model->clear();
        m_detail->clear();
        m_stop->setEnabled(true);
        const quint64 tailGen = ++m_tailGen;
        auto *watcher = new QFutureWatcher<std::string>(this);
        connect(watcher, &QFutureWatcher<std::string>::finished, this, [this, watcher, tailGen] {
            const std::string error = watcher->result();
            watcher->deleteLater();
            if (tailGen != m_tailGen)
                return; // stopped or restarted meanwhile
            m_tailStarting = false;
            m_tailSeq = 0; // a new tail numbers its messages from 1
            if (!error.empty()) {
                m_stop->setEnabled(false);
                setStatus(QString::fromStdString(error), true);
            }
        });
        std::shared_ptr<core::MessageBrowser> browser = m_browser;
        watcher->setFuture(chainTailOp([browser, topicName, from] {
            std::string error;
            return browser->startTail(topicName, from, &error) ? std::string() : error;
        }));
        setStatus(tr("Tailing %1…").arg(topic()), false);
        return;
    }
    stopTail();
    const std::size_t n = std::size_t(m_count->value());
    const std::int64_t offset = m_offset->text().toLongLong();
    const std::int64_t timeMs = m_time->dateTime().toMSecsSinceEpoch();
    const quint64 seq = ++m_readSeq;
    m_read->setEnabled(false);
    setStatus(tr("Reading…"), false);
    auto *watcher = new QFutureWatcher<ReadOutcome>(this);
    connect(watcher, &QFutureWatcher<ReadOutcome>::finished, this, [this, watcher, seq] {
        ReadOutcome o = watcher->result();
        watcher->deleteLater();
        m_read->setEnabled(true);
        if (seq != m_readSeq)
            return;
        m_model->setMessages(o.messages);
        m_detail->clear();
        QString message = o.ok ? tr("%n message(s)", nullptr, int(o.messages.size()))
                               : QString::fromStdString(o.error);
        if (o.ok && !o.note.empty())
            message += QStringLiteral("; ") + QString::fromStdString(o.note);
        if (o.timedOut)
            message += tr(" (timed out: partial)");
        setStatus(message, !o.ok);
        Q_EMIT readFinished(o.ok, int(o.messages.size()), message);
    });
    std::shared_ptr<core::MessageBrowser> browser = m_browser;
    watcher->setFuture(QtConcurrent::run([browser, topicName, part, m, n, offset, timeMs] {
        core::BrowseResult r;
        if (m == Mode::LastN)
            r = browser->readLast(topicName, part, n);
        else if (m == Mode::FromOffset)
            r = browser->readFromOffset(topicName, part, offset, n);
        else
            r = browser->readFromTimestamp(topicName, part, timeMs, n);
        ReadOutcome o;
        o.ok = r.ok;
        o.timedOut = r.timedOut;
        o.error = r.error;
        o.messages = std::move(r.messages);
        return o;
    }));
}

void MessageView::search(const QString &needle)
{
    const std::string topicName = topic().toStdString();
    if (topicName.empty() || needle.isEmpty()) {
        setStatus(topicName.empty() ? tr("Choose a topic first.") : tr("Type what to search."),
                  true);
        return;
    }
    stopTail();
    core::SearchOptions options;
    options.needle = needle.toStdString();
    options.partition = partition();
    const quint64 seq = ++m_readSeq;
    m_search->setEnabled(false);
    setStatus(tr("Searching for “%1”…").arg(needle), false);
    auto *watcher = new QFutureWatcher<ReadOutcome>(this);
    connect(watcher, &QFutureWatcher<ReadOutcome>::finished, this, [this, watcher, seq] {
        ReadOutcome o = watcher->result();
        watcher->deleteLater();
        m_search->setEnabled(true);
        if (seq != m_readSeq)
            return;
        m_model->setMessages(o.messages);
        m_detail->clear();
        QString message = o.ok ? tr("%n match(es)", nullptr, int(o.messages.size()))
                               : QString::fromStdString(o.error);
        if (o.ok && !o.note.empty())
            message += QStringLiteral("; ") + QString::fromStdString(o.note);
        setStatus(message, !o.ok);
        Q_EMIT readFinished(o.ok, int(o.messages.size()), message);
    });
    std::shared_ptr<core::MessageBrowser> browser = m_browser;
    watcher->setFuture(QtConcurrent::run([browser, topicName, options] {
        const core::SearchResult r = browser->search(topicName, options);
        ReadOutcome o;
        o.ok = r.ok;
        o.timedOut = r.timedOut;
        o.error = r.error;
        for (const core::SearchMatch &match : r.matches)
            o.messages.push_back(match.message);
        o.note = "scanned " + std::to_string(r.scanned);
        if (r.boundHit)
            o.note += ", older messages not scanned";
        if (r.matchesCapped)
            o.note += ", first " + std::to_string(options.maxMatches) + " matches";
        return o;
    }));
}

void MessageView::stopTail()
{
    if (!m_stop->isEnabled())
        return;
    ++m_tailGen;
    m_tailStarting = false;
    std::shared_ptr<core::MessageBrowser> browser = m_browser;
    chainTailOp([browser] {
        browser->stopTail();
        return std::string();
    });
    m_stop->setEnabled(false);
    setStatus(tr("Tail stopped; %n message(s) shown", nullptr, m_model->rowCount()), false);
}

bool MessageView::tailIdle() const
{
    return !m_browser->tailStatus().running;
}

bool MessageView::tailRunning() const
{
    return m_stop->isEnabled() && !m_tailStarting && m_browser->tailStatus().running;
}

bool MessageView::tailPositioned() const
{
    return m_stop->isEnabled() && !m_tailStarting && m_browser->tailStatus().positioned;
}

void MessageView::tick()
{
    if (!m_stop->isEnabled() || m_tailStarting)
        return;
    const core::TailRead read = m_browser->tailAfter(m_tailSeq, 2000);
    if (read.lastSeq > m_tailSeq)
        m_tailSeq = read.lastSeq;
    std::vector<core::BrowsedMessage> keep;
    keep.reserve(read.messages.size());
    for (const core::BrowsedMessage &m : read.messages)
        if (m_tailPartition < 0 || m.partition == m_tailPartition)
            keep.push_back(m);
    m_model->appendMessages(keep);
    const core::TailStatus status = m_browser->tailStatus();
    QString text = tr("Tailing %1: %2 received, %3 shown")
                       .arg(QString::fromStdString(status.topic))
                       .arg(status.received)
                       .arg(m_model->rowCount());
    if (!status.positioned)
        text += tr(" (positioning…)");
    if (read.missed)
        text += tr(", %1 dropped by the ring").arg(read.missed);
    if (!status.error.empty())
        text += QStringLiteral(" — ") + QString::fromStdString(status.error);
    setStatus(text, !status.error.empty());
}

void MessageView::selectRow(int row)
{
    m_view->setCurrentIndex(m_proxy->index(row, 0));
    m_view->selectRow(row);
    showDetail();
}

QString MessageView::detailText() const
{
    return m_detail->toPlainText();
}

void MessageView::showDetail()
{
    const QModelIndex current = m_view->currentIndex();
    const MessageRow *r = m_model->rowAt(m_proxy->mapToSource(current).row());
    if (!r) {
        m_detail->clear();
        return;
    }
    QString text = tr("%1 [%2] @ %3\n").arg(r->topic).arg(r->partition).arg(r->offset);
    if (r->timestampMs >= 0)
        text += tr("timestamp: %1\n").arg(MessageModel::isoTime(r->timestampMs));
    text += tr("key: %1\n").arg(r->key.isEmpty() ? tr("(none)") : r->key);
    for (const auto &[name, value] : r->headers)
        text += tr("header %1: %2\n").arg(name, value);
    text += QLatin1Char('\n') + MessageModel::prettyValue(r->value);
    m_detail->setPlainText(text);
}

QString MessageView::csvText() const
{
    std::ostringstream out;
    core::writeReportCsv(reportOf(*m_model, *m_proxy, {}), out);
    return QString::fromStdString(out.str());
}

void MessageView::copyToClipboard()
{
    QList<int> rows;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows())
        rows << i.row();
    std::sort(rows.begin(), rows.end());
    std::ostringstream out;
    core::writeReportCsv(reportOf(*m_model, *m_proxy, rows), out);
    QApplication::clipboard()->setText(QString::fromStdString(out.str()));
    setStatus(rows.isEmpty() ? tr("Copied all %n message(s) as CSV", nullptr, m_proxy->rowCount())
                             : tr("Copied %n message(s) as CSV", nullptr, int(rows.size())),
              false);
}

void MessageView::chooseExportFile()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export messages"), topic() + QStringLiteral(".csv"), tr("CSV files (*.csv)"));
    if (!path.isEmpty())
        exportCsv(path);
}

void MessageView::exportCsv(const QString &path)
{
    struct Outcome
    {
        bool ok = false;
        std::string message;
    };
    // Copying the shown rows is quick; writing them is the part that goes off the GUI thread.
    auto report = std::make_shared<core::ReportData>(reportOf(*m_model, *m_proxy, {}));
    const std::string file = QFile::encodeName(path).toStdString();
    m_export->setEnabled(false);
    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher] {
        const Outcome o = watcher->result();
        watcher->deleteLater();
        m_export->setEnabled(true);
        const QString message = QString::fromStdString(o.message);
        setStatus(message, !o.ok);
        Q_EMIT exportFinished(o.ok, message);
    });
    watcher->setFuture(QtConcurrent::run([report, file] {
        Outcome o;
        o.ok = core::writeReportCsv(*report, file, &o.message);
        if (o.ok)
            o.message = "wrote " + std::to_string(report->rows.size()) + " messages to " + file;
        return o;
    }));
}

} // namespace studio::ui
