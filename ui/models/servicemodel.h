#pragma once

#include "core/monitor/health.h"
#include "ui/models/keyedtablemodel.h"

#include <QColor>
#include <QHash>
#include <QList>

#include <deque>

namespace studio::ui {

/// The data role of the History column: a QList<QPointF>-free pair of lists, as a QVariantMap
/// {"latency": QList<double>, "state": QList<double>} (stateValue(): 1 up, 0.5 degraded, 0
/// down, -1 unknown), oldest first.
inline constexpr int kSparklineRole = Qt::UserRole + 1;

struct ServiceRow
{
    QString name;
    QString kind;
    core::ServiceState state = core::ServiceState::Unknown;
    double latencyMs = 0;
    QString error; ///< current error, else the last one seen
    qint64 lastErrorAtMs = 0;
    qint64 lastChangeAtMs = 0;
    quint64 probes = 0;
    QList<double> latency; ///< ring, oldest first
    QList<double> states;
    bool operator==(const ServiceRow &) const = default;
};

/// Every service of the HealthSnapshot (Kafka, PostgreSQL, Redis, producers, the aggregator):
/// state, latency, last error, and a short history per service name kept here in a ring of
/// kHistory probe answers (one sample per new answer, not per poll), drawn as a sparkline.
class ServiceModel final : public KeyedTableModel<ServiceRow>
{
    Q_OBJECT
public:
    enum Column { Service, Kind, State, Latency, History, LastError, ColumnCount };
    static constexpr int kHistory = 60;

    using KeyedTableModel::KeyedTableModel;
    void update(const core::HealthSnapshot &snapshot);
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

    static QColor stateColor(core::ServiceState state);

protected:
    QString keyOf(const ServiceRow &row) const override { return row.name; }

private:
    struct Ring
    {
        qint64 lastAtMs = -1;
        QList<double> latency;
        QList<double> states;
    };
    QHash<QString, Ring> m_rings;
};

} // namespace studio::ui
