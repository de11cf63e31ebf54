#include "ui/window/mainwindow.h"

#include "core/engine/runrecording.h"
#include "core/engine/studioengine.h"
#include "core/monitor/monitor.h"
#include "core/produce/producerpool.h"
#include "core/store/targets.h"
#include "ui/charts/dashboardframe.h"
#include "ui/common/icons.h"
#include "ui/common/secretstore.h"
#include "ui/dialogs/aboutdialog.h"
#include "ui/dialogs/connectionprofiles.h"
#include "ui/dialogs/settingsdialog.h"
#include "ui/pages/geopage.h"
#include "ui/pages/healthpage.h"
#include "ui/pages/kafkapage.h"
#include "ui/pages/overviewpage.h"
#include "ui/pages/pagespage.h"
#include "ui/pages/producerspage.h"
#include "ui/pages/productspage.h"
#include "ui/pages/reportspage.h"
#include "ui/pages/sessionspage.h"
#include "ui/window/statusbar.h"

#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QProcess>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTimer>
#include <QtConcurrent>

#include <algorithm>

namespace studio::ui {

namespace {

constexpr int kTickMs = 100; // 10 Hz
/// A sample's snapshot stops every aggregation worker while it merges the open windows. That is
/// a few ms, but with every key capped (10,001 rows a window from each partition, 100,000 new
/// pages a second) it took about 40 ms: ten a second held ingestion back by 40%, the consumer
/// fell behind and its backlog filled memory. The next sample waits this many times the last
/// one's duration after it arrived, so sampling takes at most a tenth of the workers' time; but
/// never more than kMaxSamplePauseNs (a sample that waited long for a restore or a long batch
/// must not leave the dashboards still for ten times as long).
constexpr int kSamplePauseFactor = 9;
constexpr qint64 kMaxSamplePauseNs = 2'000'000'000;

QWidget *placeholder(const QString &title)
{
    auto *label = new QLabel(
        MainWindow::tr("<h2>%1</h2><p>This page is not built yet.</p>").arg(title.toHtmlEscaped()));
    label->setAlignment(Qt::AlignCenter);
    return label;
}

DashboardFrame frameOf(core::EngineSample &sample)
{
    DashboardFrame frame;
    frame.nowMs = sample.nowMs;
    frame.aggregates = std::move(sample.aggregates);
    frame.producedPerSecond = sample.producedPerSecond;
    frame.consumedPerSecond = sample.consumedPerSecond;
    frame.lagMessages = sample.pipeline.lagMessages;
    frame.watermarkDelayMs = sample.watermarkDelayMs;
    frame.latePerSecond = sample.latePerSecond;
    frame.invalidPerSecond = sample.invalidPerSecond;
    frame.deletedUnread = sample.pipeline.deletedUnread;
    frame.markers.reserve(sample.markers.size());
    for (const core::EngineMarker &m : sample.markers)
        frame.markers.push_back({m.timeMs, QString::fromStdString(m.text)});
    return frame;
}

} // namespace

QStringList MainWindow::pageTitles()
{
    return {tr("Overview"), tr("Producers"), tr("Pages"),           tr("Geo"),    tr("Sessions"),
            tr("Products"), tr("Kafka"),     tr("Health & Alerts"), tr("Reports")};
}

MainWindow::MainWindow(core::StudioEngine &engine, QWidget *parent)
    : QMainWindow(parent)
    , m_engine(engine)
    , m_recorder(std::make_unique<core::RunRecorder>())
{
    setWindowTitle(tr("Clickstream Studio"));
    m_splitter = new QSplitter(this);
    m_splitter->setObjectName(QStringLiteral("mainSplitter"));
    m_navigation = new QListWidget(m_splitter);
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_stack = new QStackedWidget(m_splitter);
    m_stack->setObjectName(QStringLiteral("pages"));
    for (const QString &title : pageTitles())
        m_stack->addWidget(placeholder(title));
    createNavigation();
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setCollapsible(0, false);
    setCentralWidget(m_splitter);
    connect(m_navigation, &QListWidget::currentRowChanged, m_stack,
            &QStackedWidget::setCurrentIndex);
    connect(m_navigation, &QListWidget::currentRowChanged, this,
            [](int row) { QSettings().setValue(QStringLiteral("mainWindow/page"), row); });

    m_producers = new ProducersPage(m_engine);
    setPage(tr("Producers"), m_producers);
    auto *overview = new OverviewPage;
    setPage(tr("Overview"), overview);
    connect(overview, &OverviewPage::startProducerRequested, this, &MainWindow::startProducer);
    connect(overview, &OverviewPage::producersPageRequested, this,
            [this] { showPage(tr("Producers")); });
    setPage(tr("Pages"), new PagesPage);
    setPage(tr("Geo"), new GeoPage);
    setPage(tr("Sessions"), new SessionsPage);
    setPage(tr("Products"), new ProductsPage);
    // Reports read PostgreSQL when it is configured, else the aggregator's in-memory results.
    m_reports = new ReportsPage([&engine = m_engine] {
        core::AggregatorSnapshot snapshot;
        engine.visitAggregator(
            [&snapshot](const core::AggregatorPipeline &, const core::Aggregator &aggregator) {
                snapshot = aggregator.snapshot();
            });
        return snapshot;
    });
    setPage(tr("Reports"), m_reports);

    // Kafka and Health & Alerts read the engine's monitor (none when it is switched off).
    if (core::Monitor *monitor = m_engine.monitor()) {
        setPage(tr("Kafka"), new KafkaPage(*monitor, monitor->settings().cluster));
        auto *health = new HealthPage(*monitor);
        setPage(tr("Health & Alerts"), health);
        connect(health, &HealthPage::firingChanged, this, &MainWindow::onFiringChanged);
    }

    m_profiles = new ConnectionProfiles(this);
    {
        QSettings settings;
        m_profiles->load(settings);
    }
    m_secrets = new SecretStore(this);
    // The Kafka page adds saved profiles beside the engine's cluster, and those of last session.
    if (auto *kafka = qobject_cast<KafkaPage *>(page(tr("Kafka")))) {
        kafka->setProfiles(m_profiles, m_secrets);
        kafka->restoreClusters();
    }

    m_status = new StatusFields(statusBar());
    connect(m_status, &StatusFields::configureSinksRequested, this,
            &MainWindow::configureSinksRequested);
    connect(this, &MainWindow::configureSinksRequested, this, &MainWindow::openSettings);
    createMenus();
    resize(1100, 720);
    restoreState();

    // The engine's sample copies the aggregator's snapshot under the aggregator's lock, which the
    // ingest thread holds for a whole batch: on the GUI thread that wait is a stall. The timer
    // takes the sample on a pool thread and applies it when it arrives; one at a time.
    m_sampler = new QFutureWatcher<core::EngineSample>(this);
    connect(m_sampler, &QFutureWatcher<core::EngineSample>::finished, this, [this] {
        m_sampleDone.start();
        core::EngineSample sample = m_sampler->result();
        apply(sample);
    });
    m_timer = new QTimer(this);
    m_timer->setInterval(kTickMs);
    connect(m_timer, &QTimer::timeout, this, &MainWindow::requestSample);
    m_timer->start();
    // The status bar and the producers at once from the engine's status, which never waits for
    // the aggregator; the rest from the first sample, taken on a pool thread.
    core::EngineSample first;
    static_cast<core::EngineStatus &>(first) = m_engine.status();
    m_status->update(first);
    if (m_producers)
        m_producers->updateSample(first);
    requestSample();
}

MainWindow::~MainWindow()
{
    // The pool thread uses the engine, which the caller may destroy right after the window.
    m_sampler->disconnect(this);
    m_sampler->waitForFinished();
}

void MainWindow::requestSample()
{
    if (m_sampler->isRunning())
        return; // the previous one is still being taken: skip a tick rather than queue up
    if (m_sampleDone.isValid() &&
        m_sampleDone.nsecsElapsed() <
            std::min<qint64>(kSamplePauseFactor * m_sampleNs.load(), kMaxSamplePauseNs))
        return; // the last one was slow: leave the workers their time
    // Only markers newer than the ones this window has: sampling changes nothing in the engine.
    m_sampler->setFuture(
        QtConcurrent::run([&engine = m_engine, seen = m_markerSequence, &took = m_sampleNs] {
            QElapsedTimer clock;
            clock.start();
            core::EngineSample sample = engine.sample(seen);
            took.store(clock.nsecsElapsed());
            return sample;
        }));
}

// The page list: an icon and the title per page (freedesktop theme names, bundled fallbacks), as
// wide as its longest title needs, with the page's shortcut in its tooltip.
void MainWindow::createNavigation()
{
    struct Entry
    {
        const char *themeName;
        const char *fallback;
        const char *description;
    };
    static const Entry entries[] = {
        {"utilities-system-monitor", "overview", QT_TR_NOOP("The pipeline at a glance")},
        {"media-playback-start", "producers", QT_TR_NOOP("Start, pause and tune the producers")},
        {"text-html", "pages", QT_TR_NOOP("Views, clicks and purchases per page and window")},
        {"applications-internet", "geo", QT_TR_NOOP("Events by country, browser and device")},
        {"system-users", "sessions", QT_TR_NOOP("Open and closed sessions, conversion")},
        {"package-x-generic", "products", QT_TR_NOOP("The product funnel and conversion")},
        {"network-server", "kafka", QT_TR_NOOP("Topics, partitions, groups and messages")},
        {"dialog-warning", "health", QT_TR_NOOP("Service health and alert rules")},
        {"x-office-spreadsheet", "reports", QT_TR_NOOP("Reports from PostgreSQL or memory, CSV")},
    };
    const QStringList titles = pageTitles();
    m_navigation->setIconSize(QSize(20, 20));
    m_navigation->setSpacing(1);
    m_navigation->setAccessibleName(tr("Pages"));
    m_navigation->setToolTip(tr("The pages (Ctrl+1 to Ctrl+9)"));
    int widest = 0;
    for (int i = 0; i < titles.size(); ++i) {
        const Entry &e = entries[i];
        auto *item = new QListWidgetItem(
            themedIcon(QLatin1String(e.themeName), QLatin1String(e.fallback)), titles[i]);
        const QString shortcut =
            QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)).toString(QKeySequence::NativeText);
        item->setToolTip(tr("%1 (%2)").arg(tr(e.description), shortcut));
        item->setSizeHint(QSize(0, std::max(30, m_navigation->fontMetrics().height() + 12)));
        m_navigation->addItem(item);
        widest = std::max(widest, m_navigation->fontMetrics().horizontalAdvance(titles[i]));
    }
    // Icon, text and the frame's and scroll bar's room: no more.
    const int width = widest + m_navigation->iconSize().width() + 44;
    m_navigation->setMinimumWidth(width);
    m_navigation->setMaximumWidth(width + 40);
    m_splitter->setSizes({width, 10'000});
    m_navigation->setCurrentRow(0);
}

QString MainWindow::currentPageTitle() const
{
    return pageTitles().value(m_stack->currentIndex());
}

bool MainWindow::startProducer()
{
    if (!m_producers)
        return false;
    if (m_engine.pool().entries().empty())
        m_producers->selectProducer(m_engine.addProducer(core::StudioProducerSettings{}));
    // The table learns of a new producer at the next tick: read it now.
    core::EngineSample sample;
    static_cast<core::EngineStatus &>(sample) = m_engine.status();
    m_producers->updateSample(sample);
    if (!m_producers->startSelected()) {
        m_status->showMessage(tr("No stopped producer to start (Producers page)"), 5000);
        return false;
    }
    m_status->showMessage(tr("Producer started"), 3000);
    if (auto *overview = qobject_cast<OverviewPage *>(page(tr("Overview"))))
        overview->setFirstRun(false);
    return true;
}

bool MainWindow::stopProducer()
{
    if (!m_producers || !m_producers->stopSelected()) {
        m_status->showMessage(tr("No running producer to stop"), 5000);
        return false;
    }
    m_status->showMessage(tr("Producer stopped"), 3000);
    return true;
}

void MainWindow::onFiringChanged(int count, const QString &summary)
{
    // The status bar counts them on every tick; a new firing alert is also a desktop notification.
    if (count > m_firing && QSystemTrayIcon::isSystemTrayAvailable()) {
        if (!m_tray) {
            m_tray = new QSystemTrayIcon(windowIcon(), this);
            m_tray->setToolTip(windowTitle());
            m_tray->show();
        }
        m_tray->showMessage(tr("Clickstream Studio: alert firing"), summary,
                            QSystemTrayIcon::Warning, 10'000);
    }
    if (count > m_firing)
        m_status->showMessage(summary, 10'000);
    m_firing = count;
}

void MainWindow::openSettings()
{
    // Modeless and parented to the window: the GUI keeps ticking while it is open.
    auto *dialog = new SettingsDialog(m_profiles, m_secrets, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &SettingsDialog::sinkConfigurationChosen, this,
            &MainWindow::applySinkConfiguration);
    const core::AggregatorConfig now = m_engine.aggregatorConfig();
    dialog->setAggregation({QString::fromStdString(now.pageNormalization.spec()),
                            static_cast<int>(now.maxKeysPerWindow)});
    connect(dialog, &SettingsDialog::aggregationChosen, this, &MainWindow::applyAggregation);
    dialog->show();
}

void MainWindow::applySinkConfiguration(const SinkConfiguration &c)
{
    std::string error;
    // The ACL user travels in the URI (redis://USER@HOST...), the password beside it; the user
    // field wins over a user in the URI, as in the dialog's Test.
    std::string redisUri;
    if (!c.redisUri.isEmpty()) {
        if (const auto target =
                core::parseRedisUri(c.redisUri.toStdString(), c.redisUser.toStdString(), &error))
            redisUri = core::redisUri(*target);
        else
            redisUri = c.redisUri.toStdString(); // configureSinks says what is wrong with it
    }
    if (!m_engine.configureSinks(c.postgresUri.toStdString(), c.postgresPassword.toStdString(),
                                 redisUri, c.redisPassword.toStdString(), &error)) {
        m_status->showMessage(tr("Sinks not applied: %1").arg(QString::fromStdString(error)),
                              10'000);
        return;
    }
    if (m_reports)
        m_reports->setPostgres(c.postgresUri, c.postgresPassword);
    m_status->showMessage(tr("Sinks applied: the aggregator restarts in durable mode"), 5000);
}

void MainWindow::applyAggregation(const AggregationConfiguration &c)
{
    core::PageNormalization pages;
    std::string error;
    if (!core::PageNormalization::parse(c.pageQuery.toStdString(), pages, error) ||
        !m_engine.configureAggregation(pages, static_cast<std::size_t>(c.maxKeysPerWindow),
                                       &error)) {
        statusBar()->showMessage(
            tr("Aggregation not changed: %1").arg(QString::fromStdString(error)), 10'000);
        return;
    }
    statusBar()->showMessage(
        tr("Aggregation applied (page query %1, %2 keys per window): the aggregator restarts")
            .arg(c.pageQuery)
            .arg(c.maxKeysPerWindow),
        5000);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *settings = file->addAction(tr("&Connections…"));
    settings->setShortcut(QKeySequence::Preferences);
    connect(settings, &QAction::triggered, this, &MainWindow::openSettings);
    // Connection files (versioned JSON, never passwords): see ConnectionProfiles.
    connect(file->addAction(tr("&Import connections…")), &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import connections"), {},
                                                          tr("Connection files (*.json)"));
        QString message;
        if (path.isEmpty())
            return;
        if (!m_profiles->importConnections(path, &message)) {
            QMessageBox::warning(this, tr("Import connections"), message);
            return;
        }
        QSettings settings;
        m_profiles->save(settings);
        m_status->showMessage(message, 15'000);
    });
    connect(file->addAction(tr("&Export connections…")), &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export connections"), {},
                                                          tr("Connection files (*.json)"));
        QString error;
        if (!path.isEmpty() && !m_profiles->exportConnections(path, &error))
            QMessageBox::warning(this, tr("Export connections"), error);
        else if (!path.isEmpty())
            m_status->showMessage(tr("Connections exported to %1 (without passwords)").arg(path),
                                  5000);
    });
    // The saved Kafka profiles, listed when the menu opens (the dialog may have changed them).
    QMenu *connectMenu = file->addMenu(tr("Co&nnect to"));
    connect(connectMenu, &QMenu::aboutToShow, this, [this, connectMenu] {
        connectMenu->clear();
        connect(connectMenu->addAction(tr("Embedded broker")), &QAction::triggered, this,
                [this] { connectTo({}); });
        if (!m_profiles->profiles().isEmpty())
            connectMenu->addSeparator();
        for (const KafkaProfile &p : m_profiles->profiles()) {
            const QString name = p.name;
            QAction *action = connectMenu->addAction(tr("%1 (%2)").arg(name, p.bootstrap));
            connect(action, &QAction::triggered, this, [this, name] { connectTo(name); });
        }
    });
    file->addSeparator();
    connect(file->addAction(tr("&Save run…")), &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save run"), QString(),
                                                          tr("Recorded runs (*.json)"));
        if (!path.isEmpty())
            saveRun(path);
    });
    connect(file->addAction(tr("&Open run for comparison…")), &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open run for comparison"),
                                                          QString(), tr("Recorded runs (*.json)"));
        if (!path.isEmpty())
            openComparison(path);
    });
    connect(file->addAction(tr("C&lear comparison")), &QAction::triggered, this,
            &MainWindow::clearComparison);
    file->addSeparator();
    QAction *exportReport =
        file->addAction(themedIcon(QStringLiteral("document-save-as"), QStringLiteral("export")),
                        tr("&Export report as CSV…"));
    exportReport->setObjectName(QStringLiteral("actionExport"));
    exportReport->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportReport->setToolTip(tr("Export the Reports page's current report to a CSV file"));
    connect(exportReport, &QAction::triggered, this, [this] {
        showPage(tr("Reports"));
        if (m_reports)
            m_reports->chooseExportFile();
    });
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    QMenu *producer = menuBar()->addMenu(tr("&Producer"));
    QAction *start = producer->addAction(
        themedIcon(QStringLiteral("media-playback-start"), QStringLiteral("start")),
        tr("&Start selected producer"));
    start->setObjectName(QStringLiteral("actionStartProducer"));
    start->setShortcut(QKeySequence(Qt::Key_F5));
    connect(start, &QAction::triggered, this, &MainWindow::startProducer);
    QAction *stop = producer->addAction(
        themedIcon(QStringLiteral("media-playback-stop"), QStringLiteral("stop")),
        tr("S&top selected producer"));
    stop->setObjectName(QStringLiteral("actionStopProducer"));
    stop->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
    connect(stop, &QAction::triggered, this, &MainWindow::stopProducer);

    QMenu *go = menuBar()->addMenu(tr("&Go"));
    const QStringList titles = pageTitles();
    for (int i = 0; i < titles.size(); ++i) {
        QAction *action = go->addAction(m_navigation->item(i)->icon(), titles[i]);
        action->setObjectName(QStringLiteral("actionPage%1").arg(i + 1));
        action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
        connect(action, &QAction::triggered, this, [this, title = titles[i]] {
            showPage(title);
            // The keyboard lands on the page, ready for Tab.
            if (QWidget *current = m_stack->currentWidget()) {
                for (QWidget *w : current->findChildren<QWidget *>()) {
                    if (w->isVisible() && w->isEnabled() && (w->focusPolicy() & Qt::TabFocus)) {
                        w->setFocus(Qt::ShortcutFocusReason);
                        break;
                    }
                }
            }
        });
    }
    QMenu *view = menuBar()->addMenu(tr("&View"));
    QMenu *themes = view->addMenu(tr("&Theme"));
    auto *group = new QActionGroup(this);
    const Theme current = storedTheme();
    for (const auto &[theme, text] :
         {std::pair{Theme::System, tr("&System")}, std::pair{Theme::Light, tr("&Light")},
          std::pair{Theme::Dark, tr("&Dark")}}) {
        QAction *action = themes->addAction(text);
        action->setCheckable(true);
        action->setChecked(theme == current);
        action->setData(themeName(theme));
        group->addAction(action);
        connect(action, &QAction::triggered, this, [this, theme = theme] { setTheme(theme); });
    }
    applyTheme(current);
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *about = help->addAction(tr("&About Clickstream Studio…"));
    about->setObjectName(QStringLiteral("actionAbout"));
    about->setMenuRole(QAction::AboutRole);
    connect(about, &QAction::triggered, this, &MainWindow::showAbout);
    QAction *aboutQt = help->addAction(tr("About &Qt…"));
    aboutQt->setMenuRole(QAction::AboutQtRole);
    connect(aboutQt, &QAction::triggered, qApp, &QApplication::aboutQt);
}

void MainWindow::showAbout()
{
    // One dialog, non-modal: a second trigger raises the open one.
    if (auto *open = findChild<AboutDialog *>(QString(), Qt::FindDirectChildrenOnly)) {
        open->raise();
        open->activateWindow();
        return;
    }
    auto *dialog = new AboutDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::setTheme(Theme theme)
{
    applyTheme(theme);
    storeTheme(theme);
}

void MainWindow::setPage(const QString &title, QWidget *page)
{
    const int index = static_cast<int>(pageTitles().indexOf(title));
    if (index < 0 || !page)
        return;
    QWidget *old = m_stack->widget(index);
    const bool current = m_stack->currentIndex() == index;
    m_stack->insertWidget(index, page);
    m_stack->removeWidget(old);
    if (old == m_producers)
        m_producers = nullptr;
    if (old == m_reports)
        m_reports = nullptr;
    old->deleteLater();
    if (current)
        m_stack->setCurrentIndex(index);
}

QWidget *MainWindow::page(const QString &title) const
{
    const int index = static_cast<int>(pageTitles().indexOf(title));
    return index < 0 ? nullptr : m_stack->widget(index);
}

void MainWindow::showPage(const QString &title)
{
    const int index = static_cast<int>(pageTitles().indexOf(title));
    if (index >= 0)
        m_navigation->setCurrentRow(index);
}

void MainWindow::refresh()
{
    core::EngineSample sample = m_engine.sample(m_markerSequence);
    apply(sample);
}

void MainWindow::apply(core::EngineSample &sample)
{
    // A sample taken before a newer one was applied brings no markers this window lacks.
    std::erase_if(sample.markers,
                  [this](const core::EngineMarker &m) { return m.sequence <= m_markerSequence; });
    m_markerSequence = std::max(m_markerSequence, sample.markerSequence);
    m_status->update(sample);
    record(sample);
    if (auto *overview = qobject_cast<OverviewPage *>(m_stack->widget(0))) {
        // First run: nothing read and no producer running. Shown until that changes.
        bool running = false;
        for (const core::ProducerSample &p : sample.producers)
            running = running || p.stats.state == core::ProducerState::Running;
        overview->setFirstRun(!running && sample.aggregates.counters.read == 0);
    }
    if (m_producers)
        m_producers->updateSample(sample);
    dispatch(frameOf(sample)); // takes the aggregates: sample is not used after this
}

// One sample a second of the current run, with its markers, new producers and alert transitions.
void MainWindow::record(const core::EngineSample &sample)
{
    for (const core::EngineMarker &m : sample.markers)
        m_recorder->addMarker({m.timeMs, m.text});
    core::RunSample s;
    s.timeMs = sample.nowMs;
    s.producedPerSecond = sample.producedPerSecond;
    s.consumedPerSecond = sample.consumedPerSecond;
    s.lagMessages = sample.pipeline.lagMessages;
    s.watermarkDelayMs = sample.watermarkDelayMs;
    s.latePerSecond = sample.latePerSecond;
    s.invalidPerSecond = sample.invalidPerSecond;
    s.validTotal = sample.aggregates.counters.valid;
    std::int64_t newest = -1;
    std::int64_t cents = 0;
    std::int64_t length = 0;
    for (const core::PageRow &row : sample.aggregates.pages) {
        if (row.windowStart > newest) {
            newest = row.windowStart;
            cents = 0;
        }
        if (row.windowStart == newest) {
            cents += row.revenueCents;
            length = row.windowEnd - row.windowStart;
        }
    }
    if (length > 0)
        s.revenuePerMinute =
            static_cast<double>(cents) / 100.0 * 60'000.0 / static_cast<double>(length);
    if (!m_recorder->addSample(s))
        return;
    for (const core::ProducerSample &p : sample.producers) {
        if (m_recorder->knowsProducer(p.id))
            continue;
        core::RunProducer producer;
        producer.id = p.id;
        producer.name = p.settings.producer.name;
        producer.topic = p.settings.producer.topic;
        producer.ratePerSecond = p.settings.producer.ratePerSecond;
        producer.compression = p.settings.producer.compression;
        producer.hotProduct = p.settings.generator.hotProduct;
        producer.hotShare = p.settings.generator.hotShare;
        producer.lateFraction = p.settings.generator.lateFraction;
        producer.malformedFraction = p.settings.generator.malformedFraction;
        producer.firstSeenMs = sample.nowMs;
        m_recorder->noteProducer(producer);
    }
    if (core::Monitor *monitor = m_engine.monitor()) {
        for (const core::AlertTransition &t : monitor->alerts().history()) {
            if (t.atMs <= m_lastAlertMs || !t.notifies())
                continue;
            m_recorder->addAlert({t.atMs, t.alert.rule, std::string(core::toString(t.alert.state)),
                                  t.alert.summary});
            m_lastAlertMs = t.atMs;
        }
    }
}

void MainWindow::saveRun(const QString &path)
{
    auto *watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, path] {
        const QString error = watcher->result();
        watcher->deleteLater();
        const QString message =
            error.isEmpty() ? tr("Run saved to %1").arg(path) : tr("Run not saved: %1").arg(error);
        m_status->showMessage(message, 10'000);
        Q_EMIT runSaved(error.isEmpty(), message);
    });
    watcher->setFuture(
        QtConcurrent::run([run = m_recorder->recording(), file = path.toStdString()] {
            std::string error;
            return core::saveRun(run, file, &error) ? QString() : QString::fromStdString(error);
        }));
}

void MainWindow::openComparison(const QString &path)
{
    struct Loaded
    {
        std::optional<core::RunRecording> run;
        QString error;
    };
    auto *watcher = new QFutureWatcher<Loaded>(this);
    connect(watcher, &QFutureWatcher<Loaded>::finished, this, [this, watcher, path] {
        const Loaded loaded = watcher->result();
        watcher->deleteLater();
        auto *overview = qobject_cast<OverviewPage *>(page(tr("Overview")));
        if (!loaded.run || !overview) {
            const QString message =
                tr("Cannot open %1 for comparison: %2")
                    .arg(path, loaded.error.isEmpty() ? tr("no Overview page") : loaded.error);
            m_status->showMessage(message, 10'000);
            // Window-modal and non-blocking: the ticks go on, and a test never hangs on it.
            auto *box = new QMessageBox(QMessageBox::Warning, tr("Open run for comparison"),
                                        message, QMessageBox::Ok, this);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
            Q_EMIT comparisonOpened(false, message);
            return;
        }
        overview->setComparison(*loaded.run);
        const QString message = tr("Comparing with %1").arg(path);
        m_status->showMessage(message, 10'000);
        Q_EMIT comparisonOpened(true, message);
    });
    watcher->setFuture(QtConcurrent::run([file = path.toStdString()] {
        Loaded loaded;
        std::string error;
        loaded.run = core::loadRun(file, &error);
        loaded.error = QString::fromStdString(error);
        return loaded;
    }));
}

void MainWindow::clearComparison()
{
    if (auto *overview = qobject_cast<OverviewPage *>(page(tr("Overview"))))
        overview->clearComparison();
}

void MainWindow::dispatch(const DashboardFrame &frame)
{
    for (int i = 0; i < m_stack->count(); ++i) {
        if (auto *page = qobject_cast<DashboardPage *>(m_stack->widget(i)))
            page->updateFrame(frame);
    }
}

void MainWindow::restoreState()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray());
    m_splitter->restoreState(settings.value(QStringLiteral("mainWindow/splitter")).toByteArray());
    const int row = settings.value(QStringLiteral("mainWindow/page"), 0).toInt();
    m_navigation->setCurrentRow(row >= 0 && row < m_navigation->count() ? row : 0);
}

void MainWindow::saveState() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("mainWindow/splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("mainWindow/page"), m_navigation->currentRow());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveState();
    QMainWindow::closeEvent(event);
}

void MainWindow::connectTo(const QString &profileName)
{
    const QString target = profileName.isEmpty() ? tr("the embedded broker") : profileName;
    bool producing = false;
    for (const auto &[id, producer] : m_engine.pool().entries())
        producing = producing || producer->stats().state == core::ProducerState::Running;
    if (producing &&
        QMessageBox::question(this, tr("Connect to %1").arg(target),
                              tr("Producers are running. The window starts again on %1 and "
                                 "this one closes: its producers stop.")
                                  .arg(target)) != QMessageBox::Yes)
        return;
    QStringList arguments;
    if (!profileName.isEmpty())
        arguments << QStringLiteral("--profile") << profileName;
    const Relauncher relaunch = m_relaunch ? m_relaunch : [](const QStringList &args) {
        return QProcess::startDetached(QCoreApplication::applicationFilePath(), args);
    };
    if (!relaunch(arguments)) {
        QMessageBox::warning(this, tr("Connect to %1").arg(target),
                             tr("Could not start Clickstream Studio again."));
        return;
    }
    close();
}

} // namespace studio::ui
