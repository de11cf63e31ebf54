#pragma once

// The Kafka requests behind GroupMonitor, each bounded by a deadline and abandoned between
// slices of at most kQuerySliceMs once `abort` is set. Internal to the monitor; no state, so
// each function is as thread-safe as the client handed to it (one thread per client).

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"
#include "core/monitor/groupmonitor.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace studio::core {

using PartitionKey = std::pair<std::string, std::int32_t>;

inline constexpr int kQuerySliceMs = 250;

/// Metadata (all topics, or the topics the client holds handles for), retried in slices until
/// `timeoutMs` passes. Null with a message on failure.
KafkaMetadata fetchMetadata(rd_kafka_t *client, bool allTopics, int timeoutMs,
                            const std::atomic<bool> &abort, std::string *error);

/// The cluster's consumer groups (ListConsumerGroups), sorted by id. Never call it on the
/// embedded broker's behalf for anything but listing: it answers "unsupported" there. Returns
/// false with a message when no answer came; brokers that answered with an error are reported
/// in `error` while the groups of the others are returned (true).
bool listConsumerGroups(rd_kafka_t *client, int timeoutMs, const std::atomic<bool> &abort,
                        std::vector<GroupListing> &groups, std::string *error);

/// DescribeConsumerGroups of `ids` (state, members, assignments, coordinator). Only for groups a
/// real cluster listed: the embedded broker's answer to it deadlocks librdkafka 2.0.2. A group
/// whose description failed is left out of `out` and named in `errors`. False with a message
/// when no answer came within `timeoutMs`.
struct GroupDescription
{
    std::string state;
    std::string assignor;
    std::int32_t coordinator = -1;
    std::vector<GroupMember> members;
};
bool describeConsumerGroups(rd_kafka_t *client, const std::vector<std::string> &ids, int timeoutMs,
                            const std::atomic<bool> &abort,
                            std::map<std::string, GroupDescription> &out,
                            std::map<std::string, std::string> &errors, std::string *error);

struct CommittedOffsets
{
    /// group -> partition -> committed offset (-1: nothing committed)
    std::map<std::string, std::map<PartitionKey, std::int64_t>> offsets;
    std::map<std::string, std::map<PartitionKey, std::string>> partitionErrors;
    std::map<std::string, std::string> groupErrors; ///< the group's request failed as a whole
};

/// Committed offsets of several groups (ListConsumerGroupOffsets, one group per request, all
/// in flight together). An empty partition list asks for everything the group committed, which
/// only a real cluster answers (`allowAll` false sends the empty list as it is).
CommittedOffsets
fetchCommittedOffsets(rd_kafka_t *client,
                      const std::map<std::string, std::vector<PartitionKey>> &requests,
                      bool allowAll, int timeoutMs, const std::atomic<bool> &abort);

/// A consumer that only ever assign()s (never subscribes, joins or commits) and fetches little.
KafkaHandle createTimestampReader(const ClusterConfig &cluster, std::string *error);

/// For each wanted partition, the timestamp of the first message at or after the wanted offset:
/// wanted[key] = {offset, -2} on entry; the second member becomes the timestamp (-1 when the
/// message has none) for every partition answered within `timeoutMs`, and stays -2 otherwise.
bool readMessageTimestamps(rd_kafka_t *reader,
                           std::map<PartitionKey, std::pair<std::int64_t, std::int64_t>> &wanted,
                           int timeoutMs, const std::atomic<bool> &abort, std::string *error);

} // namespace studio::core
