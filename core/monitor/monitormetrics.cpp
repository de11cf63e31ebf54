// Monitor::collectMetrics: the Prometheus families of the monitoring side (kept apart from
// monitor.cpp, which runs the parts).
#include "core/common/metrics.h"
#include "core/monitor/monitor.h"

#include <string>

namespace studio::core {

namespace {

const std::vector<std::string_view> &serviceStates()
{
    static const std::vector<std::string_view> states = {
        toString(ServiceState::Unknown), toString(ServiceState::Up),
        toString(ServiceState::Degraded), toString(ServiceState::Down),
        toString(ServiceState::NotConfigured)};
    return states;
}

const std::vector<std::string_view> &lagStates()
{
    static const std::vector<std::string_view> states = {
        lagStatusName(LagStatus::Ok),     lagStatusName(LagStatus::Warn),
        lagStatusName(LagStatus::Stall),  lagStatusName(LagStatus::Stop),
        lagStatusName(LagStatus::Rewind), lagStatusName(LagStatus::Unknown)};
    return states;
}

void serviceMetrics(const HealthSnapshot &health, MetricsText &out)
{
    for (const auto &service : health.services) {
        const ServiceHealth &s = *service;
        const MetricLabels labels{{"service", s.name}, {"kind", s.kind}};
        const ServiceState state = s.current.state;
        if (state == ServiceState::Up || state == ServiceState::Degraded ||
            state == ServiceState::Down) {
            out.gauge("clickstream_service_up",
                      "1 when the service answers its health probe (up or degraded), 0 when down",
                      labels, state == ServiceState::Down ? 0 : 1);
            out.gauge("clickstream_service_probe_latency_seconds",
                      "round trip of the service's latest health probe", labels,
                      s.current.latencyMs / 1000.0);
        }
        out.stateSet("clickstream_service_state", "health state of each service", labels, "state",
                     serviceStates(), toString(state));
        out.counter("clickstream_service_probes_total", "health probes answered", labels,
                    double(s.probes));
        out.counter("clickstream_service_probe_timeouts_total",
                    "health probes that overran their timeout", labels, double(s.timeouts));
    }
}

void groupMetrics(const GroupsSnapshot &groups, MetricsText &out)
{
    for (const GroupLag &g : groups.groups) {
        const MetricLabels labels{{"group", g.groupId}};
        out.stateSet("clickstream_consumer_group_status",
                     "Burrow-style lag status of the consumer group (sliding window rules)", labels,
                     "status", lagStates(), lagStatusName(g.status));
        if (g.totalLag >= 0)
            out.gauge("clickstream_consumer_group_lag_messages",
                      "messages not yet consumed by the group, over its partitions", labels,
                      double(g.totalLag));
        if (g.lagSeconds >= 0)
            out.gauge("clickstream_consumer_group_lag_seconds",
                      "how far the group is behind in time (its most lagging partition)", labels,
                      g.lagSeconds);
        for (const PartitionLag &p : g.partitions) {
            const MetricLabels pl{{"group", g.groupId},
                                  {"topic", p.topic},
                                  {"partition", std::to_string(p.partition)}};
            if (p.lag >= 0)
                out.gauge("clickstream_consumer_group_partition_lag_messages",
                          "messages not yet consumed by the group on the partition", pl,
                          double(p.lag));
            if (p.committed >= 0)
                out.gauge("clickstream_consumer_group_partition_committed_offset",
                          "the group's committed offset on the partition", pl, double(p.committed));
            if (p.lagSeconds >= 0)
                out.gauge("clickstream_consumer_group_partition_lag_seconds",
                          "how far the group is behind in time on the partition", pl, p.lagSeconds);
        }
    }
}

void clusterMetrics(const ClusterSnapshot &c, MetricsText &out)
{
    out.gauge("clickstream_kafka_up", "1 when the latest cluster refresh worked", c.ok ? 1 : 0);
    out.gauge("clickstream_kafka_brokers", "brokers in the cluster's metadata",
              double(c.brokers.size()));
    out.gauge("clickstream_kafka_refresh_duration_seconds",
              "time the latest cluster-view refresh took", c.refreshMs / 1000.0);
    for (const TopicInfo &t : c.topics) {
        const MetricLabels labels{{"topic", t.name}};
        out.gauge("clickstream_kafka_topic_partitions", "partitions of the topic", labels,
                  double(t.partitions.size()));
        out.gauge("clickstream_kafka_topic_messages",
                  "messages the topic holds (high minus low watermark, summed)", labels,
                  double(t.messages));
        out.gauge("clickstream_kafka_topic_rate_messages_per_second",
                  "messages appended to the topic per second (watermark movement)", labels, t.rate);
        for (const PartitionInfo &p : t.partitions) {
            if (p.high < 0)
                continue;
            const MetricLabels pl{{"topic", t.name}, {"partition", std::to_string(p.partition)}};
            out.gauge("clickstream_kafka_partition_high_watermark",
                      "the partition's high watermark (next offset)", pl, double(p.high));
            out.gauge("clickstream_kafka_partition_low_watermark",
                      "the partition's low watermark (oldest offset kept)", pl, double(p.low));
        }
    }
}

void alertMetrics(const std::vector<Alert> &active, const MonitorStatus &status, MetricsText &out)
{
    for (const Alert &a : active) {
        MetricLabels labels{{"alertname", a.rule},
                            {"severity", std::string(toString(a.severity))},
                            {"alertstate", std::string(toString(a.state))}};
        for (const auto &[k, v] : a.labels) {
            if (k != "alertname" && k != "severity" && k != "alertstate" &&
                MetricsText::isValidLabelName(k))
                labels.emplace_back(k, v);
        }
        out.gauge("clickstream_alerts", "pending and firing alerts, as Prometheus' ALERTS", labels,
                  1);
    }
    out.gauge("clickstream_alerts_firing", "alerts firing now", double(status.firing));
    out.gauge("clickstream_alerts_pending", "alerts pending now", double(status.pending));
    out.counter("clickstream_monitor_ticks_total", "alert evaluations run", double(status.ticks));
    if (status.webhook) {
        const WebhookStats &w = *status.webhook;
        out.counter("clickstream_alert_webhook_sent_total", "webhook messages accepted",
                    double(w.sent));
        out.counter("clickstream_alert_webhook_failed_total", "webhook messages given up",
                    double(w.failed));
        out.counter("clickstream_alert_webhook_dropped_total",
                    "webhook messages dropped on a full queue", double(w.dropped));
    }
    if (status.history) {
        const AlertHistoryStats &h = *status.history;
        out.counter("clickstream_alert_history_written_total",
                    "alert transitions stored in PostgreSQL", double(h.written));
        out.counter("clickstream_alert_history_failed_total",
                    "alert transitions PostgreSQL rejected", double(h.failed));
        out.counter("clickstream_alert_history_dropped_total",
                    "alert transitions dropped on a full queue", double(h.dropped));
        out.gauge("clickstream_alert_history_pending", "alert transitions waiting to be stored",
                  double(h.pending));
    }
}

} // namespace

void Monitor::collectMetrics(MetricsText &out) const
{
    if (auto h = health().snapshot())
        serviceMetrics(*h, out);
    if (auto g = groups().snapshot())
        groupMetrics(*g, out);
    if (auto c = cluster().snapshot())
        clusterMetrics(*c, out);
    alertMetrics(alerts().active(), status(), out);
}

} // namespace studio::core
