// KafkaAdmin's consumer-group operations: offset reset (plan and commit) and deletion.
#include "core/kafka/kafkaadmin.h"

#include "core/common/timeutil.h"
#include "core/kafka/kafkaadminsupport.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>

namespace studio::core {

using namespace admindetail;

namespace {

using PartitionKey = std::pair<std::string, std::int32_t>;

std::optional<std::int64_t> parseInt(const std::string &text)
{
    std::int64_t v = 0;
    const char *begin = text.data();
    if (!text.empty() && text[0] == '+')
        ++begin;
    const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || begin == text.data() + text.size())
        return std::nullopt;
    return v;
}

} // namespace

std::string activeGroupRefusal(const OffsetResetPlan &plan)
{
    // Kafka's own words (kafka-consumer-groups --reset-offsets); a commit would be refused by
    // the broker too (UNKNOWN_MEMBER_ID: the admin is not one of the members).
    return "Assignments can only be reset if the group '" + plan.group +
           "' is inactive, but the current state is " + plan.state + " (" +
           std::to_string(plan.activeMembers) + " active member(s)): stop its consumers first";
}

std::optional<OffsetResetSpec> OffsetResetSpec::parse(const std::string &text)
{
    OffsetResetSpec s;
    if (text == "earliest") {
        s.kind = Kind::Earliest;
        return s;
    }
    if (text == "latest") {
        s.kind = Kind::Latest;
        return s;
    }
    for (const auto &[prefix, kind] :
         {std::pair<std::string, Kind>{"offset:", Kind::Offset}, {"shift:", Kind::Shift}}) {
        if (text.rfind(prefix, 0) == 0) {
            const auto v = parseInt(text.substr(prefix.size()));
            if (!v || (kind == Kind::Offset && *v < 0))
                return std::nullopt;
            s.kind = kind;
            s.value = *v;
            return s;
        }
    }
    if (const auto ms = parseIsoMs(text)) {
        s.kind = Kind::Timestamp;
        s.value = *ms;
        return s;
    }
    return std::nullopt;
}

// ---- Consumer groups --------------------------------------------------------------------------

std::optional<std::map<PartitionKey, std::int64_t>>
KafkaAdmin::committedOffsets(const std::string &group, const std::vector<PartitionKey> &partitions,
                             std::string *error)
{
    KafkaPartitionList list;
    if (!partitions.empty()) {
        list = makePartitionList(int(partitions.size()));
        for (const auto &[topic, partition] : partitions)
            rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
    }
    rd_kafka_ListConsumerGroupOffsets_t *request =
        rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list.get());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options = makeOptions(
        m_client.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, kCoordinatorRequestTimeoutMs);
    rd_kafka_ListConsumerGroupOffsets(m_client.get(), &request, 1, options.get(), queue.get());
    rd_kafka_ListConsumerGroupOffsets_destroy(request);
    const std::string what = "committed offsets of group '" + group + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return std::nullopt;
    std::size_t count = 0;
    const rd_kafka_group_result_t **groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &count);
    std::map<PartitionKey, std::int64_t> out;
    for (std::size_t g = 0; g < count; ++g) {
        if (const rd_kafka_error_t *e = rd_kafka_group_result_error(groups[g])) {
            if (error)
                *error = what + ": " + rd_kafka_error_string(e);
            return std::nullopt;
        }
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(groups[g]);
        for (int i = 0; parts && i < parts->cnt; ++i) {
            const rd_kafka_topic_partition_t &tp = parts->elems[i];
            if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (error)
                    *error = what + ": " + tp.topic + "[" + std::to_string(tp.partition) +
                             "]: " + rd_kafka_err2str(tp.err);
                return std::nullopt;
            }
            out[{tp.topic, tp.partition}] = tp.offset >= 0 ? tp.offset : -1;
        }
    }
    return out;
}

bool KafkaAdmin::describeGroup(const std::string &group, OffsetResetPlan &plan, std::string *error)
{
    const char *names[] = {group.c_str()};
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options = makeOptions(
        m_client.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, kCoordinatorRequestTimeoutMs);
    rd_kafka_DescribeConsumerGroups(m_client.get(), names, 1, options.get(), queue.get());
    const std::string what = "describing group '" + group + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return false;
    std::size_t count = 0;
    const rd_kafka_ConsumerGroupDescription_t **groups =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &count);
    for (std::size_t i = 0; i < count; ++i) {
        if (const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(groups[i])) {
            if (error)
                *error = what + ": " + rd_kafka_error_string(e);
            return false;
        }
        plan.state =
            rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(groups[i]));
        plan.activeMembers = int(rd_kafka_ConsumerGroupDescription_member_count(groups[i]));
    }
    return true;
}

std::optional<OffsetResetPlan>
KafkaAdmin::planOffsetReset(const std::string &group, const std::vector<std::string> &topics,
                            const std::vector<std::int32_t> &partitions,
                            const OffsetResetSpec &spec, std::string *error)
{
    OffsetResetPlan plan;
    plan.group = group;
    if (m_embedded && spec.kind == OffsetResetSpec::Kind::Timestamp) {
        // The mock answers every lookup by time with "none", which would read as "the end of
        // the log": a wrong plan, not a reset to the time asked for.
        if (error)
            *error = embeddedRefusal("a reset to a timestamp (offsets by time)");
        return std::nullopt;
    }
    if (!m_embedded && !describeGroup(group, plan, error))
        return std::nullopt;

    std::vector<PartitionKey> wanted;
    for (const auto &topic : topics) {
        const auto ids = topicPartitions(topic, error);
        if (!ids)
            return std::nullopt;
        for (const auto id : *ids)
            wanted.emplace_back(topic, id);
    }
    if (wanted.empty() && m_embedded) {
        // The mock answers "all committed partitions" with nothing (design.md).
        if (error)
            *error = "the embedded broker cannot tell which partitions a group committed: name "
                     "the topics with --topic";
        return std::nullopt;
    }
    auto committed = committedOffsets(group, wanted, error);
    if (!committed)
        return std::nullopt;
    if (wanted.empty())
        for (const auto &[key, offset] : *committed)
            wanted.push_back(key);
    if (!partitions.empty())
        std::erase_if(wanted, [&](const PartitionKey &k) {
            return std::find(partitions.begin(), partitions.end(), k.second) == partitions.end();
        });
    if (wanted.empty()) {
        if (error)
            *error = "group '" + group + "' has no committed offsets" +
                     (partitions.empty() ? std::string() : " on the partitions given") +
                     ": name its topics with --topic";
        return std::nullopt;
    }
    std::sort(wanted.begin(), wanted.end());

    std::vector<TopicPartitionWatermarks> marks;
    for (const auto &[topic, partition] : wanted)
        marks.push_back({topic, partition, -1, -1, 0});
    if (!queryWatermarks(m_client.get(), marks, m_timeoutMs, error))
        return std::nullopt;

    // Offsets for a timestamp: ListOffsets by time (the first offset whose timestamp is at or
    // after it; none when every message is older: then the end of the log, as Kafka's tool does).
    std::map<PartitionKey, std::int64_t> byTime;
    if (spec.kind == OffsetResetSpec::Kind::Timestamp) {
        const KafkaPartitionList list = makePartitionList(int(wanted.size()));
        for (const auto &[topic, partition] : wanted)
            rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset =
                spec.value;
        const rd_kafka_resp_err_t err =
            rd_kafka_offsets_for_times(m_client.get(), list.get(), m_timeoutMs);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (error)
                *error = withClientError(std::string("offsets for the timestamp: ") +
                                             rd_kafka_err2str(err),
                                         m_client.get());
            return std::nullopt;
        }
        for (int i = 0; i < list->cnt; ++i)
            byTime[{list->elems[i].topic, list->elems[i].partition}] = list->elems[i].offset;
    }

    for (const auto &m : marks) {
        OffsetResetRow row;
        row.topic = m.topic;
        row.partition = m.partition;
        row.low = m.low;
        row.high = m.high;
        const auto c = committed->find({m.topic, m.partition});
        row.oldOffset = c == committed->end() ? -1 : c->second;
        if (m.error != 0 || m.low < 0 || m.high < 0) {
            row.note = std::string("no watermarks: ") +
                       rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(m.error));
            plan.rows.push_back(std::move(row));
            continue;
        }
        std::int64_t target = -1;
        switch (spec.kind) {
        case OffsetResetSpec::Kind::Earliest:
            target = m.low;
            break;
        case OffsetResetSpec::Kind::Latest:
            target = m.high;
            break;
        case OffsetResetSpec::Kind::Offset:
            target = spec.value;
            break;
        case OffsetResetSpec::Kind::Timestamp: {
            const std::int64_t t = byTime[{m.topic, m.partition}];
            target = t >= 0 ? t : m.high;
            break;
        }
        case OffsetResetSpec::Kind::Shift:
            if (row.oldOffset < 0) {
                row.note = "nothing committed to shift from: left alone";
                plan.rows.push_back(std::move(row));
                continue;
            }
            target = row.oldOffset + spec.value;
            break;
        }
        // Like Kafka's own tool: an offset outside the log goes to its nearest end.
        if (target < m.low) {
            row.note = "before the log start " + std::to_string(m.low) + ": moved there";
            target = m.low;
        } else if (target > m.high) {
            row.note = "past the log end " + std::to_string(m.high) + ": moved there";
            target = m.high;
        }
        row.newOffset = target;
        row.lagAfter = m.high - target;
        plan.rows.push_back(std::move(row));
    }
    return plan;
}

bool KafkaAdmin::commitOffsetReset(const OffsetResetPlan &plan, std::string *error)
{
    if (plan.activeMembers > 0) {
        if (error)
            *error = activeGroupRefusal(plan);
        return false;
    }
    const KafkaPartitionList list = makePartitionList(int(plan.rows.size()));
    for (const auto &row : plan.rows)
        if (row.newOffset >= 0)
            rd_kafka_topic_partition_list_add(list.get(), row.topic.c_str(), row.partition)
                ->offset = row.newOffset;
    if (list->cnt == 0) {
        if (error)
            *error = "no partition of group '" + plan.group + "' has a new offset";
        return false;
    }
    rd_kafka_AlterConsumerGroupOffsets_t *request =
        rd_kafka_AlterConsumerGroupOffsets_new(plan.group.c_str(), list.get());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options = makeOptions(
        m_client.get(), RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, kCoordinatorRequestTimeoutMs);
    rd_kafka_AlterConsumerGroupOffsets(m_client.get(), &request, 1, options.get(), queue.get());
    rd_kafka_AlterConsumerGroupOffsets_destroy(request);
    const std::string what = "committing the offsets of group '" + plan.group + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return false;
    std::size_t count = 0;
    const rd_kafka_group_result_t **groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &count);
    for (std::size_t g = 0; g < count; ++g) {
        if (const rd_kafka_error_t *e = rd_kafka_group_result_error(groups[g])) {
            if (error)
                *error = what + ": " + rd_kafka_error_string(e);
            return false;
        }
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(groups[g]);
        for (int i = 0; parts && i < parts->cnt; ++i)
            if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (error)
                    *error = what + ": " + parts->elems[i].topic + "[" +
                             std::to_string(parts->elems[i].partition) +
                             "]: " + rd_kafka_err2str(parts->elems[i].err);
                return false;
            }
    }
    return true;
}

bool KafkaAdmin::deleteGroup(const std::string &group, std::string *error)
{
    // DeleteGroups against the mock deadlocks librdkafka 2.0.2 (upstream #4605): never send it.
    if (m_embedded) {
        if (error)
            *error = embeddedRefusal("deleting a group");
        return false;
    }
    rd_kafka_DeleteGroup_t *request = rd_kafka_DeleteGroup_new(group.c_str());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_DELETEGROUPS, kCoordinatorRequestTimeoutMs);
    rd_kafka_DeleteGroups(m_client.get(), &request, 1, options.get(), queue.get());
    rd_kafka_DeleteGroup_destroy(request);
    const std::string what = "deleting group '" + group + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return false;
    std::size_t count = 0;
    const rd_kafka_group_result_t **groups =
        rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &count);
    for (std::size_t g = 0; g < count; ++g)
        if (const rd_kafka_error_t *e = rd_kafka_group_result_error(groups[g])) {
            if (error)
                *error = what + ": " + rd_kafka_error_string(e);
            return false;
        }
    return true;
}

} // namespace studio::core
