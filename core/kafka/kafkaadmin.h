#pragma once

// The Kafka console's changes to a cluster (what AKHQ, kafbat UI and Kafka's own tools offer):
// consumer-group offset resets and deletion, topic configs, partitions, deletion and record
// deletion, ACL listing, and producing single messages. Plain C++ over librdkafka 2.0.2's admin
// API; every call blocks up to the deadline given at construction (so: never on the GUI thread)
// and fails with Kafka's own error text. One KafkaAdmin per thread.

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace studio::core {

/// Where a group's offsets go: `kind` earliest, latest, timestamp (`value` ms since the epoch),
/// offset (`value`) or shift (by `value`, negative goes back).
struct OffsetResetSpec
{
    enum class Kind { Earliest, Latest, Timestamp, Offset, Shift };
    Kind kind = Kind::Earliest;
    std::int64_t value = 0;

    /// "earliest", "latest", "offset:N", "shift:N" or an ISO-8601 UTC time; nullopt if none.
    static std::optional<OffsetResetSpec> parse(const std::string &text);
};

struct OffsetResetRow
{
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t oldOffset = -1; ///< committed before; -1 when nothing was committed
    std::int64_t newOffset = -1; ///< -1: left alone (see `note`)
    std::int64_t low = -1;
    std::int64_t high = -1;
    std::int64_t lagAfter = -1; ///< high - newOffset
    std::string note;           ///< clamped to the log, nothing to shift from, ...
};

struct OffsetResetPlan
{
    std::string group;
    std::string state;      ///< the group's state as DescribeConsumerGroups said ("" unknown)
    int activeMembers = -1; ///< -1: not known (the embedded broker cannot describe groups)
    std::vector<OffsetResetRow> rows;
};

/// Why a reset of a group with members is refused (Kafka's own tool's words).
std::string activeGroupRefusal(const OffsetResetPlan &plan);

struct TopicConfigEntry
{
    std::string name;
    std::string value; ///< empty for a sensitive value (the broker does not send it)
    bool hasValue = false;
    std::string source; ///< "default", "broker", "broker (dynamic)", "topic override", ...
    bool readOnly = false;
    bool sensitive = false;
    bool isDefault = false;
};

struct AclEntry
{
    std::string principal;
    std::string host;
    std::string operation;
    std::string permission;
    std::string resourceType;
    std::string resourceName;
    std::string patternType;
};

struct AclFilter
{
    std::string principal;    ///< "User:alice"; empty: any
    std::string resourceType; ///< topic, group, cluster, transactional_id, ...; empty: any
    std::string resourceName; ///< empty: any
};

/// What DescribeAcls said. librdkafka 2.0.2 drops the response's error code (a refusal, or a
/// cluster without an authorizer, both arrive as an empty answer), so an empty answer is
/// explained from the broker's `authorizer.class.name` (DescribeConfigs, which does report a
/// refusal).
struct AclListing
{
    std::vector<AclEntry> acls;
    bool authorizerKnown = false;
    std::string authorizer; ///< empty: no authorizer (ACLs not enforced)
    std::string warning;    ///< why an empty answer may not mean "no ACLs"
};

struct DeletedRecords
{
    std::int32_t partition = 0;
    std::int64_t lowWatermark = -1; ///< the partition's first offset now
    std::string error;
};

/// A single message to produce (copies times).
struct ProduceRequest
{
    std::string topic;
    std::int32_t partition = -1; ///< -1: by key (or spread without one)
    std::optional<std::string> key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
    std::int64_t timestampMs = 0; ///< 0: now
    int copies = 1;
};

struct DeliveryReport
{
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    std::string error; ///< empty when delivered
};

class KafkaAdmin
{
public:
    /// Nothing happens until connect().
    KafkaAdmin(ClusterConfig cluster, int timeoutMs);
    ~KafkaAdmin();
    KafkaAdmin(const KafkaAdmin &) = delete;
    KafkaAdmin &operator=(const KafkaAdmin &) = delete;

    /// Creates the client and asks for the cluster's id, telling a real cluster from the
    /// embedded broker (librdkafka's mock, whose id starts with "mockCluster"). False with the
    /// client's own reason (authentication, TLS, unreachable) when no answer came.
    bool connect(std::string *error);
    bool isEmbeddedBroker() const { return m_embedded; }
    const ClusterConfig &cluster() const { return m_cluster; }

    // ---- Consumer groups
    /// Old and new offset and the lag left, per partition: of `topics` (all their partitions)
    /// when given, else of every partition the group committed; only `partitions` when given.
    /// Also the group's state and members (not on the embedded broker, whose answer to
    /// DescribeConsumerGroups deadlocks librdkafka 2.0.2: activeMembers stays -1 there).
    std::optional<OffsetResetPlan> planOffsetReset(const std::string &group,
                                                   const std::vector<std::string> &topics,
                                                   const std::vector<std::int32_t> &partitions,
                                                   const OffsetResetSpec &spec, std::string *error);
    /// Commits the plan's new offsets (AlterConsumerGroupOffsets). Refused while the group has
    /// members; Kafka's own refusal per partition is returned as it came.
    bool commitOffsetReset(const OffsetResetPlan &plan, std::string *error);
    /// DeleteGroups: Kafka refuses a group with members ("The group is not empty").
    bool deleteGroup(const std::string &group, std::string *error);

    // ---- Topics
    std::optional<std::vector<TopicConfigEntry>> describeTopicConfigs(const std::string &topic,
                                                                      std::string *error);
    /// Sets `changes` and keeps the topic's other overrides (see the .cpp: AlterConfigs replaces
    /// them all). Kafka's validation message on a bad value.
    bool alterTopicConfigs(const std::string &topic,
                           const std::vector<std::pair<std::string, std::string>> &changes,
                           std::string *error);
    bool createPartitions(const std::string &topic, int newTotal, std::string *error);
    bool deleteTopic(const std::string &topic, std::string *error);
    /// Deletes the records before `beforeOffset` (-1: all, up to the high watermark) of
    /// `partitions` (empty: every partition of the topic).
    std::optional<std::vector<DeletedRecords>>
    deleteRecords(const std::string &topic, const std::vector<std::int32_t> &partitions,
                  std::int64_t beforeOffset, std::string *error);
    /// Partitions of `topic` from the metadata, sorted; nullopt with the reason.
    std::optional<std::vector<std::int32_t>> topicPartitions(const std::string &topic,
                                                             std::string *error);

    // ---- ACLs
    /// The ACLs that match `filter`. nullopt with "not authorised to describe ACLs ..." when
    /// the user may not (see AclListing).
    std::optional<AclListing> describeAcls(const AclFilter &filter, std::string *error);
    /// One config of one broker (DescribeConfigs of a BROKER resource); nullopt with Kafka's
    /// reason (e.g. "Cluster authorization failed").
    std::optional<std::string> brokerConfig(const std::string &name, std::string *error);

    /// Produces `request.copies` copies (acks=all) and waits for their delivery reports.
    std::optional<std::vector<DeliveryReport>> produce(const ProduceRequest &request,
                                                       std::string *error);

private:
    std::optional<std::map<std::pair<std::string, std::int32_t>, std::int64_t>>
    committedOffsets(const std::string &group,
                     const std::vector<std::pair<std::string, std::int32_t>> &partitions,
                     std::string *error);
    bool describeGroup(const std::string &group, OffsetResetPlan &plan, std::string *error);
    std::string embeddedRefusal(const std::string &what) const;

    ClusterConfig m_cluster;
    int m_timeoutMs;
    KafkaHandle m_client;
    bool m_embedded = false;
};

} // namespace studio::core
