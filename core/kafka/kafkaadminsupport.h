#pragma once

// Internal to KafkaAdmin (kafkaadmin.cpp, kafkagroupadmin.cpp): the shared request helpers.

#include "core/kafka/kafkaclient.h"

#include <string>

namespace studio::core::admindetail {

/// Our own waits poll in slices of this many ms.
inline constexpr int kSliceMs = 250;
/// librdkafka's largest admin request timeout: for requests to a group's coordinator, whose
/// timeout firing while the coordinator is still looked up crashes librdkafka 2.0.2 (upstream
/// issue #3663, see core/monitor/groupqueries.cpp). We wait up to our own deadline instead and
/// leave a late answer in the queue we drop.
inline constexpr int kCoordinatorRequestTimeoutMs = 3600 * 1000;

/// Admin options with a request timeout and, when >= 0, an operation timeout.
KafkaAdminOptions makeOptions(rd_kafka_t *client, rd_kafka_admin_op_t op, int requestTimeoutMs,
                              int operationTimeoutMs = -1);

/// The answer in `queue` within `timeoutMs` (plus a second for librdkafka's own timeout to fire
/// first), else null and `*error` says so (with the client's last error).
KafkaEvent waitAnswer(rd_kafka_t *client, rd_kafka_queue_t *queue, int timeoutMs,
                      const std::string &what, std::string *error);

/// The event's request-level error as "what: Kafka's text", or empty.
std::string eventError(rd_kafka_event_t *ev, const std::string &what);

/// waitAnswer(), and null with `*error` set also when the answer is a request-level error
/// (eventError()): the answer of a request that was carried out.
KafkaEvent waitSuccess(rd_kafka_t *client, rd_kafka_queue_t *queue, int timeoutMs,
                       const std::string &what, std::string *error);

} // namespace studio::core::admindetail
