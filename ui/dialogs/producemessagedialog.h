#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaadmin.h"

#include <QAbstractTableModel>
#include <QDialog>

#include <utility>
#include <vector>

class QCheckBox;
class QComboBox;
class QDateTime;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace studio::ui {

/// The message's headers as typed: name and value per row, editable, rows added and removed.
class HeaderModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Name, Value, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void addHeader(const QString &name = {}, const QString &value = {});
    void removeHeader(int row);
    /// The rows with a name, in order (Kafka allows repeated names).
    std::vector<std::pair<std::string, std::string>> headers() const;

private:
    std::vector<std::pair<QString, QString>> m_rows;
};

/// Produces one message (N copies) to a topic (issue 23): partition or by key, key, value as
/// JSON (validated; Format pretty-prints it) or raw text, headers, an optional timestamp (UTC;
/// none: the producer's now), copies; the delivery report
/// (partition and offsets) is shown. The send runs on a pool thread with its own
/// core::KafkaAdmin over a copy of `cluster` (acks=all, waits for the reports up to the
/// deadline): the GUI never waits and closing the dialog drops a late answer.
class ProduceMessageDialog : public QDialog
{
    Q_OBJECT
public:
    static constexpr int kAdminTimeoutMs = 15'000;

    /// `partitions`: the topic's partition count as the monitor knows it (0: unknown).
    ProduceMessageDialog(core::ClusterConfig cluster, const QString &topic, int partitions,
                         QWidget *parent = nullptr);

    void setJson(bool json);
    void setValue(const QString &value);
    void setKey(const QString &key);
    /// -1: by key.
    void setPartition(int partition);
    void setCopies(int copies);
    /// The message's timestamp (shown and sent as UTC); an invalid one: none, the producer's now.
    void setTimestamp(const QDateTime &utc);
    HeaderModel *headerModel() const { return m_headers; }
    /// What Produce would send; empty `why` when it can be sent.
    core::ProduceRequest request(QString *why = nullptr) const;
    QString value() const;
    QString statusText() const;
    bool isBusy() const { return m_busy; }
    QPushButton *produceButton() const { return m_produce; }
    QPushButton *formatButton() const { return m_format; }

public Q_SLOTS:
    /// Pretty-prints the value when it is valid JSON.
    void formatValue();
    /// Sends in the background; produced() when the reports are in.
    void produce();

Q_SIGNALS:
    void produced(bool ok, const QString &message);

private:
    void validate();
    void setStatus(const QString &text, bool error);

    const core::ClusterConfig m_cluster;
    bool m_busy = false;
    QLineEdit *m_topic = nullptr;
    QComboBox *m_partition = nullptr;
    QLineEdit *m_key = nullptr;
    QComboBox *m_mode = nullptr; // JSON or text
    QPlainTextEdit *m_value = nullptr;
    QPushButton *m_format = nullptr;
    HeaderModel *m_headers = nullptr;
    QTableView *m_headerView = nullptr;
    QPushButton *m_addHeader = nullptr;
    QPushButton *m_removeHeader = nullptr;
    QSpinBox *m_copies = nullptr;
    QCheckBox *m_setTimestamp = nullptr;
    QDateTimeEdit *m_timestamp = nullptr;
    QLabel *m_valueCheck = nullptr;
    QLabel *m_status = nullptr;
    QPushButton *m_produce = nullptr;
};

} // namespace studio::ui
