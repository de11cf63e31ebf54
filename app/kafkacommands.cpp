// `topics`, `messages`, `groups` and `alert-rules`: the monitoring engine from a shell, for
// servers and CI (what AKHQ's pages and Burrow's HTTP answers give, as text or JSON lines).
#include "app/commands.h"

#include "app/commandsupport.h"
#include "app/signals.h"
#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/kafka/messagebrowser.h"
#include "core/monitor/alerts.h"
#include "core/monitor/clustermonitor.h"
#include "core/monitor/groupmonitor.h"
#include "ui/common/secretstore.h"
#include "ui/dialogs/connectionprofiles.h"

#include <QCoreApplication>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

namespace studio::app {

using core::groupThousands;

namespace {

using nlohmann::json;

/// These commands look at a running cluster; an in-process broker would be empty.
std::optional<int> clusterFor(const ConnectionOptions &connection, core::ClusterConfig &out)
{
    if (connection.embedded())
        return usageError("this command looks at a running cluster: give --broker HOST:PORT,... "
                          "(for the embedded broker, the address `clickstream-studio broker` "
                          "prints on its first line)");
    if (std::string e = buildClusterConfig(connection, out); !e.empty())
        return usageError(e);
    return std::nullopt;
}

/// Several clusters (--broker repeated, --profile): every --broker with the security options
/// given, named by its address; every profile from the desktop app's saved settings, its
/// password from CLICKSTREAM_SASL_PASSWORD or the keychain.
std::optional<int> clustersFor(const ClusterList &list, const ConnectionOptions &connection,
                               std::vector<core::ClusterConfig> &out)
{
    for (const std::string &broker : list.brokers) {
        ConnectionOptions one = connection;
        one.broker = broker;
        core::ClusterConfig cluster;
        if (auto code = clusterFor(one, cluster))
            return code;
        cluster.name = broker;
        out.push_back(std::move(cluster));
    }
    if (!list.profiles.empty()) {
        // The profiles live in the desktop app's QSettings; the keychain answers through Qt.
        std::unique_ptr<QCoreApplication> qt;
        static int argc = 1;
        static char name[] = "clickstream-studio";
        static char *argv[] = {name, nullptr};
        if (!QCoreApplication::instance())
            qt = std::make_unique<QCoreApplication>(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("Clickstream Studio"));
        QCoreApplication::setOrganizationName(QStringLiteral("Clickstream Studio"));
        ui::SecretStore secrets;
        for (const std::string &profile : list.profiles) {
            core::ClusterConfig cluster;
            QString why;
            if (!ui::resolveKafkaProfile(QString::fromStdString(profile), secrets, &cluster, &why))
                return usageError(why.toStdString());
            out.push_back(std::move(cluster));
        }
    }
    std::set<std::string> names;
    for (const core::ClusterConfig &cluster : out)
        if (!names.insert(cluster.name).second)
            return usageError("cluster " + cluster.name + " is named twice");
    return std::nullopt;
}

/// The line that starts a cluster's section when several are shown.
void printSection(const core::ClusterConfig &cluster)
{
    fmt::print("== cluster {} ==\n", cluster.describe()); // the name, when not the address
}

std::string joinIds(const std::vector<std::int32_t> &ids)
{
    std::string s;
    for (const auto id : ids)
        s += (s.empty() ? "" : ",") + std::to_string(id);
    return s;
}

std::string timeText(std::int64_t ms)
{
    return ms < 0 ? std::string("-") : core::formatIsoMs(ms);
}

json messageJson(const core::BrowsedMessage &m)
{
    json headers = json::array();
    for (const auto &[k, v] : m.headers)
        headers.push_back({{"name", k}, {"value", v}});
    return {{"topic", m.topic},   {"partition", m.partition},
            {"offset", m.offset}, {"timestamp", timeText(m.timestampMs)},
            {"key", m.key},       {"value", m.value},
            {"headers", headers}};
}

void printMessage(const core::BrowsedMessage &m, const MessagesCommand &c)
{
    if (c.json) {
        // Not valid UTF-8 (a binary payload) is replaced, not fatal.
        fmt::print("{}\n", messageJson(m).dump(-1, ' ', false, json::error_handler_t::replace));
        return;
    }
    std::string headers;
    for (const auto &[k, v] : m.headers)
        headers += fmt::format(" {}={}", k, v);
    fmt::print("{}[{}]@{} {} key={}{}\n{}\n", m.topic, m.partition, m.offset,
               timeText(m.timestampMs), m.key, headers,
               c.pretty ? core::prettyJson(m.value) : m.value);
}

} // namespace

namespace {

/// One cluster's `topics` output; `section` (several clusters): its name goes into the JSON.
int showTopics(const TopicsCommand &c, const core::ClusterConfig &cluster, bool section)
{
    core::ClusterMonitor monitor(cluster);
    std::string error;
    if (!c.create.empty()) {
        if (!monitor.createTopic(c.create, c.partitions, c.replicationFactor, &error)) {
            fmt::print(stderr, "error: create topic '{}' on {}: {}\n", c.create, cluster.describe(),
                       error);
            return kRuntimeError;
        }
        fmt::print(stderr, "created topic '{}' ({} partitions, replication factor {})\n", c.create,
                   c.partitions, c.replicationFactor);
    }
    // Two refreshes a second apart, so the rates are measured, not guessed.
    if (!monitor.refreshNow(&error)) {
        fmt::print(stderr, "error: {}: {}\n", cluster.describe(), error);
        return kRuntimeError;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (!monitor.refreshNow(&error)) {
        fmt::print(stderr, "error: {}: {}\n", cluster.describe(), error);
        return kRuntimeError;
    }
    const auto snap = monitor.snapshot();
    const std::string only = c.topic.empty() ? c.create : c.topic;
    if (!only.empty() && !snap->findTopic(only)) {
        fmt::print(stderr, "error: no topic '{}' on {}\n", only, cluster.describe());
        return kRuntimeError;
    }
    if (c.json) {
        json brokers = json::array();
        for (const auto &b : snap->brokers)
            brokers.push_back({{"id", b.id}, {"host", b.host}, {"port", b.port}});
        json topics = json::array();
        for (const auto &t : snap->topics) {
            if (!only.empty() && t.name != only)
                continue;
            json parts = json::array();
            for (const auto &p : t.partitions)
                parts.push_back({{"partition", p.partition},
                                 {"leader", p.leader},
                                 {"replicas", p.replicas},
                                 {"isr", p.isr},
                                 {"low", p.low},
                                 {"high", p.high},
                                 {"messages", p.messages},
                                 {"rate", p.rate},
                                 {"error", p.error}});
            topics.push_back({{"name", t.name},
                              {"internal", t.internal},
                              {"messages", t.messages},
                              {"rate", t.rate},
                              {"partitions", parts}});
        }
        json out{{"brokers", brokers}, {"topics", topics}, {"refresh_ms", snap->refreshMs}};
        if (section)
            out["cluster"] = cluster.name;
        fmt::print("{}\n", out.dump());
        return 0;
    }
    fmt::print("{} broker(s):", snap->brokers.size());
    for (const auto &b : snap->brokers)
        fmt::print(" {}={}:{}", b.id, b.host, b.port);
    fmt::print("\n");
    if (only.empty()) {
        fmt::print("{:<40} {:>10} {:>14} {:>12}\n", "TOPIC", "PARTITIONS", "MESSAGES", "MSG/S");
        for (const auto &t : snap->topics)
            fmt::print("{:<40} {:>10} {:>14} {:>12.0f}\n", t.name, t.partitions.size(),
                       groupThousands(static_cast<std::uint64_t>(t.messages)), t.rate);
        return 0;
    }
    const core::TopicInfo &t = *snap->findTopic(only);
    fmt::print("topic {}: {} partitions, {} messages, {:.0f} msg/s\n", t.name, t.partitions.size(),
               groupThousands(static_cast<std::uint64_t>(t.messages)), t.rate);
    fmt::print("{:>9} {:>6} {:>12} {:>12} {:>12} {:>12} {:>10}\n", "PARTITION", "LEADER",
               "REPLICAS", "ISR", "LOW", "HIGH", "MSG/S");
    for (const auto &p : t.partitions)
        fmt::print("{:>9} {:>6} {:>12} {:>12} {:>12} {:>12} {:>10.0f}{}\n", p.partition, p.leader,
                   joinIds(p.replicas), joinIds(p.isr), p.low, p.high, p.rate,
                   p.error ? std::string("  error: ") +
                                 rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(p.error))
                           : std::string());
    return 0;
}

} // namespace

int runTopics(const TopicsCommand &c)
{
    const bool changes = c.configs || !c.setConfigs.empty() || c.addPartitions > 0 || c.remove ||
                         c.deleteRecordsBefore >= -1 || !c.recordPartitions.empty() ||
                         !c.confirm.empty();
    if (c.clusters.several()) {
        if (changes || !c.create.empty())
            return usageError(
                "--create and the topic changes go to one cluster: give one --broker");
        std::vector<core::ClusterConfig> clusters;
        if (auto code = clustersFor(c.clusters, c.connection, clusters))
            return *code;
        // Each in turn; one that fails says why on stderr and the others are still shown.
        int status = 0;
        for (const core::ClusterConfig &cluster : clusters) {
            if (!c.json)
                printSection(cluster);
            std::fflush(stdout);
            status = std::max(status, showTopics(c, cluster, true));
            std::fflush(stdout);
        }
        return status;
    }
    if (changes)
        return runTopicChanges(c);
    core::ClusterConfig cluster;
    if (auto code = clusterFor(c.connection, cluster))
        return *code;
    return showTopics(c, cluster, false);
}

int runMessages(const MessagesCommand &c)
{
    if (c.produce)
        return runProduce(c);
    if (c.keyGiven || !c.headers.empty() || !c.valueFile.empty() || c.copies != 1 ||
        !c.timestamp.empty() || c.raw)
        return usageError("--key, --header, --value-file, --copies, --timestamp and --raw go with "
                          "--produce");
    core::ClusterConfig cluster;
    if (auto code = clusterFor(c.connection, cluster))
        return *code;
    const int modes = (c.offset >= 0) + (c.last >= 0) + !c.since.empty() + !c.search.empty();
    if (modes > 1)
        return usageError("--offset, --last, --since and --search are alternatives: give one");
    if (c.follow && !c.search.empty())
        return usageError("--follow shows new messages; it does not go with --search");
    core::MessageBrowser browser(cluster);
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(c.timeoutSeconds * 1000));

    if (!c.search.empty()) {
        core::SearchOptions o;
        o.needle = c.search;
        o.caseSensitive = c.caseSensitive;
        o.partition = c.partition;
        o.maxPerPartition = c.scan;
        o.maxMatches = c.max;
        const core::SearchResult r = browser.search(c.topic, o, timeout);
        if (!r.ok) {
            fmt::print(stderr, "error: {}: {}\n", cluster.describe(), r.error);
            return kRuntimeError;
        }
        for (const auto &m : r.matches)
            printMessage(m.message, c);
        fmt::print(stderr, "{} match(es) in {} message(s) scanned{}{}{}\n", r.matches.size(),
                   groupThousands(r.scanned),
                   r.boundHit ? fmt::format(" (the newest {} of each partition; --scan N for more)",
                                            groupThousands(c.scan))
                              : std::string(),
                   r.matchesCapped ? " (stopped at --max)" : "",
                   r.timedOut ? " (timed out: partial)" : "");
        return 0;
    }

    core::BrowseResult r;
    std::map<std::int32_t, std::int64_t> next; // where --follow goes on
    if (!c.since.empty()) {
        const auto ms = core::parseIsoMs(c.since);
        if (!ms)
            return usageError("--since wants an ISO-8601 UTC time like 2026-01-01T00:00:00.000Z, "
                              "got '" +
                              c.since + "'");
        r = browser.readFromTimestamp(c.topic, c.partition, *ms, c.max, timeout);
    } else if (c.offset >= 0) {
        r = browser.readFromOffset(c.topic, c.partition, c.offset, c.max, timeout);
    } else if (c.last >= 0 || !c.follow) {
        r = browser.readLast(c.topic, c.partition, c.last >= 0 ? std::size_t(c.last) : 10, timeout);
    } else {
        r.ok = true; // --follow alone: only what comes next
    }
    if (!r.ok) {
        fmt::print(stderr, "error: {}: {}\n", cluster.describe(), r.error);
        return kRuntimeError;
    }
    for (const auto &m : r.messages) {
        printMessage(m, c);
        next[m.partition] = std::max(next[m.partition], m.offset + 1);
    }
    if (r.timedOut)
        fmt::print(stderr, "timed out after {} s: partial result\n", c.timeoutSeconds);
    std::fflush(stdout);
    if (!c.follow)
        return 0;

    installStopSignals();
    std::string error;
    if (!browser.startTail(c.topic, {}, &error)) {
        fmt::print(stderr, "error: {}\n", error);
        return kRuntimeError;
    }
    fmt::print(stderr, "following {} (Ctrl-C to stop)\n", c.topic);
    std::uint64_t seq = 0;
    std::string lastError;
    runTicking(
        0,
        [&](double) {
            const core::TailStatus st = browser.tailStatus();
            if (st.error != lastError && !st.error.empty())
                fmt::print(stderr, "tail: {}\n", st.error);
            lastError = st.error;
        },
        [&] {
            const core::TailRead read = browser.tailAfter(seq, 10'000);
            if (read.missed > 0)
                fmt::print(stderr, "({} message(s) came faster than shown and were skipped)\n",
                           read.missed);
            for (const auto &m : read.messages) {
                if (c.partition < 0 || m.partition == c.partition)
                    printMessage(m, c);
            }
            if (!read.messages.empty())
                std::fflush(stdout);
            seq = std::max(seq, read.lastSeq);
            return false;
        });
    browser.stopTail();
    return 0;
}

namespace {

json groupJson(const core::GroupLag &g)
{
    json parts = json::array();
    for (const auto &p : g.partitions)
        parts.push_back({{"topic", p.topic},
                         {"partition", p.partition},
                         {"committed", p.committed},
                         {"high", p.high},
                         {"lag", p.lag},
                         {"lag_seconds", p.lagSeconds},
                         {"status", core::lagStatusName(p.status)}});
    json members = json::array();
    for (const auto &m : g.members) {
        json assignment = json::array();
        for (const auto &[topic, partition] : m.assignment)
            assignment.push_back({{"topic", topic}, {"partition", partition}});
        members.push_back({{"member_id", m.memberId},
                           {"client_id", m.clientId},
                           {"host", m.host},
                           {"assignment", assignment}});
    }
    return {{"group", g.groupId},
            {"state", g.state},
            {"described", g.described},
            {"coordinator", g.coordinator},
            {"assignor", g.assignor},
            {"members", members},
            {"status", core::lagStatusName(g.status)},
            {"reason", g.reason},
            {"lag", g.totalLag},
            {"lag_seconds", g.lagSeconds},
            {"lag_seconds_method", core::lagSecondsMethodName(g.lagSecondsMethod)},
            {"error", g.error},
            {"partitions", parts}};
}

void printGroup(const core::GroupLag &g)
{
    fmt::print("group {}: {} | lag {} messages, {} | {}\n", g.groupId,
               core::lagStatusName(g.status), g.totalLag,
               g.lagSeconds < 0 ? std::string("lag seconds unknown")
                                : fmt::format("{:.1f} s behind ({})", g.lagSeconds,
                                              core::lagSecondsMethodName(g.lagSecondsMethod)),
               g.reason.empty() ? g.error : g.reason);
    if (g.described) {
        fmt::print("state {}, {} member(s), coordinator broker {}{}\n", g.state, g.members.size(),
                   g.coordinator, g.assignor.empty() ? "" : ", assignor " + g.assignor);
        for (const auto &m : g.members) {
            std::string parts;
            for (const auto &[topic, partition] : m.assignment)
                parts += fmt::format("{}{}[{}]", parts.empty() ? "" : " ", topic, partition);
            fmt::print("  member {} client {} host {}: {}\n", m.memberId, m.clientId, m.host,
                       parts.empty() ? std::string("no partitions") : parts);
        }
    } else {
        fmt::print("state: {}\n", g.state);
    }
    fmt::print("{:<30} {:>9} {:>12} {:>12} {:>10} {:>9} {:>7}\n", "TOPIC", "PARTITION", "COMMITTED",
               "HIGH", "LAG", "LAG S", "STATUS");
    for (const auto &p : g.partitions)
        fmt::print("{:<30} {:>9} {:>12} {:>12} {:>10} {:>9.1f} {:>7}\n", p.topic, p.partition,
                   p.committed, p.high, p.lag, p.lagSeconds, core::lagStatusName(p.status));
}

} // namespace

namespace {

/// One cluster's `groups` output from its last snapshot; `section` (several clusters): its
/// name goes into the JSON.
int printGroups(const GroupsCommand &c, const core::ClusterConfig &cluster,
                const core::GroupsSnapshot &snapshot, bool section)
{
    const core::GroupsSnapshot *snap = &snapshot;
    const std::string where = cluster.describe();
    if (!snap->error.empty())
        fmt::print(stderr, "warning: {}: {}\n", where, snap->error);

    if (!c.groupGiven && snap->listingAnswered) {
        // Every listed group; the default group only when the cluster has it.
        std::vector<const core::GroupLag *> shown;
        for (const auto &g : snap->groups)
            if (g.listed)
                shown.push_back(&g);
        if (!snap->listingError.empty())
            fmt::print(stderr, "warning: {}: {}\n", where, snap->listingError);
        if (c.json) {
            json groups = json::array();
            for (const auto *g : shown)
                groups.push_back(groupJson(*g));
            json out{{"groups", groups}, {"error", snap->error}};
            if (section)
                out["cluster"] = cluster.name;
            fmt::print("{}\n", out.dump());
            return 0;
        }
        fmt::print("{} group(s) on {}\n", shown.size(), where);
        fmt::print("{:<40} {:>20} {:>8} {:>12} {:>9} {:>7}\n", "GROUP", "STATE", "MEMBERS", "LAG",
                   "LAG S", "STATUS");
        for (const auto *g : shown)
            fmt::print("{:<40} {:>20} {:>8} {:>12} {:>9.1f} {:>7}\n", g->groupId, g->state,
                       g->described ? std::to_string(g->members.size()) : std::string("?"),
                       g->totalLag, g->lagSeconds, core::lagStatusName(g->status));
        return 0;
    }

    const core::GroupLag *g = nullptr;
    for (const auto &group : snap->groups)
        if (group.groupId == c.group)
            g = &group;
    if (!g) {
        fmt::print(stderr, "error: {}: no data for group '{}'\n", where, c.group);
        return kRuntimeError;
    }
    if (g->partitions.empty() && !g->error.empty()) {
        // Nothing could be read: say why (unreachable, authentication, no rights on the group).
        fmt::print(stderr, "error: group '{}' on {}: {}\n", c.group, where, g->error);
        return kRuntimeError;
    }
    if (c.json) {
        json out = groupJson(*g);
        if (section)
            out["cluster"] = cluster.name;
        fmt::print("{}\n", out.dump());
        return 0;
    }
    printGroup(*g);
    return 0;
}

} // namespace

int runGroups(const GroupsCommand &c)
{
    if (!c.resetTo.empty() || c.remove) {
        if (c.clusters.several())
            return usageError("--reset-to and --delete change one cluster: give one --broker");
        return runGroupChange(c);
    }
    if (c.execute || !c.resetPartitions.empty())
        return usageError("--execute and --partition go with --reset-to");
    std::vector<core::ClusterConfig> clusters;
    if (c.clusters.several()) {
        if (auto code = clustersFor(c.clusters, c.connection, clusters))
            return *code;
    } else {
        core::ClusterConfig cluster;
        if (auto code = clusterFor(c.connection, cluster))
            return *code;
        clusters.push_back(std::move(cluster));
    }
    core::GroupMonitorOptions o;
    o.refreshIntervalMs = 500;
    o.listIntervalMs = 2000;
    // Without --group: every group a real cluster lists (their topics from their offsets).
    o.watchListedGroups = !c.groupGiven;
    // Every cluster watched at once (each monitor on its own thread), so several take as long
    // as one.
    std::vector<std::unique_ptr<core::GroupMonitor>> monitors;
    for (const core::ClusterConfig &cluster : clusters) {
        auto monitor = std::make_unique<core::GroupMonitor>(cluster, false, o);
        // The named topics until the cluster shows it can list groups: the embedded broker
        // cannot, and tells a group's partitions only when they are named.
        monitor->watchGroup(c.group, c.topics);
        std::string error;
        if (!monitor->start(&error)) {
            fmt::print(stderr, "error: {}\n", error);
            return kRuntimeError;
        }
        monitors.push_back(std::move(monitor));
    }
    installStopSignals();
    // The first refresh tells whether the cluster lists groups; a real one does, and there a
    // group's topics come from its committed offsets unless --topic names them.
    if (!c.topicsGiven) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        auto refreshed = [&monitors] {
            return std::all_of(monitors.begin(), monitors.end(),
                               [](const auto &m) { return m->snapshot()->refreshes > 0; });
        };
        while (!refreshed() && std::chrono::steady_clock::now() < until && !stopRequested())
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        for (auto &monitor : monitors) {
            if (monitor->snapshot()->listingAnswered) {
                monitor->watchGroup(c.group, {});
                monitor->refreshNow();
            }
        }
    }
    // Burrow's rules need a window of samples: watch for a while, then report.
    runTicking(
        c.seconds, [](double) {}, [] { return false; });
    std::vector<std::shared_ptr<const core::GroupsSnapshot>> snapshots;
    for (auto &monitor : monitors) {
        snapshots.push_back(monitor->snapshot());
        monitor->stop();
    }
    if (clusters.size() == 1 && !c.clusters.several())
        return printGroups(c, clusters.front(), *snapshots.front(), false);
    int status = 0;
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        if (!c.json)
            printSection(clusters[i]);
        std::fflush(stdout);
        status = std::max(status, printGroups(c, clusters[i], *snapshots[i], true));
        std::fflush(stdout);
    }
    return status;
}

int runAlertRules(const AlertRulesCommand &c)
{
    if (!c.check.empty()) {
        std::string error;
        const auto rules = core::loadAlertRules(c.check, &error);
        if (!rules) {
            fmt::print(stderr, "error: {}\n", error);
            return kUsageError;
        }
        fmt::print("{}: {} rule(s), valid\n", c.check, rules->size());
        return 0;
    }
    const std::string text = core::alertRulesToJson(core::defaultAlertRules());
    if (c.out.empty()) {
        fmt::print("{}", text);
        return 0;
    }
    std::string error;
    if (!core::saveAlertRules(c.out, core::defaultAlertRules(), &error)) {
        fmt::print(stderr, "error: {}\n", error);
        return kRuntimeError;
    }
    fmt::print(stderr, "wrote the built-in alert rules to {}\n", c.out);
    return 0;
}

} // namespace studio::app
