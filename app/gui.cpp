#include "app/commands.h"

#include "app/enginesetup.h"
#include "app/metricsserver.h"

#include "core/common/version.h"
#include "core/engine/studioengine.h"
#include "core/produce/producerpool.h"
#include "ui/common/secretstore.h"
#include "ui/dialogs/connectionprofiles.h"
#include "ui/window/mainwindow.h"

#include <QApplication>
#include <QMessageBox>
#include <QThreadPool>

#include <fmt/core.h>

#include <chrono>
#include <utility>

namespace studio::app {

namespace {
/// How long the producers' last deliveries may take once the window has closed.
constexpr std::chrono::milliseconds kGuiExitFlush{3000};

QtMessageHandler g_qtHandler = nullptr;

/// Qt Charts warns "Logarithms of zero and negative values are undefined." for every bar it lays
/// out on a logarithmic axis (it maps the bar's base, 0), several times a second while the
/// Products page's funnel is live: noise in the terminal, not a fault. Everything else passes.
void filterQtMessages(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type == QtWarningMsg &&
        message.startsWith(QLatin1String("Logarithms of zero and negative values are undefined")))
        return;
    if (g_qtHandler)
        g_qtHandler(type, context, message);
    else
        fmt::print(stderr, "{}\n", qFormatLogMessage(type, context, message).toStdString());
}
} // namespace

int runGui(int argc, char **argv, RunCommand &command, const std::string &profile)
{
    // The same settings as headless: broker, aggregator, group, sinks (--postgres/--redis:
    // durable mode, passwords from the environment) and monitor.
    core::StudioEngineSettings settings;
    if (std::string e = buildEngineSettings(command, settings); !e.empty()) {
        fmt::print(stderr, "error: {}\n", e);
        return 2;
    }
    // The Kafka page's Consumer groups tab shows every group a real cluster lists (other
    // applications' too, as `groups` does), not only the app's own (the embedded broker lists
    // none). Without this the tab showed only clickstream-studio on the test cluster.
    settings.monitorSettings.groupOptions.watchListedGroups = true;
    // Outlives the window and the engine; the engine's collectors go into metrics.registry().
    MetricsEndpoint metrics;
    std::string metricsError;
    if (!metrics.start(command.produce.metrics, &metricsError)) {
        fmt::print(stderr, "error: {}\n", metricsError);
        return 2;
    }
    g_qtHandler = qInstallMessageHandler(filterQtMessages);
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

    const GuiEngine engine = startGuiEngine(settings, command.produce, metrics.registry());
    int status = 0;
    {
        ui::MainWindow window(*engine.engine);
        window.show();
        status = QApplication::exec();
    }
    // The window is gone: stop the producers with a short flush rather than their delivery
    // timeout (up to 35 s against a dead cluster, with nothing left on screen to show it). What
    // is not acked by then is counted as failed and said here.
    engine.engine->stopProducers(kGuiExitFlush);
    for (const auto &[id, producer] : std::as_const(*engine.engine).pool().entries()) {
        const core::ProducerStats stats = producer->stats();
        if (stats.failed > 0)
            fmt::print(stderr, "producer {}: {} event(s) acked, {} failed (not acknowledged)\n", id,
                       stats.acked, stats.failed);
    }
    // The widgets wait for their own tasks that use the engine (TopicsView, ReportsPage,
    // MainWindow's sampler); what else is still on the pool finishes here, before the engine
    // goes, rather than in QApplication's destructor after it.
    QThreadPool::globalInstance()->waitForDone();
    return status;
}

} // namespace studio::app
