#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"

#include <string>
#include <vector>

typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace studio::core {

/// librdkafka's in-memory Kafka cluster (rdkafka_mock.h), listening on loopback so other processes
/// (kcat, a second clickstream-studio) can reach it. What it cannot do is listed in design.md: no
/// CreateTopics (topics are created here), no group listing, small retention, no SASL/TLS, and a
/// new port on every start. Thread-safe after start(); stop() or the destructor shuts it down.
class EmbeddedBroker
{
public:
    struct Options
    {
        int brokers = 3;
        int partitions = 12;
        int replicationFactor = 1;
        std::vector<std::string> topics{"clickstream"};
    };

    EmbeddedBroker();
    ~EmbeddedBroker();
    EmbeddedBroker(const EmbeddedBroker &) = delete;
    EmbeddedBroker &operator=(const EmbeddedBroker &) = delete;

    /// Starts the cluster and creates the topics. False with a message on failure.
    bool start(const Options &options, std::string *error);
    void stop();
    bool isRunning() const { return m_mock != nullptr; }

    /// "127.0.0.1:port,..." of every broker; changes on every start.
    std::string bootstrap() const { return m_bootstrap; }
    /// A ClusterConfig named "embedded" pointing at this broker.
    ClusterConfig clusterConfig() const;
    const Options &options() const { return m_options; }

    /// Creates a topic (the mock answers CreateTopics with a timeout, so it is done here).
    bool createTopic(const std::string &topic, int partitions, std::string *error);

    /// Fault injection for tests and demos: takes broker `id` (1-based) down or up.
    void setBrokerDown(int id, bool down);

    /// The underlying mock cluster, for further fault injection.
    rd_kafka_mock_cluster_t *mockCluster() const { return m_mock; }

private:
    KafkaHandle m_host; // the client that hosts the mock cluster
    rd_kafka_mock_cluster_t *m_mock = nullptr;
    std::string m_bootstrap;
    Options m_options;
};

} // namespace studio::core
