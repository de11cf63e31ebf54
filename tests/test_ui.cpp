#include "core/engine/studioengine.h"
#include "ui/common/theme.h"
#include "ui/pages/producereditor.h"
#include "ui/window/mainwindow.h"

#include "uitestsupport.h"

#include <catch2/catch.hpp>

#include <QApplication>
#include <QLabel>
#include <QListWidget>
#include <QStackedWidget>
#include <QStatusBar>

using namespace studio;

TEST_CASE("the main window shows the navigation and the broker in use", "[ui]")
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
    QApplication::processEvents();
    const auto *nav = window.findChild<QListWidget *>(QStringLiteral("navigation"));
    REQUIRE(nav);
    QStringList pages;
    for (int i = 0; i < nav->count(); ++i)
        pages << nav->item(i)->text();
    CHECK(pages == QStringList{QStringLiteral("Overview"), QStringLiteral("Producers"),
                               QStringLiteral("Pages"), QStringLiteral("Geo"),
                               QStringLiteral("Sessions"), QStringLiteral("Products"),
                               QStringLiteral("Kafka"), QStringLiteral("Health & Alerts"),
                               QStringLiteral("Reports")});
    const auto *broker = window.findChild<QLabel *>(QStringLiteral("brokerLabel"));
    REQUIRE(broker);
    CHECK(broker->text().contains(QStringLiteral("embedded (127.0.0.1:")));
    const auto *sinks = window.findChild<QLabel *>(QStringLiteral("sinksLabel"));
    REQUIRE(sinks);
    CHECK(sinks->text().contains(QStringLiteral("not configured")));
    // Renders without a display.
    const QPixmap shot = window.grab();
    CHECK_FALSE(shot.isNull());
}

TEST_CASE("the main window restores its last page and theme", "[ui]")
{
    test::IsolatedSettings isolated;
    core::StudioEngineSettings settings;
    settings.embedded = false; // never started: sample() works on an idle engine too
    core::StudioEngine engine(settings);
    {
        ui::MainWindow window(engine);
        window.showPage(QStringLiteral("Geo"));
        window.setTheme(ui::Theme::Dark);
        window.close();
    }
    CHECK(ui::storedTheme() == ui::Theme::Dark);
    ui::MainWindow again(engine);
    const auto *stack = again.findChild<QStackedWidget *>();
    REQUIRE(stack);
    CHECK(stack->currentIndex() == 3);
    CHECK(QApplication::palette().color(QPalette::Window).lightness() < 100);
    again.setTheme(ui::Theme::Light);
    CHECK(QApplication::palette().color(QPalette::Window).lightness() > 150);
    again.setTheme(ui::Theme::Dark);
    again.setTheme(ui::Theme::System); // back to the palette the application started with
    CHECK(ui::storedTheme() == ui::Theme::System);
    CHECK(QApplication::palette().color(QPalette::Window).lightness() > 150);
}

TEST_CASE("the rate slider is logarithmic from 1 to 1,000,000 events/s", "[ui]")
{
    using ui::ProducerEditor;
    CHECK(ProducerEditor::sliderFromRate(1) == 0);
    CHECK(ProducerEditor::sliderFromRate(1'000'000) == 1000);
    CHECK(ProducerEditor::sliderFromRate(1000) == 500);
    CHECK(ProducerEditor::rateFromSlider(0) == 1);
    CHECK(ProducerEditor::rateFromSlider(1000) == 1'000'000);
    CHECK(ProducerEditor::rateFromSlider(500) == 1000);
    for (int rate : {5, 50, 5000, 20000, 300000})
        CHECK(ProducerEditor::rateFromSlider(ProducerEditor::sliderFromRate(rate)) ==
              Approx(rate).epsilon(0.05));
}
