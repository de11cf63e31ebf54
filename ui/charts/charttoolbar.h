#pragma once

#include <QWidget>

#include <cstdint>

class QComboBox;
class QToolButton;

namespace studio::ui {

class LiveChart;

/// The time range (5 min, 15 min, 1 h, all) and pause/follow controls a page shares between its
/// charts: every attached chart follows the same range and pauses together.
class ChartToolbar : public QWidget
{
    Q_OBJECT

public:
    explicit ChartToolbar(QWidget *parent = nullptr);

    /// Applies the current range and pause state to `chart` and keeps it in step.
    void attach(LiveChart *chart);

    std::int64_t rangeMs() const;
    void setRangeMs(std::int64_t rangeMs); ///< one of the offered ranges; 0 = all
    bool isPaused() const;
    void setPaused(bool paused);

Q_SIGNALS:
    void rangeChanged(std::int64_t rangeMs);
    void pausedChanged(bool paused);

private:
    QComboBox *m_range = nullptr;
    QToolButton *m_pause = nullptr;
};

} // namespace studio::ui
