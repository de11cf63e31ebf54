#include "app/commands.h"

#include "app/metricsserver.h"

#include "core/embeddedbroker.h"
#include "ui/mainwindow.h"

#include <QApplication>

#include <fmt/core.h>

namespace studio::app {

int runGui(int argc, char **argv, ProduceCommand &command)
{
    // Outlives the window and everything it owns; their collectors go into metrics.registry().
    MetricsEndpoint metrics;
    std::string metricsError;
    if (!metrics.start(command.metrics, &metricsError)) {
        fmt::print(stderr, "error: {}\n", metricsError);
        return 2;
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Clickstream Studio"));
    QApplication::setOrganizationName(QStringLiteral("Clickstream Studio"));
    QApplication::setApplicationVersion(QStringLiteral(STUDIO_VERSION));

    core::EmbeddedBroker broker;
    QString brokerText;
    if (command.connection.embedded()) {
        core::EmbeddedBroker::Options options;
        options.brokers = command.connection.embeddedBrokers;
        options.partitions = command.connection.embeddedPartitions;
        options.topics = {command.producer.settings.topic};
        std::string error;
        if (broker.start(options, &error)) {
            brokerText = QStringLiteral("embedded (%1)").arg(QString::fromStdString(broker.bootstrap()));
            fmt::print(stderr, "embedded broker at {}\n", broker.bootstrap());
        } else {
            brokerText = QStringLiteral("embedded broker failed to start: %1")
                             .arg(QString::fromStdString(error));
        }
    } else {
        brokerText = QString::fromStdString(command.connection.broker);
    }
    ui::MainWindow window(brokerText);
    window.show();
    return QApplication::exec();
}

} // namespace studio::app
