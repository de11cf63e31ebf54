#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/monitor/clustermonitor.h"

#include <QDateTime>
#include <QFuture>
#include <QWidget>

#include <functional>
#include <map>
#include <memory>
#include <string>

class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTableView;

namespace studio::core {
class MessageBrowser;
}

namespace studio::ui {

class MessageModel;

/// The message viewer: a topic (one partition or all), a mode (last N, from offset, from a UTC
/// timestamp, live tail) and a text search; the messages in a table (partition, offset, ISO
/// time, key, value preview) and the selected one in a detail pane with the JSON pretty-printed.
/// Copy puts the selected (else all shown) messages on the clipboard; Export writes the shown
/// messages to CSV (core/store/reporttable.h rules). Reads run via QtConcurrent on a MessageBrowser
/// of its own (never joining a group); the tail runs on the browser's thread and is polled by
/// tick(), which the owner calls from its timer; starting and stopping it (which join the old
/// tail's thread) run in order on pool threads.
class MessageView : public QWidget
{
    Q_OBJECT
public:
    enum class Mode { LastN, FromOffset, FromTimestamp, LiveTail };

    explicit MessageView(const core::ClusterConfig &cluster, QWidget *parent = nullptr);
    ~MessageView() override;

    /// Fills the topic choice from the cluster (keeps the current one).
    void setTopics(const core::ClusterSnapshot &snapshot);
    void setTopic(const QString &topic);
    QString topic() const;
    /// -1: every partition.
    void setPartition(int partition);
    int partition() const;
    void setMode(Mode mode);
    Mode mode() const;
    void setCount(int n);
    void setOffset(qint64 offset);
    void setTimestamp(const QDateTime &utc);

    MessageModel *model() const { return m_model; }
    QString detailText() const;
    /// Selects the shown row (in view order) and fills the detail pane.
    void selectRow(int row);
    bool tailRunning() const;
    /// No tail thread is left (a stop has been carried out, or none was started).
    bool tailIdle() const;
    /// The tail has resolved its start offsets: every later message will be seen.
    bool tailPositioned() const;
    /// The shown messages as CSV text (header + rows), as exported.
    QString csvText() const;

public Q_SLOTS:
    /// Runs the chosen mode (the live tail starts for LiveTail).
    void read();
    void search(const QString &needle);
    void stopTail();
    /// Polls the live tail (the owner's timer, at most 10 Hz).
    void tick();
    void copyToClipboard();
    void exportCsv(const QString &path);

Q_SIGNALS:
    void readFinished(bool ok, int rows, const QString &message);
    void exportFinished(bool ok, const QString &message);

private:
    void updateModeWidgets();
    void updatePartitions();
    void showDetail();
    void setStatus(const QString &text, bool error);
    void chooseExportFile();
    /// Runs `op` on a pool thread after every earlier tail start/stop; returns its future.
    QFuture<std::string> chainTailOp(std::function<std::string()> op);

    std::shared_ptr<core::MessageBrowser> m_browser; // shared with reads still running
    std::shared_ptr<const core::ClusterSnapshot> m_snapshot;
    std::map<std::string, int> m_partitionCounts;
    std::map<std::string, std::map<std::int32_t, std::int64_t>> m_highs;
    quint64 m_readSeq = 0;
    std::uint64_t m_tailSeq = 0;
    quint64 m_tailGen = 0;
    bool m_tailStarting = false;
    QFuture<std::string> m_tailOp = QtFuture::makeReadyFuture(std::string());
    int m_tailPartition = -1;

    MessageModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QComboBox *m_topic = nullptr;
    QComboBox *m_partition = nullptr;
    QComboBox *m_mode = nullptr;
    QSpinBox *m_count = nullptr;
    QLineEdit *m_offset = nullptr;
    QDateTimeEdit *m_time = nullptr;
    QPushButton *m_read = nullptr;
    QPushButton *m_stop = nullptr;
    QLineEdit *m_needle = nullptr;
    QPushButton *m_search = nullptr;
    QPushButton *m_copy = nullptr;
    QPushButton *m_export = nullptr;
    QTableView *m_view = nullptr;
    QPlainTextEdit *m_detail = nullptr;
    QLabel *m_status = nullptr;
};

} // namespace studio::ui
