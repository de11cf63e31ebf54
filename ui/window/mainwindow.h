#pragma once

#include "ui/common/theme.h"

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QMainWindow>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

class QListWidget;
class QSplitter;
class QStackedWidget;
class QSystemTrayIcon;
class QTimer;

namespace studio::core {
class RunRecorder;
class StudioEngine;
struct EngineSample;
} // namespace studio::core

namespace studio::ui {

struct DashboardFrame;
struct SinkConfiguration;
struct AggregationConfiguration;
class ConnectionProfiles;
class ProducersPage;
class ReportsPage;
class SecretStore;
class StatusFields;

/// The main window: a navigation list of the pages beside a stack showing the current one, and a
/// status bar. A 10 Hz timer takes one engine sample, hands the Producers page its table and
/// every installed DashboardPage a DashboardFrame, and refreshes the status bar. Geometry,
/// splitter, last page and theme are kept in QSettings.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    /// The engine must outlive the window.
    explicit MainWindow(core::StudioEngine &engine, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// The page titles, in navigation order.
    static QStringList pageTitles();
    /// Installs `page` (the window takes ownership) as the page `title`, replacing the one there.
    /// Ignored for an unknown title.
    void setPage(const QString &title, QWidget *page);
    QWidget *page(const QString &title) const;
    /// Shows the page `title` (also Ctrl+1..9, in navigation order).
    void showPage(const QString &title);
    /// The current page's title.
    QString currentPageTitle() const;
    /// The Overview's Start producer and Producer > Start (F5): starts the producer selected on
    /// the Producers page, else the first one (adding one when there is none). False when none
    /// could start (the status bar says why).
    bool startProducer();
    /// Producer > Stop (Shift+F5): stops the selected producer, else the first running one.
    bool stopProducer();

    ProducersPage *producersPage() const { return m_producers; }
    StatusFields *statusFields() const { return m_status; }
    /// One tick now, sampling the engine on the calling thread. The timer does the same ten times
    /// a second, but takes the engine's sample on a pool thread (see requestSample()).
    void refresh();
    void setTheme(Theme theme);
    /// The connection settings (Kafka profiles, PostgreSQL, Redis; passwords via the keychain),
    /// modeless. OK applies the sinks and the aggregation settings (page query, key cap) to the
    /// engine.
    void openSettings();
    void applySinkConfiguration(const SinkConfiguration &configuration);
    void applyAggregation(const AggregationConfiguration &configuration);
    /// Help > About Clickstream Studio: the AboutDialog (objectName "aboutDialog"), modeless.
    void showAbout();
    ConnectionProfiles *connectionProfiles() const { return m_profiles; }

    /// The current run, recorded once a second since the window opened.
    const core::RunRecorder &runRecorder() const { return *m_recorder; }
    /// Writes the current run to `path` on a worker thread; runSaved() tells the outcome.
    void saveRun(const QString &path);
    /// Loads a run from `path` on a worker thread and overlays it on the Overview charts;
    /// comparisonOpened() tells the outcome (a bad file: a message box and the error).
    void openComparison(const QString &path);
    void clearComparison();
    SecretStore *secrets() const { return m_secrets; }

    /// Starts the app again with these arguments (by default a detached copy of this program).
    using Relauncher = std::function<bool(const QStringList &arguments)>;
    void setRelauncher(Relauncher relauncher) { m_relaunch = std::move(relauncher); }
    /// File > Connect to: the window starts again on the saved Kafka profile `name` (`--profile
    /// NAME`; its password from the keychain), or on the embedded broker for an empty name, and
    /// this one closes. Asks first when producers are running.
    void connectTo(const QString &profileName);

Q_SIGNALS:
    /// The user asked to configure PostgreSQL/Redis (the status bar's "Configure…").
    void configureSinksRequested();
    void runSaved(bool ok, const QString &message);
    void comparisonOpened(bool ok, const QString &message);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createMenus();
    void createNavigation();
    void restoreState();
    void saveState() const;
    void requestSample();
    void apply(core::EngineSample &sample); ///< moves the aggregates out of `sample`
    void dispatch(const DashboardFrame &frame);
    void onFiringChanged(int count, const QString &summary);
    void record(const core::EngineSample &sample);

    core::StudioEngine &m_engine;
    QSplitter *m_splitter = nullptr;
    QListWidget *m_navigation = nullptr;
    QStackedWidget *m_stack = nullptr;
    ProducersPage *m_producers = nullptr;
    ReportsPage *m_reports = nullptr;
    ConnectionProfiles *m_profiles = nullptr;
    SecretStore *m_secrets = nullptr;
    QSystemTrayIcon *m_tray = nullptr; // created at the first firing alert, when there is a tray
    int m_firing = 0;
    StatusFields *m_status = nullptr;
    QTimer *m_timer = nullptr;
    std::unique_ptr<core::RunRecorder> m_recorder;
    std::int64_t m_lastAlertMs = 0;
    QFutureWatcher<core::EngineSample> *m_sampler = nullptr;
    /// How long the last sample took on its pool thread (ns), written there (the destructor
    /// waits for a sample still being taken).
    std::atomic<std::int64_t> m_sampleNs{0};
    QElapsedTimer m_sampleDone;         ///< since the last sample arrived
    std::uint64_t m_markerSequence = 0; ///< the newest engine marker applied
    Relauncher m_relaunch;
};

} // namespace studio::ui
