#include "ui/models/servicemodel.h"

#include "ui/models/keyedtablemodel.h"

#include <QDateTime>
#include <QFont>

namespace studio::ui {

QColor ServiceModel::stateColor(core::ServiceState state)
{
    switch (state) {
    case core::ServiceState::Up:
        return QColor(0x2e, 0x7d, 0x32);
    case core::ServiceState::Degraded:
        return QColor(0xef, 0x6c, 0x00);
    case core::ServiceState::Down:
        return QColor(0xc6, 0x28, 0x28);
    case core::ServiceState::Unknown:
    case core::ServiceState::NotConfigured:
        break;
    }
    return QColor(0x75, 0x75, 0x75);
}

void ServiceModel::update(const core::HealthSnapshot &snapshot)
{
    std::vector<ServiceRow> rows;
    rows.reserve(snapshot.services.size());
    QHash<QString, Ring> rings;
    for (const auto &s : snapshot.services) {
        if (!s)
            continue;
        ServiceRow r;
        r.name = QString::fromStdString(s->name);
        r.kind = QString::fromStdString(s->kind);
        r.state = s->current.state;
        r.latencyMs = s->current.latencyMs;
        r.error =
            QString::fromStdString(s->current.error.empty() ? s->lastError : s->current.error);
        r.lastErrorAtMs = s->lastErrorAtMs;
        r.lastChangeAtMs = s->lastChangeAtMs;
        r.probes = s->probes;
        Ring ring = m_rings.value(r.name);
        if (s->probes > 0 && s->current.atMs != ring.lastAtMs) {
            ring.lastAtMs = s->current.atMs;
            // A service that is not set up has no latency worth a line, only its grey band.
            const bool measured = s->current.state != core::ServiceState::NotConfigured &&
                                  s->current.state != core::ServiceState::Unknown;
            ring.latency.append(measured ? s->current.latencyMs : 0.0);
            ring.states.append(core::stateValue(s->current.state));
            if (ring.latency.size() > kHistory) {
                ring.latency.removeFirst();
                ring.states.removeFirst();
            }
        }
        r.latency = ring.latency;
        r.states = ring.states;
        rings.insert(r.name, ring); // services that went away lose their ring
        rows.push_back(std::move(r));
    }
    m_rings = std::move(rings);
    setRows(std::move(rows));
}

int ServiceModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ServiceModel::data(const QModelIndex &index, int role) const
{
    const ServiceRow *r = index.isValid() ? rowAt(index.row()) : nullptr;
    if (!r)
        return {};
    const int c = index.column();
    const bool measured = r->probes > 0 && r->state != core::ServiceState::NotConfigured;
    if (role == Qt::DisplayRole) {
        switch (c) {
        case Service:
            return r->name;
        case Kind:
            return r->kind;
        case State:
            return QString::fromUtf8(core::toString(r->state).data(),
                                     qsizetype(core::toString(r->state).size()));
        case Latency:
            return measured ? QString::number(r->latencyMs, 'f', r->latencyMs < 10 ? 1 : 0) +
                                  QStringLiteral(" ms")
                            : QStringLiteral("–");
        case History:
            return {};
        case LastError:
            if (r->error.isEmpty())
                return {};
            return r->lastErrorAtMs > 0 ? QDateTime::fromMSecsSinceEpoch(r->lastErrorAtMs, Qt::UTC)
                                                  .toString(QStringLiteral("HH:mm:ss")) +
                                              QStringLiteral(" UTC  ") + r->error
                                        : r->error;
        }
    } else if (role == kSortRole) {
        switch (c) {
        case Service:
            return r->name;
        case Kind:
            return r->kind;
        case State:
            return int(r->state);
        case Latency:
            return r->latencyMs;
        case History:
            return r->probes;
        case LastError:
            return r->lastErrorAtMs;
        }
    } else if (role == kSparklineRole && c == History) {
        QVariantMap map;
        map.insert(QStringLiteral("latency"), QVariant::fromValue(r->latency));
        map.insert(QStringLiteral("state"), QVariant::fromValue(r->states));
        return map;
    } else if (role == Qt::ForegroundRole && c == State) {
        return stateColor(r->state);
    } else if (role == Qt::FontRole && c == State) {
        QFont f;
        f.setBold(true);
        return f;
    } else if (role == Qt::ToolTipRole) {
        if (c == LastError && !r->error.isEmpty())
            return r->error;
        if (c == State && r->lastChangeAtMs > 0)
            return tr("since %1 UTC")
                .arg(QDateTime::fromMSecsSinceEpoch(r->lastChangeAtMs, Qt::UTC)
                         .toString(Qt::ISODate));
        if (c == History)
            return tr("last %n probe answer(s): latency line, state band", nullptr,
                      int(r->latency.size()));
    } else if (role == Qt::TextAlignmentRole && c == Latency) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant ServiceModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Service:
        return tr("Service");
    case Kind:
        return tr("Kind");
    case State:
        return tr("State");
    case Latency:
        return tr("Latency");
    case History:
        return tr("History");
    case LastError:
        return tr("Last error");
    }
    return {};
}

} // namespace studio::ui
