#include "ui/pages/producerspage.h"

#include "core/engine/studioengine.h"
#include "ui/charts/chartstyle.h"
#include "ui/models/producermodel.h"
#include "ui/pages/producereditor.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

namespace studio::ui {

namespace {

constexpr std::int64_t kChartSpanMs = 60'000;

} // namespace

ProducersPage::ProducersPage(core::StudioEngine &engine, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
{
    m_model = new ProducerModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(ProducerModel::SortRole);
    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    // Sortable by a header click; unsorted (the order of addition) until then.
    m_table->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();

    auto button = [this](const QString &text, const char *name) {
        auto *b = new QPushButton(text, this);
        b->setObjectName(QLatin1String(name));
        return b;
    };
    m_add = button(tr("Add"), "addButton");
    m_duplicate = button(tr("Duplicate"), "duplicateButton");
    m_remove = button(tr("Remove"), "removeButton");
    m_start = button(tr("Start"), "startButton");
    m_pause = button(tr("Pause"), "pauseButton");
    m_stop = button(tr("Stop"), "stopButton");
    auto *buttons = new QHBoxLayout;
    m_add->setToolTip(tr("Add a producer with the default settings (stopped)"));
    m_duplicate->setToolTip(tr("Add a copy of the selected producer's settings"));
    m_remove->setToolTip(tr("Stop and remove the selected producer"));
    m_start->setToolTip(tr("Start or resume the selected producer (F5)"));
    m_pause->setToolTip(tr("Pause the selected producer; Start resumes it"));
    m_stop->setToolTip(tr("Stop the selected producer (Shift+F5)"));
    m_table->setToolTip(tr("The producers: select one to edit it or start, pause, stop it"));
    m_table->setAccessibleName(tr("Producers"));
    for (QPushButton *b : {m_add, m_duplicate, m_remove, m_start, m_pause, m_stop})
        buttons->addWidget(b);
    buttons->addStretch();

    m_editor = new ProducerEditor(this);

    m_series = new QLineSeries;
    auto *chart = new QChart;
    chart->addSeries(m_series);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->hide();
    chart->setTitle(tr("Achieved rate, last minute"));
    m_axisX = new QValueAxis(chart);
    m_axisX->setRange(-60, 0);
    m_axisX->setTickCount(7);
    m_axisX->setLabelFormat(QStringLiteral("%d"));
    m_axisX->setTitleText(tr("seconds ago"));
    m_axisY = new QCategoryAxis(chart);
    m_axisY->setTitleText(tr("events/s"));
    applyNiceScale(m_axisY, niceScale(0, 4, 5));
    chart->addAxis(m_axisX, Qt::AlignBottom);
    chart->addAxis(m_axisY, Qt::AlignLeft);
    m_series->attachAxis(m_axisX);
    m_series->attachAxis(m_axisY);
    m_chartView = new QChartView(chart, this);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumHeight(180);
    m_chartView->setAccessibleName(tr("Achieved rate chart"));
    m_chartView->setToolTip(tr("The selected producer's achieved rate over the last minute"));
    followTheme(m_chartView, [this] {
        QPen pen(seriesColor(0));
        pen.setWidthF(1.6);
        m_series->setPen(pen);
    });

    m_editorMessage = new QLabel(this);
    m_editorMessage->setObjectName(QStringLiteral("editorMessage"));
    m_editorMessage->setWordWrap(true);
    auto *editorBox = new QWidget(this);
    auto *editorLayout = new QVBoxLayout(editorBox);
    editorLayout->setContentsMargins(0, 0, 0, 0);
    editorLayout->addWidget(m_editor);
    editorLayout->addWidget(m_editorMessage);
    editorLayout->addStretch();
    auto *lower = new QSplitter(Qt::Horizontal, this);
    lower->addWidget(editorBox);
    lower->addWidget(m_chartView);
    lower->setStretchFactor(1, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(lower);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);

    connect(m_add, &QPushButton::clicked, this, [this] {
        core::StudioProducerSettings s;
        s.producer.name = "producer-" + std::to_string(++m_added);
        m_engine.addProducer(std::move(s)); // selected once it shows in the table
    });
    connect(m_duplicate, &QPushButton::clicked, this,
            [this] { m_engine.duplicateProducer(selectedId()); });
    connect(m_remove, &QPushButton::clicked, this,
            [this] { m_engine.removeProducer(selectedId()); });
    connect(m_start, &QPushButton::clicked, this, [this] {
        const int id = selectedId();
        const core::ProducerSample *p = m_model->producer(id);
        if (p && p->stats.state == core::ProducerState::Paused)
            m_engine.resumeProducer(id);
        else
            m_engine.startProducer(id);
    });
    connect(m_pause, &QPushButton::clicked, this, [this] { m_engine.pauseProducer(selectedId()); });
    connect(m_stop, &QPushButton::clicked, this, [this] { m_engine.stopProducer(selectedId()); });
    connect(m_editor, &ProducerEditor::rateChanged, this,
            [this](double rate) { m_engine.setProducerRate(m_loadedId, rate); });
    connect(m_editor, &ProducerEditor::hotShareChanged, this,
            [this](double share) { m_engine.setProducerHotShare(m_loadedId, share); });
    connect(m_editor, &ProducerEditor::applyRequested, this, [this] {
        std::string error;
        const bool applied = m_engine.updateProducer(m_loadedId, m_editor->settings(), &error);
        m_editorMessage->setText(
            applied ? QString() : tr("Not applied: %1").arg(QString::fromStdString(error)));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ProducersPage::onSelectionChanged);
    updateButtons();
}

int ProducersPage::selectedId() const
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : m_proxy->data(rows.first(), ProducerModel::IdRole).toInt();
}

void ProducersPage::selectProducer(int id)
{
    const int row = m_model->rowOf(id);
    if (row >= 0)
        m_table->selectRow(m_proxy->mapFromSource(m_model->index(row, 0)).row());
}

bool ProducersPage::startSelected()
{
    if (selectedId() == 0 && m_model->rowCount() > 0)
        selectProducer(m_model->idAt(0));
    updateButtons();
    if (!m_start->isEnabled())
        return false;
    m_start->click();
    return true;
}

bool ProducersPage::stopSelected()
{
    if (selectedId() == 0) {
        for (int row = 0; row < m_model->rowCount(); ++row) {
            const core::ProducerSample *p = m_model->producer(m_model->idAt(row));
            if (p && p->stats.state == core::ProducerState::Running) {
                selectProducer(p->id);
                break;
            }
        }
    }
    updateButtons();
    if (!m_stop->isEnabled())
        return false;
    m_stop->click();
    return true;
}

void ProducersPage::onSelectionChanged()
{
    const int id = selectedId();
    m_loadedId = id;
    m_editorMessage->clear();
    if (const core::ProducerSample *p = m_model->producer(id))
        m_editor->load(p->settings, true);
    else
        m_editor->setEnabled(false);
    updateButtons();
}

void ProducersPage::updateButtons()
{
    const core::ProducerSample *p = m_model->producer(selectedId());
    const auto state = p ? p->stats.state : core::ProducerState::Stopped;
    const bool active =
        state == core::ProducerState::Running || state == core::ProducerState::Paused;
    m_duplicate->setEnabled(p);
    m_remove->setEnabled(p);
    m_start->setEnabled(p && state != core::ProducerState::Running);
    m_start->setText(state == core::ProducerState::Paused ? tr("Resume") : tr("Start"));
    m_pause->setEnabled(p && state == core::ProducerState::Running);
    m_stop->setEnabled(p && active);
}

void ProducersPage::updateSample(const core::EngineSample &sample)
{
    const int before = m_model->rowCount();
    m_model->update(sample.producers);
    // A producer that was just added here (or duplicated) becomes the selected one.
    if (m_model->rowCount() > before)
        selectProducer(m_model->idAt(m_model->rowCount() - 1));
    else if (selectedId() == 0 && m_loadedId != 0)
        onSelectionChanged(); // the selected producer was removed

    for (const core::ProducerSample &p : sample.producers) {
        auto &points = m_history[p.id];
        points.emplace_back(sample.nowMs, p.stats.achievedRate);
        while (!points.empty() && points.front().first < sample.nowMs - kChartSpanMs)
            points.pop_front();
    }
    for (auto it = m_history.begin(); it != m_history.end();) {
        if (m_model->rowOf(it->first) < 0)
            it = m_history.erase(it);
        else
            ++it;
    }
    updateButtons();
    updateChart(sample.nowMs);
}

void ProducersPage::updateChart(std::int64_t nowMs)
{
    if (!isVisible())
        return; // the history keeps growing; the chart catches up when shown
    QList<QPointF> points;
    double top = 0;
    if (auto it = m_history.find(selectedId()); it != m_history.end()) {
        points.reserve(static_cast<qsizetype>(it->second.size()));
        for (const auto &[ms, rate] : it->second) {
            points.append(QPointF(static_cast<double>(ms - nowMs) / 1000.0, rate));
            top = std::max(top, rate);
        }
    }
    m_series->replace(points); // one replace per tick (at most 600 points: one minute at 10 Hz)
    // An idle producer reads 0..4 with whole ticks, not "1, 1, 1, 0, 0".
    applyNiceScale(m_axisY, niceScale(0, std::max(top, 4.0), 5));
}

} // namespace studio::ui
