// The main window over a real engine on the embedded broker, driven through its widgets.
#include "core/engine/studioengine.h"
#include "ui/charts/dashboardframe.h"
#include "ui/dialogs/aboutdialog.h"
#include "ui/dialogs/connectionprofiles.h"
#include "ui/models/producermodel.h"
#include "ui/pages/producereditor.h"
#include "ui/pages/producerspage.h"
#include "ui/window/mainwindow.h"

#include "uitestsupport.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QChartView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>

#include <librdkafka/rdkafka.h>

using namespace studio;
using namespace std::chrono_literals;

namespace {

/// A dashboard page that records what it is handed.
class RecordingPage : public ui::DashboardPage
{
public:
    using DashboardPage::DashboardPage;
    void updateFrame(const ui::DashboardFrame &frame) override
    {
        ++frames;
        lastConsumedPerSecond = frame.consumedPerSecond;
        lastValid = frame.aggregates.counters.valid;
        for (const ui::ChartMarker &m : frame.markers)
            markers << m.text;
    }
    int frames = 0;
    double lastConsumedPerSecond = 0;
    std::uint64_t lastValid = 0;
    QStringList markers;
};

/// "Consumed 12,345/s" -> 12345.
double rateIn(const QLabel *label)
{
    QString digits;
    for (const QChar c : label->text()) {
        if (c.isDigit())
            digits += c;
    }
    return digits.toDouble();
}

QPushButton *button(const QWidget &w, const char *name)
{
    auto *b = w.findChild<QPushButton *>(QLatin1String(name));
    REQUIRE(b);
    return b;
}

} // namespace

TEST_CASE("producers are added, started, re-rated, paused and stopped through the window", "[ui]")
{
    test::IsolatedSettings isolated;
    core::StudioEngineSettings settings;
    settings.embeddedOptions.brokers = 1;
    settings.embeddedOptions.partitions = 4;
    settings.monitor = false;
    core::StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));

    ui::MainWindow window(engine);
    auto *recorder = new RecordingPage;
    window.setPage(QStringLiteral("Pages"), recorder);
    CHECK(window.page(QStringLiteral("Pages")) == recorder);
    window.show();
    window.showPage(QStringLiteral("Producers"));
    ui::ProducersPage *page = window.producersPage();
    REQUIRE(page);
    ui::ProducerModel *model = page->model();
    QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester proxyTester(page->table()->model(),
                                         QAbstractItemModelTester::FailureReportingMode::Fatal);

    button(*page, "addButton")->click();
    button(*page, "addButton")->click();
    REQUIRE(test::waitUntil([&] { return model->rowCount() == 2; }, 10s));
    CHECK(model->data(model->index(0, ui::ProducerModel::Name)).toString() ==
          QStringLiteral("producer-1"));
    CHECK(model->data(model->index(1, ui::ProducerModel::State)).toString() ==
          QStringLiteral("stopped"));

    // Select the first producer, set it to 5,000 ev/s (live knob) and start it.
    const int first = model->idAt(0);
    page->selectProducer(first);
    REQUIRE(page->selectedId() == first);
    QSpinBox *rate = page->editor()->rateSpinBox();
    rate->setValue(5000);
    CHECK(page->editor()->rateSlider()->value() == ui::ProducerEditor::sliderFromRate(5000));
    button(*page, "startButton")->click();

    const auto *consumed = window.findChild<QLabel *>(QStringLiteral("consumedLabel"));
    REQUIRE(consumed);
    const QModelIndex sent = model->index(0, ui::ProducerModel::Sent);
    REQUIRE(test::waitUntil(
        [&] {
            return rateIn(consumed) > 1000 &&
                   QLocale().toLongLong(model->data(sent).toString()) > 5000 &&
                   recorder->lastValid > 1000;
        },
        60s));
    CHECK(model->data(model->index(0, ui::ProducerModel::State)).toString() ==
          QStringLiteral("running"));
    CHECK(model->data(model->index(1, ui::ProducerModel::Sent)).toString() == QStringLiteral("0"));
    CHECK(recorder->frames > 5);
    CHECK(recorder->markers.contains(QStringLiteral("producer-1 started at 5,000 ev/s")));
    // Each aggregation worker's load, read-only, in the consumed field's tooltip (issue 20).
    INFO(consumed->toolTip().toStdString());
    CHECK(consumed->toolTip().contains(QStringLiteral("aggregation worker")));
    CHECK(consumed->toolTip().contains(QStringLiteral("worker 0: ")));
    CHECK(consumed->toolTip().contains(QStringLiteral(" partitions, ")));

    // The rate chart follows the selected producer.
    const auto *view = page->findChild<QChartView *>();
    REQUIRE(view);
    REQUIRE(view->chart()->series().size() == 1);
    const auto *series = qobject_cast<QLineSeries *>(view->chart()->series().first());
    REQUIRE(series);
    CHECK(series->count() > 5);

    // STUDIO_SCREENSHOT_DIR=dir keeps a picture of the running page for a person to look at.
    if (const QString dir = qEnvironmentVariable("STUDIO_SCREENSHOT_DIR"); !dir.isEmpty())
        CHECK(window.grab().save(dir + QStringLiteral("/producers-page.png")));

    // A new rate through the spin box while running: a marker reaches the dashboard page.
    rate->setValue(20000);
    REQUIRE(test::waitUntil(
        [&] {
            return recorder->markers.contains(QStringLiteral("producer-1: 5,000 -> 20,000 ev/s"));
        },
        5s));
    REQUIRE(test::waitUntil(
        [&] {
            return model->data(model->index(0, ui::ProducerModel::TargetRate)).toString() ==
                   QLocale().toString(20000);
        },
        5s));

    button(*page, "pauseButton")->click();
    REQUIRE(test::waitUntil(
        [&] {
            return model->data(model->index(0, ui::ProducerModel::State)).toString() ==
                   QStringLiteral("paused");
        },
        10s));
    CHECK(button(*page, "startButton")->text() == QStringLiteral("Resume"));
    button(*page, "stopButton")->click();
    REQUIRE(test::waitUntil(
        [&] {
            return model->data(model->index(0, ui::ProducerModel::State)).toString() ==
                   QStringLiteral("stopped");
        },
        30s));
    REQUIRE(test::waitUntil(
        [&] { return recorder->markers.contains(QStringLiteral("producer-1 stopped")); }, 5s));
    CHECK(recorder->markers.contains(QStringLiteral("producer-1 paused")));

    // Sorted by sent events, the busy producer comes first and stays the selected one.
    const int second = model->idAt(1);
    page->selectProducer(second);
    page->table()->sortByColumn(ui::ProducerModel::Sent, Qt::AscendingOrder);
    CHECK(page->selectedId() == second);
    CHECK(page->table()->model()->index(0, 0).data(ui::ProducerModel::IdRole).toInt() == second);
    page->table()->sortByColumn(ui::ProducerModel::Sent, Qt::DescendingOrder);
    CHECK(page->table()->model()->index(0, 0).data(ui::ProducerModel::IdRole).toInt() == first);
    page->selectProducer(first);
    CHECK(page->selectedId() == first);

    // Unusable settings are refused with the reason next to the editor.
    auto *topic = page->editor()->findChild<QLineEdit *>(QStringLiteral("topicEdit"));
    REQUIRE(topic);
    topic->setText(QString());
    button(*page->editor(), "applyButton")->click();
    const auto *message = page->findChild<QLabel *>(QStringLiteral("editorMessage"));
    REQUIRE(message);
    CHECK(message->text().startsWith(QStringLiteral("Not applied: ")));
    topic->setText(QStringLiteral("clickstream"));
    button(*page->editor(), "applyButton")->click();
    CHECK(message->text().isEmpty());

    // Duplicate and remove keep the model's rows in step.
    button(*page, "duplicateButton")->click();
    REQUIRE(test::waitUntil([&] { return model->rowCount() == 3; }, 5s));
    CHECK(model->data(model->index(2, ui::ProducerModel::Name)).toString() ==
          QStringLiteral("producer-1 copy"));
    page->selectProducer(model->idAt(1));
    button(*page, "removeButton")->click();
    REQUIRE(test::waitUntil([&] { return model->rowCount() == 2; }, 5s));
    CHECK(model->data(model->index(1, ui::ProducerModel::Name)).toString() ==
          QStringLiteral("producer-1 copy"));
    CHECK_FALSE(window.grab().isNull());
}

TEST_CASE("Help > About shows the project version, the Qt and librdkafka versions, non-modally",
          "[ui]")
{
    test::IsolatedSettings isolated;
    core::StudioEngineSettings settings;
    settings.embedded = false; // never started: the dialog needs no engine
    core::StudioEngine engine(settings);
    ui::MainWindow window(engine);
    window.show();

    QMenu *help = nullptr;
    for (QAction *menu : window.menuBar()->actions()) {
        if (menu->text() == QStringLiteral("&Help"))
            help = menu->menu();
    }
    REQUIRE(help);
    auto *about = window.findChild<QAction *>(QStringLiteral("actionAbout"));
    REQUIRE(about);
    CHECK(help->actions().contains(about));
    CHECK(about->text() == QStringLiteral("&About Clickstream Studio…"));
    bool hasAboutQt = false;
    for (const QAction *a : help->actions())
        hasAboutQt = hasAboutQt || a->text() == QStringLiteral("About &Qt…");
    CHECK(hasAboutQt);

    about->trigger();
    auto dialogs = [&] {
        return window.findChildren<ui::AboutDialog *>();
    };
    REQUIRE(dialogs().size() == 1);
    ui::AboutDialog *dialog = dialogs().front();
    CHECK(dialog->objectName() == QStringLiteral("aboutDialog"));
    CHECK(dialog->isVisible());
    CHECK_FALSE(dialog->isModal());
    auto text = [&](const char *name) {
        const auto *label = dialog->findChild<QLabel *>(QLatin1String(name));
        REQUIRE(label);
        return label->text();
    };
    // STUDIO_EXPECTED_VERSION is PROJECT_VERSION of the top CMakeLists.txt (tests/CMakeLists.txt).
    CHECK(text("aboutVersion") == QStringLiteral(STUDIO_EXPECTED_VERSION));
    CHECK(text("aboutQtVersion").startsWith(QString::fromLatin1(qVersion())));
    CHECK(text("aboutKafkaVersion") == QString::fromLatin1(rd_kafka_version_str()));
    CHECK(text("aboutDescription").contains(QStringLiteral("Kafka")));
    CHECK(text("aboutHomepage").contains(QStringLiteral("https://")));

    // A second trigger raises the open dialog instead of stacking another; Close deletes it.
    about->trigger();
    CHECK(dialogs().size() == 1);
    dialog->close();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    CHECK(dialogs().isEmpty());
}

TEST_CASE("File > Connect to lists the saved Kafka profiles and starts the window again on one",
          "[ui]")
{
    test::IsolatedSettings isolated;
    core::StudioEngineSettings settings;
    settings.embeddedOptions.brokers = 1;
    settings.embeddedOptions.partitions = 2;
    settings.monitor = false;
    core::StudioEngine engine(settings);
    std::string error;
    REQUIRE(engine.start(&error));
    ui::MainWindow window(engine);
    window.show();
    QStringList launched;
    int launches = 0;
    window.setRelauncher([&](const QStringList &arguments) {
        launched = arguments;
        ++launches;
        return true;
    });
    ui::KafkaProfile profile;
    profile.name = QStringLiteral("staging");
    profile.bootstrap = QStringLiteral("kafka-staging:9092");
    window.connectionProfiles()->addProfile(profile);

    QMenu *connectMenu = nullptr;
    for (QMenu *m : window.menuBar()->findChildren<QMenu *>())
        if (m->title().remove(QLatin1Char('&')) == QStringLiteral("Connect to"))
            connectMenu = m;
    REQUIRE(connectMenu);
    Q_EMIT connectMenu->aboutToShow(); // lists what is saved now
    QStringList texts;
    QAction *staging = nullptr, *embedded = nullptr;
    for (QAction *a : connectMenu->actions()) {
        texts << a->text();
        if (a->text().startsWith(QStringLiteral("staging")))
            staging = a;
        if (a->text() == QStringLiteral("Embedded broker"))
            embedded = a;
    }
    INFO(texts.join(QStringLiteral(" | ")).toStdString());
    REQUIRE(staging);
    REQUIRE(embedded);
    CHECK(staging->text().contains(QStringLiteral("kafka-staging:9092")));

    staging->trigger();
    CHECK(launches == 1);
    CHECK(launched == QStringList{QStringLiteral("--profile"), QStringLiteral("staging")});
    CHECK_FALSE(window.isVisible()); // this window closes once the new one is on its way

    window.show();
    embedded->trigger();
    CHECK(launches == 2);
    CHECK(launched.isEmpty());
}
