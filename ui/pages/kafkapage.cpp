#include "ui/pages/kafkapage.h"

#include "core/monitor/monitor.h"
#include "ui/pages/aclsview.h"
#include "ui/pages/groupsview.h"
#include "ui/pages/messageview.h"
#include "ui/pages/topicsview.h"

#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace studio::ui {

KafkaPage::KafkaPage(core::Monitor &monitor, const core::ClusterConfig &cluster, QWidget *parent)
    : QWidget(parent)
    , m_monitor(monitor)
{
    m_tabs = new QTabWidget(this);
    m_topics = new TopicsView(monitor.cluster(), m_tabs);
    m_groups = new GroupsView(monitor.groups(), m_tabs);
    m_groups->setAdminCluster(cluster);
    m_topics->setAdminCluster(cluster);
    m_messages = new MessageView(cluster, m_tabs);
    m_tabs->addTab(m_topics, tr("Topics"));
    m_tabs->addTab(m_groups, tr("Consumer groups"));
    m_tabs->addTab(m_messages, tr("Messages"));
    m_tabs->addTab(new AclsView(cluster, m_tabs), tr("ACLs"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);

    m_timer = new QTimer(this);
    m_timer->setInterval(kRefreshMs);
    connect(m_timer, &QTimer::timeout, this, &KafkaPage::refresh);
    connect(m_topics, &TopicsView::topicCreated, this, [this](bool ok) {
        if (ok)
            refresh();
    });
}

bool KafkaPage::isPolling() const
{
    return m_timer->isActive();
}

void KafkaPage::refresh()
{
    const auto cluster = m_monitor.cluster().snapshot();
    m_topics->setSnapshot(cluster);
    m_messages->setTopics(*cluster);
    m_groups->setSnapshot(m_monitor.groups().snapshot());
    m_messages->tick();
}

void KafkaPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
    m_timer->start();
}

void KafkaPage::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_timer->stop();
}

} // namespace studio::ui
