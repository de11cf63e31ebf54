#include "ui/pages/kafkapage.h"

#include "core/monitor/monitor.h"
#include "ui/common/secretstore.h"
#include "ui/dialogs/connectionprofiles.h"
#include "ui/models/servicemodel.h"
#include "ui/pages/aclsview.h"
#include "ui/pages/clusterpanel.h"
#include "ui/pages/groupsview.h"
#include "ui/pages/messageview.h"
#include "ui/pages/topicsview.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHash>
#include <QLabel>
#include <QMenu>
#include <QPainter>
#include <QSettings>
#include <QStackedWidget>
#include <QStyle>
#include <QTabBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace studio::ui {

namespace {

const QString kClustersKey = QStringLiteral("kafka/clusters");

/// A round dot in the colour of a health state, for the cluster bar.
QIcon stateDot(core::ServiceState state)
{
    static QHash<int, QIcon> cache;
    const int key = int(state);
    if (auto it = cache.constFind(key); it != cache.constEnd())
        return *it;
    QPixmap pixmap(24, 24);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    painter.setBrush(ServiceModel::stateColor(state));
    painter.drawEllipse(QRectF(4, 4, 16, 16));
    painter.end();
    return cache.insert(key, QIcon(pixmap)).value();
}

QString stateWord(core::ServiceState state)
{
    switch (state) {
    case core::ServiceState::Up:
        return KafkaPage::tr("up");
    case core::ServiceState::Degraded:
        return KafkaPage::tr("degraded");
    case core::ServiceState::Down:
        return KafkaPage::tr("down");
    case core::ServiceState::Unknown:
    case core::ServiceState::NotConfigured:
        break;
    }
    return KafkaPage::tr("checking…");
}

} // namespace

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

    // The cluster bar: the engine's own cluster first (not closable), then the added ones.
    m_clusterBar = new QTabBar(this);
    m_clusterBar->setObjectName(QStringLiteral("clusterBar"));
    m_clusterBar->setAccessibleName(tr("Clusters"));
    m_clusterBar->setToolTip(tr("The clusters shown; the first is the one the aggregator reads"));
    m_clusterBar->setTabsClosable(true);
    m_clusterBar->setExpanding(false);
    m_clusterBar->setDocumentMode(true);
    m_clusterBar->addTab(stateDot(core::ServiceState::Unknown),
                         QString::fromStdString(monitor.settings().cluster.name));
    const auto closeSide = QTabBar::ButtonPosition(
        style()->styleHint(QStyle::SH_TabBar_CloseButtonPosition, nullptr, m_clusterBar));
    m_clusterBar->setTabButton(0, closeSide, nullptr);
    m_addMenu = new QMenu(this);
    connect(m_addMenu, &QMenu::aboutToShow, this, &KafkaPage::fillAddMenu);
    m_addButton = new QToolButton(this);
    m_addButton->setObjectName(QStringLiteral("addClusterButton"));
    m_addButton->setText(tr("+ Add cluster"));
    m_addButton->setToolTip(tr("Show one more saved cluster profile beside this one (File > "
                               "Connections… saves profiles)"));
    m_addButton->setPopupMode(QToolButton::InstantPopup);
    m_addButton->setMenu(m_addMenu);
    m_clusterStatus = new QLabel(this);
    m_clusterStatus->setObjectName(QStringLiteral("clusterStatus"));
    m_clusterStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_clusterStatus->setWordWrap(true);
    m_clusterStack = new QStackedWidget(this);
    m_clusterStack->addWidget(m_tabs);
    connect(m_clusterBar, &QTabBar::currentChanged, this, [this](int index) {
        if (index < 0)
            return;
        m_clusterStack->setCurrentIndex(index);
        refresh();
    });
    connect(m_clusterBar, &QTabBar::tabCloseRequested, this, [this](int index) {
        if (index > 0)
            removeCluster(m_panels.at(index - 1)->clusterName());
    });

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_clusterBar, 1);
    bar->addWidget(m_addButton);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_clusterStatus);
    layout->addWidget(m_clusterStack, 1);

    m_timer = new QTimer(this);
    m_timer->setInterval(kRefreshMs);
    connect(m_timer, &QTimer::timeout, this, &KafkaPage::refresh);
    connect(m_topics, &TopicsView::topicCreated, this, [this](bool ok) {
        if (ok)
            refresh();
    });
}

KafkaPage::~KafkaPage()
{
    // Not saveClusters(): what is shown now is what the next window shows again. The panels go
    // first, so the monitor's stopping thread holds the last reference and frees the clients
    // there, not here.
    const QStringList names = clusterNames().mid(1);
    qDeleteAll(m_panels);
    m_panels.clear();
    for (const QString &name : names)
        m_monitor.removeCluster(name.toStdString());
}

bool KafkaPage::isPolling() const
{
    return m_timer->isActive();
}

void KafkaPage::refresh()
{
    // Only the cluster shown is drawn; the others' monitors keep running on their own threads.
    if (const int index = m_clusterStack->currentIndex(); index > 0) {
        m_panels.at(index - 1)->refresh();
    } else {
        const auto cluster = m_monitor.cluster().snapshot();
        m_topics->setSnapshot(cluster);
        m_messages->setTopics(*cluster);
        m_groups->setSnapshot(m_monitor.groups().snapshot());
        m_messages->tick();
    }
    updateClusterBar();
}

void KafkaPage::updateClusterBar()
{
    const auto health = m_monitor.health().snapshot();
    for (int i = 0; i < m_clusterBar->count(); ++i) {
        const std::string name =
            i == 0 ? m_monitor.settings().cluster.name : m_panels.at(i - 1)->watched().name;
        const core::ServiceHealth *service =
            health ? health->find(m_monitor.kafkaProbeName(name)) : nullptr;
        const core::ServiceState state =
            service ? service->current.state : core::ServiceState::Unknown;
        const QString text =
            QString::fromStdString(name) + (state == core::ServiceState::Up
                                                ? QString()
                                                : QStringLiteral(" — ") + stateWord(state));
        if (m_clusterBar->tabText(i) != text)
            m_clusterBar->setTabText(i, text);
        if (m_clusterBar->tabData(i) != int(state)) {
            m_clusterBar->setTabData(i, int(state));
            m_clusterBar->setTabIcon(i, stateDot(state));
        }
        const core::ClusterConfig &config =
            i == 0 ? m_monitor.settings().cluster : m_panels.at(i - 1)->watched().config;
        QString tip = QString::fromStdString(config.describe()) + QLatin1Char('\n') +
                      tr("Kafka: %1").arg(stateWord(state));
        if (service && !service->current.error.empty())
            tip += QStringLiteral(": ") + QString::fromStdString(service->current.error);
        if (i == 0)
            tip += QLatin1Char('\n') + tr("The aggregator reads this cluster");
        m_clusterBar->setTabToolTip(i, tip);
    }

    // The line below the bar: the shown cluster's health in words.
    const int current = std::max(0, m_clusterBar->currentIndex());
    const std::string name =
        current == 0 ? m_monitor.settings().cluster.name : m_panels.at(current - 1)->watched().name;
    const auto snapshot = current == 0 ? m_monitor.cluster().snapshot()
                                       : m_panels.at(current - 1)->watched().cluster.snapshot();
    const core::ServiceHealth *service =
        health ? health->find(m_monitor.kafkaProbeName(name)) : nullptr;
    const bool down = (service && service->current.state == core::ServiceState::Down) ||
                      (!snapshot->ok && snapshot->attemptAtMs > 0);
    QString text;
    if (down) {
        const std::string why =
            service && !service->current.error.empty() ? service->current.error : snapshot->error;
        text = tr("%1 is down: %2").arg(QString::fromStdString(name), QString::fromStdString(why));
        text += snapshot->dataAtMs > 0 ? tr(" — showing its data from %1")
                                             .arg(QDateTime::fromMSecsSinceEpoch(snapshot->dataAtMs)
                                                      .toString(QStringLiteral("HH:mm:ss")))
                                       : tr(" — never reached");
    } else if (snapshot->attemptAtMs == 0) {
        text = tr("%1: connecting…").arg(QString::fromStdString(name));
    } else {
        text = tr("%1: %2 broker(s), %3 topic(s), %4 msg/s")
                   .arg(QString::fromStdString(name))
                   .arg(snapshot->brokers.size())
                   .arg(snapshot->topics.size())
                   .arg(snapshot->totalRate, 0, 'f', 0);
    }
    text += current == 0 ? tr(" · the aggregator reads this cluster")
                         : tr(" · shown beside %1 (the aggregator's)")
                               .arg(QString::fromStdString(m_monitor.settings().cluster.name));
    if (!m_message.isEmpty() && m_messageClock.isValid() && m_messageClock.elapsed() > kMessageMs)
        m_message.clear(); // an add or close outcome is said for a while, not for ever
    if (!m_message.isEmpty())
        text += QStringLiteral(" · ") + m_message;
    if (m_clusterStatus->text() != text)
        m_clusterStatus->setText(text);
    const QString style = down || (m_messageIsError && !m_message.isEmpty())
                              ? QStringLiteral("color: #c62828;")
                              : QString();
    if (m_clusterStatus->styleSheet() != style)
        m_clusterStatus->setStyleSheet(style);
}

void KafkaPage::showMessage(const QString &text, bool error)
{
    m_message = text;
    m_messageIsError = error;
    m_messageClock.start();
    updateClusterBar();
}

void KafkaPage::setProfiles(const ConnectionProfiles *profiles, SecretStore *secrets)
{
    m_profiles = profiles;
    m_secrets = secrets;
}

bool KafkaPage::addCluster(const core::ClusterConfig &cluster, QString *error)
{
    std::string why;
    auto watched = m_monitor.addCluster(cluster, &why);
    if (!watched) {
        const QString message = QString::fromStdString(why);
        showMessage(message, true);
        if (error)
            *error = message;
        return false;
    }
    auto *panel = new ClusterPanel(std::move(watched), m_clusterStack);
    m_panels.append(panel);
    m_clusterStack->addWidget(panel);
    m_clusterBar->addTab(stateDot(core::ServiceState::Unknown), panel->clusterName());
    saveClusters();
    showMessage(tr("added %1").arg(panel->clusterName()), false);
    return true;
}

void KafkaPage::addProfile(const QString &name)
{
    auto fail = [this, name](const QString &message) {
        showMessage(message, true);
        Q_EMIT clusterAdded(name, false, message);
    };
    const KafkaProfile *found = nullptr;
    if (m_profiles) {
        for (const KafkaProfile &p : m_profiles->profiles())
            if (p.name == name)
                found = &p;
    }
    if (!found)
        return fail(
            tr("no saved Kafka profile named \"%1\" (File > Connections… saves them)").arg(name));
    const KafkaProfile profile = *found;
    auto finish = [this, profile, fail](QString password, const QString &why) {
        // The keychain first (the profile's own password), else the environment's.
        if (password.isEmpty())
            password = qEnvironmentVariable("CLICKSTREAM_SASL_PASSWORD");
        if (!profile.saslMechanism.isEmpty() && password.isEmpty())
            return fail(tr("Kafka profile \"%1\" uses SASL but has no password: %2 (store it in "
                           "File > Connections…)")
                            .arg(profile.name, why.isEmpty() ? tr("none in the keychain") : why));
        QString error;
        if (addCluster(profile.toClusterConfig(password), &error))
            Q_EMIT clusterAdded(profile.name, true, {});
        else
            Q_EMIT clusterAdded(profile.name, false, error);
    };
    if (profile.saslMechanism.isEmpty() || !m_secrets)
        return finish({}, {});
    // Asynchronous: the window keeps answering while the keychain does (or does not).
    const QString key = profile.passwordKey();
    auto *receiver = new QObject(this);
    connect(m_secrets, &SecretStore::readDone, receiver,
            [secrets = m_secrets, receiver, key, finish](const QString &k, const QString &secret,
                                                         bool, const QString &error) {
                if (k != key)
                    return;
                QObject::disconnect(secrets, nullptr, receiver, nullptr);
                receiver->deleteLater();
                finish(secret, error);
            });
    showMessage(tr("reading the password of %1 from the keychain…").arg(profile.name), false);
    m_secrets->read(key);
}

bool KafkaPage::removeCluster(const QString &name)
{
    ClusterPanel *panel = clusterPanel(name);
    if (!panel)
        return false;
    const int index = int(m_panels.indexOf(panel));
    m_clusterStack->removeWidget(panel);
    m_panels.removeAt(index);
    m_clusterBar->removeTab(index + 1);
    delete panel;
    // Stopping its monitors may wait for a dead cluster: the monitor does that on a thread of its
    // own, which now holds the last reference (so the clients are freed there too).
    m_monitor.removeCluster(name.toStdString());
    saveClusters();
    showMessage(tr("closed %1").arg(name), false);
    return true;
}

void KafkaPage::restoreClusters()
{
    const QStringList names = QSettings().value(kClustersKey).toStringList();
    for (const QString &name : names) {
        if (!clusterNames().contains(name))
            addProfile(name);
    }
}

QStringList KafkaPage::clusterNames() const
{
    QStringList names{QString::fromStdString(m_monitor.settings().cluster.name)};
    for (const ClusterPanel *panel : m_panels)
        names << panel->clusterName();
    return names;
}

ClusterPanel *KafkaPage::clusterPanel(const QString &name) const
{
    for (ClusterPanel *panel : m_panels)
        if (panel->clusterName() == name)
            return panel;
    return nullptr;
}

void KafkaPage::setCurrentCluster(const QString &name)
{
    const int index = int(clusterNames().indexOf(name));
    if (index >= 0)
        m_clusterBar->setCurrentIndex(index);
}

QString KafkaPage::currentCluster() const
{
    return clusterNames().value(m_clusterBar->currentIndex());
}

void KafkaPage::saveClusters() const
{
    QStringList names;
    for (const ClusterPanel *panel : m_panels)
        names << panel->clusterName();
    QSettings().setValue(kClustersKey, names);
}

void KafkaPage::fillAddMenu()
{
    m_addMenu->clear();
    const QStringList shown = clusterNames();
    if (!m_profiles || m_profiles->profiles().isEmpty()) {
        m_addMenu->addAction(tr("No saved profiles: File > Connections… adds them"))
            ->setEnabled(false);
        return;
    }
    for (const KafkaProfile &p : m_profiles->profiles()) {
        QAction *action = m_addMenu->addAction(tr("%1 (%2)").arg(p.name, p.bootstrap.trimmed()));
        action->setEnabled(!shown.contains(p.name));
        connect(action, &QAction::triggered, this, [this, name = p.name] { addProfile(name); });
    }
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
