#pragma once

#include "core/kafka/clusterconfig.h"

#include <QElapsedTimer>
#include <QList>
#include <QWidget>

class QLabel;
class QMenu;
class QStackedWidget;
class QTabBar;
class QTabWidget;
class QTimer;
class QToolButton;

namespace studio::core {
class Monitor;
}

namespace studio::ui {

class ClusterPanel;
class ConnectionProfiles;
class GroupsView;
class SecretStore;
class MessageView;
class TopicsView;

/// The "Kafka" page: Topics (partitions, watermarks, rate heat-map, Create topic…), Consumer
/// groups (lag, Burrow status, lag history) and Messages (the message viewer). It polls the
/// monitor's snapshots on its own timer, only while visible (plus once on show); nothing is
/// signalled per message. `monitor` must outlive the page; `cluster` is the cluster the message
/// viewer reads from (normally monitor.settings().cluster).
///
/// Several clusters: a bar above the tabs selects the cluster shown. The first is the engine's
/// own (the aggregator reads it; it cannot be closed); "Add cluster" adds a saved profile
/// (Monitor::addCluster: its own monitor threads and health row "kafka:<name>", a ClusterPanel
/// with its own tabs), the tab's close button removes it. Each tab's dot and the line below the
/// bar show that cluster's health. The names added are kept in QSettings ("kafka/clusters", no
/// secrets) and added again by restoreClusters().
class KafkaPage : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kRefreshMs = 250;    ///< 4 Hz: within the 10 Hz budget, smooth for a tail
    static constexpr int kMessageMs = 15'000; ///< how long an add/close outcome stays said

    explicit KafkaPage(core::Monitor &monitor, const core::ClusterConfig &cluster,
                       QWidget *parent = nullptr);
    /// Lets go of the clusters it added (the monitor stops them on threads of its own).
    ~KafkaPage() override;

    TopicsView *topicsView() const { return m_topics; }
    GroupsView *groupsView() const { return m_groups; }
    MessageView *messageView() const { return m_messages; }
    QTabWidget *tabs() const { return m_tabs; }
    bool isPolling() const;

    /// Where "Add cluster" finds the saved profiles and their passwords (both outlive the page).
    void setProfiles(const ConnectionProfiles *profiles, SecretStore *secrets);
    /// Shows one more cluster beside the engine's own. False with `*error` (also on the status
    /// line) when the monitor refuses it (a name shown already, an unusable config).
    bool addCluster(const core::ClusterConfig &cluster, QString *error = nullptr);
    /// Adds the saved profile `name`, its password read from the keychain (or
    /// CLICKSTREAM_SASL_PASSWORD) without blocking; clusterAdded() tells the outcome.
    void addProfile(const QString &name);
    /// Closes the cluster `name` (never the engine's own); false when it is not shown.
    bool removeCluster(const QString &name);
    /// Adds the clusters the last session showed (QSettings "kafka/clusters").
    void restoreClusters();
    /// The clusters shown, the engine's own first.
    QStringList clusterNames() const;
    ClusterPanel *clusterPanel(const QString &name) const;
    void setCurrentCluster(const QString &name);
    QString currentCluster() const;
    QTabBar *clusterBar() const { return m_clusterBar; }
    QLabel *clusterStatus() const { return m_clusterStatus; }
    QMenu *addClusterMenu() const { return m_addMenu; }

public Q_SLOTS:
    /// Takes the snapshots now and updates the shown cluster's views and every cluster's health
    /// dot (the timer calls this).
    void refresh();

Q_SIGNALS:
    /// addProfile()'s outcome (`message` says why not; also on the status line).
    void clusterAdded(const QString &name, bool ok, const QString &message);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void fillAddMenu();
    void updateClusterBar();
    void saveClusters() const;
    void showMessage(const QString &text, bool error);

    core::Monitor &m_monitor;
    QTabBar *m_clusterBar = nullptr;
    QToolButton *m_addButton = nullptr;
    QMenu *m_addMenu = nullptr;
    QLabel *m_clusterStatus = nullptr;
    QStackedWidget *m_clusterStack = nullptr;
    QList<ClusterPanel *> m_panels; // in bar order after the engine's own
    const ConnectionProfiles *m_profiles = nullptr;
    SecretStore *m_secrets = nullptr;
    QString m_message; // the last add/remove outcome, shown on the status line
    bool m_messageIsError = false;
    QElapsedTimer m_messageClock;
    QTabWidget *m_tabs = nullptr;
    TopicsView *m_topics = nullptr;
    GroupsView *m_groups = nullptr;
    MessageView *m_messages = nullptr;
    QTimer *m_timer = nullptr;
};

} // namespace studio::ui
