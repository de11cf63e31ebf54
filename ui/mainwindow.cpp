#include "ui/mainwindow.h"

#include <QLabel>
#include <QListWidget>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>

namespace studio::ui {

MainWindow::MainWindow(const QString &brokerDescription, QWidget *parent)
    : QMainWindow(parent)
{
    setWindowTitle(tr("Clickstream Studio"));
    auto *splitter = new QSplitter(this);
    auto *navigation = new QListWidget(splitter);
    for (const QString &page : {tr("Overview"), tr("Producers"), tr("Pages"), tr("Geo"),
                                tr("Sessions"), tr("Products"), tr("Kafka"),
                                tr("Health & Alerts"), tr("Reports")})
        navigation->addItem(page);
    navigation->setCurrentRow(0);
    navigation->setMaximumWidth(200);

    auto *overview = new QWidget(splitter);
    auto *layout = new QVBoxLayout(overview);
    auto *title = new QLabel(tr("<h2>Clickstream Studio</h2>"), overview);
    m_brokerLabel = new QLabel(tr("Broker: %1").arg(brokerDescription), overview);
    m_brokerLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *hint = new QLabel(tr("Producers are stopped. Dashboards arrive with the next release; "
                               "the command line can already produce and generate events "
                               "(clickstream-studio --help)."),
                            overview);
    hint->setWordWrap(true);
    layout->addWidget(title);
    layout->addWidget(m_brokerLabel);
    layout->addWidget(hint);
    layout->addStretch();
    splitter->setStretchFactor(1, 1);
    setCentralWidget(splitter);
    statusBar()->showMessage(tr("Broker: %1").arg(brokerDescription));
    resize(1000, 650);
}

} // namespace studio::ui
