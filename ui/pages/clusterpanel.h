#pragma once

#include <QWidget>

#include <memory>

class QTabWidget;

namespace studio::core {
struct WatchedCluster;
}

namespace studio::ui {

class GroupsView;
class MessageView;
class TopicsView;

/// One more cluster on the Kafka page (Monitor::addCluster): its Topics, Consumer groups,
/// Messages and ACLs tabs over its own monitors. It keeps the WatchedCluster alive, so its views
/// read its monitors for as long as they exist, even after Monitor::removeCluster() stopped them.
/// The owner calls refresh() from its timer.
class ClusterPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ClusterPanel(std::shared_ptr<core::WatchedCluster> watched, QWidget *parent = nullptr);
    ~ClusterPanel() override;

    const core::WatchedCluster &watched() const { return *m_watched; }
    QString clusterName() const;
    TopicsView *topicsView() const { return m_topics; }
    GroupsView *groupsView() const { return m_groups; }
    MessageView *messageView() const { return m_messages; }
    QTabWidget *tabs() const { return m_tabs; }

    /// Takes the monitors' snapshots now and updates every view.
    void refresh();

private:
    std::shared_ptr<core::WatchedCluster> m_watched; // outlives the views (declared first)
    QTabWidget *m_tabs = nullptr;
    TopicsView *m_topics = nullptr;
    GroupsView *m_groups = nullptr;
    MessageView *m_messages = nullptr;
};

} // namespace studio::ui
