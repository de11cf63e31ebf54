#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaadmin.h"
#include "ui/models/rowtablemodel.h"

#include <QWidget>

#include <optional>

class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace studio::ui {

using AclModel = RowTableModel<core::AclEntry>;

/// The "ACLs" tab of the Kafka page (issue 23): the cluster's ACLs (principal, host, operation,
/// permission, resource type, name, pattern type) with a filter over every column, read in the
/// background when the tab is first shown and on Refresh. When they cannot be listed (the user
/// may not describe them, the cluster is down, the embedded broker) the tab says why in one line
/// instead of the table, never an empty table that would read as "no ACLs"; an empty answer is
/// explained (no authorizer, or librdkafka's lost error code: see core::AclListing). Each load
/// runs with its own core::KafkaAdmin over a copy of the cluster, so a late answer after the
/// view is gone is simply dropped by the watcher parented here.
class AclsView : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kAdminTimeoutMs = 15'000;

    explicit AclsView(core::ClusterConfig cluster, QWidget *parent = nullptr);

    AclModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QTableView *table() const { return m_table; }
    QPushButton *refreshButton() const { return m_refresh; }
    void setFilter(const QString &text);
    /// The line above the table (or instead of it).
    QString messageText() const;
    bool isBusy() const { return m_busy; }
    bool hasLoaded() const { return m_loaded; }
    /// Shows an answer: the listing, or why there is none (`error`); `embedded` for the mock.
    void present(const std::optional<core::AclListing> &listing, const QString &error,
                 bool embedded = false);

public Q_SLOTS:
    /// Reads the ACLs in the background; loaded() when they are in.
    void refresh();

Q_SIGNALS:
    void loaded(bool ok);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void setMessage(const QString &text, bool error);

    const core::ClusterConfig m_cluster;
    bool m_busy = false;
    bool m_loaded = false;
    AclModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QLineEdit *m_filter = nullptr;
    QPushButton *m_refresh = nullptr;
    QLabel *m_message = nullptr;
    QLabel *m_count = nullptr;
};

} // namespace studio::ui
