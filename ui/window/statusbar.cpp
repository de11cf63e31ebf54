#include "ui/window/statusbar.h"

#include "ui/common/format.h"

#include "core/engine/studioengine.h"

#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QStatusBar>

namespace studio::ui {

namespace {

QString sinkText(const char *name, const core::SinkStatus &status)
{
    return QStringLiteral("%1 %2").arg(
        QLatin1String(name), QString::fromStdString(std::string(core::toString(status.state))));
}

} // namespace

StatusFields::StatusFields(QStatusBar *bar)
    : QObject(bar)
{
    auto label = [bar](const char *name) {
        auto *l = new QLabel(bar);
        l->setObjectName(QLatin1String(name));
        bar->addPermanentWidget(l);
        return l;
    };
    m_broker = label("brokerLabel");
    m_broker->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_produced = label("producedLabel");
    m_consumed = label("consumedLabel");
    m_lag = label("lagLabel");
    m_sinks = label("sinksLabel");
    m_configure = new QPushButton(tr("Configure…"), bar);
    m_configure->setObjectName(QStringLiteral("configureSinksButton"));
    m_configure->setFlat(true);
    bar->addPermanentWidget(m_configure);
    m_alerts = label("alertsLabel");
    connect(m_configure, &QPushButton::clicked, this, &StatusFields::configureSinksRequested);
}

void StatusFields::update(const core::EngineSample &s)
{
    m_broker->setText(s.brokerError.empty() ? tr("Broker: %1").arg(QString::fromStdString(s.broker))
                                            : tr("Broker: %1 (%2)")
                                                  .arg(QString::fromStdString(s.broker),
                                                       QString::fromStdString(s.brokerError)));
    m_produced->setText(tr("Produced %1/s").arg(groupedNumber(s.producedPerSecond)));
    m_consumed->setText(tr("Consumed %1/s").arg(groupedNumber(s.consumedPerSecond)));
    m_lag->setText(s.pipeline.lagMessages < 0 ? tr("Lag ?")
                                              : tr("Lag %1").arg(groupedNumber(
                                                    static_cast<double>(s.pipeline.lagMessages))));
    if (!s.sinksConfigured) {
        m_sinks->setText(tr("Sinks: not configured"));
    } else {
        QStringList parts;
        if (s.postgres.state != core::ServiceState::NotConfigured)
            parts << sinkText("PostgreSQL", s.postgres);
        if (s.redis.state != core::ServiceState::NotConfigured)
            parts << sinkText("Redis", s.redis);
        m_sinks->setText(tr("Sinks: %1").arg(parts.join(QStringLiteral(", "))));
    }
    m_alerts->setText(tr("Alerts firing: %1").arg(s.alertsFiring));
}

} // namespace studio::ui
