#include "core/kafka/embeddedbroker.h"

#include <librdkafka/rdkafka_mock.h>

namespace studio::core {

EmbeddedBroker::EmbeddedBroker() = default;

EmbeddedBroker::~EmbeddedBroker()
{
    stop();
}

bool EmbeddedBroker::start(const Options &options, std::string *error)
{
    stop();
    if (options.brokers < 1 || options.brokers > 32) {
        if (error)
            *error = "the embedded broker needs 1 to 32 brokers";
        return false;
    }
    if (options.partitions < 1 || options.partitions > 1000) {
        if (error)
            *error = "topics on the embedded broker need 1 to 1000 partitions";
        return false;
    }
    if (options.replicationFactor < 1 || options.replicationFactor > options.brokers) {
        if (error)
            *error = "replication factor must be between 1 and the number of brokers";
        return false;
    }
    KafkaConf conf(rd_kafka_conf_new());
    char errstr[256];
    rd_kafka_conf_set(conf.get(), "log.connection.close", "false", errstr, sizeof errstr);
    // The host client never connects anywhere; spare the "no bootstrap.servers" notice.
    rd_kafka_conf_set(conf.get(), "log_level", "4", errstr, sizeof errstr);
    m_host = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), error);
    if (!m_host)
        return false;
    m_mock = rd_kafka_mock_cluster_new(m_host.get(), options.brokers);
    if (!m_mock) {
        m_host.reset();
        if (error)
            *error = "cannot start the embedded broker (no free loopback port?)";
        return false;
    }
    m_bootstrap = rd_kafka_mock_cluster_bootstraps(m_mock);
    m_options = options;
    for (const auto &topic : options.topics) {
        if (!createTopic(topic, options.partitions, error)) {
            stop();
            return false;
        }
    }
    return true;
}

void EmbeddedBroker::stop()
{
    if (m_mock) {
        rd_kafka_mock_cluster_destroy(m_mock);
        m_mock = nullptr;
    }
    m_host.reset();
    m_bootstrap.clear();
}

ClusterConfig EmbeddedBroker::clusterConfig() const
{
    ClusterConfig config;
    config.name = "embedded";
    config.bootstrap = m_bootstrap;
    return config;
}

bool EmbeddedBroker::createTopic(const std::string &topic, int partitions, std::string *error)
{
    if (!m_mock) {
        if (error)
            *error = "the embedded broker is not running";
        return false;
    }
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(m_mock, topic.c_str(), partitions, m_options.replicationFactor);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (error)
            *error = "cannot create topic '" + topic + "': " + rd_kafka_err2str(err);
        return false;
    }
    return true;
}

void EmbeddedBroker::setBrokerDown(int id, bool down)
{
    if (!m_mock)
        return;
    if (down)
        rd_kafka_mock_broker_set_down(m_mock, id);
    else
        rd_kafka_mock_broker_set_up(m_mock, id);
}

} // namespace studio::core
