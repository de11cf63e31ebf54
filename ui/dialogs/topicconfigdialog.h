#pragma once

#include "ui/dialogs/admindialog.h"
#include "ui/models/rowtablemodel.h"

class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace studio::ui {

using TopicConfigModel = RowTableModel<core::TopicConfigEntry>;

/// A topic's configuration (issue 23): every config with its value, its source (default, broker,
/// topic override), read-only and sensitive, filtered by name. Selecting a config puts its value
/// in the edit line; Apply asks for a confirmation showing old -> new, changes that one config
/// (the topic's other overrides are kept: see core::KafkaAdmin::alterTopicConfigs) and reads the
/// configs again to show what Kafka has now; a bad value shows Kafka's validation message. Not on
/// the embedded broker (the mock has no DescribeConfigs): the reason in one line.
class TopicConfigDialog : public AdminDialog
{
    Q_OBJECT
public:
    TopicConfigDialog(core::ClusterConfig cluster, const QString &topic, QWidget *parent = nullptr);

    TopicConfigModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QTableView *table() const { return m_table; }
    void setFilter(const QString &text);
    /// Selects the config `name` (false when it is not shown).
    bool selectConfig(const QString &name);
    QString selectedConfig() const { return m_selected; }
    void setNewValue(const QString &value);
    QPushButton *applyButton() const { return m_apply; }
    QPushButton *reloadButton() const { return m_reload; }
    /// The entry `name` as last read; nullptr when not there.
    const core::TopicConfigEntry *entry(const QString &name) const;
    /// The tooltip of a config: source, flags and what it does (where known).
    static QString describe(const core::TopicConfigEntry &e);

public Q_SLOTS:
    /// Reads the configs in the background; done() when they are in.
    void reload();
    /// Confirms, then alters the selected config in the background; done() with Kafka's answer.
    void apply();

protected:
    void updateControls() override;

private:
    void loaded(std::optional<std::vector<core::TopicConfigEntry>> configs, const QString &error,
                const QString &afterText, bool afterOk);

    QString m_selected;
    TopicConfigModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QLineEdit *m_filter = nullptr;
    QLineEdit *m_value = nullptr;
    QPushButton *m_apply = nullptr;
    QPushButton *m_reload = nullptr;
};

} // namespace studio::ui
