#pragma once

#include <QDialog>

class QLabel;
class QLineEdit;
class QSpinBox;

namespace studio::ui {

/// Asks for a new topic's name, partitions and replication factor; OK stays disabled while the
/// name is not a legal Kafka topic name (ClusterMonitor::validateTopicName says why).
class CreateTopicDialog : public QDialog
{
    Q_OBJECT
public:
    explicit CreateTopicDialog(QWidget *parent = nullptr);

    QString name() const;
    int partitions() const;
    int replicationFactor() const;

private:
    void validate();

    QLineEdit *m_name = nullptr;
    QSpinBox *m_partitions = nullptr;
    QSpinBox *m_replication = nullptr;
    QLabel *m_message = nullptr;
    QWidget *m_ok = nullptr;
};

} // namespace studio::ui
