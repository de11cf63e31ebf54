#pragma once

#include "core/kafka/messagebrowser.h"

#include <QAbstractTableModel>
#include <QString>

#include <vector>

namespace studio::ui {

struct MessageRow
{
    QString topic;
    int partition = 0;
    qint64 offset = 0;
    qint64 timestampMs = -1;
    QString key;
    QString value;
    std::vector<std::pair<QString, QString>> headers;
};

/// Messages read by the message viewer: partition, offset, timestamp (ISO-8601 UTC), key, and a
/// one-line preview of the value. A read replaces them all (a reset: it is a new result); the
/// live tail appends, dropping the oldest beyond `capacity`. GUI thread only.
class MessageModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Partition, Offset, Timestamp, Key, Value, ColumnCount };
    static constexpr int kPreviewChars = 160;

    explicit MessageModel(QObject *parent = nullptr, int capacity = 5000);

    void setMessages(const std::vector<core::BrowsedMessage> &messages);
    void appendMessages(const std::vector<core::BrowsedMessage> &messages);
    void clear();
    const MessageRow *rowAt(int row) const;
    const std::vector<MessageRow> &rows() const { return m_rows; }
    int capacity() const { return m_capacity; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

    static MessageRow toRow(const core::BrowsedMessage &message);
    /// ISO-8601 UTC with milliseconds; empty when the message has no timestamp.
    static QString isoTime(qint64 ms);
    /// The value pretty-printed when it is JSON (QJsonDocument::Indented), else as it is.
    static QString prettyValue(const QString &value);

private:
    int m_capacity;
    std::vector<MessageRow> m_rows;
};

} // namespace studio::ui
