#include "ui/pages/clusterpanel.h"

#include "core/monitor/monitor.h"
#include "ui/pages/aclsview.h"
#include "ui/pages/groupsview.h"
#include "ui/pages/messageview.h"
#include "ui/pages/topicsview.h"

#include <QTabWidget>
#include <QVBoxLayout>

namespace studio::ui {

ClusterPanel::ClusterPanel(std::shared_ptr<core::WatchedCluster> watched, QWidget *parent)
    : QWidget(parent)
    , m_watched(std::move(watched))
{
    m_tabs = new QTabWidget(this);
    m_topics = new TopicsView(m_watched->cluster, m_tabs);
    m_groups = new GroupsView(m_watched->groups, m_tabs);
    m_topics->setAdminCluster(m_watched->config);
    m_groups->setAdminCluster(m_watched->config);
    m_messages = new MessageView(m_watched->config, m_tabs);
    m_tabs->addTab(m_topics, tr("Topics"));
    m_tabs->addTab(m_groups, tr("Consumer groups"));
    m_tabs->addTab(m_messages, tr("Messages"));
    m_tabs->addTab(new AclsView(m_watched->config, m_tabs), tr("ACLs"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
    connect(m_topics, &TopicsView::topicCreated, this, [this](bool ok) {
        if (ok)
            refresh();
    });
}

ClusterPanel::~ClusterPanel()
{
    // The views use the watched cluster's monitors until they are gone (TopicsView waits for a
    // creation under way): delete them while m_watched still holds it.
    delete m_tabs;
}

QString ClusterPanel::clusterName() const
{
    return QString::fromStdString(m_watched->name);
}

void ClusterPanel::refresh()
{
    const auto cluster = m_watched->cluster.snapshot();
    m_topics->setSnapshot(cluster);
    m_messages->setTopics(*cluster);
    m_groups->setSnapshot(m_watched->groups.snapshot());
    m_messages->tick();
}

} // namespace studio::ui
