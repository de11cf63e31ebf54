#pragma once

#include "core/kafka/clusterconfig.h"

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace studio::core {

// ---- Owners of librdkafka objects ------------------------------------------------------------
// One std::unique_ptr type per kind of object, each calling that kind's own destroy function, so
// no file declares a deleter of its own and no early return leaks. Where librdkafka hands an
// object over through an out-parameter, take it at once: `KafkaPartitionList list(raw);`.

namespace kafkadetail {
/// Calls `Destroy` on a non-null pointer (not every librdkafka destroy function accepts null).
template <auto Destroy> struct Destroyer
{
    template <typename T> void operator()(T *object) const noexcept
    {
        if (object)
            Destroy(object);
    }
};
/// rd_kafka_destroy, then forgetClientError: every owner of a client drops its last error.
void destroyClient(rd_kafka_t *client);
/// The same without the consumer close (RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE).
void destroyWithoutConsumerClose(rd_kafka_t *client);
} // namespace kafkadetail

/// A client (producer, consumer or admin); destroying it closes the client, which for a
/// subscribed consumer leaves the group first (rd_kafka_destroy), and forgets its last
/// client-level error (forgetClientError).
using KafkaHandle =
    std::unique_ptr<rd_kafka_t, kafkadetail::Destroyer<&kafkadetail::destroyClient>>;
/// A consumer that only ever assign()s partitions and never joins its group: destroying it skips
/// the consumer close, a group round trip with nothing to leave or commit that a dead cluster
/// would make wait.
using KafkaAssignOnlyConsumer =
    std::unique_ptr<rd_kafka_t, kafkadetail::Destroyer<&kafkadetail::destroyWithoutConsumerClose>>;
/// A configuration not yet given to rd_kafka_new (which takes it over: release() then).
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, kafkadetail::Destroyer<&rd_kafka_conf_destroy>>;
using KafkaTopic =
    std::unique_ptr<rd_kafka_topic_t, kafkadetail::Destroyer<&rd_kafka_topic_destroy>>;
using KafkaPartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t,
                    kafkadetail::Destroyer<&rd_kafka_topic_partition_list_destroy>>;
using KafkaMessage =
    std::unique_ptr<rd_kafka_message_t, kafkadetail::Destroyer<&rd_kafka_message_destroy>>;
using KafkaMetadata =
    std::unique_ptr<const rd_kafka_metadata_t, kafkadetail::Destroyer<&rd_kafka_metadata_destroy>>;
using KafkaQueue =
    std::unique_ptr<rd_kafka_queue_t, kafkadetail::Destroyer<&rd_kafka_queue_destroy>>;
using KafkaEvent =
    std::unique_ptr<rd_kafka_event_t, kafkadetail::Destroyer<&rd_kafka_event_destroy>>;
using KafkaHeaders =
    std::unique_ptr<rd_kafka_headers_t, kafkadetail::Destroyer<&rd_kafka_headers_destroy>>;
using KafkaAdminOptions = std::unique_ptr<rd_kafka_AdminOptions_t,
                                          kafkadetail::Destroyer<&rd_kafka_AdminOptions_destroy>>;
using KafkaNewTopic =
    std::unique_ptr<rd_kafka_NewTopic_t, kafkadetail::Destroyer<&rd_kafka_NewTopic_destroy>>;

/// Metadata from the brokers within `timeoutMs`: of every topic in the cluster (`allTopics`), or
/// of `onlyTopic`, or else of the topics the client knows. Null with `*error` set when there is
/// no answer. Blocks: call it from a worker thread.
KafkaMetadata requestMetadata(rd_kafka_t *client, bool allTopics, rd_kafka_topic_t *onlyTopic,
                              int timeoutMs, rd_kafka_resp_err_t *error);

/// A list of `size` (a capacity hint) partitions to fill with rd_kafka_topic_partition_list_add.
KafkaPartitionList makePartitionList(int size);

/// Subscribes `consumer` (a group member) to `topic`, all of its partitions.
rd_kafka_resp_err_t subscribeToTopic(rd_kafka_t *consumer, const std::string &topic);

/// The partitions assigned to `consumer` now; null when librdkafka cannot say.
KafkaPartitionList currentAssignment(rd_kafka_t *consumer);

using Properties = std::vector<std::pair<std::string, std::string>>;

/// Receives librdkafka's log lines (level as syslog: 3 error, 4 warning, ...). Set once at
/// start-up, before any client exists; the default writes to stderr. Called from librdkafka's
/// threads.
using KafkaLogHandler = void (*)(int level, const char *facility, const char *message);
void setKafkaLogHandler(KafkaLogHandler handler);

/// "Kafka: <error name>: <reason>", the text for a client-level error callback.
std::string kafkaErrorText(int err, const char *reason);

/// The last client-level error librdkafka reported for `client` (a failed SASL login, a TLS
/// handshake refused, all brokers down, ...) as kafkaErrorText, with a hint where the cause is
/// known to be subtle; empty when none came. A request that merely timed out says nothing about
/// why; this does. Recorded for every client made from makeKafkaConf() unless its caller installs
/// an error callback of its own. Thread-safe.
std::string lastClientError(const rd_kafka_t *client);

/// Drops what lastClientError() holds for `client`; KafkaHandle and KafkaAssignOnlyConsumer do it
/// on destruction, anyone destroying a client another way calls this right after.
void forgetClientError(const rd_kafka_t *client);

/// `message` followed by " (<lastClientError>)" when there is one.
std::string withClientError(std::string message, const rd_kafka_t *client);

/// A conf with the cluster's properties, then `overrides` (later wins). On a bad property returns
/// null and a message naming the property (never its value, which may be a secret).
KafkaConf makeKafkaConf(const ClusterConfig &cluster, const Properties &overrides,
                        std::string *error);

/// Creates a client from `conf` (consumed whatever happens).
KafkaHandle createKafkaClient(rd_kafka_type_t type, KafkaConf conf, std::string *error);

struct PartitionWatermarks
{
    std::int32_t partition = 0;
    std::int64_t low = 0;
    std::int64_t high = 0;
};

/// Partitions of `topic` with their low and high watermarks, asked of the brokers. Blocks for up
/// to about `timeoutMs` per request: call it from a worker thread, never the GUI thread.
std::optional<std::vector<PartitionWatermarks>> queryTopicWatermarks(rd_kafka_t *client,
                                                                     const std::string &topic,
                                                                     int timeoutMs,
                                                                     std::string *error);

struct TopicPartitionWatermarks
{
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t low = -1; ///< -1 when the broker did not answer for this partition
    std::int64_t high = -1;
    int error = 0; ///< rd_kafka_resp_err_t of this partition's answer
};

/// Low and high watermarks of many partitions at once: two ListOffsets requests per partition
/// leader (earliest, latest) instead of one round trip per partition, so thousands of partitions
/// cost a few requests. Fills `partitions` in place (topic and partition set by the caller).
/// Returns false with a message when the whole request failed (then nothing is filled); a
/// partition-level failure only sets that entry's `error`. Blocks up to ~2 x `timeoutMs`: call it
/// from a worker thread.
bool queryWatermarks(rd_kafka_t *client, std::vector<TopicPartitionWatermarks> &partitions,
                     int timeoutMs, std::string *error);

/// Sum of the high watermarks: the number of messages ever appended to the topic.
std::int64_t sumHighWatermarks(const std::vector<PartitionWatermarks> &partitions);

} // namespace studio::core
