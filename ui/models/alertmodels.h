#pragma once

#include "core/monitor/alerts.h"
#include "ui/models/keyedtablemodel.h"

#include <QAbstractTableModel>

namespace studio::ui {

/// The alert rules being edited: enabled, name, signal, matchers ("k=v, k=v"), comparison,
/// threshold, for (s), severity, summary. Every cell is editable; a rule that does not validate
/// (AlertRule::validate(), or a repeated name) is shown red with the reason as tooltip, and
/// problems() lists them all. Edits stay here until the owner applies or saves them.
class AlertRuleModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Enabled,
        Name,
        Signal,
        Matchers,
        Comparison,
        Threshold,
        For,
        Severity,
        Summary,
        ColumnCount
    };
    using QAbstractTableModel::QAbstractTableModel;

    void setRules(std::vector<core::AlertRule> rules);
    const std::vector<core::AlertRule> &rules() const { return m_rules; }
    /// Appends `rule` and returns its row.
    int appendRule(core::AlertRule rule);
    /// One message per problem (empty when every rule is usable).
    QStringList problems() const;
    /// The problem of one row, or empty.
    QString problemOf(int row) const;

    /// "k=v, k=v" and back (false on a pair without '=' or an empty key).
    static QString matchersText(const core::Labels &labels);
    static bool parseMatchers(const QString &text, core::Labels *out);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;
    bool removeRows(int row, int count, const QModelIndex &parent = {}) override;

Q_SIGNALS:
    void rulesEdited();

private:
    std::vector<core::AlertRule> m_rules;
};

struct AlertEventRow
{
    qint64 atMs = 0;
    QString rule;
    QString fingerprint;
    QString from;
    QString state;
    QString severity;
    QString summary;
    QString labels;
    double value = 0;
    bool operator==(const AlertEventRow &) const = default;
};

/// The alert history (AlertEngine::history(), oldest first here; sort by time to see the newest
/// first): time, rule, state, severity, summary, labels.
class AlertHistoryModel final : public KeyedTableModel<AlertEventRow>
{
    Q_OBJECT
public:
    enum Column { Time, Rule, State, Severity, Summary, Labels, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    void update(const std::vector<core::AlertTransition> &history);
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

protected:
    QString keyOf(const AlertEventRow &row) const override;
};

/// Pending and firing alerts (AlertEngine::active()): rule, state, severity, since, value,
/// summary, labels.
class ActiveAlertModel final : public KeyedTableModel<AlertEventRow>
{
    Q_OBJECT
public:
    enum Column { Rule, State, Severity, Since, Value, Summary, Labels, ColumnCount };
    using KeyedTableModel::KeyedTableModel;
    void update(const std::vector<core::Alert> &active);
    int firingCount() const;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

protected:
    QString keyOf(const AlertEventRow &row) const override { return row.fingerprint; }
};

/// Red for critical, amber for warning, blue for info.
QColor severityColor(const QString &severity);

} // namespace studio::ui
