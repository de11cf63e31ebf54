#include "app/commands.h"

#include "app/metricsserver.h"

#include "core/common/metrics.h"
#include "core/common/version.h"
#include "core/engine/studioengine.h"
#include "core/monitor/monitor.h"
#include "ui/common/secretstore.h"
#include "ui/dialogs/connectionprofiles.h"
#include "ui/window/mainwindow.h"

#include <QApplication>
#include <QMessageBox>
#include <QStatusBar>

#include <fmt/core.h>

#include <optional>

namespace studio::app {

int runGui(int argc, char **argv, ProduceCommand &command, const std::string &profile)
{
    // Outlives the window and the engine; their collectors go into metrics.registry().
    MetricsEndpoint metrics;
    std::string metricsError;
    if (!metrics.start(command.metrics, &metricsError)) {
        fmt::print(stderr, "error: {}\n", metricsError);
        return 2;
    }
    core::StudioEngineSettings settings;
    if (std::string e = buildMonitorSettings(command.monitoring, settings.monitorSettings);
        !e.empty()) {
        fmt::print(stderr, "error: {}\n", e);
        return 2;
    }
    if (std::string e = finishGeneratorOptions(command.generator); !e.empty()) {
        fmt::print(stderr, "error: {}\n", e);
        return 2;
    }
    settings.embedded = command.connection.embedded();
    settings.embeddedOptions.brokers = command.connection.embeddedBrokers;
    settings.embeddedOptions.partitions = command.connection.embeddedPartitions;
    settings.embeddedOptions.topics = {command.producer.settings.topic};
    settings.topic = command.producer.settings.topic;
    if (!settings.embedded) {
        if (std::string e = buildClusterConfig(command.connection, settings.cluster); !e.empty()) {
            fmt::print(stderr, "error: {}\n", e);
            return 2;
        }
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Clickstream Studio"));
    QApplication::setOrganizationName(QStringLiteral("Clickstream Studio"));
    QApplication::setApplicationVersion(QStringLiteral(STUDIO_VERSION));
    // Matches the installed desktop entry, so Wayland compositors find its name and icon.
    QGuiApplication::setDesktopFileName(QString::fromLatin1(kDesktopId));

    // --profile (also how File > Connect to starts the window again): the saved profile's cluster,
    // its password from the keychain. A profile that cannot be used is said, and the window
    // opens on the embedded broker rather than not at all.
    if (!profile.empty()) {
        ui::SecretStore secrets;
        QString why;
        core::ClusterConfig cluster;
        if (ui::resolveKafkaProfile(QString::fromStdString(profile), secrets, &cluster, &why)) {
            settings.embedded = false;
            settings.cluster = std::move(cluster);
        } else {
            fmt::print(stderr, "error: {}\n", why.toStdString());
            QMessageBox::warning(
                nullptr, QObject::tr("Clickstream Studio"),
                QObject::tr("%1\n\nStarting on the embedded broker instead.").arg(why));
        }
    }

    core::StudioEngine engine(settings);
    std::string error;
    const bool started = engine.start(&error); // on failure the window says why
    if (started) {
        fmt::print(stderr, "broker: {}\n", engine.sample().broker);
        // One producer from the command line's settings, stopped: Start is one click away.
        core::StudioProducerSettings first;
        first.producer = command.producer.settings;
        first.generator = command.generator.config;
        engine.addProducer(std::move(first));
        // --postgres/--redis: results go there (durable mode), passwords from the environment.
        const core::MonitorSettings &ms = settings.monitorSettings;
        if (ms.postgres || ms.redis) {
            std::string sinkError;
            if (!engine.configureSinks(ms.postgres ? ms.postgres->conninfo : std::string(),
                                       ms.postgres ? ms.postgres->password : std::string(),
                                       ms.redis ? command.monitoring.redis : std::string(),
                                       ms.redis ? ms.redis->password : std::string(), &sinkError))
                fmt::print(stderr, "error: sinks: {}\n", sinkError);
        }
    } else {
        fmt::print(stderr, "error: {}\n", error);
    }
    // Declared after the engine, so removed (waiting for a scrape) before it goes.
    const auto producerMetrics = registerProducerMetrics(metrics.registry(), engine.pool());
    // The pipeline and aggregator are replaced when the sinks change: read the current ones.
    const auto aggregatorMetrics = metrics.registry().add("pipeline", [&engine](
                                                                          core::MetricsText &t) {
        engine.visitAggregator([&t](const core::AggregatorPipeline &p, const core::Aggregator &a) {
            collectPipelineMetrics(t, p);
            collectAggregatorMetrics(t, a);
        });
    });
    std::optional<MetricsRegistration> monitorMetrics;
    if (core::Monitor *monitor = engine.monitor())
        monitorMetrics = metrics.registry().add(
            "monitor", [monitor](core::MetricsText &t) { monitor->collectMetrics(t); });

    ui::MainWindow window(engine);
    window.show();
    return QApplication::exec();
}

} // namespace studio::app
