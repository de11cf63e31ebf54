#pragma once

#include "core/monitor/clustermonitor.h"
#include "ui/dialogs/admindialog.h"
#include "ui/models/rowtablemodel.h"

class QComboBox;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QTableView;

namespace studio::ui {

using PartitionWatermarkModel = RowTableModel<core::PartitionInfo>;

/// Deletes the records before an offset (issue 23), in one partition or all of them: the
/// partitions' first and end offsets (low and high watermarks) as the monitor last read them, a
/// confirmation listing per partition what goes, then Kafka's new first offset per partition (or
/// its refusal) in the table. Not on the embedded broker.
class DeleteRecordsDialog : public AdminDialog
{
    Q_OBJECT
public:
    DeleteRecordsDialog(core::ClusterConfig cluster, const QString &topic,
                        std::vector<core::PartitionInfo> partitions, QWidget *parent = nullptr);

    /// -1: all partitions.
    void setPartition(int partition);
    /// -1: everything, up to each partition's end.
    void setBeforeOffset(qint64 offset);
    PartitionWatermarkModel *model() const { return m_model; }
    QPushButton *deleteButton() const { return m_delete; }

public Q_SLOTS:
    /// Confirms, then deletes in the background; done() with the new first offsets.
    void deleteRecords();

protected:
    void updateControls() override;

private:
    /// The partitions chosen, and the offset (-1: to the end); empty `why` when it can go.
    std::vector<std::int32_t> chosen(QString *why) const;
    qint64 beforeOffset() const;

    QComboBox *m_partition = nullptr;
    QRadioButton *m_toEnd = nullptr;
    QRadioButton *m_before = nullptr;
    QLineEdit *m_offset = nullptr;
    PartitionWatermarkModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    QPushButton *m_delete = nullptr;
};

} // namespace studio::ui
