// Issue 23, the Kafka console's dialogs, offscreen against the embedded broker in process: Reset
// offsets (from the Consumer groups tab: preview, confirmation, commit, chosen partitions, a dead
// cluster) and Produce a message (from the Topics tab: JSON check and format, key, headers,
// partition, copies, the delivery report). Every Kafka call of a dialog runs in the background: the
// tests wait for it with test::waitUntil while the event loop runs, and check the call returned
// before its answer.
#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaadmin.h"
#include "core/kafka/messagebrowser.h"
#include "core/monitor/monitor.h"
#include "ui/dialogs/addpartitionsdialog.h"
#include "ui/dialogs/deleterecordsdialog.h"
#include "ui/dialogs/deletetopicdialog.h"
#include "ui/dialogs/producemessagedialog.h"
#include "ui/dialogs/resetoffsetsdialog.h"
#include "ui/dialogs/topicconfigdialog.h"
#include "ui/models/kafkamodels.h"
#include "ui/pages/aclsview.h"
#include "ui/pages/groupsview.h"
#include "ui/pages/kafkapage.h"
#include "ui/pages/topicsview.h"
#include "uitestsupport.h"

#include <catch2/catch.hpp>

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QAccessible>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

#include <chrono>
#include <functional>
#include <map>

using namespace studio;
using namespace std::chrono_literals;

namespace {

constexpr int kAdminTimeoutMs = 10'000;

void screenshot(QWidget &widget, const QString &name)
{
    QString dir = qEnvironmentVariable("STUDIO_SCREENSHOT_DIR");
    if (dir.isEmpty())
        dir = QStringLiteral(STUDIO_CONSOLE_SCREENSHOT_DIR);
    QDir().mkpath(dir);
    QCoreApplication::processEvents();
    CHECK(widget.grab().save(dir + QLatin1Char('/') + name));
}

/// The visible controls of `root` without an accessible name, and without a tooltip (the rule of
/// tests/test_ui_screens.cpp's accessibility walk, for a dialog).
std::pair<QStringList, QStringList> unnamedControls(QWidget *root)
{
    QStringList noName, noTip;
    for (QWidget *w : root->findChildren<QWidget *>()) {
        const bool control = qobject_cast<QAbstractButton *>(w) || qobject_cast<QComboBox *>(w) ||
                             qobject_cast<QLineEdit *>(w) || qobject_cast<QAbstractSpinBox *>(w) ||
                             qobject_cast<QAbstractItemView *>(w);
        if (!control || !w->isVisibleTo(root))
            continue;
        const QWidget *parent = w->parentWidget();
        if (qobject_cast<const QAbstractSpinBox *>(parent) ||
            qobject_cast<const QComboBox *>(parent) ||
            qobject_cast<const QAbstractItemView *>(parent))
            continue;
        QAccessibleInterface *a = QAccessible::queryAccessibleInterface(w);
        const QString what = QString::fromLatin1(w->metaObject()->className());
        if (!a || a->text(QAccessible::Name).trimmed().isEmpty())
            noName << what;
        if (w->toolTip().isEmpty())
            noTip << what + QStringLiteral(" ") + (a ? a->text(QAccessible::Name) : QString());
    }
    return {noName, noTip};
}

/// What the group has committed, read with a fresh admin's dry run (old offsets).
std::map<std::int32_t, std::int64_t> committed(const core::ClusterConfig &cluster,
                                               const std::string &group, const std::string &topic)
{
    core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
    std::string error;
    REQUIRE(admin.connect(&error));
    const auto plan =
        admin.planOffsetReset(group, {topic}, {}, *core::OffsetResetSpec::parse("latest"), &error);
    INFO(error);
    REQUIRE(plan);
    std::map<std::int32_t, std::int64_t> out;
    for (const auto &r : plan->rows)
        out[r.partition] = r.oldOffset;
    return out;
}

/// The Kafka page over `monitor`, shown, with `topic` selected on the Topics tab.
struct TopicsTab
{
    ui::KafkaPage page;
    ui::TopicsView *topics;
    TopicsTab(core::Monitor &monitor, const core::ClusterConfig &cluster, const QString &topic)
        : page(monitor, cluster)
        , topics(page.topicsView())
    {
        page.resize(1280, 800);
        page.show();
        REQUIRE(test::waitUntil([&] { return topics->selectTopic(topic); }, 30s));
    }
};

QPushButton *buttonNamed(QWidget *root, const QString &text)
{
    for (auto *b : root->findChildren<QPushButton *>())
        if (b->text() == text)
            return b;
    return nullptr;
}

/// Runs `call` and checks it returned before Kafka answered (the work is on a pool thread),
/// then waits for `spy` to grow.
void clickAndWait(const std::function<void()> &call, ui::AdminDialog &dialog, QSignalSpy &spy,
                  std::chrono::milliseconds timeout = 30s)
{
    const int before = int(spy.count());
    QElapsedTimer timer;
    timer.start();
    call();
    CHECK(dialog.isBusy());
    CHECK(timer.elapsed() < 500);
    REQUIRE(test::waitUntil([&] { return spy.count() > before; }, timeout));
}

} // namespace

TEST_CASE("the Reset offsets dialog previews, confirms and commits a group's new offsets in the "
          "background",
          "[ui][console][broker]")
{
    test::IsolatedSettings isolated;
    core::EmbeddedBroker broker;
    std::string error;
    core::EmbeddedBroker::Options options;
    options.partitions = 2;
    options.topics = {"console"};
    REQUIRE(broker.start(options, &error));
    const core::ClusterConfig cluster = broker.clusterConfig();

    // Per partition: offsets 0-4 an hour ago, 5-9 now.
    const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
    {
        core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
        REQUIRE(admin.connect(&error));
        for (std::int32_t p = 0; p < 2; ++p)
            for (const std::int64_t ts : {now - 3'600'000, now}) {
                core::ProduceRequest request;
                request.topic = "console";
                request.partition = p;
                request.value = R"({"n":1})";
                request.timestampMs = ts;
                request.copies = 5;
                const auto reports = admin.produce(request, &error);
                INFO(error);
                REQUIRE(reports);
            }
        // The group has read 7 of each partition.
        core::OffsetResetPlan start;
        start.group = "reset-group";
        for (std::int32_t p = 0; p < 2; ++p) {
            core::OffsetResetRow row;
            row.topic = "console";
            row.partition = p;
            row.newOffset = 7;
            start.rows.push_back(row);
        }
        REQUIRE(admin.commitOffsetReset(start, &error));
    }
    REQUIRE(committed(cluster, "reset-group", "console") ==
            std::map<std::int32_t, std::int64_t>{{0, 7}, {1, 7}});

    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.embedded = &broker;
    ms.healthInterval = 500ms;
    ms.clusterOptions.refreshIntervalMs = 300;
    ms.groupOptions.refreshIntervalMs = 300;
    core::Monitor monitor(ms);
    REQUIRE(monitor.start(&error));
    monitor.groups().watchGroup("reset-group", {"console"});

    ui::KafkaPage page(monitor, cluster);
    ui::GroupsView *groups = page.groupsView();
    page.resize(1280, 800);
    page.show();
    page.tabs()->setCurrentWidget(groups);
    REQUIRE(test::waitUntil(
        [&] {
            return groups->selectGroup(QStringLiteral("reset-group")) &&
                   groups->lagModel()->rowCount() == 2;
        },
        20s));

    // From the Consumer groups tab, on the selected group.
    auto *button = groups->findChild<QPushButton *>();
    REQUIRE(button);
    CHECK(button->text() == QStringLiteral("Reset offsets…"));
    CHECK(button->isEnabled());
    ui::ResetOffsetsDialog *dialog = groups->showResetOffsetsDialog();
    REQUIRE(dialog);
    QAbstractItemModelTester tester(dialog->planModel(),
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy previews(dialog, &ui::ResetOffsetsDialog::previewDone);
    QSignalSpy resets(dialog, &ui::ResetOffsetsDialog::resetDone);
    QStringList asked;
    bool answer = false;
    dialog->setConfirm([&](const QString &text) {
        asked << text;
        return answer;
    });
    CHECK_FALSE(dialog->resetButton()->isEnabled()); // nothing previewed yet
    // It connects in the background as it opens, and learns it is on the embedded broker.
    CHECK(dialog->isBusy());
    REQUIRE(test::waitUntil([&] { return dialog->embedded().has_value(); }, 20s));
    CHECK(*dialog->embedded());
    CHECK_FALSE(dialog->isBusy());

    const auto previewAndWait = [&] {
        const int before = int(previews.count());
        QElapsedTimer call;
        call.start();
        dialog->previewButton()->click();
        // The click returned before Kafka answered: the dry run is on a pool thread.
        CHECK(dialog->isBusy());
        CHECK(call.elapsed() < 500);
        REQUIRE(test::waitUntil([&] { return previews.count() > before; }, 20s));
        INFO(dialog->statusText().toStdString());
        REQUIRE(previews.last().at(0).toBool());
    };

    SECTION("to the earliest offset: preview, a cancelled confirmation, then the reset")
    {
        dialog->setTarget(ui::ResetOffsetsDialog::Earliest);
        previewAndWait();
        const auto &rows = dialog->planModel()->rows();
        REQUIRE(rows.size() == 2);
        for (const auto &r : rows) {
            CHECK(r.oldOffset == 7);
            CHECK(r.newOffset == 0);
            CHECK(r.lagAfter == 10);
        }
        CHECK(dialog->embedded() == std::optional<bool>(true));
        CHECK(dialog->statusText().contains(QStringLiteral("2 partitions would change")));
        CHECK(dialog->resetButton()->isEnabled());
        screenshot(*dialog, QStringLiteral("reset-offsets-preview.png"));

        // Cancelled: nothing committed.
        answer = false;
        dialog->resetButton()->click();
        REQUIRE(asked.size() == 1);
        CHECK(asked[0].contains(QStringLiteral("console [0]: 7 → 0 (lag after: 10)")));
        CHECK(asked[0].contains(QStringLiteral("console [1]: 7 → 0 (lag after: 10)")));
        CHECK(asked[0].contains(QStringLiteral("members are not known")));
        CHECK(dialog->statusText().contains(QStringLiteral("cancelled")));
        CHECK(resets.isEmpty());
        CHECK(committed(cluster, "reset-group", "console") ==
              std::map<std::int32_t, std::int64_t>{{0, 7}, {1, 7}});

        // Confirmed: committed in the background, the result shown.
        answer = true;
        dialog->resetButton()->click();
        CHECK(dialog->isBusy());
        REQUIRE(test::waitUntil([&] { return !resets.isEmpty(); }, 20s));
        INFO(dialog->statusText().toStdString());
        CHECK(resets.first().at(0).toBool());
        CHECK(dialog->statusText().contains(QStringLiteral("Committed the new offsets")));
        CHECK(committed(cluster, "reset-group", "console") ==
              std::map<std::int32_t, std::int64_t>{{0, 0}, {1, 0}});
        // What was committed is the old offset now: nothing left to reset.
        CHECK_FALSE(dialog->resetButton()->isEnabled());
        screenshot(*dialog, QStringLiteral("reset-offsets-done.png"));
    }

    SECTION("by offset and shifted, on a chosen partition only; no date-time on the mock")
    {
        // The mock answers ListOffsets by time with "none" (which Kafka's tool reads as the log
        // end): the target is off, with the reason, rather than moving the group to the end.
        auto *target = dialog->findChild<QComboBox *>();
        REQUIRE(target);
        const int timeRow = target->findData(ui::ResetOffsetsDialog::DateTime);
        const auto *items = qobject_cast<QStandardItemModel *>(target->model());
        REQUIRE(items);
        CHECK_FALSE(items->item(timeRow)->isEnabled());
        CHECK(items->item(timeRow)->toolTip().contains(QStringLiteral("embedded broker")));
        dialog->setTarget(ui::ResetOffsetsDialog::DateTime);
        dialog->setDateTime(QDateTime::fromMSecsSinceEpoch(now - 1'800'000, Qt::UTC));
        CHECK_FALSE(dialog->previewButton()->isEnabled());
        CHECK(dialog->previewButton()->toolTip().contains(QStringLiteral("embedded broker")));

        dialog->setTarget(ui::ResetOffsetsDialog::Earliest);
        previewAndWait();
        CHECK(dialog->planModel()->rowCount() == 2);
        // A change of input makes the preview stale: Reset goes off until the next one.
        dialog->setTarget(ui::ResetOffsetsDialog::Offset);
        CHECK(dialog->planModel()->rowCount() == 0);
        CHECK_FALSE(dialog->resetButton()->isEnabled());
        CHECK_FALSE(dialog->previewButton()->isEnabled()); // no offset typed
        CHECK(dialog->previewButton()->toolTip().contains(QStringLiteral("Type the offset")));
        dialog->setValueText(QStringLiteral("3"));
        CHECK(dialog->previewButton()->isEnabled());
        dialog->choosePartitions({{QStringLiteral("console"), 1}});
        previewAndWait();
        REQUIRE(dialog->planModel()->rowCount() == 1);
        CHECK(dialog->planModel()->rows()[0].partition == 1);
        CHECK(dialog->planModel()->rows()[0].newOffset == 3);
        CHECK(dialog->planModel()->rows()[0].lagAfter == 7);

        dialog->setTarget(ui::ResetOffsetsDialog::Shift);
        dialog->setValueText(QStringLiteral("-2"));
        previewAndWait();
        REQUIRE(dialog->planModel()->rowCount() == 1);
        CHECK(dialog->planModel()->rows()[0].newOffset == 5);
        answer = true;
        dialog->resetButton()->click();
        REQUIRE(test::waitUntil([&] { return !resets.isEmpty(); }, 20s));
        CHECK(resets.first().at(0).toBool());
        // Only partition 1 moved.
        CHECK(committed(cluster, "reset-group", "console") ==
              std::map<std::int32_t, std::int64_t>{{0, 7}, {1, 5}});
        screenshot(*dialog, QStringLiteral("reset-offsets-shift.png"));
    }

    SECTION("Delete group is off on the embedded broker, with the reason; asked anyway, the "
            "refusal is shown without blocking")
    {
        dialog->close();
        dialog = nullptr;
        QPushButton *remove = groups->deleteGroupButton();
        CHECK(remove->text() == QStringLiteral("Delete group…"));
        CHECK_FALSE(remove->isEnabled());
        CHECK(remove->toolTip().contains(QStringLiteral("Not on the embedded broker")));
        QSignalSpy deleted(groups, &ui::GroupsView::groupDeleted);
        QStringList questions;
        bool yes = false;
        groups->setConfirm([&](const QString &text) {
            questions << text;
            return yes;
        });
        groups->deleteSelectedGroup(); // cancelled: nothing happens
        REQUIRE(questions.size() == 1);
        CHECK(questions[0].contains(QStringLiteral("Delete consumer group reset-group on ")));
        CHECK(deleted.isEmpty());
        yes = true;
        QElapsedTimer call;
        call.start();
        groups->deleteSelectedGroup();
        CHECK(call.elapsed() < 500);
        REQUIRE(test::waitUntil([&] { return !deleted.isEmpty(); }, 20s));
        CHECK_FALSE(deleted.first().at(0).toBool());
        INFO(groups->statusText().toStdString());
        CHECK(groups->statusText().startsWith(QStringLiteral("Could not delete group reset-group: "
                                                             "deleting a group is not possible "
                                                             "on the embedded broker")));
        // The group and its offsets are still there.
        CHECK(committed(cluster, "reset-group", "console") ==
              std::map<std::int32_t, std::int64_t>{{0, 7}, {1, 7}});
        screenshot(page, QStringLiteral("groups-delete-refused.png"));
    }

    SECTION("every control has an accessible name and a tooltip")
    {
        for (const auto target :
             {ui::ResetOffsetsDialog::DateTime, ui::ResetOffsetsDialog::Shift}) {
            dialog->setTarget(target);
            auto [noName, noTip] = unnamedControls(dialog);
            INFO("no name: " << noName.join(QStringLiteral(", ")).toStdString());
            INFO("no tooltip: " << noTip.join(QStringLiteral(", ")).toStdString());
            CHECK(noName.isEmpty());
            CHECK(noTip.isEmpty());
        }
    }

    if (dialog)
        dialog->close(); // deletes itself
    page.hide();
    monitor.stop();
}

TEST_CASE("the Reset offsets dialog on a dead cluster says why and closing it never waits",
          "[ui][console]")
{
    test::IsolatedSettings isolated;
    core::ClusterConfig dead;
    dead.name = "dead";
    dead.bootstrap = "127.0.0.1:1"; // nothing listens there
    auto *dialog = new ui::ResetOffsetsDialog(dead, QStringLiteral("g"), {QStringLiteral("t")}, {});
    QSignalSpy connects(dialog, &ui::ResetOffsetsDialog::connected);
    dialog->show();
    CHECK(dialog->isBusy()); // connecting, in the background
    // The event loop keeps running while librdkafka tries.
    int ticks = 0;
    QTimer ticker;
    QObject::connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
    ticker.start(50);
    REQUIRE(test::waitUntil(
        [&] { return !connects.isEmpty(); },
        std::chrono::milliseconds(ui::ResetOffsetsDialog::kAdminTimeoutMs + 10'000)));
    CHECK_FALSE(connects.first().at(0).toBool());
    INFO(dialog->statusText().toStdString());
    CHECK(dialog->statusText().startsWith(QStringLiteral("Cannot connect: ")));
    CHECK(dialog->statusText().contains(QStringLiteral("cannot reach")));
    CHECK(ticks > 20);
    CHECK_FALSE(dialog->resetButton()->isEnabled());

    // Closed while a call is under way: the dialog goes at once, the late answer is dropped.
    dialog->preview();
    REQUIRE(dialog->isBusy());
    QElapsedTimer closing;
    closing.start();
    delete dialog;
    CHECK(closing.elapsed() < 500);
}

TEST_CASE("the Produce dialog validates and formats JSON, sends key, headers and copies in the "
          "background and shows where they went",
          "[ui][console][broker]")
{
    test::IsolatedSettings isolated;
    core::EmbeddedBroker broker;
    std::string error;
    core::EmbeddedBroker::Options options;
    options.partitions = 3;
    options.topics = {"produce"};
    REQUIRE(broker.start(options, &error));
    const core::ClusterConfig cluster = broker.clusterConfig();

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
    page.resize(1280, 800);
    page.show();
    REQUIRE(test::waitUntil([&] { return topics->selectTopic(QStringLiteral("produce")); }, 20s));

    // From the Topics tab, the topic preselected and its partitions offered.
    QPushButton *button = nullptr;
    for (auto *b : topics->findChildren<QPushButton *>())
        if (b->text() == QStringLiteral("Produce message…"))
            button = b;
    REQUIRE(button);
    CHECK(button->isEnabled());
    ui::ProduceMessageDialog *dialog = topics->showProduceDialog();
    REQUIRE(dialog);
    QAbstractItemModelTester tester(dialog->headerModel(),
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    CHECK(dialog->request().topic == "produce");
    auto *partition = dialog->findChild<QComboBox *>();
    REQUIRE(partition);
    CHECK(partition->count() == 4); // by key + 3 partitions
    QSignalSpy produced(dialog, &ui::ProduceMessageDialog::produced);

    // Invalid JSON: Produce is off and the tooltip and the label say where.
    dialog->setValue(QStringLiteral("{\"page\": \"/home\",\n \"n\": }"));
    CHECK_FALSE(dialog->produceButton()->isEnabled());
    CHECK_FALSE(dialog->formatButton()->isEnabled());
    CHECK(dialog->produceButton()->toolTip().contains(QStringLiteral("Not valid JSON")));
    CHECK(dialog->produceButton()->toolTip().contains(QStringLiteral("line 2")));
    // As text it goes as it is.
    dialog->setJson(false);
    CHECK(dialog->produceButton()->isEnabled());
    dialog->setJson(true);
    dialog->setValue(QStringLiteral(R"({"page":"/home","n":[1,2]})"));
    CHECK(dialog->produceButton()->isEnabled());
    dialog->formatButton()->click();
    CHECK(dialog->value() == QStringLiteral("{\n    \"n\": [\n        1,\n        2\n    ],\n    "
                                            "\"page\": \"/home\"\n}"));

    dialog->setKey(QStringLiteral("user-7"));
    dialog->setPartition(1);
    dialog->setCopies(3);
    dialog->headerModel()->addHeader(QStringLiteral("source"), QStringLiteral("studio"));
    dialog->headerModel()->addHeader(); // no name: not sent
    dialog->headerModel()->setData(dialog->headerModel()->index(1, ui::HeaderModel::Value),
                                   QStringLiteral("ignored"));
    CHECK(dialog->request().headers ==
          std::vector<std::pair<std::string, std::string>>{{"source", "studio"}});
    screenshot(*dialog, QStringLiteral("produce-message.png"));

    QElapsedTimer call;
    call.start();
    dialog->produceButton()->click();
    CHECK(dialog->isBusy()); // the click returned before the delivery reports
    CHECK(call.elapsed() < 500);
    CHECK_FALSE(dialog->produceButton()->isEnabled());
    REQUIRE(test::waitUntil([&] { return !produced.isEmpty(); }, 20s));
    INFO(dialog->statusText().toStdString());
    CHECK(produced.first().at(0).toBool());
    CHECK(dialog->statusText() == QStringLiteral("Delivered 3 of 3: partition 1, offsets 0–2"));
    screenshot(*dialog, QStringLiteral("produce-message-delivered.png"));

    // Read back as Kafka has it.
    core::MessageBrowser browser(cluster);
    const core::BrowseResult read = browser.readFromOffset("produce", 1, 0, 5);
    REQUIRE(read.ok);
    REQUIRE(read.messages.size() == 3);
    CHECK(read.messages[0].key == "user-7");
    CHECK(read.messages[2].value == dialog->value().toStdString());
    CHECK(read.messages[0].headers ==
          std::vector<std::pair<std::string, std::string>>{{"source", "studio"}});

    // By key: one report, somewhere in the topic.
    dialog->setPartition(-1);
    dialog->setCopies(1);
    dialog->produceButton()->click();
    REQUIRE(test::waitUntil([&] { return produced.size() == 2; }, 20s));
    CHECK(produced.last().at(0).toBool());
    CHECK(dialog->statusText().startsWith(QStringLiteral("Delivered 1 of 1: partition ")));

    // No timestamp set: the producer's now (0 in the request); set: that UTC time, read back.
    CHECK(dialog->request().timestampMs == 0);
    const QDateTime stamp =
        QDateTime::fromString(QStringLiteral("2026-03-01T12:34:56.789Z"), Qt::ISODateWithMs);
    REQUIRE(stamp.isValid());
    dialog->setTimestamp(stamp);
    CHECK(dialog->request().timestampMs == stamp.toMSecsSinceEpoch());
    dialog->setPartition(2);
    dialog->produceButton()->click();
    REQUIRE(test::waitUntil([&] { return produced.size() == 3; }, 20s));
    INFO(dialog->statusText().toStdString());
    CHECK(produced.last().at(0).toBool());
    screenshot(*dialog, QStringLiteral("produce-message-timestamp.png"));
    const core::BrowseResult stamped = browser.readFromOffset("produce", 2, 0, 5);
    REQUIRE(stamped.ok);
    REQUIRE_FALSE(stamped.messages.empty());
    CHECK(stamped.messages.back().timestampMs == stamp.toMSecsSinceEpoch());
    dialog->setTimestamp(QDateTime());
    CHECK(dialog->request().timestampMs == 0);

    auto [noName, noTip] = unnamedControls(dialog);
    INFO("no name: " << noName.join(QStringLiteral(", ")).toStdString());
    INFO("no tooltip: " << noTip.join(QStringLiteral(", ")).toStdString());
    CHECK(noName.isEmpty());
    CHECK(noTip.isEmpty());

    dialog->close();
    page.hide();
    monitor.stop();
}

TEST_CASE("the Topic configuration dialog opens from the Topics tab and on the embedded broker "
          "says in one line why it cannot",
          "[ui][console][broker]")
{
    test::IsolatedSettings isolated;
    core::EmbeddedBroker broker;
    std::string error;
    core::EmbeddedBroker::Options options;
    options.partitions = 2;
    options.topics = {"configs"};
    REQUIRE(broker.start(options, &error));
    const core::ClusterConfig cluster = broker.clusterConfig();
    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.embedded = &broker;
    ms.healthInterval = 500ms;
    ms.clusterOptions.refreshIntervalMs = 300;
    ms.groupOptions.refreshIntervalMs = 300;
    core::Monitor monitor(ms);
    REQUIRE(monitor.start(&error));
    TopicsTab tab(monitor, cluster, QStringLiteral("configs"));

    QPushButton *button = buttonNamed(tab.topics, QStringLiteral("Configuration…"));
    REQUIRE(button);
    CHECK(button == tab.topics->configButton());
    CHECK(button->isEnabled());
    CHECK(button->toolTip().contains(QStringLiteral("configs")));
    ui::TopicConfigDialog *dialog = tab.topics->showConfigDialog();
    REQUIRE(dialog);
    CHECK(dialog->topic() == QStringLiteral("configs"));
    QAbstractItemModelTester tester(dialog->model(),
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy done(dialog, &ui::AdminDialog::done);
    CHECK(dialog->isBusy()); // connecting in the background as it opens
    REQUIRE(test::waitUntil([&] { return !done.isEmpty(); }, 20s));
    CHECK_FALSE(done.first().at(0).toBool());
    CHECK(dialog->embedded() == std::optional<bool>(true));
    INFO(dialog->statusText().toStdString());
    CHECK(dialog->statusText().startsWith(QStringLiteral("Not on the embedded broker: ")));
    CHECK_FALSE(dialog->statusText().contains(QLatin1Char('\n')));
    CHECK(dialog->model()->rowCount() == 0);
    CHECK_FALSE(dialog->applyButton()->isEnabled());
    CHECK(dialog->applyButton()->toolTip().startsWith(QStringLiteral("Not on the embedded")));
    CHECK_FALSE(dialog->reloadButton()->isEnabled());
    screenshot(*dialog, QStringLiteral("topic-config-embedded.png"));

    auto [noName, noTip] = unnamedControls(dialog);
    INFO("no name: " << noName.join(QStringLiteral(", ")).toStdString());
    INFO("no tooltip: " << noTip.join(QStringLiteral(", ")).toStdString());
    CHECK(noName.isEmpty());
    CHECK(noTip.isEmpty());
    dialog->close();
    tab.page.hide();
    monitor.stop();
}

TEST_CASE("the Topic configuration and Delete topic dialogs on a dead cluster say why, and "
          "closing never waits",
          "[ui][console]")
{
    test::IsolatedSettings isolated;
    core::ClusterConfig dead;
    dead.name = "dead";
    dead.bootstrap = "127.0.0.1:1";
    auto *dialog = new ui::TopicConfigDialog(dead, QStringLiteral("t"));
    QSignalSpy done(dialog, &ui::AdminDialog::done);
    dialog->show();
    CHECK(dialog->isBusy());
    REQUIRE(test::waitUntil([&] { return !done.isEmpty(); },
                            std::chrono::milliseconds(ui::AdminDialog::kAdminTimeoutMs + 10'000)));
    CHECK_FALSE(done.first().at(0).toBool());
    INFO(dialog->statusText().toStdString());
    CHECK(dialog->statusText().contains(QStringLiteral("cannot reach")));
    CHECK_FALSE(dialog->applyButton()->isEnabled());
    CHECK(dialog->connectFailed());

    // Delete topic there: the typed name does not enable it, and the tooltip says why.
    ui::DeleteTopicDialog remove(dead, QStringLiteral("t"));
    QSignalSpy connects(&remove, &ui::AdminDialog::connected);
    REQUIRE(test::waitUntil([&] { return !connects.isEmpty() && !remove.isBusy(); },
                            std::chrono::milliseconds(ui::AdminDialog::kAdminTimeoutMs + 10'000)));
    CHECK_FALSE(connects.first().at(0).toBool());
    remove.setTypedName(QStringLiteral("t"));
    CHECK_FALSE(remove.deleteButton()->isEnabled());
    CHECK(remove.deleteButton()->toolTip().startsWith(QStringLiteral("Not connected")));
    CHECK(remove.statusText().startsWith(QStringLiteral("Cannot connect: cannot reach")));

    dialog->reload();
    REQUIRE(dialog->isBusy());
    QElapsedTimer closing;
    closing.start();
    delete dialog;
    CHECK(closing.elapsed() < 500);
}

TEST_CASE("Add partitions, Delete records and Delete topic open from the Topics tab and on the "
          "embedded broker say in one line why they cannot",
          "[ui][console][broker]")
{
    test::IsolatedSettings isolated;
    core::EmbeddedBroker broker;
    std::string error;
    core::EmbeddedBroker::Options options;
    options.partitions = 2;
    options.topics = {"manage"};
    REQUIRE(broker.start(options, &error));
    const core::ClusterConfig cluster = broker.clusterConfig();
    {
        core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
        REQUIRE(admin.connect(&error));
        core::ProduceRequest request;
        request.topic = "manage";
        request.partition = 1;
        request.value = "x";
        request.copies = 4;
        REQUIRE(admin.produce(request, &error));
    }
    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.embedded = &broker;
    ms.healthInterval = 500ms;
    ms.clusterOptions.refreshIntervalMs = 300;
    ms.groupOptions.refreshIntervalMs = 300;
    core::Monitor monitor(ms);
    REQUIRE(monitor.start(&error));
    TopicsTab tab(monitor, cluster, QStringLiteral("manage"));
    REQUIRE(test::waitUntil(
        [&] {
            const auto *p = tab.topics->partitionModel();
            return p->rowCount() == 2 && tab.topics->selectTopic(QStringLiteral("manage")) &&
                   tab.page.topicsView()->partitionModel()->index(1, 0).isValid();
        },
        20s));
    // The watermarks the monitor read: partition 1 holds 4 messages.
    REQUIRE(test::waitUntil(
        [&] {
            const auto snapshot = monitor.cluster().snapshot();
            const core::TopicInfo *t = snapshot->findTopic("manage");
            return t && t->partitions.size() == 2 && t->partitions[1].high == 4;
        },
        20s));
    tab.page.refresh();

    QPushButton *manage = tab.topics->manageButton();
    CHECK(manage->text() == QStringLiteral("Manage"));
    CHECK(manage->isEnabled());
    CHECK(manage->toolTip() == QStringLiteral("Add partitions to manage, delete its records or "
                                              "the topic (each asks first)"));
    REQUIRE(manage->menu());
    QStringList actions;
    for (const QAction *a : manage->menu()->actions())
        actions << a->text();
    CHECK(actions == QStringList{QStringLiteral("Add partitions…"),
                                 QStringLiteral("Delete records…"),
                                 QStringLiteral("Delete topic…")});

    const auto waitConnected = [](ui::AdminDialog *dialog) {
        REQUIRE(test::waitUntil([&] { return dialog->embedded().has_value() && !dialog->isBusy(); },
                                20s));
        CHECK(*dialog->embedded());
        INFO(dialog->statusText().toStdString());
        CHECK(dialog->statusText().startsWith(QStringLiteral("Not on the embedded broker: ")));
        CHECK_FALSE(dialog->statusText().contains(QLatin1Char('\n')));
        auto [noName, noTip] = unnamedControls(dialog);
        INFO("no name: " << noName.join(QStringLiteral(", ")).toStdString());
        INFO("no tooltip: " << noTip.join(QStringLiteral(", ")).toStdString());
        CHECK(noName.isEmpty());
        CHECK(noTip.isEmpty());
    };

    SECTION("Add partitions: the count from Kafka, the action off with the reason")
    {
        ui::AddPartitionsDialog *dialog = tab.topics->showAddPartitionsDialog();
        REQUIRE(dialog);
        waitConnected(dialog);
        CHECK(dialog->currentPartitions() == 2);
        CHECK(dialog->statusText().contains(QStringLiteral("add partitions")));
        CHECK_FALSE(dialog->addButton()->isEnabled());
        CHECK(dialog->addButton()->toolTip().startsWith(QStringLiteral("Not on the embedded")));
        screenshot(*dialog, QStringLiteral("add-partitions-embedded.png"));
        dialog->close();
    }

    SECTION("Delete records: low and high per partition, the action off with the reason")
    {
        ui::DeleteRecordsDialog *dialog = tab.topics->showDeleteRecordsDialog();
        REQUIRE(dialog);
        QAbstractItemModelTester tester(dialog->model(),
                                        QAbstractItemModelTester::FailureReportingMode::Fatal);
        REQUIRE(dialog->model()->rowCount() == 2);
        CHECK(dialog->model()->rows()[1].low == 0);
        CHECK(dialog->model()->rows()[1].high == 4);
        CHECK(dialog->model()->index(1, 3).data().toString() == QStringLiteral("4"));
        waitConnected(dialog);
        dialog->setBeforeOffset(2);
        CHECK_FALSE(dialog->deleteButton()->isEnabled());
        CHECK(dialog->deleteButton()->toolTip().startsWith(QStringLiteral("Not on the embedded")));
        screenshot(*dialog, QStringLiteral("delete-records-embedded.png"));
        dialog->close();
    }

    SECTION("Delete topic: the typed name does not matter, the action is off with the reason")
    {
        ui::DeleteTopicDialog *dialog = tab.topics->showDeleteTopicDialog();
        REQUIRE(dialog);
        waitConnected(dialog);
        dialog->setTypedName(QStringLiteral("manage"));
        CHECK_FALSE(dialog->deleteButton()->isEnabled());
        CHECK(dialog->deleteButton()->toolTip().startsWith(QStringLiteral("Not on the embedded")));
        screenshot(*dialog, QStringLiteral("delete-topic-embedded.png"));
        dialog->close();
    }
    tab.page.hide();
    monitor.stop();
}

TEST_CASE("the ACLs tab: on the embedded broker the reason in one line instead of a table, and "
          "a listing is filterable",
          "[ui][console][broker]")
{
    test::IsolatedSettings isolated;
    core::EmbeddedBroker broker;
    std::string error;
    REQUIRE(broker.start({}, &error));
    const core::ClusterConfig cluster = broker.clusterConfig();
    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.embedded = &broker;
    ms.healthInterval = 500ms;
    core::Monitor monitor(ms);
    REQUIRE(monitor.start(&error));
    ui::KafkaPage page(monitor, cluster);
    page.resize(1280, 800);
    page.show();
    auto *acls = page.findChild<ui::AclsView *>();
    REQUIRE(acls);
    QAbstractItemModelTester tester(acls->model(),
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    const int index = page.tabs()->indexOf(acls);
    CHECK(page.tabs()->tabText(index) == QStringLiteral("ACLs"));
    CHECK_FALSE(acls->hasLoaded()); // nothing asked before the tab is shown
    QSignalSpy loaded(acls, &ui::AclsView::loaded);
    QElapsedTimer call;
    call.start();
    page.tabs()->setCurrentWidget(acls);
    CHECK(acls->isBusy()); // read in the background
    CHECK(call.elapsed() < 500);
    REQUIRE(test::waitUntil([&] { return !loaded.isEmpty(); }, 20s));
    CHECK_FALSE(loaded.first().at(0).toBool());
    INFO(acls->messageText().toStdString());
    CHECK(acls->messageText() == QStringLiteral("Not on the embedded broker: librdkafka's mock "
                                                "cannot list ACLs (it has no DescribeAcls)."));
    CHECK_FALSE(acls->table()->isVisible());
    CHECK_FALSE(acls->refreshButton()->isEnabled());
    screenshot(page, QStringLiteral("acls-embedded.png"));
    {
        auto [noName, noTip] = unnamedControls(acls);
        INFO("no name: " << noName.join(QStringLiteral(", ")).toStdString());
        INFO("no tooltip: " << noTip.join(QStringLiteral(", ")).toStdString());
        CHECK(noName.isEmpty());
        CHECK(noTip.isEmpty());
    }

    SECTION("a listing: the table, filtered over every column")
    {
        core::AclListing listing;
        const auto acl = [](const char *principal, const char *operation, const char *type,
                            const char *name) {
            core::AclEntry a;
            a.principal = principal;
            a.host = "*";
            a.operation = operation;
            a.permission = "ALLOW";
            a.resourceType = type;
            a.resourceName = name;
            a.patternType = "LITERAL";
            return a;
        };
        listing.acls = {acl("User:studio", "ALL", "Topic", "clickstream"),
                        acl("User:studio", "READ", "Group", "aggregator"),
                        acl("User:limited", "DESCRIBE", "Topic", "clickstream")};
        acls->present(listing, {});
        CHECK(acls->table()->isVisible());
        CHECK(acls->messageText().isEmpty());
        CHECK(acls->proxy()->rowCount() == 3);
        acls->setFilter(QStringLiteral("limited"));
        CHECK(acls->proxy()->rowCount() == 1);
        acls->setFilter(QStringLiteral("group"));
        REQUIRE(acls->proxy()->rowCount() == 1);
        CHECK(acls->proxy()->index(0, 5).data().toString() == QStringLiteral("aggregator"));
        acls->setFilter(QString());
        screenshot(page, QStringLiteral("acls-listing.png"));
        // Refused afterwards: the rows go, the reason shows, no empty table.
        acls->present(std::nullopt, QStringLiteral("not authorised to describe ACLs (Describe "
                                                   "on the cluster is needed): Cluster "
                                                   "authorization failed."));
        CHECK(acls->model()->rowCount() == 0);
        CHECK_FALSE(acls->table()->isVisible());
        CHECK(acls->messageText().startsWith(
            QStringLiteral("Cannot list the ACLs: Not authorised to describe ACLs")));
        screenshot(page, QStringLiteral("acls-refused.png"));
    }
    page.hide();
    monitor.stop();
}

// ---- Against a real Kafka (scripts/kafka.sh single; ctest kafka_single_console_gui) ----------

namespace {

/// The cluster of the real Kafka set-up in $STUDIO_KAFKA_DIR (its `bootstrap` file).
core::ClusterConfig realCluster()
{
    const QString dir = qEnvironmentVariable("STUDIO_KAFKA_DIR");
    INFO("STUDIO_KAFKA_DIR=" << dir.toStdString() << " (scripts/kafka.sh start single DIR)");
    QFile file(dir + QStringLiteral("/bootstrap"));
    REQUIRE(file.open(QIODevice::ReadOnly));
    core::ClusterConfig cluster;
    cluster.name = "single";
    cluster.bootstrap = QString::fromUtf8(file.readAll()).trimmed().toStdString();
    REQUIRE_FALSE(cluster.bootstrap.empty());
    return cluster;
}

std::string readConfig(const core::ClusterConfig &cluster, const std::string &topic,
                       const std::string &name, std::string *source = nullptr)
{
    core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
    std::string error;
    REQUIRE(admin.connect(&error));
    const auto configs = admin.describeTopicConfigs(topic, &error);
    INFO(error);
    REQUIRE(configs);
    for (const auto &e : *configs)
        if (e.name == name) {
            if (source)
                *source = e.source;
            return e.value;
        }
    FAIL("no config " << name);
    return {};
}

} // namespace

TEST_CASE("real Kafka: the Topic configuration dialog alters retention.ms and shows Kafka's "
          "message for an invalid value",
          "[.realkafka][ui][console]")
{
    test::IsolatedSettings isolated;
    const core::ClusterConfig cluster = realCluster();
    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.healthInterval = 1s;
    ms.clusterOptions.refreshIntervalMs = 500;
    ms.groupOptions.refreshIntervalMs = 500;
    core::Monitor monitor(ms);
    std::string error;
    REQUIRE(monitor.start(&error));
    const QString topic = QStringLiteral("gui-configs-%1").arg(QDateTime::currentMSecsSinceEpoch());
    ui::KafkaPage page(monitor, cluster);
    page.resize(1280, 800);
    page.show();
    ui::TopicsView *topics = page.topicsView();
    QSignalSpy created(topics, &ui::TopicsView::topicCreated);
    topics->createTopic(topic, 2, 1);
    REQUIRE(test::waitUntil([&] { return !created.isEmpty(); }, 30s));
    INFO(created.first().at(1).toString().toStdString());
    REQUIRE(created.first().at(0).toBool());
    REQUIRE(test::waitUntil([&] { return topics->selectTopic(topic); }, 30s));

    ui::TopicConfigDialog *dialog = topics->showConfigDialog();
    REQUIRE(dialog);
    QAbstractItemModelTester tester(dialog->model(),
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy done(dialog, &ui::AdminDialog::done);
    QStringList asked;
    bool answer = true;
    dialog->setConfirm([&](const QString &text) {
        asked << text;
        return answer;
    });
    REQUIRE(test::waitUntil([&] { return !done.isEmpty(); }, 30s));
    INFO(dialog->statusText().toStdString());
    REQUIRE(done.first().at(0).toBool());
    CHECK(dialog->embedded() == std::optional<bool>(false));
    CHECK(dialog->model()->rowCount() > 20);
    const core::TopicConfigEntry *retention = dialog->entry(QStringLiteral("retention.ms"));
    REQUIRE(retention);
    CHECK(retention->source == "default");
    CHECK_FALSE(retention->readOnly);
    const std::string before = retention->value;
    CHECK(before == "604800000");
    // The documentation and source in the tooltip.
    dialog->setFilter(QStringLiteral("RETENTION"));
    CHECK(dialog->proxy()->rowCount() >= 3);
    CHECK(dialog->proxy()->rowCount() < dialog->model()->rowCount());
    for (int r = 0; r < dialog->proxy()->rowCount(); ++r)
        CHECK(dialog->proxy()->index(r, 0).data().toString().contains(QStringLiteral("retention")));
    REQUIRE(dialog->selectConfig(QStringLiteral("retention.ms")));
    const QString tip = dialog->proxy()->index(0, 0).data(Qt::ToolTipRole).toString();
    CHECK(tip.contains(QStringLiteral("Source: ")));
    CHECK(dialog->table()
              ->currentIndex()
              .siblingAtColumn(0)
              .data(Qt::ToolTipRole)
              .toString()
              .contains(QStringLiteral("how long a message is kept")));
    screenshot(*dialog, QStringLiteral("topic-config-real.png"));

    SECTION("a valid value: old -> new confirmed, altered, read back from Kafka")
    {
        dialog->setNewValue(QStringLiteral("86400000"));
        REQUIRE(dialog->applyButton()->isEnabled());
        // Cancelled first: nothing changes.
        answer = false;
        dialog->applyButton()->click();
        REQUIRE(asked.size() == 1);
        CHECK(asked[0].contains(QStringLiteral("retention.ms: 604800000 → 86400000")));
        CHECK(dialog->statusText().contains(QStringLiteral("cancelled")));
        CHECK(readConfig(cluster, topic.toStdString(), "retention.ms") == before);
        answer = true;
        clickAndWait([&] { dialog->applyButton()->click(); }, *dialog, done);
        INFO(dialog->statusText().toStdString());
        CHECK(done.last().at(0).toBool());
        CHECK(dialog->statusText() ==
              QStringLiteral("Kafka accepted: retention.ms was 604800000, is now 86400000 "
                             "(topic override)."));
        std::string source;
        CHECK(readConfig(cluster, topic.toStdString(), "retention.ms", &source) == "86400000");
        CHECK(source == "topic override");
        CHECK(dialog->entry(QStringLiteral("retention.ms"))->value == "86400000");
        CHECK_FALSE(dialog->applyButton()->isEnabled()); // that is the current value now
        screenshot(*dialog, QStringLiteral("topic-config-real-altered.png"));
    }

    SECTION("an invalid value: Kafka's validation message in the dialog, nothing changed")
    {
        dialog->setNewValue(QStringLiteral("soon"));
        clickAndWait([&] { dialog->applyButton()->click(); }, *dialog, done);
        INFO(dialog->statusText().toStdString());
        CHECK_FALSE(done.last().at(0).toBool());
        CHECK(dialog->statusText().startsWith(QStringLiteral("Kafka refused the change: ")));
        // Kafka's own words (ConfigException: "Invalid value soon for configuration
        // retention.ms: Not a number of type LONG").
        CHECK(dialog->statusText().contains(QStringLiteral("Invalid value soon")));
        CHECK(readConfig(cluster, topic.toStdString(), "retention.ms") == before);
        screenshot(*dialog, QStringLiteral("topic-config-real-invalid.png"));
    }

    dialog->close();
    page.hide();
    monitor.stop();
}

TEST_CASE("real Kafka: Add partitions, Delete records and Delete topic from the Topics tab",
          "[.realkafka][ui][console]")
{
    test::IsolatedSettings isolated;
    const core::ClusterConfig cluster = realCluster();
    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.healthInterval = 1s;
    ms.clusterOptions.refreshIntervalMs = 500;
    ms.groupOptions.refreshIntervalMs = 500;
    core::Monitor monitor(ms);
    std::string error;
    REQUIRE(monitor.start(&error));
    const QString topic = QStringLiteral("gui-manage-%1").arg(QDateTime::currentMSecsSinceEpoch());
    const std::string name = topic.toStdString();
    ui::KafkaPage page(monitor, cluster);
    page.resize(1280, 800);
    page.show();
    ui::TopicsView *topics = page.topicsView();
    QSignalSpy created(topics, &ui::TopicsView::topicCreated);
    topics->createTopic(topic, 2, 1);
    REQUIRE(test::waitUntil([&] { return !created.isEmpty(); }, 30s));
    REQUIRE(created.first().at(0).toBool());
    core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
    REQUIRE(admin.connect(&error));
    for (std::int32_t p = 0; p < 2; ++p) {
        core::ProduceRequest request;
        request.topic = name;
        request.partition = p;
        request.value = "x";
        request.copies = 5;
        INFO(error);
        REQUIRE(admin.produce(request, &error));
    }
    // The monitor has seen the five messages of each partition.
    REQUIRE(test::waitUntil(
        [&] {
            const auto snapshot = monitor.cluster().snapshot();
            const core::TopicInfo *t = snapshot->findTopic(name);
            return t && t->partitions.size() == 2 && t->partitions[0].high == 5 &&
                   t->partitions[1].high == 5;
        },
        30s));
    page.refresh();
    REQUIRE(topics->selectTopic(topic));
    QStringList asked;
    bool answer = true;
    const auto answering = [&](ui::AdminDialog *dialog) {
        dialog->setConfirm([&](const QString &text) {
            asked << text;
            return answer;
        });
    };

    SECTION("Add partitions: must be greater; cancelled, then 2 -> 4 read back from Kafka")
    {
        ui::AddPartitionsDialog *dialog = topics->showAddPartitionsDialog();
        REQUIRE(dialog);
        answering(dialog);
        QSignalSpy done(dialog, &ui::AdminDialog::done);
        REQUIRE(test::waitUntil([&] { return dialog->embedded() && !dialog->isBusy(); }, 30s));
        CHECK_FALSE(*dialog->embedded());
        CHECK(dialog->currentPartitions() == 2);
        dialog->setNewTotal(2); // the spin box does not go below 3
        dialog->setNewTotal(4);
        REQUIRE(dialog->addButton()->isEnabled());
        answer = false;
        dialog->addButton()->click();
        REQUIRE(asked.size() == 1);
        CHECK(asked[0].contains(QStringLiteral("2 → 4 partitions")));
        CHECK(admin.topicPartitions(name, &error)->size() == 2);
        answer = true;
        clickAndWait([&] { dialog->addButton()->click(); }, *dialog, done);
        INFO(dialog->statusText().toStdString());
        CHECK(done.last().at(0).toBool());
        CHECK(dialog->statusText() ==
              QStringLiteral("Done: %1 had 2 partitions and has 4 now.").arg(topic));
        CHECK(admin.topicPartitions(name, &error)->size() == 4);
        CHECK(dialog->currentPartitions() == 4);
        screenshot(*dialog, QStringLiteral("add-partitions-real.png"));
        dialog->close();
    }

    SECTION("Delete records: before offset 3 in partition 0, then all of partition 1")
    {
        ui::DeleteRecordsDialog *dialog = topics->showDeleteRecordsDialog();
        REQUIRE(dialog);
        answering(dialog);
        QSignalSpy done(dialog, &ui::AdminDialog::done);
        REQUIRE(test::waitUntil([&] { return dialog->embedded() && !dialog->isBusy(); }, 30s));
        CHECK_FALSE(*dialog->embedded());
        dialog->setPartition(0);
        CHECK_FALSE(dialog->deleteButton()->isEnabled()); // no offset typed
        dialog->setBeforeOffset(3);
        REQUIRE(dialog->deleteButton()->isEnabled());
        clickAndWait([&] { dialog->deleteButton()->click(); }, *dialog, done);
        REQUIRE(asked.size() == 1);
        CHECK(asked[0].contains(QStringLiteral("partition 0: first offset 0 → 3 (3 records go)")));
        CHECK_FALSE(asked[0].contains(QStringLiteral("partition 1")));
        INFO(dialog->statusText().toStdString());
        CHECK(done.last().at(0).toBool());
        CHECK(dialog->statusText() == QStringLiteral("Deleted: partition 0 now starts at 3."));
        CHECK(dialog->model()->rows()[0].low == 3);
        CHECK(dialog->model()->rows()[1].low == 0);

        dialog->setPartition(1);
        dialog->setBeforeOffset(-1); // every record
        clickAndWait([&] { dialog->deleteButton()->click(); }, *dialog, done);
        CHECK(asked.last().contains(QStringLiteral("partition 1: first offset 0 → 5")));
        CHECK(done.last().at(0).toBool());
        CHECK(dialog->statusText() == QStringLiteral("Deleted: partition 1 now starts at 5."));
        screenshot(*dialog, QStringLiteral("delete-records-real.png"));

        // What Kafka has: the first offsets moved.
        core::MessageBrowser browser(cluster);
        const core::BrowseResult read = browser.readFromOffset(name, 0, 0, 10);
        INFO(read.error);
        REQUIRE(read.ok);
        REQUIRE_FALSE(read.messages.empty());
        CHECK(read.messages.front().offset == 3);

        // Beyond the end: Kafka's refusal, per partition.
        dialog->setPartition(0);
        dialog->setBeforeOffset(99);
        clickAndWait([&] { dialog->deleteButton()->click(); }, *dialog, done);
        CHECK_FALSE(done.last().at(0).toBool());
        INFO(dialog->statusText().toStdString());
        CHECK(dialog->statusText().startsWith(QStringLiteral("Kafka refused partition 0: ")));
        screenshot(*dialog, QStringLiteral("delete-records-real-refused.png"));
        dialog->close();
    }

    SECTION("Delete topic: Delete enabled only by the exact name, then the topic is gone")
    {
        ui::DeleteTopicDialog *dialog = topics->showDeleteTopicDialog();
        REQUIRE(dialog);
        QSignalSpy done(dialog, &ui::AdminDialog::done);
        REQUIRE(test::waitUntil([&] { return dialog->embedded() && !dialog->isBusy(); }, 30s));
        CHECK_FALSE(*dialog->embedded());
        CHECK_FALSE(dialog->deleteButton()->isEnabled());
        dialog->setTypedName(topic.left(topic.size() - 1));
        CHECK_FALSE(dialog->deleteButton()->isEnabled());
        CHECK(dialog->deleteButton()->toolTip().contains(QStringLiteral("Type the topic's name")));
        dialog->setTypedName(topic.toUpper());
        CHECK_FALSE(dialog->deleteButton()->isEnabled());
        dialog->setTypedName(topic);
        REQUIRE(dialog->deleteButton()->isEnabled());
        screenshot(*dialog, QStringLiteral("delete-topic-real.png"));
        clickAndWait([&] { dialog->deleteButton()->click(); }, *dialog, done);
        INFO(dialog->statusText().toStdString());
        CHECK(done.last().at(0).toBool());
        CHECK(dialog->statusText() == QStringLiteral("Deleted topic %1.").arg(topic));
        CHECK_FALSE(dialog->deleteButton()->isEnabled());
        CHECK(asked.isEmpty()); // the typed name was the confirmation
        REQUIRE(test::waitUntil([&] { return !admin.topicPartitions(name, &error); }, 30s));
        screenshot(*dialog, QStringLiteral("delete-topic-real-done.png"));
        dialog->close();
    }
    page.hide();
    monitor.stop();
}

TEST_CASE("real Kafka: the ACLs tab on the single node (no authorizer) says so instead of an "
          "empty table",
          "[.realkafka][ui][console]")
{
    test::IsolatedSettings isolated;
    const core::ClusterConfig cluster = realCluster();
    core::MonitorSettings ms;
    ms.cluster = cluster;
    ms.healthInterval = 1s;
    core::Monitor monitor(ms);
    std::string error;
    REQUIRE(monitor.start(&error));
    ui::KafkaPage page(monitor, cluster);
    page.resize(1280, 800);
    page.show();
    auto *acls = page.findChild<ui::AclsView *>();
    REQUIRE(acls);
    QSignalSpy loaded(acls, &ui::AclsView::loaded);
    page.tabs()->setCurrentWidget(acls);
    REQUIRE(test::waitUntil([&] { return !loaded.isEmpty(); }, 30s));
    INFO(acls->messageText().toStdString());
    CHECK(loaded.first().at(0).toBool());
    CHECK(acls->model()->rowCount() == 0);
    CHECK_FALSE(acls->table()->isVisible());
    CHECK(acls->messageText() ==
          QStringLiteral("No ACLs listed. The cluster has no authorizer "
                         "(authorizer.class.name is empty): ACLs are not enforced."));
    // Refresh reads again, in the background.
    QElapsedTimer call;
    call.start();
    acls->refreshButton()->click();
    CHECK(acls->isBusy());
    CHECK(call.elapsed() < 500);
    REQUIRE(test::waitUntil([&] { return loaded.size() == 2; }, 30s));
    CHECK(acls->messageText().startsWith(QStringLiteral("No ACLs listed. The cluster has no")));
    screenshot(page, QStringLiteral("acls-real-single.png"));
    page.hide();
    monitor.stop();
}

TEST_CASE("real Kafka: the Produce dialog sends a message with the timestamp set and Kafka keeps "
          "it",
          "[.realkafka][ui][console]")
{
    test::IsolatedSettings isolated;
    const core::ClusterConfig cluster = realCluster();
    const std::string topic = "gui-produce-" + std::to_string(QDateTime::currentMSecsSinceEpoch());
    ui::ProduceMessageDialog dialog(cluster, QString::fromStdString(topic), 1);
    QSignalSpy produced(&dialog, &ui::ProduceMessageDialog::produced);
    dialog.show();
    dialog.setJson(false);
    dialog.setValue(QStringLiteral("stamped"));
    dialog.setKey(QStringLiteral("k"));
    const QDateTime stamp =
        QDateTime::fromString(QStringLiteral("2026-03-01T12:34:56.789Z"), Qt::ISODateWithMs);
    dialog.setTimestamp(stamp);
    dialog.setPartition(0);
    dialog.produceButton()->click(); // the topic is created on first use (auto-create)
    REQUIRE(test::waitUntil([&] { return !produced.isEmpty(); }, 30s));
    INFO(dialog.statusText().toStdString());
    REQUIRE(produced.first().at(0).toBool());
    CHECK(dialog.statusText() == QStringLiteral("Delivered 1 of 1: partition 0, offset 0"));
    screenshot(dialog, QStringLiteral("produce-message-timestamp-real.png"));
    core::MessageBrowser browser(cluster);
    const core::BrowseResult read = browser.readFromOffset(topic, 0, 0, 5);
    INFO(read.error);
    REQUIRE(read.ok);
    REQUIRE(read.messages.size() == 1);
    CHECK(read.messages[0].value == "stamped");
    CHECK(read.messages[0].timestampMs == stamp.toMSecsSinceEpoch());
}
