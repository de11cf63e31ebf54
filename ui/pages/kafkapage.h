#pragma once

#include "core/kafka/clusterconfig.h"

#include <QWidget>

class QTabWidget;
class QTimer;

namespace studio::core {
class Monitor;
}

namespace studio::ui {

class GroupsView;
class MessageView;
class TopicsView;

/// The "Kafka" page: Topics (partitions, watermarks, rate heat-map, Create topic…), Consumer
/// groups (lag, Burrow status, lag history) and Messages (the message viewer). It polls the
/// monitor's snapshots on its own timer, only while visible (plus once on show); nothing is
/// signalled per message. `monitor` must outlive the page; `cluster` is the cluster the message
/// viewer reads from (normally monitor.settings().cluster).
class KafkaPage : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kRefreshMs = 250; ///< 4 Hz: within the 10 Hz budget, smooth for a tail

    explicit KafkaPage(core::Monitor &monitor, const core::ClusterConfig &cluster,
                       QWidget *parent = nullptr);

    TopicsView *topicsView() const { return m_topics; }
    GroupsView *groupsView() const { return m_groups; }
    MessageView *messageView() const { return m_messages; }
    QTabWidget *tabs() const { return m_tabs; }
    bool isPolling() const;

public Q_SLOTS:
    /// Takes the snapshots now and updates every view (the timer calls this).
    void refresh();

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    core::Monitor &m_monitor;
    QTabWidget *m_tabs = nullptr;
    TopicsView *m_topics = nullptr;
    GroupsView *m_groups = nullptr;
    MessageView *m_messages = nullptr;
    QTimer *m_timer = nullptr;
};

} // namespace studio::ui
