#pragma once

#include <QObject>

class QLabel;
class QPushButton;
class QStatusBar;
class QTimer;

namespace studio::core {
struct EngineSample;
}

namespace studio::ui {

class ElidedLabel;

/// The main window's status fields, each its own widget that elides its text when the window is
/// narrow (the full text is then its tooltip): a message field (alerts, outcomes) on the left,
/// then broker in use, produced and consumed rates, lag, sink states with a "Configure…" button,
/// and the number of firing alerts.
class StatusFields : public QObject
{
    Q_OBJECT

public:
    /// Adds its widgets to `bar` (which owns them).
    explicit StatusFields(QStatusBar *bar);

    void update(const core::EngineSample &sample);
    /// Shows `text` in the message field for `timeoutMs` (0: until the next message).
    void showMessage(const QString &text, int timeoutMs = 0);
    QString currentMessage() const;
    QLabel *messageLabel() const;

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
    ElidedLabel *m_message = nullptr;
    QTimer *m_messageTimer = nullptr;
    QLabel *m_broker = nullptr;
    QLabel *m_produced = nullptr;
    QLabel *m_consumed = nullptr;
    QLabel *m_lag = nullptr;
    QLabel *m_sinks = nullptr;
    QLabel *m_alerts = nullptr;
    QPushButton *m_configure = nullptr;
};

} // namespace studio::ui
