#pragma once

#include "ui/dialogs/admindialog.h"

class QLineEdit;
class QPushButton;

namespace studio::ui {

/// Deletes a topic (issue 23) after the user typed its name: Delete is enabled only while the
/// typed text is exactly the topic's name (that is the confirmation). Not on the embedded broker.
class DeleteTopicDialog : public AdminDialog
{
    Q_OBJECT
public:
    DeleteTopicDialog(core::ClusterConfig cluster, const QString &topic, QWidget *parent = nullptr);

    void setTypedName(const QString &name);
    QPushButton *deleteButton() const { return m_delete; }
    bool isDeleted() const { return m_deleted; }

public Q_SLOTS:
    /// Deletes in the background when the typed name matches; done() with Kafka's answer.
    void deleteTopic();

protected:
    void updateControls() override;

private:
    QLineEdit *m_name = nullptr;
    QPushButton *m_delete = nullptr;
    bool m_deleted = false;
};

} // namespace studio::ui
