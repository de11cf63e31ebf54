// The Kafka console's changes from a shell (issue 23): `groups --reset-to/--delete`,
// `messages --produce`, `topics --configs/--set-config/--add-partitions/--delete/
// --delete-records-before` and `acls`. Everything goes through core::KafkaAdmin; Kafka's own
// words reach the user, and a change the embedded broker cannot make ends at once with a reason.
#include "app/commands.h"

#include "app/commandsupport.h"
#include "core/common/timeutil.h"
#include "core/kafka/kafkaadmin.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace studio::app {

namespace {

using nlohmann::json;

// Admin requests on a loaded machine over SASL_SSL take seconds; none should take this long.
constexpr int kAdminTimeoutMs = 30'000;

/// The connected admin, or an exit code after printing why.
std::optional<int> connectAdmin(const ConnectionOptions &connection,
                                std::unique_ptr<core::KafkaAdmin> &admin, int timeoutMs)
{
    if (connection.embedded())
        return usageError("this command changes a running cluster: give --broker HOST:PORT,...");
    core::ClusterConfig cluster;
    if (std::string e = buildClusterConfig(connection, cluster); !e.empty())
        return usageError(e);
    admin = std::make_unique<core::KafkaAdmin>(cluster, timeoutMs);
    std::string error;
    if (!admin->connect(&error)) {
        fmt::print(stderr, "error: {}: {}\n", cluster.describe(), error);
        return kRuntimeError;
    }
    return std::nullopt;
}

int failed(const core::KafkaAdmin &admin, const std::string &error)
{
    fmt::print(stderr, "error: {}: {}\n", admin.cluster().describe(), error);
    return kRuntimeError;
}

bool splitAssignment(const std::string &text, std::pair<std::string, std::string> &out)
{
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        return false;
    out = {text.substr(0, eq), text.substr(eq + 1)};
    return true;
}

std::string offsetText(std::int64_t offset)
{
    return offset < 0 ? std::string("-") : std::to_string(offset);
}

} // namespace

int runGroupChange(const GroupsCommand &c)
{
    if (!c.groupGiven)
        return usageError("--reset-to and --delete need --group NAME");
    if (c.remove && !c.resetTo.empty())
        return usageError("--reset-to and --delete are alternatives: give one");
    std::optional<core::OffsetResetSpec> spec;
    if (!c.resetTo.empty()) {
        spec = core::OffsetResetSpec::parse(c.resetTo);
        if (!spec)
            return usageError("--reset-to takes earliest, latest, an ISO-8601 UTC time like "
                              "2026-01-01T00:00:00.000Z, offset:N or shift:N (N may be "
                              "negative); got '" +
                              c.resetTo + "'");
    }
    std::unique_ptr<core::KafkaAdmin> admin;
    if (auto code = connectAdmin(c.connection, admin, kAdminTimeoutMs))
        return *code;
    std::string error;
    if (c.remove) {
        if (!admin->deleteGroup(c.group, &error))
            return failed(*admin, error);
        fmt::print("deleted group {}\n", c.group);
        return 0;
    }
    std::vector<std::string> topics = c.topicsGiven ? c.topics : std::vector<std::string>{};
    std::vector<std::int32_t> partitions(c.resetPartitions.begin(), c.resetPartitions.end());
    const auto plan = admin->planOffsetReset(c.group, topics, partitions, *spec, &error);
    if (!plan)
        return failed(*admin, error);
    const bool refused = c.execute && plan->activeMembers > 0;
    bool committed = false;
    if (c.execute && !refused) {
        if (!admin->commitOffsetReset(*plan, &error))
            return failed(*admin, error);
        committed = true;
    }
    if (c.json) {
        json rows = json::array();
        for (const auto &r : plan->rows)
            rows.push_back({{"topic", r.topic},
                            {"partition", r.partition},
                            {"old", r.oldOffset},
                            {"new", r.newOffset},
                            {"low", r.low},
                            {"high", r.high},
                            {"lag_after", r.lagAfter},
                            {"note", r.note}});
        fmt::print("{}\n", json{{"group", plan->group},
                                {"state", plan->state},
                                {"members", plan->activeMembers},
                                {"reset_to", c.resetTo},
                                {"executed", committed},
                                {"partitions", rows}}
                               .dump());
    } else {
        fmt::print("{} group {} ({}): reset to {}\n", committed ? "RESET" : "DRY RUN", plan->group,
                   plan->activeMembers < 0
                       ? std::string("members not known on the embedded broker")
                       : fmt::format("state {}, {} member(s)", plan->state, plan->activeMembers),
                   c.resetTo);
        fmt::print("{:<30} {:>9} {:>12} {:>12} {:>12} {:>12}  {}\n", "TOPIC", "PARTITION", "OLD",
                   "NEW", "LAG AFTER", "LOG END", "NOTE");
        for (const auto &r : plan->rows)
            fmt::print("{:<30} {:>9} {:>12} {:>12} {:>12} {:>12}  {}\n", r.topic, r.partition,
                       offsetText(r.oldOffset), offsetText(r.newOffset), offsetText(r.lagAfter),
                       offsetText(r.high), r.note);
    }
    if (refused) {
        return failed(*admin, core::activeGroupRefusal(*plan));
    }
    if (!c.execute)
        fmt::print(stderr, "dry run: nothing changed; --execute commits these offsets{}\n",
                   plan->activeMembers > 0 ? " (refused while the group has members)" : "");
    else
        fmt::print(stderr, "committed the new offsets of group {}\n", plan->group);
    return 0;
}

int runTopicChanges(const TopicsCommand &c)
{
    if (c.topic.empty())
        return usageError("--configs, --set-config, --add-partitions, --delete and "
                          "--delete-records-before need --topic NAME");
    if (!c.create.empty())
        return usageError("--create is a run of its own: create the topic first, then change it");
    if (!c.confirm.empty() && !c.remove)
        return usageError("--confirm goes with --delete");
    if (c.remove && c.confirm != c.topic)
        return usageError("--delete removes topic '" + c.topic +
                          "' and all its messages: confirm with --confirm " + c.topic);
    if (!c.recordPartitions.empty() && c.deleteRecordsBefore < -1)
        return usageError("--partition goes with --delete-records-before");
    std::vector<std::pair<std::string, std::string>> changes;
    for (const auto &text : c.setConfigs) {
        std::pair<std::string, std::string> kv;
        if (!splitAssignment(text, kv))
            return usageError("--set-config takes NAME=VALUE, got '" + text + "'");
        changes.push_back(std::move(kv));
    }
    std::unique_ptr<core::KafkaAdmin> admin;
    if (auto code = connectAdmin(c.connection, admin, kAdminTimeoutMs))
        return *code;
    std::string error;
    if (c.remove) {
        if (!admin->deleteTopic(c.topic, &error))
            return failed(*admin, error);
        fmt::print("deleted topic {}\n", c.topic);
        return 0;
    }
    if (!changes.empty()) {
        if (!admin->alterTopicConfigs(c.topic, changes, &error))
            return failed(*admin, error);
        for (const auto &[name, value] : changes)
            fmt::print(stderr, "set {} = {} on topic {}\n", name, value, c.topic);
    }
    if (c.addPartitions > 0) {
        if (!admin->createPartitions(c.topic, c.addPartitions, &error))
            return failed(*admin, error);
        fmt::print(stderr, "topic {} now has {} partitions\n", c.topic, c.addPartitions);
    }
    if (c.deleteRecordsBefore >= -1) {
        std::vector<std::int32_t> parts(c.recordPartitions.begin(), c.recordPartitions.end());
        const auto deleted = admin->deleteRecords(c.topic, parts, c.deleteRecordsBefore, &error);
        if (!deleted)
            return failed(*admin, error);
        bool allOk = true;
        for (const auto &d : *deleted) {
            if (c.json)
                fmt::print("{}\n", json{{"topic", c.topic},
                                        {"partition", d.partition},
                                        {"low_watermark", d.lowWatermark},
                                        {"error", d.error}}
                                       .dump());
            else
                fmt::print("{}[{}]: {}\n", c.topic, d.partition,
                           d.error.empty() ? "records deleted, first offset now " +
                                                 std::to_string(d.lowWatermark)
                                           : "error: " + d.error);
            allOk = allOk && d.error.empty();
        }
        if (!allOk)
            return kRuntimeError;
    }
    if (c.configs) {
        const auto entries = admin->describeTopicConfigs(c.topic, &error);
        if (!entries)
            return failed(*admin, error);
        if (c.json) {
            json list = json::array();
            for (const auto &e : *entries)
                list.push_back({{"name", e.name},
                                {"value", e.hasValue ? json(e.value) : json()},
                                {"source", e.source},
                                {"read_only", e.readOnly},
                                {"sensitive", e.sensitive},
                                {"default", e.isDefault}});
            fmt::print("{}\n", json{{"topic", c.topic}, {"configs", list}}.dump());
        } else {
            fmt::print("{:<42} {:<28} {:<26} {}\n", "CONFIG", "VALUE", "SOURCE", "FLAGS");
            for (const auto &e : *entries) {
                std::string flags;
                if (e.readOnly)
                    flags += "read-only ";
                if (e.sensitive)
                    flags += "sensitive";
                fmt::print("{:<42} {:<28} {:<26} {}\n", e.name,
                           e.sensitive ? std::string("(hidden)") : e.value, e.source, flags);
            }
        }
    }
    return 0;
}

int runProduce(const MessagesCommand &c)
{
    if (c.offset >= 0 || c.last >= 0 || !c.since.empty() || !c.search.empty() || c.follow)
        return usageError("--produce writes a message: --offset, --last, --since, --search and "
                          "--follow read, in a run of their own");
    core::ProduceRequest request;
    request.topic = c.topic;
    request.partition = c.partition;
    request.copies = c.copies;
    if (c.keyGiven)
        request.key = c.key;
    for (const auto &text : c.headers) {
        std::pair<std::string, std::string> kv;
        if (!splitAssignment(text, kv))
            return usageError("--header takes NAME=VALUE, got '" + text + "'");
        request.headers.push_back(std::move(kv));
    }
    if (!c.timestamp.empty()) {
        const auto ms = core::parseIsoMs(c.timestamp);
        if (!ms)
            return usageError("--timestamp wants an ISO-8601 UTC time like "
                              "2026-01-01T00:00:00.000Z, got '" +
                              c.timestamp + "'");
        request.timestampMs = *ms;
    }
    if (!c.valueFile.empty()) {
        std::ifstream in(c.valueFile, std::ios::binary);
        if (!in)
            return usageError("cannot read --value-file " + c.valueFile);
        request.value.assign(std::istreambuf_iterator<char>(in), {});
    } else {
        if (::isatty(STDIN_FILENO))
            fmt::print(stderr, "reading the value from stdin (end it with Ctrl-D)\n");
        request.value.assign(std::istreambuf_iterator<char>(std::cin), {});
        // `echo VALUE |` adds a newline that is not part of the value.
        if (!request.value.empty() && request.value.back() == '\n')
            request.value.pop_back();
        if (!request.value.empty() && request.value.back() == '\r')
            request.value.pop_back();
    }
    if (!c.raw) {
        try {
            const json parsed = json::parse(request.value);
            (void)parsed;
        } catch (const json::parse_error &e) {
            return usageError(std::string("the value is not valid JSON (") + e.what() +
                              "); give --raw to send it as it is");
        }
    }
    std::unique_ptr<core::KafkaAdmin> admin;
    if (auto code = connectAdmin(c.connection, admin,
                                 static_cast<int>(std::max(1.0, c.timeoutSeconds) * 1000)))
        return *code;
    std::string error;
    const auto reports = admin->produce(request, &error);
    if (!reports)
        return failed(*admin, error);
    int failures = 0;
    for (const auto &r : *reports) {
        if (c.json)
            fmt::print("{}\n", json{{"topic", c.topic},
                                    {"partition", r.partition},
                                    {"offset", r.offset},
                                    {"error", r.error}}
                                   .dump());
        else if (r.error.empty())
            fmt::print("delivered to {}[{}] at offset {}\n", c.topic, r.partition, r.offset);
        else
            fmt::print("failed: {}\n", r.error);
        failures += !r.error.empty();
    }
    if (failures > 0) {
        fmt::print(stderr, "error: {}: {} of {} message(s) not delivered\n",
                   admin->cluster().describe(), failures, reports->size());
        return kRuntimeError;
    }
    return 0;
}

int runAcls(const AclsCommand &c)
{
    std::unique_ptr<core::KafkaAdmin> admin;
    if (auto code = connectAdmin(c.connection, admin, kAdminTimeoutMs))
        return *code;
    core::AclFilter filter;
    filter.principal = c.principal;
    filter.resourceType = c.resourceType;
    filter.resourceName = c.resourceName;
    std::string error;
    const auto listing = admin->describeAcls(filter, &error);
    if (!listing)
        return failed(*admin, error);
    const auto *acls = &listing->acls;
    if (!c.json)
        fmt::print("{:<24} {:<10} {:<18} {:<10} {}\n", "PRINCIPAL", "HOST", "OPERATION",
                   "PERMISSION", "RESOURCE (PATTERN)");
    for (const auto &a : *acls) {
        if (c.json)
            fmt::print("{}\n", json{{"principal", a.principal},
                                    {"host", a.host},
                                    {"operation", a.operation},
                                    {"permission", a.permission},
                                    {"resource_type", a.resourceType},
                                    {"resource_name", a.resourceName},
                                    {"pattern_type", a.patternType}}
                                   .dump());
        else
            fmt::print("{:<24} {:<10} {:<18} {:<10} {}:{} ({})\n", a.principal, a.host, a.operation,
                       a.permission, a.resourceType, a.resourceName, a.patternType);
    }
    fmt::print(stderr, "{} ACL(s) on {}{}\n", acls->size(), admin->cluster().describe(),
               listing->warning.empty() ? std::string() : ": " + listing->warning);
    return 0;
}

} // namespace studio::app
