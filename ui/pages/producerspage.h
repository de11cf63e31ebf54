#pragma once

#include <QWidget>

#include <deque>
#include <map>

class QChartView;
class QCategoryAxis;
class QLabel;
class QLineSeries;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QValueAxis;

namespace studio::core {
class StudioEngine;
struct EngineSample;
} // namespace studio::core

namespace studio::ui {

class ProducerEditor;
class ProducerModel;

/// Producers: the table of every producer, buttons to add, duplicate, remove, start, pause and
/// stop them, the selected one's settings, and a chart of its achieved rate. Actions go straight
/// to the engine (which never blocks); what they did shows in the next updateSample().
class ProducersPage : public QWidget
{
    Q_OBJECT

public:
    explicit ProducersPage(core::StudioEngine &engine, QWidget *parent = nullptr);

    /// Called by the main window on every tick.
    void updateSample(const core::EngineSample &sample);

    ProducerModel *model() const { return m_model; }
    ProducerEditor *editor() const { return m_editor; }
    QTableView *table() const { return m_table; }
    /// The selected producer's id, or 0.
    int selectedId() const;
    void selectProducer(int id);
    /// Starts (or resumes) the selected producer, the first one when none is selected; false
    /// when there is none or it runs already. Producer > Start (F5).
    bool startSelected();
    /// Stops the selected producer (the first running one when none is selected). Shift+F5.
    bool stopSelected();

private:
    void onSelectionChanged();
    void updateButtons();
    void updateChart(std::int64_t nowMs);

    core::StudioEngine &m_engine;
    ProducerModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr; ///< the table's order; the model keeps addition order
    QTableView *m_table = nullptr;
    ProducerEditor *m_editor = nullptr;
    QLabel *m_editorMessage = nullptr; ///< why the last Apply was refused
    QPushButton *m_add = nullptr;
    QPushButton *m_duplicate = nullptr;
    QPushButton *m_remove = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_stop = nullptr;
    QChartView *m_chartView = nullptr;
    QLineSeries *m_series = nullptr;
    QValueAxis *m_axisX = nullptr;
    QCategoryAxis *m_axisY = nullptr;
    int m_loadedId = 0; ///< the producer the editor shows
    int m_added = 0;    ///< producers added here, for default names
    /// Achieved rate per producer over the last minute: (wall ms, events/s).
    std::map<int, std::deque<std::pair<std::int64_t, double>>> m_history;
};

} // namespace studio::ui
