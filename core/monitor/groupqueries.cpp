#include "core/monitor/groupqueries.h"

#include "core/common/timeutil.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

namespace studio::core {

namespace {

// The timestamp reader's group.id: librdkafka needs one for assign(); it is never joined and
// never committed to.
constexpr const char *kReaderGroupId = "clickstream-studio.lag-probe";

// librdkafka's largest admin request timeout (see coordinatorOptions).
constexpr int kCoordinatorRequestTimeoutMs = 3600 * 1000;

KafkaAdminOptions adminOptions(rd_kafka_t *client, rd_kafka_admin_op_t op, int timeoutMs)
{
    char errstr[256];
    KafkaAdminOptions options(rd_kafka_AdminOptions_new(client, op));
    rd_kafka_AdminOptions_set_request_timeout(options.get(), timeoutMs, errstr, sizeof errstr);
    return options;
}

// Options for a request librdkafka sends to a group's coordinator (DescribeConsumerGroups,
// ListConsumerGroupOffsets). librdkafka 2.0.2 (and later, upstream issue #3663) crashes the
// process ("rd_kafka_enq_once_del_source_return: Assertion `eonce->refcnt > 0' failed") when
// such a request times out while it still waits for its coordinator (the coordinator's broker
// down: a kill -9, a freeze) and the coordinator is found later: the coordinator lookup has no
// timeout of its own and then calls back into the request that its timeout already freed (seen
// in the aggregator of kafka_cluster_faults, ~10 s after the group coordinator was killed). So
// librdkafka's own timeout is its maximum (an hour), which a request reaches only after an hour
// without a coordinator; our callers wait for the answer only up to their own deadline
// (`timeoutMs`) and leave a late answer in the queue they drop, which librdkafka frees.
KafkaAdminOptions coordinatorOptions(rd_kafka_t *client, rd_kafka_admin_op_t op)
{
    return adminOptions(client, op, kCoordinatorRequestTimeoutMs);
}

// The next event of `queue`, or null once the deadline passed or `abort` was set.
KafkaEvent waitEvent(rd_kafka_queue_t *queue, std::int64_t deadlineMs,
                     const std::atomic<bool> &abort)
{
    while (!abort) {
        const std::int64_t left = deadlineMs - steadyClockMs();
        if (left <= 0)
            return nullptr;
        const int slice = int(std::min<std::int64_t>(left, kQuerySliceMs));
        if (KafkaEvent ev{rd_kafka_queue_poll(queue, slice)})
            return ev;
    }
    return nullptr;
}

std::string noAnswer(int timeoutMs)
{
    return "no answer within " + std::to_string(timeoutMs) + " ms";
}

} // namespace

KafkaMetadata fetchMetadata(rd_kafka_t *client, bool allTopics, int timeoutMs,
                            const std::atomic<bool> &abort, std::string *error)
{
    const std::int64_t deadline = steadyClockMs() + timeoutMs;
    for (;;) {
        const std::int64_t started = steadyClockMs();
        const int slice = int(std::clamp<std::int64_t>(deadline - started, 1, kQuerySliceMs));
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (KafkaMetadata md = requestMetadata(client, allTopics, nullptr, slice, &err))
            return md;
        if (abort || steadyClockMs() >= deadline) {
            if (error)
                *error = withClientError("cannot reach the cluster (metadata, " +
                                             std::to_string(timeoutMs) +
                                             " ms): " + rd_kafka_err2str(err),
                                         client);
            return nullptr;
        }
        // Some failures come back at once (no broker up): wait out the slice, not spin.
        while (!abort && steadyClockMs() - started < slice)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool listConsumerGroups(rd_kafka_t *client, int timeoutMs, const std::atomic<bool> &abort,
                        std::vector<GroupListing> &groups, std::string *error)
{
    const KafkaQueue queue(rd_kafka_queue_new(client));
    const KafkaAdminOptions options =
        adminOptions(client, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeoutMs);
    rd_kafka_ListConsumerGroups(client, options.get(), queue.get());
    const KafkaEvent ev = waitEvent(queue.get(), steadyClockMs() + timeoutMs + 1000, abort);
    std::string failure;
    if (!ev)
        failure = "listing groups: " + noAnswer(timeoutMs);
    else if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
        failure = std::string("listing groups: ") + rd_kafka_event_error_string(ev.get());
    if (!failure.empty()) {
        if (error)
            *error = failure;
        return false;
    }
    const rd_kafka_ListConsumerGroups_result_t *result =
        rd_kafka_event_ListConsumerGroups_result(ev.get());
    std::size_t count = 0;
    const rd_kafka_ConsumerGroupListing_t **valid =
        rd_kafka_ListConsumerGroups_result_valid(result, &count);
    groups.clear();
    for (std::size_t i = 0; i < count; ++i) {
        GroupListing g;
        g.groupId = rd_kafka_ConsumerGroupListing_group_id(valid[i]);
        g.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(valid[i]));
        g.simple = rd_kafka_ConsumerGroupListing_is_simple_consumer_group(valid[i]) != 0;
        g.listed = true;
        groups.push_back(std::move(g));
    }
    std::sort(groups.begin(), groups.end(),
              [](const GroupListing &a, const GroupListing &b) { return a.groupId < b.groupId; });
    std::size_t errorCount = 0;
    const rd_kafka_error_t **errors =
        rd_kafka_ListConsumerGroups_result_errors(result, &errorCount);
    if (count == 0 && errorCount > 0) {
        // Every broker that answered refused (the embedded broker says "Required feature not
        // supported by broker"): that is no listing at all, not an empty one.
        if (error)
            *error = std::string("listing groups: ") + rd_kafka_error_string(errors[0]);
        return false;
    }
    if (error) {
        error->clear();
        if (errorCount > 0)
            *error = std::string("listing groups: ") + rd_kafka_error_string(errors[0]);
        if (errorCount > 1)
            *error += " (" + std::to_string(errorCount) + " brokers answered with errors)";
    }
    return true;
}

bool describeConsumerGroups(rd_kafka_t *client, const std::vector<std::string> &ids, int timeoutMs,
                            const std::atomic<bool> &abort,
                            std::map<std::string, GroupDescription> &out,
                            std::map<std::string, std::string> &errors, std::string *error)
{
    if (ids.empty())
        return true;
    std::vector<const char *> names;
    for (const auto &id : ids)
        names.push_back(id.c_str());
    const KafkaQueue queue(rd_kafka_queue_new(client));
    const KafkaAdminOptions options =
        coordinatorOptions(client, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(client, names.data(), names.size(), options.get(), queue.get());
    const KafkaEvent ev = waitEvent(queue.get(), steadyClockMs() + timeoutMs + 1000, abort);
    if (!ev) {
        if (error)
            *error = "describing groups: " + noAnswer(timeoutMs);
        return false;
    }
    if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (error)
            *error = std::string("describing groups: ") + rd_kafka_event_error_string(ev.get());
        return false;
    }
    std::size_t count = 0;
    const rd_kafka_ConsumerGroupDescription_t **groups =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &count);
    for (std::size_t i = 0; i < count; ++i) {
        const rd_kafka_ConsumerGroupDescription_t *g = groups[i];
        const std::string id = rd_kafka_ConsumerGroupDescription_group_id(g);
        if (const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(g)) {
            errors[id] = std::string("describing the group: ") + rd_kafka_error_string(e);
            continue;
        }
        GroupDescription d;
        d.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(g));
        if (const char *a = rd_kafka_ConsumerGroupDescription_partition_assignor(g))
            d.assignor = a;
        if (const rd_kafka_Node_t *node = rd_kafka_ConsumerGroupDescription_coordinator(g))
            d.coordinator = rd_kafka_Node_id(node);
        const std::size_t members = rd_kafka_ConsumerGroupDescription_member_count(g);
        for (std::size_t m = 0; m < members; ++m) {
            const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(g, m);
            GroupMember member;
            auto text = [](const char *s) {
                return s ? std::string(s) : std::string();
            };
            member.memberId = text(rd_kafka_MemberDescription_consumer_id(md));
            member.clientId = text(rd_kafka_MemberDescription_client_id(md));
            member.host = text(rd_kafka_MemberDescription_host(md));
            if (const rd_kafka_MemberAssignment_t *a = rd_kafka_MemberDescription_assignment(md)) {
                const rd_kafka_topic_partition_list_t *parts =
                    rd_kafka_MemberAssignment_partitions(a);
                for (int p = 0; parts && p < parts->cnt; ++p)
                    member.assignment.emplace_back(parts->elems[p].topic,
                                                   parts->elems[p].partition);
                std::sort(member.assignment.begin(), member.assignment.end());
            }
            d.members.push_back(std::move(member));
        }
        std::sort(
            d.members.begin(), d.members.end(),
            [](const GroupMember &a, const GroupMember &b) { return a.memberId < b.memberId; });
        out[id] = std::move(d);
    }
    return true;
}

CommittedOffsets
fetchCommittedOffsets(rd_kafka_t *client,
                      const std::map<std::string, std::vector<PartitionKey>> &requests,
                      bool allowAll, int timeoutMs, const std::atomic<bool> &abort)
{
    CommittedOffsets out;
    if (requests.empty())
        return out;
    const KafkaQueue queue(rd_kafka_queue_new(client));
    std::vector<const std::string *> ids;
    // One request per group (the API takes one group per call), all in flight together; the
    // opaque tells the answers apart.
    for (const auto &[group, partitions] : requests) {
        KafkaPartitionList list;
        if (!partitions.empty() || !allowAll) {
            list = makePartitionList(int(partitions.size()));
            for (const auto &[topic, partition] : partitions)
                rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
        }
        rd_kafka_ListConsumerGroupOffsets_t *request =
            rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list.get());
        const KafkaAdminOptions options =
            coordinatorOptions(client, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
        rd_kafka_AdminOptions_set_opaque(options.get(),
                                         reinterpret_cast<void *>(std::intptr_t(ids.size())));
        ids.push_back(&group);
        rd_kafka_ListConsumerGroupOffsets(client, &request, 1, options.get(), queue.get());
        rd_kafka_ListConsumerGroupOffsets_destroy(request);
    }
    std::vector<bool> answered(ids.size(), false);
    std::size_t left = ids.size();
    const std::int64_t deadline = steadyClockMs() + timeoutMs + 1000;
    while (left > 0) {
        const KafkaEvent ev = waitEvent(queue.get(), deadline, abort);
        if (!ev)
            break;
        const auto index =
            std::size_t(reinterpret_cast<std::intptr_t>(rd_kafka_event_opaque(ev.get())));
        if (index >= ids.size() || answered[index])
            continue;
        answered[index] = true;
        --left;
        const std::string &group = *ids[index];
        if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            out.groupErrors[group] =
                std::string("committed offsets: ") + rd_kafka_event_error_string(ev.get());
            continue;
        }
        std::size_t count = 0;
        const rd_kafka_group_result_t **results = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &count);
        for (std::size_t g = 0; g < count; ++g) {
            if (const rd_kafka_error_t *e = rd_kafka_group_result_error(results[g])) {
                out.groupErrors[group] =
                    std::string("committed offsets: ") + rd_kafka_error_string(e);
                continue;
            }
            auto &offsets = out.offsets[group]; // present even when nothing came back
            const rd_kafka_topic_partition_list_t *parts =
                rd_kafka_group_result_partitions(results[g]);
            for (int i = 0; parts && i < parts->cnt; ++i) {
                const rd_kafka_topic_partition_t &tp = parts->elems[i];
                const PartitionKey key{tp.topic, tp.partition};
                if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR)
                    out.partitionErrors[group][key] =
                        std::string("committed offset: ") + rd_kafka_err2str(tp.err);
                else
                    offsets[key] = tp.offset >= 0 ? tp.offset : -1;
            }
        }
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (!answered[i] && !abort)
            out.groupErrors[*ids[i]] = "committed offsets: " + noAnswer(timeoutMs);
    return out;
}

KafkaHandle createTimestampReader(const ClusterConfig &cluster, std::string *error)
{
    KafkaConf conf = makeKafkaConf(cluster,
                                   {{"group.id", kReaderGroupId},
                                    {"enable.auto.commit", "false"},
                                    {"enable.auto.offset.store", "false"},
                                    {"auto.offset.reset", "earliest"},
                                    {"enable.partition.eof", "false"},
                                    {"fetch.wait.max.ms", "10"},
                                    // One message per partition is wanted: fetch little.
                                    {"max.partition.fetch.bytes", "65536"},
                                    {"fetch.max.bytes", "1048576"},
                                    {"queued.max.messages.kbytes", "4096"}},
                                   error);
    if (!conf)
        return nullptr;
    KafkaHandle reader = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), error);
    if (reader)
        rd_kafka_poll_set_consumer(reader.get());
    return reader;
}

bool readMessageTimestamps(rd_kafka_t *reader,
                           std::map<PartitionKey, std::pair<std::int64_t, std::int64_t>> &wanted,
                           int timeoutMs, const std::atomic<bool> &abort, std::string *error)
{
    if (wanted.empty())
        return true;
    const KafkaPartitionList list = makePartitionList(int(wanted.size()));
    for (const auto &[key, want] : wanted)
        rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second)->offset =
            want.first;
    if (const rd_kafka_resp_err_t err = rd_kafka_assign(reader, list.get())) {
        if (error)
            *error = std::string("next-message timestamps: ") + rd_kafka_err2str(err);
        return false;
    }
    std::size_t left = wanted.size();
    const std::int64_t deadline = steadyClockMs() + timeoutMs;
    while (left > 0 && !abort) {
        const std::int64_t wait = deadline - steadyClockMs();
        if (wait <= 0)
            break;
        const KafkaMessage m(rd_kafka_consumer_poll(reader, int(std::min<std::int64_t>(wait, 50))));
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->rkt) {
            auto it = wanted.find({rd_kafka_topic_name(m->rkt), m->partition});
            // The first message at or after the wanted offset (after it: control records, or
            // retention removed it). Counted as read even without a timestamp (-1).
            if (it != wanted.end() && it->second.second == -2 && m->offset >= it->second.first) {
                it->second.second = rd_kafka_message_timestamp(m.get(), nullptr);
                --left;
            }
        }
    }
    rd_kafka_assign(reader, nullptr);
    return true;
}

} // namespace studio::core
