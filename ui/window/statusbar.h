#pragma once

#include <QObject>

class QLabel;
class QPushButton;
class QStatusBar;

namespace studio::core {
struct EngineSample;
}

namespace studio::ui {

/// The main window's permanent status fields: broker in use, produced and consumed rates, lag,
/// sink states with a "Configure…" button, and the number of firing alerts.
class StatusFields : public QObject
{
    Q_OBJECT

public:
    /// Adds its widgets to `bar` (which owns them).
    explicit StatusFields(QStatusBar *bar);

    void update(const core::EngineSample &sample);

    QLabel *brokerLabel() const { return m_broker; }
    QLabel *producedLabel() const { return m_produced; }
    QLabel *consumedLabel() const { return m_consumed; }
    QLabel *lagLabel() const { return m_lag; }
    QLabel *sinksLabel() const { return m_sinks; }
    QLabel *alertsLabel() const { return m_alerts; }
    QPushButton *configureButton() const { return m_configure; }

Q_SIGNALS:
    void configureSinksRequested();

private:
    QLabel *m_broker = nullptr;
    QLabel *m_produced = nullptr;
    QLabel *m_consumed = nullptr;
    QLabel *m_lag = nullptr;
    QLabel *m_sinks = nullptr;
    QLabel *m_alerts = nullptr;
    QPushButton *m_configure = nullptr;
};

} // namespace studio::ui
