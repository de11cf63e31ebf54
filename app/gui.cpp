#include "app/commands.h"

#include "app/metricsserver.h"

#include "core/embeddedbroker.h"
#include "core/monitor.h"
#include "core/prometheus.h"
#include "ui/mainwindow.h"

#include <QApplication>

#include <fmt/core.h>

#include <optional>

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
    core::MonitorSettings monitorSettings;
    if (std::string e = buildMonitorSettings(command.monitoring, monitorSettings); !e.empty()) {
        fmt::print(stderr, "error: {}\n", e);
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
    // Monitoring runs on its own threads from the start; /metrics serves it.
    std::optional<core::Monitor> monitor;
    std::optional<MetricsRegistration> monitorMetrics;
    if (broker.isRunning() || !command.connection.embedded()) {
        if (broker.isRunning()) {
            monitorSettings.cluster = broker.clusterConfig();
            monitorSettings.embedded = &broker;
        } else if (std::string e = buildClusterConfig(command.connection, monitorSettings.cluster);
                   !e.empty()) {
            fmt::print(stderr, "error: {}\n", e);
            return 2;
        }
        monitor.emplace(monitorSettings);
        std::string error;
        if (!monitor->start(&error)) {
            fmt::print(stderr, "error: monitoring: {}\n", error);
            return 2;
        }
        monitorMetrics = metrics.registry().add(
            "monitor", [&m = *monitor](core::MetricsText &t) { m.collectMetrics(t); });
    }
    ui::MainWindow window(brokerText);
    window.show();
    return QApplication::exec();
}

} // namespace studio::app
