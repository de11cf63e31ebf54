#pragma once

#include <QWidget>

class QLabel;
class QTabWidget;
class QTableView;
class QTimer;

namespace studio::core {
class Monitor;
}

namespace studio::ui {

class ActiveAlertModel;
class AlertHistoryModel;
class AlertRulesEditor;
class ServiceModel;

/// The "Health & Alerts" page: every service the HealthMonitor probes (Kafka, PostgreSQL, Redis,
/// each producer, the aggregator) with its state, latency, last error and a sparkline of its
/// recent answers; the pending and firing alerts; the alert history; and the rules editor.
///
/// Tables poll the monitor's snapshots on a timer only while the page is visible (and once on
/// show). The firing count is watched all the time on a slow 1 s timer (one short lock in
/// AlertEngine::active()), because the main window shows it while other pages are up:
/// firingChanged() is emitted whenever the number of firing alerts changes. `monitor` must
/// outlive the page.
class HealthPage : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kRefreshMs = 500;
    static constexpr int kFiringCheckMs = 1000;

    explicit HealthPage(core::Monitor &monitor, QWidget *parent = nullptr);

    ServiceModel *serviceModel() const { return m_services; }
    ActiveAlertModel *activeModel() const { return m_active; }
    AlertHistoryModel *historyModel() const { return m_history; }
    AlertRulesEditor *rulesEditor() const { return m_editor; }
    QTabWidget *tabs() const { return m_tabs; }
    int firingCount() const { return m_firing; }
    bool isPolling() const;

public Q_SLOTS:
    /// Takes the snapshots now and updates every table (the timer calls this).
    void refresh();
    /// Checks the firing count now (the slow timer calls this).
    void checkFiring();

Q_SIGNALS:
    /// The number of firing alerts changed; `summary` names them (or says none fire), for the
    /// status bar or a tray message.
    void firingChanged(int count, const QString &summary);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void updateTabTitles();

    core::Monitor &m_monitor;
    ServiceModel *m_services = nullptr;
    ActiveAlertModel *m_active = nullptr;
    AlertHistoryModel *m_history = nullptr;
    AlertRulesEditor *m_editor = nullptr;
    QTableView *m_serviceView = nullptr;
    QTabWidget *m_tabs = nullptr;
    QLabel *m_status = nullptr;
    QTimer *m_timer = nullptr;
    QTimer *m_firingTimer = nullptr;
    int m_firing = 0;
};

} // namespace studio::ui
