#pragma once

#include "core/monitor/alerts.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;

namespace studio::ui {

class AlertRuleModel;

/// The alert rules editor: a table of rules (name, signal, labels, comparison, threshold, for,
/// severity, summary) to add, remove and edit, validation messages as you type, Apply (into the
/// running AlertEngine), Revert, and Load…/Save… of JSON rule files through core/monitor/alerts.h,
/// on a worker via QtConcurrent. `engine` must outlive the editor.
class AlertRulesEditor : public QWidget
{
    Q_OBJECT
public:
    explicit AlertRulesEditor(core::AlertEngine &engine, QWidget *parent = nullptr);

    AlertRuleModel *model() const { return m_model; }
    QString validationText() const;

public Q_SLOTS:
    /// Appends a new rule with a unique name and sensible defaults; returns its row.
    int addRule();
    void removeSelected();
    /// Puts the edited rules into the engine. False (and the reason shown) when one is invalid.
    bool apply();
    /// Reloads the editor from the engine.
    void revert();
    void saveTo(const QString &path);
    void loadFrom(const QString &path);

Q_SIGNALS:
    void rulesSaved(bool ok, const QString &message);
    void rulesLoaded(bool ok, const QString &message);
    void rulesApplied(bool ok, const QString &message);

private:
    void validate();
    void setMessage(const QString &text, bool error);

    core::AlertEngine &m_engine;
    AlertRuleModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    QLabel *m_validation = nullptr;
    QLabel *m_message = nullptr;
    QPushButton *m_apply = nullptr;
    QPushButton *m_save = nullptr;
};

} // namespace studio::ui
