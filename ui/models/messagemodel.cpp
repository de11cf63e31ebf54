#include "ui/models/messagemodel.h"

#include "ui/models/keyedtablemodel.h"

#include <QDateTime>
#include <QJsonDocument>

namespace studio::ui {

MessageModel::MessageModel(QObject *parent, int capacity)
    : QAbstractTableModel(parent)
    , m_capacity(std::max(1, capacity))
{
}

MessageRow MessageModel::toRow(const core::BrowsedMessage &m)
{
    MessageRow r;
    r.topic = QString::fromStdString(m.topic);
    r.partition = m.partition;
    r.offset = m.offset;
    r.timestampMs = m.timestampMs;
    r.key = QString::fromUtf8(m.key.data(), qsizetype(m.key.size()));
    r.value = QString::fromUtf8(m.value.data(), qsizetype(m.value.size()));
    for (const auto &[name, value] : m.headers)
        r.headers.emplace_back(QString::fromStdString(name),
                               QString::fromUtf8(value.data(), qsizetype(value.size())));
    return r;
}

QString MessageModel::isoTime(qint64 ms)
{
    return ms < 0 ? QString()
                  : QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

QString MessageModel::prettyValue(const QString &value)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(value.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || doc.isNull())
        return value;
    return QString::fromUtf8(doc.toJson(QJsonDocument::Indented));
}

void MessageModel::setMessages(const std::vector<core::BrowsedMessage> &messages)
{
    beginResetModel();
    m_rows.clear();
    const std::size_t skip =
        messages.size() > std::size_t(m_capacity) ? messages.size() - std::size_t(m_capacity) : 0;
    m_rows.reserve(messages.size() - skip);
    for (std::size_t i = skip; i < messages.size(); ++i)
        m_rows.push_back(toRow(messages[i]));
    endResetModel();
}

void MessageModel::appendMessages(const std::vector<core::BrowsedMessage> &messages)
{
    if (messages.empty())
        return;
    std::size_t first = 0;
    if (messages.size() > std::size_t(m_capacity))
        first = messages.size() - std::size_t(m_capacity);
    const int adding = int(messages.size() - first);
    const int overflow = int(m_rows.size()) + adding - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, overflow - 1);
        m_rows.erase(m_rows.begin(), m_rows.begin() + overflow);
        endRemoveRows();
    }
    const int at = int(m_rows.size());
    beginInsertRows({}, at, at + adding - 1);
    for (std::size_t i = first; i < messages.size(); ++i)
        m_rows.push_back(toRow(messages[i]));
    endInsertRows();
}

void MessageModel::clear()
{
    if (m_rows.empty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
}

const MessageRow *MessageModel::rowAt(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? &m_rows[std::size_t(row)] : nullptr;
}

int MessageModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int MessageModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MessageModel::data(const QModelIndex &index, int role) const
{
    const MessageRow *r = index.isValid() ? rowAt(index.row()) : nullptr;
    if (!r)
        return {};
    const int c = index.column();
    if (role == Qt::DisplayRole) {
        switch (c) {
        case Partition:
            return r->partition;
        case Offset:
            return r->offset;
        case Timestamp:
            return isoTime(r->timestampMs);
        case Key:
            return r->key;
        case Value: {
            QString preview = r->value.left(kPreviewChars);
            preview.replace(QLatin1Char('\n'), QLatin1Char(' '));
            if (r->value.size() > kPreviewChars)
                preview += QStringLiteral("…");
            return preview;
        }
        }
    } else if (role == kSortRole) {
        switch (c) {
        case Partition:
            return r->partition;
        case Offset:
            return r->offset;
        case Timestamp:
            return r->timestampMs;
        case Key:
            return r->key;
        case Value:
            return r->value;
        }
    } else if (role == Qt::TextAlignmentRole && (c == Partition || c == Offset)) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant MessageModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Partition:
        return tr("Partition");
    case Offset:
        return tr("Offset");
    case Timestamp:
        return tr("Timestamp (UTC)");
    case Key:
        return tr("Key");
    case Value:
        return tr("Value");
    }
    return {};
}

} // namespace studio::ui
