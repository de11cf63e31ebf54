#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaadmin.h"

#include <QDialog>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include <functional>
#include <optional>
#include <string>

class QLabel;

namespace studio::ui {

/// The base of the Kafka console's topic dialogs (issue 23): topic configs, add partitions,
/// delete a topic, delete records. Every Kafka call runs on a pool thread with its own
/// core::KafkaAdmin over a copy of the cluster (the pattern of ResetOffsetsDialog): a task never
/// uses anything the dialog owns, so closing the dialog never waits and the watcher, parented
/// here, drops a late answer. The dialog connects as it opens and learns whether it talks to the
/// embedded broker (librdkafka's mock), where the subclass turns its action off with a one-line
/// reason. A change asks confirm() first: a QMessageBox unless a test answers.
class AdminDialog : public QDialog
{
    Q_OBJECT
public:
    /// Asked before a change: true goes ahead.
    using Confirm = std::function<bool(const QString &text)>;
    static constexpr int kAdminTimeoutMs = 15'000;

    void setConfirm(Confirm confirm) { m_confirm = std::move(confirm); }
    QString statusText() const;
    bool isBusy() const { return m_busy; }
    /// Known once the first task connected.
    std::optional<bool> embedded() const { return m_embedded; }
    /// The last task could not connect (the status line says why).
    bool connectFailed() const { return m_connectFailed; }
    const QString &topic() const { return m_topic; }

Q_SIGNALS:
    /// A task connected for the first time (true, once), or could not connect (false, each time).
    void connected(bool ok);
    /// A task (load, change) ended; `message` is what the status line says.
    void done(bool ok, const QString &message);

protected:
    AdminDialog(core::ClusterConfig cluster, const QString &topic, QWidget *parent);

    /// Runs `task` on a pool thread after connecting; `then` gets its answer (nullopt: the
    /// error, from the connection or the task) on the GUI thread while the dialog lives.
    template <class T>
    void run(const QString &busyText,
             std::function<std::optional<T>(core::KafkaAdmin &, std::string *)> task,
             std::function<void(std::optional<T>, const QString &error)> then)
    {
        struct Outcome
        {
            bool connected = false;
            bool embedded = false;
            std::optional<T> value;
            std::string error;
        };
        m_busy = true;
        setStatus(busyText, false);
        updateControls();
        auto *watcher = new QFutureWatcher<Outcome>(this);
        connect(watcher, &QFutureWatcher<Outcome>::finished, this,
                [this, watcher, then = std::move(then)] {
                    const Outcome o = watcher->result();
                    watcher->deleteLater();
                    m_busy = false;
                    m_connectFailed = !o.connected;
                    if (o.connected && !m_embedded) {
                        m_embedded = o.embedded;
                        Q_EMIT connected(true);
                    } else if (!o.connected && !m_embedded) {
                        Q_EMIT connected(false);
                    }
                    then(o.value, QString::fromStdString(o.error));
                    updateControls();
                });
        watcher->setFuture(QtConcurrent::run([cluster = m_cluster, task = std::move(task)] {
            Outcome o;
            core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
            if (!admin.connect(&o.error)) {
                o.error = "cannot connect: " + o.error;
                return o;
            }
            o.connected = true;
            o.embedded = admin.isEmbeddedBroker();
            o.value = task(admin, &o.error);
            return o;
        }));
    }
    /// Connects (in the background) and then says `readyText`, or `embeddedText` on the
    /// embedded broker; subclasses call it last in their constructor.
    void connectNow(const QString &readyText, const QString &embeddedText);
    bool confirm(const QString &text) { return m_confirm(text); }
    void setStatus(const QString &text, bool error);
    /// Finishes a change: the status line and done().
    void report(bool ok, const QString &message);
    /// Enables the subclass's actions from isBusy(), embedded() and its inputs.
    virtual void updateControls() = 0;
    /// The status line, for the subclass's layout.
    QLabel *statusLabel() const { return m_status; }
    /// "Not on the embedded broker: …" (the one line every action shows there).
    static QString embeddedReason(const QString &what);

    const core::ClusterConfig m_cluster;
    const QString m_topic;

private:
    Confirm m_confirm;
    std::optional<bool> m_embedded;
    bool m_busy = false;
    bool m_connectFailed = false;
    QLabel *m_status = nullptr;
};

} // namespace studio::ui
