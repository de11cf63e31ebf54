#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"
#include "core/produce/eventsource.h"

#include <memory>
#include <string>

namespace studio::core {

/// Mirrors a topic of another cluster (seed 002 copied a remote topic into its local cluster):
/// consumes it in its own consumer group from the earliest offset and hands each record on with
/// its key, value and timestamp. Offsets are committed automatically (at-least-once).
class MirrorSource final : public EventSource
{
public:
    /// Connects and subscribes; null with a message when the config is unusable.
    static std::unique_ptr<MirrorSource> open(const ClusterConfig &from, const std::string &topic,
                                              const std::string &groupId, std::string *error);
    ~MirrorSource() override;

    std::size_t fill(RecordBatch &out, std::size_t max, std::int64_t nowMs) override;
    std::string lastError() const override { return m_error; }
    std::string describe() const override;

private:
    MirrorSource(std::string description, KafkaHandle consumer);

    std::string m_description;
    KafkaHandle m_consumer;
    std::string m_error;
};

} // namespace studio::core
