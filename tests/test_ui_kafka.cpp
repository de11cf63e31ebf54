// GUI issue 7, the Kafka page against the embedded broker in process: topics, partitions and
// watermarks; the message viewer (last N, from a timestamp, search, detail, CSV, live tail); a
// consumer group's lag rows and history; Create topic. Every model runs under
// QAbstractItemModelTester.
#include "core/engine/studioengine.h"
#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaclient.h"
#include "core/monitor/monitor.h"
#include "ui/dialogs/createtopicdialog.h"
#include "ui/models/kafkamodels.h"
#include "ui/models/messagemodel.h"
#include "ui/pages/groupsview.h"
#include "ui/pages/kafkapage.h"
#include "ui/pages/messageview.h"
#include "ui/pages/topicsview.h"
#include "ui/widgets/heatstrip.h"
#include "ui/window/mainwindow.h"
#include "uitestsupport.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QCoreApplication>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

using namespace studio;
using namespace std::chrono_literals;

namespace {

bool waitUntil(const std::function<bool()> &condition, int seconds = 20)
{
    const qint64 deadline = QDateTime::currentMSecsSinceEpoch() + qint64(seconds) * 1000;
    while (!condition()) {
        if (QDateTime::currentMSecsSinceEpoch() > deadline)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(20);
    }
    return true;
}

core::KafkaHandle makeClient(const core::ClusterConfig &cluster, rd_kafka_type_t type,
                             core::Properties props = {})
{
    std::string error;
    core::KafkaConf conf = core::makeKafkaConf(cluster, props, &error);
    INFO(error);
    REQUIRE(conf);
    core::KafkaHandle client = core::createKafkaClient(type, std::move(conf), &error);
    INFO(error);
    REQUIRE(client);
    return client;
}

// `count` JSON events "<prefix>-<i>" spread over the partitions in turn, all at `timestampMs`.
void produce(rd_kafka_t *producer, const std::string &topic, int partitions, int first, int count,
             const std::string &prefix, std::int64_t timestampMs)
{
    for (int i = first; i < first + count; ++i) {
        const std::string key = "user-" + std::to_string(i % 7);
        const std::string value = R"({"event_id":")" + prefix + "-" + std::to_string(i) +
                                  R"(","page":"/p/)" + std::to_string(i) + R"(","n":)" +
                                  std::to_string(i) + "}";
        REQUIRE(rd_kafka_producev(
                    producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(i % partitions),
                    RD_KAFKA_V_KEY(key.data(), key.size()),
                    RD_KAFKA_V_VALUE(const_cast<char *>(value.data()), value.size()),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestampMs),
                    RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

// Commits offsets for the consumer's group without joining it.
rd_kafka_resp_err_t commitOffsets(rd_kafka_t *consumer, const std::string &topic,
                                  const std::map<std::int32_t, std::int64_t> &offsets)
{
    const core::KafkaPartitionList list = core::makePartitionList(int(offsets.size()));
    for (const auto &[partition, offset] : offsets)
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
    return rd_kafka_commit(consumer, list.get(), 0);
}

const ui::TopicRow *findTopic(const ui::TopicModel &model, const QString &name)
{
    for (const ui::TopicRow &r : model.rows())
        if (r.name == name)
            return &r;
    return nullptr;
}

void screenshot(QWidget &widget, const QString &name)
{
    const QString dir = qEnvironmentVariable("STUDIO_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    QCoreApplication::processEvents();
    CHECK(widget.grab().save(dir + QLatin1Char('/') + name));
}

core::TopicInfo topicInfo(const std::string &name, std::int64_t messages)
{
    core::TopicInfo t;
    t.name = name;
    t.messages = messages;
    t.partitions.resize(2);
    return t;
}

} // namespace

TEST_CASE("table models follow snapshots with precise inserts, removals and changes", "[ui][kafka]")
{
    ui::TopicModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    core::ClusterSnapshot snap;
    snap.topics = {topicInfo("a", 1), topicInfo("b", 2), topicInfo("c", 3), topicInfo("d", 4)};
    model.update(snap);
    CHECK(model.rowCount() == 4);
    CHECK(inserted.count() == 4);

    // b and c go, e comes, d changes: two rows removed in one run, one inserted, one changed.
    inserted.clear();
    snap.topics = {topicInfo("a", 1), topicInfo("d", 40), topicInfo("e", 5)};
    model.update(snap);
    REQUIRE(removed.count() == 1);
    CHECK(removed.at(0).at(1).toInt() == 1);
    CHECK(removed.at(0).at(2).toInt() == 2);
    REQUIRE(inserted.count() == 1);
    CHECK(inserted.at(0).at(1).toInt() == 2);
    REQUIRE(changed.count() == 1);
    CHECK(changed.at(0).at(0).toModelIndex().row() == 1);
    CHECK(reset.count() == 0);

    // The same snapshot again: no signal at all.
    changed.clear();
    model.update(snap);
    CHECK(changed.count() == 0);
    CHECK(model.rows()[1].messages == 40);

    // A different order of kept keys cannot be told precisely: a reset, still consistent.
    snap.topics = {topicInfo("e", 5), topicInfo("a", 1)};
    model.update(snap);
    CHECK(reset.count() == 1);
    CHECK(model.rowCount() == 2);
    CHECK(model.rows()[0].name == QLatin1String("e"));
}

TEST_CASE("the Create topic dialog accepts only legal topic names", "[ui][kafka]")
{
    ui::CreateTopicDialog dialog;
    auto *name = dialog.findChild<QLineEdit *>();
    auto *ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    REQUIRE(name);
    CHECK_FALSE(ok->isEnabled());
    name->setText(QStringLiteral("orders.v2"));
    CHECK(ok->isEnabled());
    CHECK(dialog.name() == QLatin1String("orders.v2"));
    name->setText(QStringLiteral("has space"));
    CHECK_FALSE(ok->isEnabled());
    name->setText(QStringLiteral(".."));
    CHECK_FALSE(ok->isEnabled());
    CHECK(dialog.partitions() >= 1);
    CHECK(dialog.replicationFactor() >= 1);
}

TEST_CASE("the Kafka page shows topics, partitions, messages, a group's lag and creates topics",
          "[ui][kafka][broker]")
{
    constexpr int kPartitions = 4;
    core::EmbeddedBroker broker;
    std::string error;
    core::EmbeddedBroker::Options options;
    options.partitions = kPartitions;
    options.topics = {"clickstream"};
    REQUIRE(broker.start(options, &error));
    const core::ClusterConfig cluster = broker.clusterConfig();

    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    const std::int64_t hourAgo = now - 3'600'000;
    core::KafkaHandle producer = makeClient(cluster, RD_KAFKA_PRODUCER, {{"linger.ms", "5"}});
    produce(producer.get(), "clickstream", kPartitions, 0, 20, "old", hourAgo);
    produce(producer.get(), "clickstream", kPartitions, 20, 20, "new", now);

    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.embedded = &broker;
    ms.healthInterval = 500ms;
    ms.clusterOptions.refreshIntervalMs = 300;
    ms.groupOptions.refreshIntervalMs = 300;
    core::Monitor monitor(ms);
    REQUIRE(monitor.start(&error));

    ui::KafkaPage page(monitor, cluster);
    ui::TopicsView *topics = page.topicsView();
    ui::GroupsView *groups = page.groupsView();
    ui::MessageView *viewer = page.messageView();
    QAbstractItemModelTester t1(topics->topicModel(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester t2(topics->partitionModel(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester t3(groups->groupModel(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester t4(groups->lagModel(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester t5(viewer->model(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    CHECK_FALSE(page.isPolling());
    page.resize(1280, 800);
    page.show();
    CHECK(page.isPolling());

    SECTION("topics, partitions and watermarks")
    {
        REQUIRE(waitUntil([&] {
            const ui::TopicRow *t = findTopic(*topics->topicModel(), QStringLiteral("clickstream"));
            return t && t->messages == 40;
        }));
        REQUIRE(topics->selectTopic(QStringLiteral("clickstream")));
        const auto &parts = topics->partitionModel()->rows();
        REQUIRE(parts.size() == kPartitions);
        for (const ui::PartitionRow &p : parts) {
            CHECK(p.low == 0);
            CHECK(p.high == 10);
            CHECK(p.messages == 10);
            CHECK(p.leader >= 1);
            CHECK_FALSE(p.replicas.isEmpty());
            CHECK_FALSE(p.isr.isEmpty());
        }
        CHECK(topics->heatStrip()->values().size() == kPartitions);
        screenshot(page, QStringLiteral("kafka-topics.png"));

        // Produce into partition 2 only: the heat strip shows it hotter than the rest.
        for (int round = 0; round < 6; ++round) {
            for (int i = 0; i < 50; ++i) {
                const std::string v = "hot " + std::to_string(i);
                REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("clickstream"),
                                          RD_KAFKA_V_PARTITION(2),
                                          RD_KAFKA_V_VALUE(const_cast<char *>(v.data()), v.size()),
                                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
            }
            rd_kafka_flush(producer.get(), 5000);
            QCoreApplication::processEvents();
            QThread::msleep(150);
        }
        REQUIRE(waitUntil([&] {
            const auto &v = topics->heatStrip()->values();
            return v.size() == kPartitions && v[2] > 0 && v[2] > v[0] && v[2] > v[1];
        }));
        screenshot(page, QStringLiteral("kafka-topics-hot.png"));
    }

    SECTION("create a topic")
    {
        QSignalSpy created(topics, &ui::TopicsView::topicCreated);
        topics->createTopic(QStringLiteral("ui-created"), 3, 1);
        REQUIRE(created.wait(20'000));
        CHECK(created.at(0).at(0).toBool());
        REQUIRE(waitUntil([&] {
            const ui::TopicRow *t = findTopic(*topics->topicModel(), QStringLiteral("ui-created"));
            return t && t->partitions == 3;
        }));
        // A bad name is refused with the reason, not sent to the cluster.
        topics->createTopic(QStringLiteral("bad name!"), 1, 1);
        REQUIRE(created.wait(20'000));
        CHECK_FALSE(created.at(1).at(0).toBool());
    }

    SECTION("the message viewer: last N, from a timestamp, search, detail, CSV and live tail")
    {
        page.tabs()->setCurrentWidget(viewer);
        REQUIRE(waitUntil([&] { return !viewer->topic().isEmpty(); }));
        viewer->setTopic(QStringLiteral("clickstream"));
        viewer->setPartition(-1);
        QSignalSpy finished(viewer, &ui::MessageView::readFinished);

        viewer->setMode(ui::MessageView::Mode::LastN);
        viewer->setCount(3);
        viewer->read();
        REQUIRE(finished.wait(20'000));
        CHECK(finished.last().at(0).toBool());
        CHECK(viewer->model()->rowCount() == 3 * kPartitions);
        for (const ui::MessageRow &r : viewer->model()->rows())
            CHECK(r.offset >= 7);

        viewer->setPartition(1);
        viewer->read();
        REQUIRE(finished.wait(20'000));
        REQUIRE(viewer->model()->rowCount() == 3);
        for (const ui::MessageRow &r : viewer->model()->rows())
            CHECK(r.partition == 1);

        viewer->setMode(ui::MessageView::Mode::FromOffset);
        viewer->setOffset(8);
        viewer->setCount(1);
        viewer->read();
        REQUIRE(finished.wait(20'000));
        REQUIRE(viewer->model()->rowCount() == 1);
        CHECK(viewer->model()->rows().front().offset == 8);
        CHECK(viewer->model()->rows().front().partition == 1);
        // Past 2^31 (a busy partition's offsets): taken as it is, nothing there yet.
        viewer->setOffset(5'000'000'000LL);
        viewer->read();
        REQUIRE(finished.wait(20'000));
        CHECK(finished.last().at(0).toBool());
        CHECK(viewer->model()->rowCount() == 0);

        viewer->setPartition(-1);
        viewer->setMode(ui::MessageView::Mode::FromTimestamp);
        viewer->setCount(1000);
        viewer->setTimestamp(QDateTime::fromMSecsSinceEpoch(now - 60'000, Qt::UTC));
        viewer->read();
        REQUIRE(finished.wait(20'000));
        CHECK(finished.last().at(0).toBool());
        CHECK(viewer->model()->rowCount() == 20);
        for (const ui::MessageRow &r : viewer->model()->rows()) {
            CHECK(r.timestampMs == now);
            CHECK(r.value.contains(QLatin1String("\"new-")));
        }

        viewer->search(QStringLiteral("old-17\""));
        REQUIRE(finished.wait(20'000));
        REQUIRE(viewer->model()->rowCount() == 1);
        const ui::MessageRow &hit = viewer->model()->rows().front();
        CHECK(hit.partition == 17 % kPartitions);
        CHECK(hit.offset == 17 / kPartitions);
        CHECK(hit.key == QLatin1String("user-3"));
        viewer->selectRow(0);
        CHECK(viewer->detailText().contains(QLatin1String("\n    \"event_id\": \"old-17\"")));
        CHECK(viewer->detailText().contains(
            ui::MessageModel::isoTime(hourAgo))); // ISO-8601 UTC with milliseconds
        CHECK(ui::MessageModel::isoTime(hourAgo).endsWith(QLatin1Char('Z')));

        viewer->copyToClipboard();
        CHECK(QApplication::clipboard()->text().contains(QLatin1String("old-17")));
        CHECK(QApplication::clipboard()->text().startsWith(QLatin1String("topic,partition")));

        QTemporaryDir dir;
        QSignalSpy exported(viewer, &ui::MessageView::exportFinished);
        viewer->exportCsv(dir.filePath(QStringLiteral("messages.csv")));
        REQUIRE(exported.wait(10'000));
        CHECK(exported.at(0).at(0).toBool());
        QFile csv(dir.filePath(QStringLiteral("messages.csv")));
        REQUIRE(csv.open(QIODevice::ReadOnly));
        const QByteArray text = csv.readAll();
        CHECK(text.startsWith("topic,partition,offset,timestamp,key,value\r\n"));
        CHECK(text.contains("\"{\"\"event_id\"\":\"\"old-17\"\""));
        CHECK(text.count("\r\n") == 2);
        screenshot(page, QStringLiteral("kafka-messages.png"));

        viewer->setMode(ui::MessageView::Mode::LiveTail);
        viewer->read();
        REQUIRE(waitUntil([&] { return viewer->tailRunning() && viewer->tailPositioned(); }));
        produce(producer.get(), "clickstream", kPartitions, 100, 8, "tail", now + 1000);
        REQUIRE(waitUntil([&] { return viewer->model()->rowCount() == 8; }));
        for (const ui::MessageRow &r : viewer->model()->rows())
            CHECK(r.value.contains(QLatin1String("\"tail-")));
        viewer->stopTail();
        CHECK_FALSE(viewer->tailRunning());
        CHECK(waitUntil([&] { return viewer->tailIdle(); }));
    }

    SECTION("a consumer group's lag per partition and its history")
    {
        monitor.groups().watchGroup("ui-group", {"clickstream"});
        core::KafkaHandle consumer =
            makeClient(cluster, RD_KAFKA_CONSUMER,
                       {{"group.id", "ui-group"}, {"enable.auto.commit", "false"}});
        REQUIRE(commitOffsets(consumer.get(), "clickstream", {{0, 4}, {1, 4}, {2, 4}, {3, 4}}) ==
                RD_KAFKA_RESP_ERR_NO_ERROR);
        page.tabs()->setCurrentWidget(groups);
        REQUIRE(waitUntil([&] {
            return groups->selectGroup(QStringLiteral("ui-group")) &&
                   groups->lagModel()->rowCount() == kPartitions &&
                   groups->lagModel()->rows().front().committed == 4;
        }));
        for (const ui::LagRow &r : groups->lagModel()->rows()) {
            CHECK(r.topic == QLatin1String("clickstream"));
            CHECK(r.committed == 4);
            CHECK(r.high == 10);
            CHECK(r.lag == 6);
        }
        const ui::GroupRow &g = groups->groupModel()->rows().front();
        CHECK(g.id == QLatin1String("ui-group"));
        CHECK(g.totalLag == 6 * kPartitions);
        CHECK_FALSE(g.status.isEmpty());
        REQUIRE(waitUntil([&] { return groups->lagPoints() >= 2; }));
        screenshot(page, QStringLiteral("kafka-groups.png"));
    }

    page.hide();
    CHECK_FALSE(page.isPolling());
    monitor.stop();
}

// Regression: TopicsView handed a raw ClusterMonitor* to a pool task that can block for the
// whole request timeout, and app/gui.cpp destroys the engine (and with it the ClusterMonitor)
// right after the window, long before QApplication drains the pool: closing the window during
// Create topic read freed memory. The same order here: window, then engine, then the pool.
// Under AddressSanitizer (build-asan, tests/README.md) the queued case is a heap-use-after-free
// without the fix; in the plain build it must at least neither crash nor hang.
TEST_CASE("Closing the window during Create topic on an unreachable cluster reads nothing freed",
          "[ui][kafka][lifetime]")
{
    test::IsolatedSettings isolated;
    core::StudioEngineSettings settings;
    settings.embedded = false;
    settings.cluster.bootstrap = "127.0.0.1:1"; // nothing listens there
    settings.monitorSettings.clusterOptions.requestTimeoutMs = 1500;
    settings.monitorSettings.clusterOptions.refreshIntervalMs = 500;
    auto engine = std::make_unique<core::StudioEngine>(settings);
    std::string error;
    REQUIRE(engine->start(&error));
    auto window = std::make_unique<ui::MainWindow>(*engine);
    window->show();
    auto *kafka = qobject_cast<ui::KafkaPage *>(window->page(QStringLiteral("Kafka")));
    REQUIRE(kafka);
    ui::TopicsView *topics = kafka->topicsView();
    REQUIRE(topics);

    QThreadPool *pool = QThreadPool::globalInstance();
    std::atomic<bool> release{true};
    QList<QFuture<void>> blockers;
    SECTION("while the creation waits for the cluster")
    {
        topics->createTopic(QStringLiteral("created-while-closing"), 1, 1);
        std::this_thread::sleep_for(300ms); // in librdkafka's CreateTopics by now
    }
    SECTION("while the creation is still queued behind a busy thread pool")
    {
        // Every pool thread busy (a report query, a connection test, ...): the creation starts
        // only after the window has gone.
        release = false;
        for (int i = 0; i < pool->maxThreadCount(); ++i)
            blockers << QtConcurrent::run([&release] {
                const auto until = std::chrono::steady_clock::now() + 20s;
                while (!release && std::chrono::steady_clock::now() < until)
                    std::this_thread::sleep_for(5ms);
            });
        REQUIRE(test::waitUntil([&] { return pool->activeThreadCount() >= pool->maxThreadCount(); },
                                10s));
        topics->createTopic(QStringLiteral("created-while-closing"), 1, 1);
    }
    QElapsedTimer clock;
    clock.start();
    window->close();
    window.reset(); // waits for the creation (at most the request timeout and librdkafka's poll)
    const qint64 windowMs = clock.elapsed();
    engine.reset();
    release = true;
    for (QFuture<void> &b : blockers)
        b.waitForFinished();
    REQUIRE(pool->waitForDone(30'000)); // what QApplication's destructor does at exit
    INFO("window destroyed in " << windowMs << " ms");
    CHECK(windowMs < 10'000);
}
