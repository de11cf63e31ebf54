#pragma once

#include "core/engine/studioengine.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPushButton;
class QSlider;
class QSpinBox;

namespace studio::ui {

/// The settings of the selected producer. The rate (a log-scale slider kept in step with a spin
/// box) and the hot product's share are live: rateChanged()/hotShareChanged() fire as soon as
/// they change, also while the producer runs. Everything else is sent with apply().
class ProducerEditor : public QWidget
{
    Q_OBJECT

public:
    explicit ProducerEditor(QWidget *parent = nullptr);

    /// Shows `settings` (no signals); disables the editor when `enabled` is false.
    void load(const core::StudioProducerSettings &settings, bool enabled = true);
    core::StudioProducerSettings settings() const;

    QSpinBox *rateSpinBox() const { return m_rate; }
    QSlider *rateSlider() const { return m_rateSlider; }
    QDoubleSpinBox *hotShareSpinBox() const { return m_hotShare; }

    /// Slider position (0..1000) for a rate of 1..1,000,000 ev/s, and back.
    static int sliderFromRate(double rate);
    static double rateFromSlider(int position);

Q_SIGNALS:
    void rateChanged(double eventsPerSecond);
    void hotShareChanged(double share);
    void applyRequested();

private:
    void setRateQuietly(int rate);

    core::StudioProducerSettings m_loaded;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_topic = nullptr;
    QSlider *m_rateSlider = nullptr;
    QSpinBox *m_rate = nullptr;
    QLineEdit *m_hotProduct = nullptr;
    QDoubleSpinBox *m_hotShare = nullptr;
    QDoubleSpinBox *m_mix[4] = {};
    QSpinBox *m_users = nullptr;
    QSpinBox *m_products = nullptr;
    QDoubleSpinBox *m_duplicates = nullptr;
    QDoubleSpinBox *m_late = nullptr;
    QDoubleSpinBox *m_malformed = nullptr;
    QComboBox *m_compression = nullptr;
    QCheckBox *m_transactional = nullptr;
    QPushButton *m_apply = nullptr;
};

} // namespace studio::ui
