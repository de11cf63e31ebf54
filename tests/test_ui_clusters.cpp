// Issue 23, several clusters at once: the real window over a real engine (its embedded broker is
// the primary cluster, the one the aggregator reads) and a second embedded broker added from a
// saved profile on the Kafka page. Both shown with their own health rows; the second stopped
// while the first's topic view keeps updating, the GUI thread answering a 5 ms timer throughout;
// the second closed without waiting for it; remembered across windows (QSettings, no secrets).
// Screenshots into build/screenshots/clusters (run under xvfb-run for the X11 rendering).
#include "core/engine/studioengine.h"
#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaclient.h"
#include "core/monitor/monitor.h"
#include "ui/dialogs/connectionprofiles.h"
#include "ui/models/kafkamodels.h"
#include "ui/models/servicemodel.h"
#include "ui/pages/clusterpanel.h"
#include "ui/pages/healthpage.h"
#include "ui/pages/kafkapage.h"
#include "ui/pages/topicsview.h"
#include "ui/window/mainwindow.h"
#include "uitestsupport.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QSignalSpy>
#include <QTabBar>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

using namespace studio;
using namespace std::chrono_literals;

namespace {

void produce(const core::ClusterConfig &cluster, const std::string &topic, int count)
{
    std::string error;
    core::KafkaConf conf = core::makeKafkaConf(cluster, {{"linger.ms", "5"}}, &error);
    REQUIRE(conf);
    core::KafkaHandle producer =
        core::createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), &error);
    INFO(error);
    REQUIRE(producer);
    for (int i = 0; i < count; ++i) {
        const std::string value = "{\"n\":" + std::to_string(i) + "}";
        REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                  RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

/// produce() on a thread of its own, so the GUI thread's loop probe measures the app, not the
/// test's producer (its connection and flush). Catch's assertions stay on the main thread.
bool produceOffThread(const core::ClusterConfig &cluster, const std::string &topic, int count)
{
    std::atomic<bool> done{false}, ok{false};
    std::thread worker([&] {
        std::string error;
        core::KafkaConf conf = core::makeKafkaConf(cluster, {{"linger.ms", "5"}}, &error);
        core::KafkaHandle producer =
            conf ? core::createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), &error) : nullptr;
        bool good = producer != nullptr;
        for (int i = 0; good && i < count; ++i) {
            const std::string value = "{\"n\":" + std::to_string(i) + "}";
            good =
                rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                  RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR;
        }
        ok = good && rd_kafka_flush(producer.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR;
        done = true;
    });
    test::waitUntil([&] { return done.load(); }, 30s);
    worker.join();
    return ok;
}

std::int64_t topicMessages(const ui::TopicsView &view, const QString &topic)
{
    for (const ui::TopicRow &row : view.topicModel()->rows())
        if (row.name == topic)
            return row.messages;
    return -1;
}

const ui::ServiceRow *serviceRow(const ui::ServiceModel &model, const QString &name)
{
    for (const ui::ServiceRow &row : model.rows())
        if (row.name == name)
            return &row;
    return nullptr;
}

void screenshot(QWidget &widget, const QString &name)
{
    const QString dir = QStringLiteral(STUDIO_CLUSTERS_SCREENSHOT_DIR);
    QDir().mkpath(dir);
    QCoreApplication::processEvents();
    CHECK(widget.grab().save(dir + QLatin1Char('/') + name));
}

/// A service's state on the monitor's health page ("kafka", "kafka:NAME"); Unknown before its row.
core::ServiceState serviceState(core::Monitor &monitor, const std::string &name)
{
    const auto health = monitor.health().snapshot();
    const core::ServiceHealth *s = health ? health->find(name) : nullptr;
    return s ? s->current.state : core::ServiceState::Unknown;
}

/// The GUI thread's event loop answering: a 5 ms timer's longest gap between two timeouts.
struct LoopProbe
{
    QElapsedTimer clock;
    QTimer timer;
    qint64 last = -1;
    qint64 longestMs = 0;
    int ticks = 0;
    LoopProbe()
    {
        timer.setTimerType(Qt::PreciseTimer);
        timer.setInterval(5);
        QObject::connect(&timer, &QTimer::timeout, &timer, [this] {
            const qint64 now = clock.elapsed();
            if (last >= 0)
                longestMs = std::max(longestMs, now - last);
            last = now;
            ++ticks;
        });
        clock.start();
        timer.start();
    }
};

} // namespace

TEST_CASE("Two clusters shown at once, one stopped goes down while the other keeps updating",
          "[ui][kafka][clusters]")
{
    test::IsolatedSettings isolated;
    core::StudioEngineSettings settings;
    settings.embeddedOptions.brokers = 1;
    settings.embeddedOptions.partitions = 4;
    settings.monitorSettings.healthInterval = 500ms;
    settings.monitorSettings.probeTimeout = 1000ms;
    settings.monitorSettings.clusterOptions.refreshIntervalMs = 300;
    settings.monitorSettings.clusterOptions.requestTimeoutMs = 1500;
    settings.monitorSettings.groupOptions.refreshIntervalMs = 300;
    settings.monitorSettings.groupOptions.requestTimeoutMs = 1500;
    auto engine = std::make_unique<core::StudioEngine>(settings);
    std::string error;
    REQUIRE(engine->start(&error));
    const core::ClusterConfig primary = engine->cluster();

    // The second cluster: another embedded broker, saved as a plain (no SASL) profile.
    auto second = std::make_unique<core::EmbeddedBroker>();
    core::EmbeddedBroker::Options options;
    options.brokers = 1;
    options.partitions = 2;
    options.topics = {"orders"};
    REQUIRE(second->start(options, &error));
    const core::ClusterConfig secondConfig = second->clusterConfig();
    produce(secondConfig, "orders", 30);

    auto window = std::make_unique<ui::MainWindow>(*engine);
    ui::KafkaProfile profile;
    profile.name = QStringLiteral("second");
    profile.bootstrap = QString::fromStdString(secondConfig.bootstrap);
    window->connectionProfiles()->addProfile(profile);
    {
        QSettings saved; // as File > Connections… does
        window->connectionProfiles()->save(saved);
    }
    window->resize(1280, 800);
    window->show();
    window->showPage(QStringLiteral("Kafka"));
    auto *kafka = qobject_cast<ui::KafkaPage *>(window->page(QStringLiteral("Kafka")));
    REQUIRE(kafka);
    QAbstractItemModelTester primaryTopics(kafka->topicsView()->topicModel(),
                                           QAbstractItemModelTester::FailureReportingMode::Fatal);

    // "+ Add cluster" lists the saved profile; adding it reads no keychain (no SASL).
    QSignalSpy added(kafka, &ui::KafkaPage::clusterAdded);
    Q_EMIT kafka->addClusterMenu()->aboutToShow();
    REQUIRE(kafka->addClusterMenu()->actions().size() == 1);
    kafka->addClusterMenu()->actions().at(0)->trigger();
    REQUIRE(added.size() == 1);
    CHECK(added.at(0).at(1).toBool());
    REQUIRE(kafka->clusterNames() ==
            QStringList{QString::fromStdString(primary.name), QStringLiteral("second")});
    CHECK(QSettings().value(QStringLiteral("kafka/clusters")).toStringList() ==
          QStringList{QStringLiteral("second")});
    // The same cluster twice, or the aggregator's own, is refused with a message.
    QString why;
    core::ClusterConfig again = secondConfig;
    again.name = "second";
    CHECK_FALSE(kafka->addCluster(again, &why));
    CHECK(why.contains(QStringLiteral("shown already")));
    CHECK_FALSE(kafka->addCluster(primary, &why));
    CHECK(why.contains(QStringLiteral("aggregator")));

    ui::ClusterPanel *panel = kafka->clusterPanel(QStringLiteral("second"));
    REQUIRE(panel);
    QAbstractItemModelTester secondTopics(panel->topicsView()->topicModel(),
                                          QAbstractItemModelTester::FailureReportingMode::Fatal);
    core::Monitor *monitor = engine->monitor();
    REQUIRE(monitor);

    // Both up, each with its own monitor and its own health row.
    kafka->setCurrentCluster(QStringLiteral("second"));
    REQUIRE(test::waitUntil(
        [&] { return topicMessages(*panel->topicsView(), QStringLiteral("orders")) == 30; }, 20s));
    REQUIRE(test::waitUntil(
        [&] {
            return serviceState(*monitor, "kafka") == core::ServiceState::Up &&
                   serviceState(*monitor, "kafka:second") == core::ServiceState::Up;
        },
        20s));
    kafka->setCurrentCluster(QString::fromStdString(primary.name));
    produce(primary, "clickstream", 40);
    REQUIRE(test::waitUntil(
        [&] { return topicMessages(*kafka->topicsView(), QStringLiteral("clickstream")) == 40; },
        20s));
    CHECK(kafka->clusterStatus()->text().contains(QStringLiteral("aggregator reads")));
    screenshot(*window, QStringLiteral("kafka-two-clusters-up.png"));

    // The second stops (its broker gone, on another thread: the GUI thread only watches). Its
    // row and tab go down, with the reason; the first's topic view keeps counting.
    LoopProbe loop;
    std::thread stopper([&second] { second.reset(); });
    REQUIRE(test::waitUntil(
        [&] { return serviceState(*monitor, "kafka:second") == core::ServiceState::Down; }, 20s));
    stopper.join();
    REQUIRE(test::waitUntil(
        [&] { return kafka->clusterBar()->tabText(1).contains(QStringLiteral("down")); }, 5s));
    CHECK(serviceState(*monitor, "kafka") == core::ServiceState::Up);
    for (int round = 1; round <= 3; ++round) {
        REQUIRE(produceOffThread(primary, "clickstream", 10));
        REQUIRE(test::waitUntil(
            [&] {
                return topicMessages(*kafka->topicsView(), QStringLiteral("clickstream")) ==
                       40 + 10 * round;
            },
            20s));
    }
    kafka->setCurrentCluster(QStringLiteral("second"));
    REQUIRE(test::waitUntil(
        [&] {
            return kafka->clusterStatus()->text().startsWith(QStringLiteral("second is down: "));
        },
        20s));
    // Its last data stays on screen, its age said.
    CHECK(topicMessages(*panel->topicsView(), QStringLiteral("orders")) == 30);
    CHECK(kafka->clusterStatus()->text().contains(QStringLiteral("showing its data from")));

    // The rule "ServiceDown" names the cluster (pending: it fires after 120 s down).
    REQUIRE(test::waitUntil(
        [&] {
            for (const core::Alert &a : monitor->alerts().active())
                if (a.rule == "ServiceDown" &&
                    a.labels == core::Labels{{"service", "kafka:second"}})
                    return true;
            return false;
        },
        10s));
    for (const core::Alert &a : monitor->alerts().active())
        CHECK_FALSE(a.labels == core::Labels{{"service", "kafka"}});

    // The Health page: one row per cluster, the first up and the second down.
    window->showPage(QStringLiteral("Health & Alerts"));
    auto *health = qobject_cast<ui::HealthPage *>(window->page(QStringLiteral("Health & Alerts")));
    REQUIRE(health);
    REQUIRE(test::waitUntil(
        [&] {
            const ui::ServiceRow *a = serviceRow(*health->serviceModel(), QStringLiteral("kafka"));
            const ui::ServiceRow *b =
                serviceRow(*health->serviceModel(), QStringLiteral("kafka:second"));
            return a && b && a->state == core::ServiceState::Up &&
                   b->state == core::ServiceState::Down && !b->error.isEmpty();
        },
        10s));
    window->showPage(QStringLiteral("Kafka"));
    // The second stays down, shown (and the window answering) for a few of its refreshes more.
    REQUIRE_FALSE(test::waitUntil(
        [&] { return serviceState(*monitor, "kafka:second") != core::ServiceState::Down; }, 3s));

    // The event loop answered all along: no wait for the dead cluster on the GUI thread.
    loop.timer.stop();
    INFO("loop probe: " << loop.ticks << " ticks, longest gap " << loop.longestMs << " ms");
    CHECK(loop.ticks > 100);
    CHECK(loop.longestMs < 250); // 5 ms ticks; the dead cluster's timeouts are 1,000-1,500 ms

    // Screenshots after the probe (grabbing the window is the test's own work).
    kafka->setCurrentCluster(QStringLiteral("second"));
    screenshot(*window, QStringLiteral("kafka-second-cluster-down.png"));
    kafka->setCurrentCluster(QString::fromStdString(primary.name));
    screenshot(*window, QStringLiteral("kafka-first-cluster-updating.png"));
    window->showPage(QStringLiteral("Health & Alerts"));
    screenshot(*window, QStringLiteral("health-two-clusters.png"));
    window->showPage(QStringLiteral("Kafka"));

    SECTION("remembered across windows: a new window shows the second cluster again")
    {
        window.reset();
        // The old page let go of it; the new one adds it again from the saved profile name.
        CHECK(monitor->watchedClusters().empty());
        auto again = std::make_unique<ui::MainWindow>(*engine);
        auto *page = qobject_cast<ui::KafkaPage *>(again->page(QStringLiteral("Kafka")));
        REQUIRE(page);
        CHECK(page->clusterNames() ==
              QStringList{QString::fromStdString(primary.name), QStringLiteral("second")});
        again.reset();
    }
    SECTION("closing the dead cluster returns at once and drops its row")
    {
        kafka->setCurrentCluster(QStringLiteral("second")); // the one shown: the bar moves on
        QElapsedTimer clock;
        clock.start();
        CHECK(kafka->removeCluster(QStringLiteral("second")));
        const qint64 took = clock.elapsed();
        INFO("removeCluster took " << took << " ms");
        CHECK(took < 200);
        CHECK(kafka->clusterNames() == QStringList{QString::fromStdString(primary.name)});
        CHECK(kafka->clusterBar()->count() == 1);
        CHECK(kafka->currentCluster() == QString::fromStdString(primary.name));
        CHECK(kafka->clusterStatus()->text().contains(QStringLiteral("closed second")));
        CHECK_FALSE(kafka->removeCluster(QString::fromStdString(primary.name)));
        CHECK(QSettings().value(QStringLiteral("kafka/clusters")).toStringList().isEmpty());
        REQUIRE(test::waitUntil(
            [&] {
                const auto h = monitor->health().snapshot();
                return h && !h->find("kafka:second");
            },
            10s));
        window.reset();
    }
    engine.reset();
}

// ---- Real Kafka: the SASL_SSL cluster and a single node at once (ctest kafka_clusters_gui) ----

namespace {

std::string readFileTrimmed(const std::string &path)
{
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

/// scripts/kafka.sh on DIR: "start single" or "stop".
bool kafkaScript(const std::string &args, const std::string &dir)
{
    const std::string command = "bash '" STUDIO_SOURCE_DIR "/scripts/kafka.sh' " + args + " '" +
                                dir + "' >'" + dir + ".log' 2>&1";
    return std::system(command.c_str()) == 0;
}

} // namespace

TEST_CASE("real Kafka: the SASL_SSL cluster and a single node in one window, the single node "
          "stopped while the cluster keeps updating",
          "[.realkafkaboth][ui][kafka][clusters]")
{
    test::IsolatedSettings isolated;
    // The aggregator's cluster: scripts/kafka.sh's SASL_SSL cluster (ctest's fixture), as the
    // app's own user.
    const std::string clusterDir = qEnvironmentVariable("STUDIO_KAFKA_DIR").toStdString();
    INFO("STUDIO_KAFKA_DIR=" << clusterDir << " (scripts/kafka.sh start cluster DIR)");
    core::ClusterConfig real;
    real.name = "cluster";
    real.bootstrap = readFileTrimmed(clusterDir + "/bootstrap");
    REQUIRE_FALSE(real.bootstrap.empty());
    real.security = core::SecurityProtocol::SaslSsl;
    real.saslMechanism = "SCRAM-SHA-512";
    real.saslUsername = "studio";
    real.saslPassword = readFileTrimmed(clusterDir + "/studio.password");
    real.sslCaLocation = clusterDir + "/tls/ca.pem";

    // The second: a single node of its own, so stopping it leaves the fixtures alone.
    const std::string singleDir = QDir::tempPath().toStdString() + "/studio-clusters-single-" +
                                  std::to_string(QCoreApplication::applicationPid());
    REQUIRE(kafkaScript("start single", singleDir));
    struct StopSingle
    {
        std::string dir;
        ~StopSingle()
        {
            kafkaScript("stop", dir);
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
            std::filesystem::remove(dir + ".log", ec);
        }
    } stopSingle{singleDir};
    core::ClusterConfig single;
    single.name = "single";
    single.bootstrap = readFileTrimmed(singleDir + "/bootstrap");
    REQUIRE_FALSE(single.bootstrap.empty());
    const std::string topic = "two-clusters-" + std::to_string(QDateTime::currentMSecsSinceEpoch());
    produce(single, topic, 25);

    core::StudioEngineSettings settings;
    settings.embedded = false;
    settings.cluster = real;
    settings.monitorSettings.healthInterval = 1s;
    settings.monitorSettings.probeTimeout = 2000ms;
    settings.monitorSettings.clusterOptions.refreshIntervalMs = 500;
    settings.monitorSettings.groupOptions.refreshIntervalMs = 500;
    auto engine = std::make_unique<core::StudioEngine>(settings);
    std::string error;
    INFO(error);
    REQUIRE(engine->start(&error));
    auto window = std::make_unique<ui::MainWindow>(*engine);
    window->resize(1280, 800);
    window->show();
    window->showPage(QStringLiteral("Kafka"));
    auto *kafka = qobject_cast<ui::KafkaPage *>(window->page(QStringLiteral("Kafka")));
    REQUIRE(kafka);
    QString why;
    REQUIRE(kafka->addCluster(single, &why));
    REQUIRE(kafka->clusterNames() ==
            QStringList{QStringLiteral("cluster"), QStringLiteral("single")});
    ui::ClusterPanel *panel = kafka->clusterPanel(QStringLiteral("single"));
    REQUIRE(panel);
    core::Monitor *monitor = engine->monitor();
    REQUIRE(monitor);

    // Both up, each with its own row; each view shows its own cluster's topics.
    REQUIRE(test::waitUntil(
        [&] {
            return serviceState(*monitor, "kafka") == core::ServiceState::Up &&
                   serviceState(*monitor, "kafka:single") == core::ServiceState::Up;
        },
        60s));
    kafka->setCurrentCluster(QStringLiteral("single"));
    REQUIRE(test::waitUntil(
        [&] { return topicMessages(*panel->topicsView(), QString::fromStdString(topic)) == 25; },
        60s));
    kafka->setCurrentCluster(QStringLiteral("cluster"));
    const std::string clusterTopic = topic + "-c";
    produce(real, clusterTopic, 40);
    REQUIRE(test::waitUntil(
        [&] {
            return topicMessages(*kafka->topicsView(), QString::fromStdString(clusterTopic)) == 40;
        },
        60s));
    CHECK(topicMessages(*kafka->topicsView(), QString::fromStdString(topic)) == -1);
    screenshot(*window, QStringLiteral("real-two-clusters-up.png"));

    // The single node stops (scripts/kafka.sh stop, on another thread); its row goes down while
    // the cluster's view keeps counting and the GUI thread keeps answering.
    LoopProbe loop;
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
        kafkaScript("stop", singleDir);
        stopped = true;
    });
    REQUIRE(test::waitUntil(
        [&] { return serviceState(*monitor, "kafka:single") == core::ServiceState::Down; }, 60s));
    test::waitUntil([&] { return stopped.load(); }, 60s);
    stopper.join();
    CHECK(serviceState(*monitor, "kafka") == core::ServiceState::Up);
    for (int round = 1; round <= 2; ++round) {
        REQUIRE(produceOffThread(real, clusterTopic, 10));
        REQUIRE(test::waitUntil(
            [&] {
                return topicMessages(*kafka->topicsView(), QString::fromStdString(clusterTopic)) ==
                       40 + 10 * round;
            },
            60s));
    }
    REQUIRE(test::waitUntil(
        [&] { return kafka->clusterBar()->tabText(1).contains(QStringLiteral("down")); }, 10s));
    loop.timer.stop();
    INFO("loop probe: " << loop.ticks << " ticks, longest gap " << loop.longestMs << " ms");
    CHECK(loop.ticks > 100);
    CHECK(loop.longestMs < 250);

    kafka->setCurrentCluster(QStringLiteral("single"));
    REQUIRE(test::waitUntil(
        [&] {
            return kafka->clusterStatus()->text().startsWith(QStringLiteral("single is down: "));
        },
        30s));
    screenshot(*window, QStringLiteral("real-single-down-cluster-up.png"));
    window->showPage(QStringLiteral("Health & Alerts"));
    screenshot(*window, QStringLiteral("real-health-two-clusters.png"));
    window.reset();
    engine.reset();
}
