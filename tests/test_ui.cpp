#include "ui/mainwindow.h"

#include <catch2/catch.hpp>

#include <QApplication>
#include <QLabel>
#include <QListWidget>
#include <QStatusBar>

TEST_CASE("the main window shows the navigation and the broker in use", "[ui]")
{
    studio::ui::MainWindow window(QStringLiteral("embedded (127.0.0.1:1234)"));
    window.show();
    QApplication::processEvents();
    const auto *nav = window.findChild<QListWidget *>();
    REQUIRE(nav);
    QStringList pages;
    for (int i = 0; i < nav->count(); ++i)
        pages << nav->item(i)->text();
    CHECK(pages
          == QStringList{QStringLiteral("Overview"), QStringLiteral("Producers"),
                         QStringLiteral("Pages"), QStringLiteral("Geo"),
                         QStringLiteral("Sessions"), QStringLiteral("Products"),
                         QStringLiteral("Kafka"), QStringLiteral("Health & Alerts"),
                         QStringLiteral("Reports")});
    CHECK(window.statusBar()->currentMessage().contains(QStringLiteral("127.0.0.1:1234")));
    bool labelShowsBroker = false;
    for (const QLabel *label : window.findChildren<QLabel *>())
        labelShowsBroker = labelShowsBroker || label->text().contains(QStringLiteral("embedded"));
    CHECK(labelShowsBroker);
    // Renders without a display.
    const QPixmap shot = window.grab();
    CHECK_FALSE(shot.isNull());
}
