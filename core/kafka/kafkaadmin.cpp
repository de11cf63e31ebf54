// KafkaAdmin: connection, topics, ACLs and produce (groups: kafkagroupadmin.cpp).
#include "core/kafka/kafkaadmin.h"

#include "core/common/timeutil.h"
#include "core/kafka/kafkaadminsupport.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cctype>
#include <tuple>

namespace studio::core {

namespace admindetail {

KafkaAdminOptions makeOptions(rd_kafka_t *client, rd_kafka_admin_op_t op, int requestTimeoutMs,
                              int operationTimeoutMs)
{
    char errstr[256];
    KafkaAdminOptions options(rd_kafka_AdminOptions_new(client, op));
    rd_kafka_AdminOptions_set_request_timeout(options.get(), requestTimeoutMs, errstr,
                                              sizeof errstr);
    if (operationTimeoutMs >= 0)
        rd_kafka_AdminOptions_set_operation_timeout(options.get(), operationTimeoutMs, errstr,
                                                    sizeof errstr);
    return options;
}

// The answer in `queue` within `timeoutMs` (plus a second for librdkafka's own timeout to fire
// first), else null and `*error` says so.
KafkaEvent waitAnswer(rd_kafka_t *client, rd_kafka_queue_t *queue, int timeoutMs,
                      const std::string &what, std::string *error)
{
    const std::int64_t deadline = steadyClockMs() + timeoutMs + 1000;
    for (;;) {
        const std::int64_t left = deadline - steadyClockMs();
        if (left <= 0)
            break;
        if (KafkaEvent ev{rd_kafka_queue_poll(queue, int(std::min<std::int64_t>(left, kSliceMs)))})
            return ev;
    }
    if (error)
        *error = withClientError(what + ": no answer within " + std::to_string(timeoutMs) + " ms",
                                 client);
    return nullptr;
}

// The event's request-level error as "what: Kafka's text", or empty.
std::string eventError(rd_kafka_event_t *ev, const std::string &what)
{
    if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR)
        return {};
    return what + ": " + rd_kafka_event_error_string(ev);
}

KafkaEvent waitSuccess(rd_kafka_t *client, rd_kafka_queue_t *queue, int timeoutMs,
                       const std::string &what, std::string *error)
{
    KafkaEvent ev = waitAnswer(client, queue, timeoutMs, what, error);
    if (!ev)
        return nullptr;
    if (std::string e = eventError(ev.get(), what); !e.empty()) {
        if (error)
            *error = std::move(e);
        return nullptr;
    }
    return ev;
}

} // namespace admindetail

using namespace admindetail;

namespace {

/// False with "what: Kafka's text" for the first topic of a topic-level answer that failed.
bool topicResultsOk(const rd_kafka_topic_result_t **topics, std::size_t count,
                    const std::string &what, std::string *error)
{
    for (std::size_t t = 0; t < count; ++t)
        if (rd_kafka_topic_result_error(topics[t]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (error)
                *error = what + ": " + rd_kafka_topic_result_error_string(topics[t]);
            return false;
        }
    return true;
}

} // namespace

namespace {

std::string configSourceText(rd_kafka_ConfigSource_t source)
{
    switch (source) {
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG:
        return "topic override";
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG:
        return "broker (dynamic)";
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG:
        return "broker default (dynamic)";
    case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG:
        return "broker";
    case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG:
        return "default";
    default:
        return "unknown";
    }
}

std::optional<rd_kafka_ResourceType_t> parseResourceType(const std::string &text)
{
    std::string t;
    for (const char c : text)
        t += char(std::tolower(static_cast<unsigned char>(c)));
    if (t.empty() || t == "any")
        return RD_KAFKA_RESOURCE_ANY;
    if (t == "topic")
        return RD_KAFKA_RESOURCE_TOPIC;
    if (t == "group")
        return RD_KAFKA_RESOURCE_GROUP;
    if (t == "cluster" || t == "broker")
        return RD_KAFKA_RESOURCE_BROKER; // Kafka's CLUSTER resource (same wire value, 4)
    return std::nullopt;
}

std::string resourceTypeText(rd_kafka_ResourceType_t type)
{
    switch (type) {
    case RD_KAFKA_RESOURCE_TOPIC:
        return "Topic";
    case RD_KAFKA_RESOURCE_GROUP:
        return "Group";
    case RD_KAFKA_RESOURCE_BROKER:
        return "Cluster";
    default:
        return rd_kafka_ResourceType_name(type);
    }
}

struct ProduceState
{
    std::vector<DeliveryReport> *reports = nullptr;
    std::size_t done = 0;
};

void onDelivery(rd_kafka_t *, const rd_kafka_message_t *m, void *opaque)
{
    auto *state = static_cast<ProduceState *>(opaque);
    const auto index = std::size_t(reinterpret_cast<std::intptr_t>(m->_private));
    if (index < state->reports->size()) {
        DeliveryReport &r = (*state->reports)[index];
        r.partition = m->partition;
        r.offset = m->offset;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            r.error = rd_kafka_err2str(m->err);
    }
    ++state->done;
}

} // namespace

KafkaAdmin::KafkaAdmin(ClusterConfig cluster, int timeoutMs)
    : m_cluster(std::move(cluster))
    , m_timeoutMs(timeoutMs)
{
}

KafkaAdmin::~KafkaAdmin() = default;

bool KafkaAdmin::connect(std::string *error)
{
    KafkaConf conf = makeKafkaConf(m_cluster, {}, error);
    if (!conf)
        return false;
    m_client = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), error);
    if (!m_client)
        return false;
    // In slices, so a refused login or TLS handshake ends the wait at once (librdkafka keeps
    // retrying those until the deadline).
    const std::int64_t deadline = steadyClockMs() + m_timeoutMs;
    char *id = nullptr;
    while (!id) {
        id = rd_kafka_clusterid(m_client.get(), kSliceMs);
        if (id)
            break;
        rd_kafka_poll(m_client.get(), 0); // serves the error callback
        const std::string last = lastClientError(m_client.get());
        const bool refused = last.find("_AUTHENTICATION") != std::string::npos ||
                             last.find("_SSL") != std::string::npos;
        if (refused || steadyClockMs() >= deadline) {
            if (error)
                *error = withClientError(refused ? std::string("the cluster refused the connection")
                                                 : "cannot reach the cluster within " +
                                                       std::to_string(m_timeoutMs) + " ms",
                                         m_client.get());
            return false;
        }
    }
    m_embedded = std::string(id).rfind("mockCluster", 0) == 0;
    rd_kafka_mem_free(m_client.get(), id);
    return true;
}

std::string KafkaAdmin::embeddedRefusal(const std::string &what) const
{
    return what + " is not possible on the embedded broker (librdkafka's in-memory mock cluster " +
           "has no such request); use a real Kafka cluster";
}

std::optional<std::vector<std::int32_t>> KafkaAdmin::topicPartitions(const std::string &topic,
                                                                     std::string *error)
{
    const KafkaTopic handle(rd_kafka_topic_new(m_client.get(), topic.c_str(), nullptr));
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    const KafkaMetadata md =
        requestMetadata(m_client.get(), false, handle.get(), m_timeoutMs, &err);
    if (!md) {
        if (error)
            *error = withClientError("metadata of '" + topic + "': " + rd_kafka_err2str(err),
                                     m_client.get());
        return std::nullopt;
    }
    for (int t = 0; t < md->topic_cnt; ++t) {
        const rd_kafka_metadata_topic &mt = md->topics[t];
        if (topic != mt.topic)
            continue;
        if (mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (error)
                *error = "topic '" + topic + "': " + rd_kafka_err2str(mt.err);
            return std::nullopt;
        }
        std::vector<std::int32_t> out;
        for (int p = 0; p < mt.partition_cnt; ++p)
            out.push_back(mt.partitions[p].id);
        std::sort(out.begin(), out.end());
        return out;
    }
    if (error)
        *error = "no topic '" + topic + "'";
    return std::nullopt;
}

// ---- Topics -----------------------------------------------------------------------------------

std::optional<std::vector<TopicConfigEntry>>
KafkaAdmin::describeTopicConfigs(const std::string &topic, std::string *error)
{
    // The mock has no controller: DescribeConfigs would only time out.
    if (m_embedded) {
        if (error)
            *error = embeddedRefusal("describing topic configs");
        return std::nullopt;
    }
    rd_kafka_ConfigResource_t *resource =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, m_timeoutMs);
    rd_kafka_DescribeConfigs(m_client.get(), &resource, 1, options.get(), queue.get());
    rd_kafka_ConfigResource_destroy(resource);
    const std::string what = "configs of topic '" + topic + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return std::nullopt;
    std::size_t count = 0;
    const rd_kafka_ConfigResource_t **resources = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev.get()), &count);
    std::vector<TopicConfigEntry> out;
    for (std::size_t r = 0; r < count; ++r) {
        if (rd_kafka_ConfigResource_error(resources[r]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (error)
                *error = what + ": " + rd_kafka_ConfigResource_error_string(resources[r]);
            return std::nullopt;
        }
        std::size_t n = 0;
        const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(resources[r], &n);
        for (std::size_t i = 0; i < n; ++i) {
            TopicConfigEntry e;
            e.name = rd_kafka_ConfigEntry_name(entries[i]);
            if (const char *v = rd_kafka_ConfigEntry_value(entries[i])) {
                e.value = v;
                e.hasValue = true;
            }
            e.source = configSourceText(rd_kafka_ConfigEntry_source(entries[i]));
            e.readOnly = rd_kafka_ConfigEntry_is_read_only(entries[i]) != 0;
            e.sensitive = rd_kafka_ConfigEntry_is_sensitive(entries[i]) != 0;
            e.isDefault = rd_kafka_ConfigEntry_is_default(entries[i]) != 0;
            out.push_back(std::move(e));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const TopicConfigEntry &a, const TopicConfigEntry &b) { return a.name < b.name; });
    return out;
}

bool KafkaAdmin::alterTopicConfigs(const std::string &topic,
                                   const std::vector<std::pair<std::string, std::string>> &changes,
                                   std::string *error)
{
    if (m_embedded) {
        if (error)
            *error = embeddedRefusal("altering topic configs");
        return false;
    }
    // librdkafka 2.0.2 has no IncrementalAlterConfigs, and AlterConfigs replaces ALL of a
    // topic's overrides with the set it is sent (an override not sent goes back to its default).
    // So read the current overrides first and send every one of them back beside the change.
    // (A concurrent change by someone else between the two requests would be undone.)
    const auto current = describeTopicConfigs(topic, error);
    if (!current)
        return false;
    std::map<std::string, std::string> overrides;
    for (const auto &e : *current) {
        if (e.source != "topic override")
            continue;
        if (!e.hasValue) {
            if (error)
                *error = "topic '" + topic + "' has a sensitive override (" + e.name +
                         ") whose value Kafka does not reveal; altering configs would drop it";
            return false;
        }
        overrides[e.name] = e.value;
    }
    for (const auto &[name, value] : changes)
        overrides[name] = value;
    rd_kafka_ConfigResource_t *resource =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    for (const auto &[name, value] : overrides)
        rd_kafka_ConfigResource_set_config(resource, name.c_str(), value.c_str());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_ALTERCONFIGS, m_timeoutMs);
    rd_kafka_AlterConfigs(m_client.get(), &resource, 1, options.get(), queue.get());
    rd_kafka_ConfigResource_destroy(resource);
    const std::string what = "altering configs of topic '" + topic + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return false;
    std::size_t count = 0;
    const rd_kafka_ConfigResource_t **resources = rd_kafka_AlterConfigs_result_resources(
        rd_kafka_event_AlterConfigs_result(ev.get()), &count);
    for (std::size_t r = 0; r < count; ++r)
        if (rd_kafka_ConfigResource_error(resources[r]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (error)
                *error = what + ": " + rd_kafka_ConfigResource_error_string(resources[r]);
            return false;
        }
    return true;
}

bool KafkaAdmin::createPartitions(const std::string &topic, int newTotal, std::string *error)
{
    if (m_embedded) {
        if (error)
            *error = embeddedRefusal("adding partitions");
        return false;
    }
    char errstr[256];
    rd_kafka_NewPartitions_t *request =
        rd_kafka_NewPartitions_new(topic.c_str(), std::size_t(newTotal), errstr, sizeof errstr);
    if (!request) {
        if (error)
            *error = std::string("adding partitions: ") + errstr;
        return false;
    }
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, m_timeoutMs, m_timeoutMs);
    rd_kafka_CreatePartitions(m_client.get(), &request, 1, options.get(), queue.get());
    rd_kafka_NewPartitions_destroy(request);
    const std::string what = "adding partitions to topic '" + topic + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return false;
    std::size_t count = 0;
    const rd_kafka_topic_result_t **topics = rd_kafka_CreatePartitions_result_topics(
        rd_kafka_event_CreatePartitions_result(ev.get()), &count);
    return topicResultsOk(topics, count, what, error);
}

bool KafkaAdmin::deleteTopic(const std::string &topic, std::string *error)
{
    if (m_embedded) {
        if (error)
            *error = embeddedRefusal("deleting a topic");
        return false;
    }
    rd_kafka_DeleteTopic_t *request = rd_kafka_DeleteTopic_new(topic.c_str());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, m_timeoutMs, m_timeoutMs);
    rd_kafka_DeleteTopics(m_client.get(), &request, 1, options.get(), queue.get());
    rd_kafka_DeleteTopic_destroy(request);
    const std::string what = "deleting topic '" + topic + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return false;
    std::size_t count = 0;
    const rd_kafka_topic_result_t **topics =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &count);
    return topicResultsOk(topics, count, what, error);
}

std::optional<std::vector<DeletedRecords>>
KafkaAdmin::deleteRecords(const std::string &topic, const std::vector<std::int32_t> &partitions,
                          std::int64_t beforeOffset, std::string *error)
{
    if (m_embedded) {
        if (error)
            *error = embeddedRefusal("deleting records");
        return std::nullopt;
    }
    std::vector<std::int32_t> ids = partitions;
    if (ids.empty()) {
        const auto all = topicPartitions(topic, error);
        if (!all)
            return std::nullopt;
        ids = *all;
    }
    const KafkaPartitionList list = makePartitionList(int(ids.size()));
    for (const auto id : ids)
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), id)->offset =
            beforeOffset < 0 ? RD_KAFKA_OFFSET_END : beforeOffset;
    rd_kafka_DeleteRecords_t *request = rd_kafka_DeleteRecords_new(list.get());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_DELETERECORDS, m_timeoutMs, m_timeoutMs);
    rd_kafka_DeleteRecords(m_client.get(), &request, 1, options.get(), queue.get());
    rd_kafka_DeleteRecords_destroy(request);
    const std::string what = "deleting records of topic '" + topic + "'";
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return std::nullopt;
    const rd_kafka_topic_partition_list_t *offsets =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev.get()));
    std::vector<DeletedRecords> out;
    for (int i = 0; offsets && i < offsets->cnt; ++i) {
        DeletedRecords d;
        d.partition = offsets->elems[i].partition;
        d.lowWatermark = offsets->elems[i].offset;
        if (offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
            d.error = rd_kafka_err2str(offsets->elems[i].err);
        out.push_back(std::move(d));
    }
    std::sort(out.begin(), out.end(), [](const DeletedRecords &a, const DeletedRecords &b) {
        return a.partition < b.partition;
    });
    return out;
}

// ---- ACLs -------------------------------------------------------------------------------------

std::optional<std::string> KafkaAdmin::brokerConfig(const std::string &name, std::string *error)
{
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    const KafkaMetadata md = requestMetadata(m_client.get(), false, nullptr, m_timeoutMs, &err);
    if (!md || md->broker_cnt == 0) {
        if (error)
            *error =
                withClientError(std::string("metadata: ") + rd_kafka_err2str(err), m_client.get());
        return std::nullopt;
    }
    const std::string broker = std::to_string(md->brokers[0].id);
    rd_kafka_ConfigResource_t *resource =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, broker.c_str());
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, m_timeoutMs);
    rd_kafka_DescribeConfigs(m_client.get(), &resource, 1, options.get(), queue.get());
    rd_kafka_ConfigResource_destroy(resource);
    const std::string what = "configs of broker " + broker;
    const KafkaEvent ev = waitSuccess(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return std::nullopt;
    std::size_t count = 0;
    const rd_kafka_ConfigResource_t **resources = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev.get()), &count);
    for (std::size_t r = 0; r < count; ++r) {
        if (rd_kafka_ConfigResource_error(resources[r]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (error)
                *error = what + ": " + rd_kafka_ConfigResource_error_string(resources[r]);
            return std::nullopt;
        }
        std::size_t n = 0;
        const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(resources[r], &n);
        for (std::size_t i = 0; i < n; ++i)
            if (name == rd_kafka_ConfigEntry_name(entries[i])) {
                const char *v = rd_kafka_ConfigEntry_value(entries[i]);
                return v ? std::string(v) : std::string();
            }
    }
    return std::string();
}

std::optional<AclListing> KafkaAdmin::describeAcls(const AclFilter &filter, std::string *error)
{
    if (m_embedded) {
        if (error)
            *error = embeddedRefusal("listing ACLs");
        return std::nullopt;
    }
    const auto type = parseResourceType(filter.resourceType);
    if (!type) {
        if (error)
            *error = "resource type '" + filter.resourceType +
                     "' is not one of topic, group, cluster (librdkafka 2.0.2 knows no others)";
        return std::nullopt;
    }
    char errstr[256];
    rd_kafka_AclBindingFilter_t *request = rd_kafka_AclBindingFilter_new(
        *type, filter.resourceName.empty() ? nullptr : filter.resourceName.c_str(),
        filter.resourceName.empty() ? RD_KAFKA_RESOURCE_PATTERN_ANY
                                    : RD_KAFKA_RESOURCE_PATTERN_MATCH,
        filter.principal.empty() ? nullptr : filter.principal.c_str(), nullptr,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof errstr);
    if (!request) {
        if (error)
            *error = std::string("ACL filter: ") + errstr;
        return std::nullopt;
    }
    const KafkaQueue queue(rd_kafka_queue_new(m_client.get()));
    const KafkaAdminOptions options =
        makeOptions(m_client.get(), RD_KAFKA_ADMIN_OP_DESCRIBEACLS, m_timeoutMs);
    rd_kafka_DescribeAcls(m_client.get(), request, options.get(), queue.get());
    rd_kafka_AclBinding_destroy(request);
    const std::string what = "describing ACLs";
    const KafkaEvent ev = waitAnswer(m_client.get(), queue.get(), m_timeoutMs, what, error);
    if (!ev)
        return std::nullopt;
    if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (error) {
            *error =
                rd_kafka_event_error(ev.get()) == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED
                    ? "not authorised to describe ACLs (Describe on the cluster is needed): "
                    : "describing ACLs: ";
            *error += rd_kafka_event_error_string(ev.get());
        }
        return std::nullopt;
    }
    std::size_t count = 0;
    const rd_kafka_AclBinding_t **acls =
        rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev.get()), &count);
    std::vector<AclEntry> out;
    auto text = [](const char *s) {
        return s ? std::string(s) : std::string();
    };
    for (std::size_t i = 0; i < count; ++i) {
        AclEntry a;
        a.principal = text(rd_kafka_AclBinding_principal(acls[i]));
        a.host = text(rd_kafka_AclBinding_host(acls[i]));
        a.operation = rd_kafka_AclOperation_name(rd_kafka_AclBinding_operation(acls[i]));
        a.permission =
            rd_kafka_AclPermissionType_name(rd_kafka_AclBinding_permission_type(acls[i]));
        a.resourceType = resourceTypeText(rd_kafka_AclBinding_restype(acls[i]));
        a.resourceName = text(rd_kafka_AclBinding_name(acls[i]));
        a.patternType =
            rd_kafka_ResourcePatternType_name(rd_kafka_AclBinding_resource_pattern_type(acls[i]));
        out.push_back(std::move(a));
    }
    std::sort(out.begin(), out.end(), [](const AclEntry &a, const AclEntry &b) {
        return std::tie(a.principal, a.resourceType, a.resourceName, a.operation) <
               std::tie(b.principal, b.resourceType, b.resourceName, b.operation);
    });
    AclListing listing;
    listing.acls = std::move(out);
    if (!listing.acls.empty())
        return listing;
    // Empty: librdkafka 2.0.2 dropped DescribeAcls' error code, if there was one. Ask the
    // broker for its authorizer: a refusal there means no rights on the cluster at all.
    std::string why;
    const auto authorizer = brokerConfig("authorizer.class.name", &why);
    if (!authorizer) {
        if (error)
            *error = "not authorised to describe ACLs (the cluster refused even to describe its "
                     "configs: " +
                     why + ")";
        return std::nullopt;
    }
    listing.authorizerKnown = true;
    listing.authorizer = *authorizer;
    if (listing.authorizer.empty())
        listing.warning = "the cluster has no authorizer (authorizer.class.name is empty): ACLs "
                          "are not enforced";
    else
        listing.warning = "no ACLs in the answer; note that librdkafka 2.0.2 drops Kafka's "
                          "error code here, so this can also mean you may not describe ACLs "
                          "(Describe on the cluster)";
    return listing;
}

// ---- Produce ----------------------------------------------------------------------------------

std::optional<std::vector<DeliveryReport>> KafkaAdmin::produce(const ProduceRequest &request,
                                                               std::string *error)
{
    std::vector<DeliveryReport> reports(std::size_t(std::max(0, request.copies)));
    ProduceState state;
    state.reports = &reports;
    KafkaConf conf = makeKafkaConf(m_cluster,
                                   {{"acks", "all"},
                                    {"enable.idempotence", "true"},
                                    {"linger.ms", "5"},
                                    {"message.timeout.ms", std::to_string(m_timeoutMs)}},
                                   error);
    if (!conf)
        return std::nullopt;
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &onDelivery);
    rd_kafka_conf_set_opaque(conf.get(), &state);
    KafkaHandle producer = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), error);
    if (!producer)
        return std::nullopt;
    const void *keyData = request.key ? request.key->data() : nullptr;
    const std::size_t keySize = request.key ? request.key->size() : 0;
    for (std::size_t i = 0; i < reports.size(); ++i) {
        KafkaHeaders headers(rd_kafka_headers_new(request.headers.size()));
        for (const auto &[name, value] : request.headers)
            rd_kafka_header_add(headers.get(), name.c_str(), ssize_t(name.size()), value.data(),
                                ssize_t(value.size()));
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (;;) {
            err = rd_kafka_producev(
                producer.get(), RD_KAFKA_V_TOPIC(request.topic.c_str()),
                RD_KAFKA_V_PARTITION(request.partition < 0 ? RD_KAFKA_PARTITION_UA
                                                           : request.partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(keyData, keySize),
                RD_KAFKA_V_VALUE(const_cast<char *>(request.value.data()), request.value.size()),
                RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_TIMESTAMP(request.timestampMs),
                RD_KAFKA_V_OPAQUE(reinterpret_cast<void *>(std::intptr_t(i))), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(producer.get(), 50);
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            // This one and the rest are not sent; those already queued are still reported.
            for (std::size_t j = i; j < reports.size(); ++j)
                reports[j].error = std::string("not sent: ") + rd_kafka_err2str(err);
            state.done += reports.size() - i;
            break;
        }
        (void)headers.release(); // rd_kafka_producev took them over
    }
    // Every message either is delivered or fails by message.timeout.ms; a second beyond it.
    const std::int64_t deadline = steadyClockMs() + m_timeoutMs + 1000;
    while (state.done < reports.size() && steadyClockMs() < deadline)
        rd_kafka_poll(producer.get(), 50);
    if (state.done < reports.size()) {
        if (error)
            *error = withClientError(
                "no delivery report within " + std::to_string(m_timeoutMs) + " ms", producer.get());
        return std::nullopt;
    }
    return reports;
}

} // namespace studio::core
