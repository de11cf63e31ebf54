#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaadmin.h"
#include "ui/models/rowtablemodel.h"

#include <QDialog>

#include <functional>
#include <optional>

class QButtonGroup;
class QComboBox;
class QDateTimeEdit;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QRadioButton;
class QTableView;

namespace studio::ui {

using OffsetResetModel = RowTableModel<core::OffsetResetRow>;

/// Resets a consumer group's committed offsets (issue 23): to the earliest or latest offset, a
/// UTC date-time, an explicit offset or shifted by N, for all or chosen partitions. "Preview" is
/// the dry run (old and new offset and the lag left per partition); "Reset" asks for a
/// confirmation listing what will change, then commits exactly the previewed plan. Every Kafka
/// call runs on a pool thread with its own core::KafkaAdmin over a copy of `cluster` (so a task
/// never uses anything the dialog owns and closing it never waits: the watcher, parented here,
/// simply drops a late result). Kafka's own refusal (a group with members) is shown as it came;
/// on connecting, the dialog learns whether it talks to the embedded broker, which can neither
/// describe groups (their members go unchecked: said in one line) nor look offsets up by time
/// (the date-time target is disabled with the reason).
class ResetOffsetsDialog : public QDialog
{
    Q_OBJECT
public:
    enum Target { Earliest, Latest, DateTime, Offset, Shift };
    /// Asked before a reset: true goes ahead. The default is a QMessageBox; tests answer.
    using Confirm = std::function<bool(const QString &text)>;
    static constexpr int kAdminTimeoutMs = 15'000;

    /// `partitions`: the group's (topic, partition) pairs as the monitor knows them, offered for
    /// the "only these partitions" choice; `topics` the group's topics (may be empty on a real
    /// cluster: then every partition the group committed).
    ResetOffsetsDialog(core::ClusterConfig cluster, const QString &group, const QStringList &topics,
                       const QList<QPair<QString, int>> &partitions, QWidget *parent = nullptr);

    void setConfirm(Confirm confirm) { m_confirm = std::move(confirm); }
    void setTarget(Target target);
    /// The offset (Offset) or the shift (Shift), as typed.
    void setValueText(const QString &text);
    void setDateTime(const QDateTime &utc);
    /// Empty: all partitions; else only these (topic, partition) pairs.
    void choosePartitions(const QList<QPair<QString, int>> &chosen);

    /// The spec the controls describe; nullopt (and why) when the value is not a number.
    std::optional<core::OffsetResetSpec> spec(QString *why = nullptr) const;
    OffsetResetModel *planModel() const { return m_model; }
    const std::optional<core::OffsetResetPlan> &plan() const { return m_plan; }
    QString statusText() const;
    bool isBusy() const { return m_busy; }
    /// Known once the first task connected: the embedded broker (librdkafka's mock).
    std::optional<bool> embedded() const { return m_embedded; }
    QPushButton *previewButton() const { return m_preview; }
    QPushButton *resetButton() const { return m_reset; }

public Q_SLOTS:
    /// The dry run, in the background; previewDone() when it ends.
    void preview();
    /// Confirms, then commits the previewed plan in the background; resetDone() when it ends.
    void reset();

Q_SIGNALS:
    /// The first connection (made when the dialog opens) worked or not.
    void connected(bool ok);
    void previewDone(bool ok);
    void resetDone(bool ok, const QString &message);

private:
    enum class Job { Connect, Plan, Commit };
    struct Outcome;
    void run(Job job);
    void finished(const Outcome &outcome, Job job);
    static QString embeddedTimeReason();
    void inputsChanged();
    void updateControls();
    void setStatus(const QString &text, bool error);
    QString changesText() const;

    const core::ClusterConfig m_cluster;
    const QString m_group;
    const QStringList m_topics;
    Confirm m_confirm;
    std::optional<core::OffsetResetPlan> m_plan;
    std::optional<bool> m_embedded;
    bool m_busy = false;
    QString m_refusal; // why Reset is off after the preview (a group with members)

    QComboBox *m_target = nullptr;
    QDateTimeEdit *m_dateTime = nullptr;
    QLineEdit *m_value = nullptr;
    QLabel *m_valueLabel = nullptr;
    QFormLayout *m_form = nullptr;
    QRadioButton *m_all = nullptr;
    QRadioButton *m_only = nullptr;
    QListWidget *m_partitions = nullptr;
    QTableView *m_table = nullptr;
    OffsetResetModel *m_model = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_note = nullptr;
    QPushButton *m_preview = nullptr;
    QPushButton *m_reset = nullptr;
};

} // namespace studio::ui
