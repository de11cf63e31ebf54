#include "ui/mainwindow.h"

#include "core/monitor.h"
#include "core/studioengine.h"
#include "ui/connectionprofiles.h"
#include "ui/dashboardframe.h"
#include "ui/geopage.h"
#include "ui/healthpage.h"
#include "ui/kafkapage.h"
#include "ui/overviewpage.h"
#include "ui/pagespage.h"
#include "ui/producerspage.h"
#include "ui/productspage.h"
#include "ui/reportspage.h"
#include "ui/secretstore.h"
#include "ui/sessionspage.h"
#include "ui/settingsdialog.h"
#include "ui/statusbar.h"

#include <QActionGroup>
#include <QCloseEvent>
#include <QFutureWatcher>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

namespace studio::ui {

namespace {

constexpr int kTickMs = 100; // 10 Hz

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
{
    setWindowTitle(tr("Clickstream Studio"));
    m_splitter = new QSplitter(this);
    m_splitter->setObjectName(QStringLiteral("mainSplitter"));
    m_navigation = new QListWidget(m_splitter);
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_stack = new QStackedWidget(m_splitter);
    for (const QString &title : pageTitles()) {
        m_navigation->addItem(title);
        m_stack->addWidget(placeholder(title));
    }
    m_navigation->setMaximumWidth(220);
    m_navigation->setCurrentRow(0);
    m_splitter->setStretchFactor(1, 1);
    setCentralWidget(m_splitter);
    connect(m_navigation, &QListWidget::currentRowChanged, m_stack,
            &QStackedWidget::setCurrentIndex);
    connect(m_navigation, &QListWidget::currentRowChanged, this,
            [](int row) { QSettings().setValue(QStringLiteral("mainWindow/page"), row); });

    m_producers = new ProducersPage(m_engine);
    setPage(tr("Producers"), m_producers);
    setPage(tr("Overview"), new OverviewPage);
    setPage(tr("Pages"), new PagesPage);
    setPage(tr("Geo"), new GeoPage);
    setPage(tr("Sessions"), new SessionsPage);
    setPage(tr("Products"), new ProductsPage);
    // Reports read PostgreSQL when it is configured, else the aggregator's in-memory results.
    m_reports = new ReportsPage([&engine = m_engine] {
        core::AggregatorSnapshot snapshot;
        engine.visitAggregator([&snapshot](const core::AggregatorPipeline &,
                                           const core::Aggregator &aggregator) {
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
        core::EngineSample sample = m_sampler->result();
        apply(sample);
    });
    m_timer = new QTimer(this);
    m_timer->setInterval(kTickMs);
    connect(m_timer, &QTimer::timeout, this, &MainWindow::requestSample);
    m_timer->start();
    refresh();
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
    m_sampler->setFuture(QtConcurrent::run([&engine = m_engine] { return engine.sample(); }));
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
        statusBar()->showMessage(summary, 10'000);
    m_firing = count;
}

void MainWindow::openSettings()
{
    // Modeless and parented to the window: the GUI keeps ticking while it is open.
    auto *dialog = new SettingsDialog(m_profiles, m_secrets, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &SettingsDialog::sinkConfigurationChosen, this,
            &MainWindow::applySinkConfiguration);
    dialog->show();
}

void MainWindow::applySinkConfiguration(const SinkConfiguration &c)
{
    QString redisUri = c.redisUri;
    // The ACL user travels in the URI (redis://USER@HOST...), the password beside it.
    if (!c.redisUser.isEmpty() && !redisUri.isEmpty() && !redisUri.contains(QLatin1Char('@'))) {
        const QString scheme = QStringLiteral("redis://");
        const QString rest = redisUri.startsWith(scheme) ? redisUri.mid(scheme.size()) : redisUri;
        redisUri = scheme + c.redisUser + QLatin1Char('@') + rest;
    }
    std::string error;
    if (!m_engine.configureSinks(c.postgresUri.toStdString(), c.postgresPassword.toStdString(),
                                 redisUri.toStdString(), c.redisPassword.toStdString(), &error)) {
        statusBar()->showMessage(tr("Sinks not applied: %1").arg(QString::fromStdString(error)),
                                 10'000);
        return;
    }
    if (m_reports)
        m_reports->setPostgres(c.postgresUri, c.postgresPassword);
    statusBar()->showMessage(tr("Sinks applied: the aggregator restarts in durable mode"), 5000);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *settings = file->addAction(tr("&Connections…"));
    settings->setShortcut(QKeySequence::Preferences);
    connect(settings, &QAction::triggered, this, &MainWindow::openSettings);
    file->addSeparator();
    connect(file->addAction(tr("&Quit")), &QAction::triggered, this, &QWidget::close);
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
    core::EngineSample sample = m_engine.sample();
    apply(sample);
}

void MainWindow::apply(core::EngineSample &sample)
{
    m_status->update(sample);
    if (m_producers)
        m_producers->updateSample(sample);
    dispatch(frameOf(sample)); // takes the aggregates: sample is not used after this
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

} // namespace studio::ui
