// Acceptance flows of GUI issue 7 through the real window over a real engine on the embedded
// broker: a stopped aggregator shows as growing lag and a Burrow status change on Kafka > Consumer
// groups, and recovers when resumed; a Redis sink whose server goes away shows down on the Health
// page and fires an alert counted in the status bar, both clearing when the server is back.
#include "core/engine/studioengine.h"
#include "core/monitor/alerts.h"
#include "core/monitor/monitor.h"
#include "ui/models/kafkamodels.h"
#include "ui/models/servicemodel.h"
#include "ui/pages/groupsview.h"
#include "ui/pages/healthpage.h"
#include "ui/pages/kafkapage.h"
#include "ui/window/mainwindow.h"

#include "serversupport.h"
#include "uitestsupport.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QLabel>
#include <QTabWidget>

using namespace studio;
using namespace std::chrono_literals;

namespace {

/// The display text of `column` in the row whose first column reads `key`; empty when none.
QString cell(const QAbstractItemModel *model, const QString &key, int column)
{
    for (int r = 0; r < model->rowCount(); ++r) {
        if (model->index(r, 0).data().toString() == key)
            return model->index(r, column).data().toString();
    }
    return {};
}

/// "12,345" -> 12345; -1 when there are no digits.
qint64 number(const QString &text)
{
    QString digits;
    for (const QChar c : text) {
        if (c.isDigit())
            digits += c;
    }
    return digits.isEmpty() ? -1 : digits.toLongLong();
}

/// Monitoring fast enough for a test: groups every 500 ms over a 5-sample window (STOP after
/// about 2.5 s without progress), health probes every 500 ms, alerts evaluated every 250 ms.
core::StudioEngineSettings fastSettings()
{
    core::StudioEngineSettings settings;
    settings.embeddedOptions.brokers = 1;
    settings.embeddedOptions.partitions = 4;
    settings.monitorSettings.tickMs = 250;
    settings.monitorSettings.healthInterval = 500ms;
    settings.monitorSettings.probeTimeout = 1000ms;
    settings.monitorSettings.groupOptions.refreshIntervalMs = 500;
    settings.monitorSettings.groupOptions.windowSize = 5;
    return settings;
}

int firingInStatusBar(const ui::MainWindow &window)
{
    const auto *alerts = window.findChild<QLabel *>(QStringLiteral("alertsLabel"));
    REQUIRE(alerts);
    return int(number(alerts->text()));
}

} // namespace

TEST_CASE("a paused aggregator shows growing lag and STOP on the group page, and recovers",
          "[ui][flows]")
{
    test::IsolatedSettings isolated;
    const core::StudioEngineSettings settings = fastSettings();
    core::StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));
    core::StudioProducerSettings producer;
    producer.producer.ratePerSecond = 5000;
    const int id = engine.addProducer(producer);
    REQUIRE(engine.startProducer(id, &error));

    ui::MainWindow window(engine);
    window.resize(1280, 800);
    window.show();
    window.showPage(QStringLiteral("Kafka"));
    auto *kafka = qobject_cast<ui::KafkaPage *>(window.page(QStringLiteral("Kafka")));
    REQUIRE(kafka);
    kafka->tabs()->setCurrentWidget(kafka->groupsView());
    ui::GroupModel *groups = kafka->groupsView()->groupModel();
    QAbstractItemModelTester tester(groups, QAbstractItemModelTester::FailureReportingMode::Fatal);
    const QString group = QString::fromStdString(settings.groupId);
    auto status = [&] {
        return cell(groups, group, ui::GroupModel::Status);
    };
    auto lag = [&]() -> qint64 { // the sort role holds the exact total lag, -1 while unknown
        for (int r = 0; r < groups->rowCount(); ++r) {
            if (groups->index(r, 0).data().toString() == group)
                return groups->index(r, ui::GroupModel::Lag).data(ui::kSortRole).toLongLong();
        }
        return -1;
    };

    // Consuming: the group shows up and its status settles on OK.
    REQUIRE(test::waitUntil([&] { return status() == QStringLiteral("OK"); }, 60s));
    CHECK(kafka->groupsView()->selectGroup(group));

    // Stopped consumption: no commits, the lag grows and the status turns STOP.
    REQUIRE(engine.pauseAggregator());
    REQUIRE(test::waitUntil([&] { return lag() > 5000; }, 30s));
    const qint64 lagBefore = lag();
    REQUIRE(test::waitUntil([&] { return lag() > lagBefore + 5000; }, 30s));
    REQUIRE(test::waitUntil([&] { return status() == QStringLiteral("STOP"); }, 30s));
    INFO("reason: " << cell(groups, group, ui::GroupModel::Reason).toStdString());
    CHECK(cell(groups, group, ui::GroupModel::Reason).contains(QStringLiteral("clickstream[")));
    const qint64 stoppedLag = lag();

    // Resumed: the aggregator catches up, the lag falls and the status leaves STOP for OK.
    REQUIRE(engine.resumeAggregator());
    REQUIRE(test::waitUntil([&] { return lag() >= 0 && lag() < stoppedLag / 4; }, 60s));
    REQUIRE(test::waitUntil([&] { return status() == QStringLiteral("OK"); }, 60s));
    CHECK(kafka->groupsView()->lagPoints() > 5);
    engine.stopProducer(id);
    engine.waitIdle();
}

TEST_CASE("a Redis sink whose server stops shows down on the Health page and fires an alert "
          "until it is back",
          "[ui][flows][servers]")
{
    std::string why;
    if (!test::RedisServer::available(&why)) {
        WARN(why);
        return;
    }
    test::RedisServer redis;
    std::string error;
    REQUIRE(redis.start(&error));

    test::IsolatedSettings isolated;
    core::StudioEngine engine(fastSettings());
    REQUIRE(engine.start(&error));
    core::Monitor *monitor = engine.monitor();
    REQUIRE(monitor);
    // The default ServiceDown rule waits 120 s; this one fires on the first evaluation.
    core::AlertRule rule;
    rule.name = "RedisDownNow";
    rule.signal = core::kSignalServiceUp;
    rule.matchers = {{"service", "redis"}};
    rule.comparison = core::Comparison::Equal;
    rule.threshold = 0;
    rule.forSeconds = 0;
    rule.severity = core::Severity::Critical;
    rule.summary = "{service} is down";
    REQUIRE(monitor->alerts().addRule(rule, &error));

    core::StudioProducerSettings producer;
    producer.producer.ratePerSecond = 2000;
    const int id = engine.addProducer(producer);
    REQUIRE(engine.startProducer(id, &error));

    ui::MainWindow window(engine);
    window.resize(1280, 800);
    window.show();
    window.showPage(QStringLiteral("Health & Alerts"));
    auto *health = qobject_cast<ui::HealthPage *>(window.page(QStringLiteral("Health & Alerts")));
    REQUIRE(health);
    ui::ServiceModel *services = health->serviceModel();
    QAbstractItemModelTester tester(services,
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    auto redisState = [&] {
        return cell(services, QStringLiteral("redis"), ui::ServiceModel::State).toLower();
    };

    // Configured through the engine as the settings dialog does: the probe follows the sink.
    REQUIRE(engine.configureSinks(
        {}, {}, "redis://" + redis.host() + ":" + std::to_string(redis.port()) + "/0", {}, &error));
    REQUIRE(test::waitUntil([&] { return redisState() == QStringLiteral("up"); }, 30s));
    CHECK(test::waitUntil(
        [&] { return engine.sample().redis.state != core::ServiceState::NotConfigured; }, 10s));
    CHECK(firingInStatusBar(window) == 0);

    // Down: the page says so, the rule fires, the status bar counts it.
    redis.stop();
    REQUIRE(test::waitUntil([&] { return redisState() == QStringLiteral("down"); }, 30s));
    REQUIRE(test::waitUntil([&] { return health->firingCount() > 0; }, 30s));
    REQUIRE(test::waitUntil([&] { return firingInStatusBar(window) > 0; }, 10s));
    bool named = false;
    for (const core::Alert &a : monitor->alerts().active())
        named = named || (a.rule == "RedisDownNow" && a.state == core::AlertState::Firing);
    CHECK(named);

    // Back: up again, the alert resolves, the count returns to zero.
    REQUIRE(redis.start(&error));
    REQUIRE(test::waitUntil([&] { return redisState() == QStringLiteral("up"); }, 30s));
    REQUIRE(test::waitUntil([&] { return health->firingCount() == 0; }, 30s));
    REQUIRE(test::waitUntil([&] { return firingInStatusBar(window) == 0; }, 10s));
    bool resolved = false;
    for (const core::AlertTransition &t : monitor->alerts().history())
        resolved = resolved ||
                   (t.alert.rule == "RedisDownNow" && t.alert.state == core::AlertState::Resolved);
    CHECK(resolved);
    engine.stopProducer(id);
    engine.waitIdle();
}
