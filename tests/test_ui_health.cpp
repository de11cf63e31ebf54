// GUI issue 7, the Health & Alerts page against a Monitor on the embedded broker in process:
// services in the health table with their history, an alert that fires and resolves (with
// firingChanged), the rules editor (add, edit, validation, save to and load from JSON). Every
// model runs under QAbstractItemModelTester.
#include "core/kafka/embeddedbroker.h"
#include "core/monitor/monitor.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"
#include "core/produce/producerpool.h"
#include "ui/dialogs/alertruleseditor.h"
#include "ui/models/alertmodels.h"
#include "ui/models/servicemodel.h"
#include "ui/pages/healthpage.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QColor>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QThread>

#include <chrono>
#include <functional>

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

const ui::ServiceRow *findService(const ui::ServiceModel &model, const QString &name)
{
    for (const ui::ServiceRow &r : model.rows())
        if (r.name == name)
            return &r;
    return nullptr;
}

int findRule(const ui::AlertRuleModel &model, const std::string &name)
{
    for (std::size_t i = 0; i < model.rules().size(); ++i)
        if (model.rules()[i].name == name)
            return int(i);
    return -1;
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

} // namespace

TEST_CASE("the Health & Alerts page shows services, alerts firing and resolving, and edits rules",
          "[ui][health][broker]")
{
    core::EmbeddedBroker broker;
    std::string error;
    core::EmbeddedBroker::Options options;
    options.partitions = 2;
    REQUIRE(broker.start(options, &error));

    QTemporaryDir dir;
    // A producer to follow, and a Redis nobody listens on: rows that are up and down.
    core::ProducerPool pool;
    core::ProducerSettings producerSettings;
    producerSettings.ratePerSecond = 200;
    const int producerId = pool.add(std::make_unique<core::KafkaProducer>(
        broker.clusterConfig(), producerSettings,
        std::make_unique<core::GeneratorSource>(core::GeneratorConfig{})));
    REQUIRE(pool.find(producerId)->start(&error));
    const QString producerName = QStringLiteral("producer-%1").arg(producerId);

    core::MonitorSettings ms;
    core::RedisTarget deadRedis;
    deadRedis.host = "127.0.0.1";
    deadRedis.port = 1;
    ms.redis = deadRedis;
    ms.cluster = broker.clusterConfig();
    ms.embedded = &broker;
    ms.tickMs = 200;
    ms.healthInterval = 300ms;
    ms.clusterOptions.refreshIntervalMs = 500;
    ms.groupOptions.refreshIntervalMs = 500;
    core::Monitor monitor(ms);
    // Fires as soon as Kafka answers: something to see in the firing and history tables.
    core::AlertRule kafkaUp;
    kafkaUp.name = "KafkaAnswers";
    kafkaUp.signal = core::kSignalServiceUp;
    kafkaUp.matchers = {{"service", "kafka"}};
    kafkaUp.comparison = core::Comparison::Equal;
    kafkaUp.threshold = 1;
    kafkaUp.severity = core::Severity::Info;
    kafkaUp.summary = "{service} answers";
    REQUIRE(monitor.alerts().setRules({kafkaUp}, &error));
    monitor.watchProducers(&pool);
    REQUIRE(monitor.start(&error));

    ui::HealthPage page(monitor);
    QAbstractItemModelTester t1(page.serviceModel(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester t2(page.activeModel(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester t3(page.historyModel(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester t4(page.rulesEditor()->model(),
                                QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy firing(&page, &ui::HealthPage::firingChanged);
    CHECK_FALSE(page.isPolling());
    page.resize(1280, 800);
    page.show();
    CHECK(page.isPolling());

    SECTION("services with state, latency and a history; an alert fires and resolves")
    {
        REQUIRE(waitUntil([&] {
            const ui::ServiceRow *kafka =
                findService(*page.serviceModel(), QStringLiteral("kafka"));
            return kafka && kafka->state == core::ServiceState::Up && kafka->latency.size() >= 8;
        }));
        const ui::ServiceRow *kafka = findService(*page.serviceModel(), QStringLiteral("kafka"));
        CHECK(kafka->latencyMs > 0);
        CHECK(kafka->states.size() == kafka->latency.size());
        CHECK(kafka->states.back() == 1.0);
        // Every service the monitor probes is a row, PostgreSQL and Redis "not configured".
        const auto health = monitor.health().snapshot();
        CHECK(page.serviceModel()->rowCount() == int(health->services.size()));
        for (const auto &s : health->services)
            CHECK(findService(*page.serviceModel(), QString::fromStdString(s->name)));
        const ui::ServiceRow *pg = findService(*page.serviceModel(), QStringLiteral("postgresql"));
        REQUIRE(pg);
        CHECK(pg->state == core::ServiceState::NotConfigured);
        REQUIRE(waitUntil([&] {
            const ui::ServiceRow *p = findService(*page.serviceModel(), producerName);
            const ui::ServiceRow *r = findService(*page.serviceModel(), QStringLiteral("redis"));
            return p && p->state == core::ServiceState::Up && r &&
                   r->state == core::ServiceState::Down && !r->error.isEmpty();
        }));
        const QModelIndex redisState = page.serviceModel()->index(
            int(std::find_if(
                    page.serviceModel()->rows().begin(), page.serviceModel()->rows().end(),
                    [](const ui::ServiceRow &r) { return r.name == QLatin1String("redis"); }) -
                page.serviceModel()->rows().begin()),
            ui::ServiceModel::State);
        CHECK(redisState.data(Qt::ForegroundRole).value<QColor>() ==
              ui::ServiceModel::stateColor(core::ServiceState::Down));

        REQUIRE(waitUntil([&] { return firing.count() >= 1; }));
        CHECK(firing.last().at(0).toInt() == 1);
        CHECK(firing.last().at(1).toString().contains(QLatin1String("KafkaAnswers")));
        CHECK(page.firingCount() == 1);
        REQUIRE(waitUntil([&] { return page.activeModel()->firingCount() == 1; }));
        CHECK(page.activeModel()->rows().front().summary == QLatin1String("kafka answers"));
        REQUIRE(waitUntil([&] { return page.historyModel()->rowCount() >= 1; }));
        screenshot(page, QStringLiteral("health-firing.png"));

        // Removing the rule in the editor and applying it resolves the alert.
        ui::AlertRulesEditor *editor = page.rulesEditor();
        editor->revert();
        const int row = findRule(*editor->model(), "KafkaAnswers");
        REQUIRE(row >= 0);
        REQUIRE(editor->model()->removeRows(row, 1));
        REQUIRE(editor->apply());
        REQUIRE(waitUntil([&] { return firing.last().at(0).toInt() == 0; }));
        CHECK(page.firingCount() == 0);
        REQUIRE(waitUntil([&] {
            for (const ui::AlertEventRow &r : page.historyModel()->rows())
                if (r.state == QLatin1String("resolved"))
                    return true;
            return false;
        }));
        REQUIRE(waitUntil([&] { return page.activeModel()->rowCount() == 0; }));
    }

    SECTION("a rule added in the editor reaches the JSON file; bad rules are refused")
    {
        ui::AlertRulesEditor *editor = page.rulesEditor();
        page.tabs()->setCurrentWidget(editor);
        ui::AlertRuleModel *model = editor->model();
        const int row = editor->addRule();
        REQUIRE(row == model->rowCount() - 1);
        using C = ui::AlertRuleModel;
        CHECK(
            model->setData(model->index(row, C::Name), QStringLiteral("LagTooHigh"), Qt::EditRole));
        CHECK(model->setData(model->index(row, C::Signal), QStringLiteral("lag_seconds"),
                             Qt::EditRole));
        CHECK(model->setData(model->index(row, C::Matchers),
                             QStringLiteral("group=clickstream-agg"), Qt::EditRole));
        CHECK(model->setData(model->index(row, C::Comparison), QStringLiteral(">"), Qt::EditRole));
        CHECK(model->setData(model->index(row, C::Threshold), 45.5, Qt::EditRole));
        CHECK(model->setData(model->index(row, C::For), 90, Qt::EditRole));
        CHECK(model->setData(model->index(row, C::Severity), QStringLiteral("critical"),
                             Qt::EditRole));
        CHECK(model->setData(model->index(row, C::Summary), QStringLiteral("lag {$value} s"),
                             Qt::EditRole));
        CHECK_FALSE(
            model->setData(model->index(row, C::Comparison), QStringLiteral("~"), Qt::EditRole));
        CHECK_FALSE(
            model->setData(model->index(row, C::Severity), QStringLiteral("loud"), Qt::EditRole));
        CHECK(model->problems().isEmpty());
        CHECK(editor->validationText().isEmpty());

        const QString path = dir.filePath(QStringLiteral("rules.json"));
        QSignalSpy saved(editor, &ui::AlertRulesEditor::rulesSaved);
        editor->saveTo(path);
        REQUIRE(saved.wait(10'000));
        CHECK(saved.at(0).at(0).toBool());
        std::string loadError;
        const auto rules = core::loadAlertRules(path.toStdString(), &loadError);
        INFO(loadError);
        REQUIRE(rules);
        const auto it = std::find_if(rules->begin(), rules->end(), [](const core::AlertRule &r) {
            return r.name == "LagTooHigh";
        });
        REQUIRE(it != rules->end());
        CHECK(it->signal == "lag_seconds");
        CHECK(it->matchers == core::Labels{{"group", "clickstream-agg"}});
        CHECK(it->comparison == core::Comparison::Greater);
        CHECK(it->threshold == 45.5);
        CHECK(it->forSeconds == 90);
        CHECK(it->severity == core::Severity::Critical);
        CHECK(it->summary == "lag {$value} s");
        screenshot(page, QStringLiteral("health-rules.png"));

        // A duplicate name and a negative `for` are shown and block saving.
        const int second = editor->addRule();
        CHECK(model->setData(model->index(second, C::Name), QStringLiteral("LagTooHigh"),
                             Qt::EditRole));
        CHECK(model->setData(model->index(second, C::For), -5, Qt::EditRole));
        CHECK_FALSE(model->problems().isEmpty());
        CHECK_FALSE(editor->validationText().isEmpty());
        CHECK(model->data(model->index(second, C::Name), Qt::ForegroundRole).isValid());
        screenshot(page, QStringLiteral("health-rules-invalid.png"));
        editor->saveTo(path);
        REQUIRE(saved.count() == 2);
        CHECK_FALSE(saved.at(1).at(0).toBool());
        CHECK_FALSE(editor->apply());

        // Loading the saved file brings back the good set; Apply puts it into the engine.
        QSignalSpy loaded(editor, &ui::AlertRulesEditor::rulesLoaded);
        editor->loadFrom(path);
        REQUIRE(loaded.wait(10'000));
        CHECK(loaded.at(0).at(0).toBool());
        CHECK(model->problems().isEmpty());
        CHECK(findRule(*model, "LagTooHigh") >= 0);
        REQUIRE(editor->apply());
        const auto engineRules = monitor.alerts().rules();
        CHECK(std::any_of(engineRules.begin(), engineRules.end(),
                          [](const core::AlertRule &r) { return r.name == "LagTooHigh"; }));

        // A broken file is refused with the parser's message; the editor keeps its rules.
        QFile broken(dir.filePath(QStringLiteral("broken.json")));
        REQUIRE(broken.open(QIODevice::WriteOnly));
        broken.write(R"({"version":1,"rules":[{"name":"x","signal":"s","comparison":"~"}]})");
        broken.close();
        editor->loadFrom(broken.fileName());
        REQUIRE(loaded.wait(10'000));
        CHECK_FALSE(loaded.at(1).at(0).toBool());
        CHECK_FALSE(loaded.at(1).at(1).toString().isEmpty());
        CHECK(findRule(*model, "LagTooHigh") >= 0);
    }

    page.hide();
    CHECK_FALSE(page.isPolling());
    monitor.watchProducers(nullptr);
    monitor.stop();
    pool.find(producerId)->stop();
}
