#include "ui/charts/charttoolbar.h"

#include "ui/charts/livechart.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace studio::ui {

ChartToolbar::ChartToolbar(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Range:"), this));
    m_range = new QComboBox(this);
    m_range->addItem(tr("5 min"), qint64(5 * 60'000));
    m_range->addItem(tr("15 min"), qint64(15 * 60'000));
    m_range->addItem(tr("1 h"), qint64(60 * 60'000));
    m_range->addItem(tr("All"), qint64(0));
    m_range->setCurrentIndex(1);
    m_range->setAccessibleName(tr("Time range"));
    m_range->setToolTip(tr("The time the charts show, up to now (since the start until filled)"));
    layout->addWidget(m_range);
    m_pause = new QToolButton(this);
    m_pause->setCheckable(true);
    m_pause->setText(tr("Pause"));
    m_pause->setToolTip(tr("Freeze the view; data keeps arriving and shows again on Follow"));
    m_pause->setAccessibleName(tr("Pause charts"));
    layout->addWidget(m_pause);
    layout->addStretch();

    connect(m_range, &QComboBox::currentIndexChanged, this,
            [this] { Q_EMIT rangeChanged(rangeMs()); });
    connect(m_pause, &QToolButton::toggled, this, [this](bool paused) {
        m_pause->setText(paused ? tr("Follow") : tr("Pause"));
        Q_EMIT pausedChanged(paused);
    });
}

void ChartToolbar::attach(LiveChart *chart)
{
    chart->setRangeMs(rangeMs());
    chart->setPaused(isPaused());
    connect(this, &ChartToolbar::rangeChanged, chart, &LiveChart::setRangeMs);
    connect(this, &ChartToolbar::pausedChanged, chart, &LiveChart::setPaused);
}

std::int64_t ChartToolbar::rangeMs() const
{
    return m_range->currentData().toLongLong();
}

void ChartToolbar::setRangeMs(std::int64_t rangeMs)
{
    const int index = m_range->findData(qint64(rangeMs));
    if (index >= 0)
        m_range->setCurrentIndex(index);
}

bool ChartToolbar::isPaused() const
{
    return m_pause->isChecked();
}

void ChartToolbar::setPaused(bool paused)
{
    m_pause->setChecked(paused);
}

} // namespace studio::ui
