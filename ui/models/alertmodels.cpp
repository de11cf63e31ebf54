#include "ui/models/alertmodels.h"

#include "ui/models/keyedtablemodel.h"

#include <QColor>
#include <QDateTime>
#include <QSet>

namespace studio::ui {

namespace {

QString qs(std::string_view s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

QString isoTime(qint64 ms)
{
    return ms <= 0 ? QString() : QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate);
}

} // namespace

QColor severityColor(const QString &severity)
{
    if (severity == QLatin1String("critical"))
        return QColor(0xc6, 0x28, 0x28);
    if (severity == QLatin1String("warning"))
        return QColor(0xef, 0x6c, 0x00);
    return QColor(0x15, 0x65, 0xc0);
}

// --- rules

void AlertRuleModel::setRules(std::vector<core::AlertRule> rules)
{
    beginResetModel(); // a whole new rule set (loaded or reverted)
    m_rules = std::move(rules);
    endResetModel();
}

int AlertRuleModel::appendRule(core::AlertRule rule)
{
    const int row = int(m_rules.size());
    beginInsertRows({}, row, row);
    m_rules.push_back(std::move(rule));
    endInsertRows();
    Q_EMIT rulesEdited();
    return row;
}

bool AlertRuleModel::removeRows(int row, int count, const QModelIndex &parent)
{
    if (parent.isValid() || row < 0 || count <= 0 || row + count > int(m_rules.size()))
        return false;
    beginRemoveRows({}, row, row + count - 1);
    m_rules.erase(m_rules.begin() + row, m_rules.begin() + row + count);
    endRemoveRows();
    Q_EMIT rulesEdited();
    return true;
}

QString AlertRuleModel::problemOf(int row) const
{
    if (row < 0 || row >= int(m_rules.size()))
        return {};
    const core::AlertRule &rule = m_rules[std::size_t(row)];
    const QString name = QString::fromStdString(rule.name);
    if (const std::string why = rule.validate(); !why.empty()) {
        const QString text = QString::fromStdString(why);
        return name.isEmpty() || text.contains(name) ? text : tr("rule \"%1\": %2").arg(name, text);
    }
    for (int i = 0; i < row; ++i)
        if (m_rules[std::size_t(i)].name == rule.name)
            return tr("rule \"%1\": the name is used twice").arg(name);
    return {};
}

QStringList AlertRuleModel::problems() const
{
    QStringList out;
    for (int row = 0; row < int(m_rules.size()); ++row)
        if (const QString p = problemOf(row); !p.isEmpty())
            out << p;
    return out;
}

QString AlertRuleModel::matchersText(const core::Labels &labels)
{
    QStringList parts;
    for (const auto &[k, v] : labels)
        parts << QString::fromStdString(k) + QLatin1Char('=') + QString::fromStdString(v);
    return parts.join(QStringLiteral(", "));
}

bool AlertRuleModel::parseMatchers(const QString &text, core::Labels *out)
{
    core::Labels labels;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const qsizetype eq = part.indexOf(QLatin1Char('='));
        const QString key = part.left(eq).trimmed();
        if (eq < 0 || key.isEmpty())
            return false;
        labels.emplace_back(key.toStdString(), part.mid(eq + 1).trimmed().toStdString());
    }
    std::sort(labels.begin(), labels.end());
    *out = std::move(labels);
    return true;
}

int AlertRuleModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rules.size());
}

int AlertRuleModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertRuleModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rules.size()))
        return {};
    const core::AlertRule &r = m_rules[std::size_t(index.row())];
    const int c = index.column();
    if (role == Qt::CheckStateRole && c == Enabled)
        return r.enabled ? Qt::Checked : Qt::Unchecked;
    if (role == Qt::DisplayRole || role == Qt::EditRole || role == kSortRole) {
        switch (c) {
        case Enabled:
            return role == kSortRole ? QVariant(r.enabled) : QVariant();
        case Name:
            return QString::fromStdString(r.name);
        case Signal:
            return QString::fromStdString(r.signal);
        case Matchers:
            return matchersText(r.matchers);
        case Comparison:
            return qs(core::toString(r.comparison));
        case Threshold:
            return r.threshold;
        case For:
            return r.forSeconds;
        case Severity:
            return qs(core::toString(r.severity));
        case Summary:
            return QString::fromStdString(r.summary);
        }
    } else if (role == Qt::ForegroundRole) {
        if (!problemOf(index.row()).isEmpty())
            return QColor(0xc6, 0x28, 0x28);
        if (c == Severity)
            return severityColor(qs(core::toString(r.severity)));
    } else if (role == Qt::ToolTipRole) {
        if (const QString p = problemOf(index.row()); !p.isEmpty())
            return p;
        if (c == Signal)
            return tr("service_up, lag_status_ok, lag_seconds, dead_letter_rate, "
                      "hot_low_conversion");
        if (c == Summary)
            return tr("May name labels as {label}, and {$value}, {$threshold}, {$rule}");
    }
    return {};
}

bool AlertRuleModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || index.row() >= int(m_rules.size()))
        return false;
    core::AlertRule &r = m_rules[std::size_t(index.row())];
    const int c = index.column();
    const QString text = value.toString().trimmed();
    if (role == Qt::CheckStateRole && c == Enabled) {
        r.enabled = value.toInt() == Qt::Checked;
    } else if (role != Qt::EditRole) {
        return false;
    } else {
        switch (c) {
        case Name:
            r.name = text.toStdString();
            break;
        case Signal:
            r.signal = text.toStdString();
            break;
        case Matchers:
            if (!parseMatchers(text, &r.matchers))
                return false;
            break;
        case Comparison: {
            const auto cmp = core::parseComparison(text.toStdString());
            if (!cmp)
                return false;
            r.comparison = *cmp;
            break;
        }
        case Threshold:
        case For: {
            bool ok = false;
            const double v = value.toDouble(&ok);
            if (!ok)
                return false;
            (c == Threshold ? r.threshold : r.forSeconds) = v;
            break;
        }
        case Severity: {
            const auto s = core::parseSeverity(text.toStdString());
            if (!s)
                return false;
            r.severity = *s;
            break;
        }
        case Summary:
            r.summary = value.toString().toStdString();
            break;
        default:
            return false;
        }
    }
    // A name change can make another row valid or invalid (duplicates): repaint every row.
    Q_EMIT dataChanged(index.siblingAtColumn(0), index.siblingAtColumn(ColumnCount - 1));
    if (c == Name && m_rules.size() > 1)
        Q_EMIT dataChanged(this->index(0, 0), this->index(rowCount() - 1, ColumnCount - 1));
    Q_EMIT rulesEdited();
    return true;
}

Qt::ItemFlags AlertRuleModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    return index.column() == Enabled ? f | Qt::ItemIsUserCheckable : f | Qt::ItemIsEditable;
}

QVariant AlertRuleModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Enabled:
        return tr("On");
    case Name:
        return tr("Name");
    case Signal:
        return tr("Signal");
    case Matchers:
        return tr("Labels");
    case Comparison:
        return tr("Cmp");
    case Threshold:
        return tr("Threshold");
    case For:
        return tr("For (s)");
    case Severity:
        return tr("Severity");
    case Summary:
        return tr("Summary");
    }
    return {};
}

// --- history

QString AlertHistoryModel::keyOf(const AlertEventRow &row) const
{
    return QString::number(row.atMs) + QLatin1Char('/') + row.fingerprint + QLatin1Char('/') +
           row.from + QLatin1Char('>') + row.state;
}

namespace {

AlertEventRow eventRow(const core::Alert &a, qint64 atMs, core::AlertState from)
{
    AlertEventRow r;
    r.atMs = atMs;
    r.rule = QString::fromStdString(a.rule);
    r.fingerprint = QString::fromStdString(core::alertFingerprint(a.rule, a.labels));
    r.from = qs(core::toString(from));
    r.state = qs(core::toString(a.state));
    r.severity = qs(core::toString(a.severity));
    r.summary = QString::fromStdString(a.summary);
    r.labels = AlertRuleModel::matchersText(a.labels);
    r.value = a.value;
    return r;
}

QVariant stateColor(const QString &state)
{
    if (state == QLatin1String("firing"))
        return QColor(0xc6, 0x28, 0x28);
    if (state == QLatin1String("pending"))
        return QColor(0xef, 0x6c, 0x00);
    if (state == QLatin1String("resolved"))
        return QColor(0x2e, 0x7d, 0x32);
    return {};
}

} // namespace

void AlertHistoryModel::update(const std::vector<core::AlertTransition> &history)
{
    std::vector<AlertEventRow> rows;
    rows.reserve(history.size());
    for (const core::AlertTransition &t : history)
        rows.push_back(eventRow(t.alert, t.atMs, t.from));
    setRows(std::move(rows));
}

int AlertHistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertHistoryModel::data(const QModelIndex &index, int role) const
{
    const AlertEventRow *r = index.isValid() ? rowAt(index.row()) : nullptr;
    if (!r)
        return {};
    const int c = index.column();
    if (role == Qt::DisplayRole || role == kSortRole) {
        switch (c) {
        case Time:
            return role == kSortRole ? QVariant(r->atMs) : QVariant(isoTime(r->atMs));
        case Rule:
            return r->rule;
        case State:
            return r->state;
        case Severity:
            return r->severity;
        case Summary:
            return r->summary;
        case Labels:
            return r->labels;
        }
    } else if (role == Qt::ForegroundRole) {
        if (c == State)
            return stateColor(r->state);
        if (c == Severity)
            return severityColor(r->severity);
    } else if (role == Qt::ToolTipRole && c == Summary) {
        return r->summary;
    }
    return {};
}

QVariant AlertHistoryModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time (UTC)");
    case Rule:
        return tr("Rule");
    case State:
        return tr("State");
    case Severity:
        return tr("Severity");
    case Summary:
        return tr("Summary");
    case Labels:
        return tr("Labels");
    }
    return {};
}

// --- active

void ActiveAlertModel::update(const std::vector<core::Alert> &active)
{
    std::vector<AlertEventRow> rows;
    rows.reserve(active.size());
    for (const core::Alert &a : active)
        rows.push_back(eventRow(a, a.firingSinceMs > 0 ? a.firingSinceMs : a.activeSinceMs,
                                core::AlertState::Inactive));
    std::sort(rows.begin(), rows.end(), [](const AlertEventRow &a, const AlertEventRow &b) {
        return a.fingerprint < b.fingerprint; // a stable order between updates
    });
    setRows(std::move(rows));
}

int ActiveAlertModel::firingCount() const
{
    return int(std::count_if(rows().begin(), rows().end(), [](const AlertEventRow &r) {
        return r.state == QLatin1String("firing");
    }));
}

int ActiveAlertModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ActiveAlertModel::data(const QModelIndex &index, int role) const
{
    const AlertEventRow *r = index.isValid() ? rowAt(index.row()) : nullptr;
    if (!r)
        return {};
    const int c = index.column();
    if (role == Qt::DisplayRole || role == kSortRole) {
        switch (c) {
        case Rule:
            return r->rule;
        case State:
            return r->state;
        case Severity:
            return r->severity;
        case Since:
            return role == kSortRole ? QVariant(r->atMs) : QVariant(isoTime(r->atMs));
        case Value:
            return role == kSortRole ? QVariant(r->value)
                                     : QVariant(QString::number(r->value, 'g', 6));
        case Summary:
            return r->summary;
        case Labels:
            return r->labels;
        }
    } else if (role == Qt::ForegroundRole) {
        if (c == State)
            return stateColor(r->state);
        if (c == Severity)
            return severityColor(r->severity);
    } else if (role == Qt::ToolTipRole && c == Summary) {
        return r->summary;
    }
    return {};
}

QVariant ActiveAlertModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Rule:
        return tr("Rule");
    case State:
        return tr("State");
    case Severity:
        return tr("Severity");
    case Since:
        return tr("Since (UTC)");
    case Value:
        return tr("Value");
    case Summary:
        return tr("Summary");
    case Labels:
        return tr("Labels");
    }
    return {};
}

} // namespace studio::ui
