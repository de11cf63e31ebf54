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

struct KafkaHandleDeleter
{
    void operator()(rd_kafka_t *rk) const;
};
/// Owns an rd_kafka_t; destroying it closes the client.
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

struct KafkaConfDeleter
{
    void operator()(rd_kafka_conf_t *conf) const { rd_kafka_conf_destroy(conf); }
};
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;

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

/// Drops what lastClientError() holds for `client`; KafkaHandle does it on destruction, anyone
/// destroying a client another way calls this right after.
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
