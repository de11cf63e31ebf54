#pragma once

#include "ui/dialogs/admindialog.h"

class QPushButton;
class QSpinBox;

namespace studio::ui {

/// Adds partitions to a topic (issue 23): the new total, greater than the current count; a
/// confirmation saying what changes (and that it cannot be undone, and that keys then map to
/// other partitions); the count read back from Kafka afterwards. Not on the embedded broker.
class AddPartitionsDialog : public AdminDialog
{
    Q_OBJECT
public:
    /// `partitions`: the topic's count as the monitor knows it (0: unknown; read from Kafka).
    AddPartitionsDialog(core::ClusterConfig cluster, const QString &topic, int partitions,
                        QWidget *parent = nullptr);

    int currentPartitions() const { return m_current; }
    void setNewTotal(int total);
    QPushButton *addButton() const { return m_add; }

public Q_SLOTS:
    /// Confirms, then adds in the background; done() with the count Kafka has now.
    void add();

protected:
    void updateControls() override;

private:
    void setCurrent(int partitions);

    int m_current = 0;
    QSpinBox *m_total = nullptr;
    QPushButton *m_add = nullptr;
};

} // namespace studio::ui
