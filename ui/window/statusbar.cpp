#include "ui/window/statusbar.h"

#include "ui/common/format.h"
#include "ui/widgets/elidedlabel.h"

#include "core/engine/studioengine.h"

#include <cmath>

#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>

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
    // Every field is its own widget that may shrink and elide: a long alert text or broker error
    // never runs into the next field (issue 21). The message field takes the spare width.
    auto field = [bar](const char *name, const QString &description, int stretch) {
        auto *l = new ElidedLabel(bar);
        l->setObjectName(QLatin1String(name));
        l->setDescription(description);
        l->setAccessibleName(description);
        bar->addPermanentWidget(l, stretch);
        return l;
    };
    // The message takes what the fields leave; the fields their full width while there is room.
    m_message = field("messageLabel", tr("Latest message"), 1);
    m_broker = field("brokerLabel", tr("Kafka broker in use"), 0);
    m_produced = field("producedLabel", tr("Events produced per second, all producers"), 0);
    m_consumed = field("consumedLabel", tr("Events consumed per second by the aggregator"), 0);
    m_lag = field("lagLabel", tr("Consumer lag of the aggregator's group, in messages"), 0);
    m_sinks = field("sinksLabel", tr("PostgreSQL and Redis sinks"), 0);
    m_configure = new QPushButton(tr("Configure…"), bar);
    m_configure->setObjectName(QStringLiteral("configureSinksButton"));
    m_configure->setFlat(true);
    m_configure->setToolTip(tr("Configure the PostgreSQL and Redis sinks"));
    bar->addPermanentWidget(m_configure);
    m_alerts = field("alertsLabel", tr("Alerts firing now (Health & Alerts page)"), 0);
    m_messageTimer = new QTimer(this);
    m_messageTimer->setSingleShot(true);
    connect(m_messageTimer, &QTimer::timeout, m_message, &QLabel::clear);
    connect(m_configure, &QPushButton::clicked, this, &StatusFields::configureSinksRequested);
}

void StatusFields::showMessage(const QString &text, int timeoutMs)
{
    m_message->setText(text);
    m_messageTimer->stop();
    if (timeoutMs > 0)
        m_messageTimer->start(timeoutMs);
}

QString StatusFields::currentMessage() const
{
    return m_message->text();
}

QLabel *StatusFields::messageLabel() const
{
    return m_message;
}

void StatusFields::update(const core::EngineSample &s)
{
    // The short form on the line (a real cluster's full description, CA path included, pushed
    // every other field to "Pro…"), the whole one in the tooltip.
    const QString brief = QString::fromStdString(s.brokerBrief.empty() ? s.broker : s.brokerBrief);
    m_broker->setText(
        s.brokerError.empty()
            ? tr("Broker: %1").arg(brief)
            : tr("Broker: %1 (%2)").arg(brief, QString::fromStdString(s.brokerError)));
    static_cast<ElidedLabel *>(m_broker)->setDescription(
        tr("Kafka broker in use: %1").arg(QString::fromStdString(s.broker)));
    m_produced->setText(tr("Produced %1/s").arg(groupedNumber(s.producedPerSecond)));
    m_consumed->setText(tr("Consumed %1/s").arg(groupedNumber(s.consumedPerSecond)));
    // The aggregation workers' load (issue 20), read-only in the field's tooltip.
    QString workers = tr("Events consumed per second by the aggregator");
    if (!s.pipeline.workers.empty())
        workers +=
            QLatin1Char('\n') + tr("%n aggregation worker(s):", "", int(s.pipeline.workers.size()));
    for (std::size_t w = 0; w < s.pipeline.workers.size(); ++w) {
        const core::PipelineWorkerStats &ws = s.pipeline.workers[w];
        workers += QLatin1Char('\n') + tr("worker %1: %2 partitions, %3 events, busy %4%")
                                           .arg(w)
                                           .arg(ws.partitions)
                                           .arg(groupedNumber(static_cast<double>(ws.events)))
                                           .arg(qRound(ws.busyShare * 100));
    }
    static_cast<ElidedLabel *>(m_consumed)->setDescription(workers);
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
        QString text = tr("Sinks: %1").arg(parts.join(QStringLiteral(", ")));
        // The last checkpoint: what changed in the open state, and how long storing it took.
        if (s.postgres.checkpointsStored > 0)
            text += tr(" · checkpoint %1 in %2 ms")
                        .arg(QLocale().formattedDataSize(qint64(s.postgres.lastCheckpointBytes)))
                        .arg(QLocale().toString(std::lround(s.postgres.lastCheckpointMs)));
        m_sinks->setText(text);
    }
    m_alerts->setText(tr("Alerts firing: %1").arg(s.alertsFiring));
}

} // namespace studio::ui
