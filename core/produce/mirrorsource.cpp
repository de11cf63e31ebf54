#include "core/produce/mirrorsource.h"

namespace studio::core {

std::unique_ptr<MirrorSource> MirrorSource::open(const ClusterConfig &from,
                                                 const std::string &topic,
                                                 const std::string &groupId, std::string *error)
{
    if (std::string e = from.validate(); !e.empty()) {
        if (error)
            *error = "mirror source: " + e;
        return nullptr;
    }
    KafkaConf conf = makeKafkaConf(from,
                                   {{"group.id", groupId},
                                    {"auto.offset.reset", "earliest"},
                                    {"enable.partition.eof", "false"},
                                    {"fetch.wait.max.ms", "50"}},
                                   error);
    if (!conf)
        return nullptr;
    KafkaHandle consumer = createKafkaClient(RD_KAFKA_CONSUMER, std::move(conf), error);
    if (!consumer)
        return nullptr;
    rd_kafka_poll_set_consumer(consumer.get());
    const rd_kafka_resp_err_t err = subscribeToTopic(consumer.get(), topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (error)
            *error = "cannot subscribe to '" + topic + "': " + rd_kafka_err2str(err);
        return nullptr;
    }
    return std::unique_ptr<MirrorSource>(
        new MirrorSource("mirror of " + topic + " on " + from.describe(), std::move(consumer)));
}

MirrorSource::MirrorSource(std::string description, KafkaHandle consumer)
    : m_description(std::move(description))
    , m_consumer(std::move(consumer))
{
}

MirrorSource::~MirrorSource()
{
    if (m_consumer)
        rd_kafka_consumer_close(m_consumer.get());
}

std::size_t MirrorSource::fill(RecordBatch &out, std::size_t max, std::int64_t nowMs)
{
    std::size_t added = 0;
    int timeoutMs = 20; // wait a little for the first record only
    while (added < max) {
        const KafkaMessage msg(rd_kafka_consumer_poll(m_consumer.get(), timeoutMs));
        if (!msg)
            break;
        timeoutMs = 0;
        if (msg->err) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                m_error = std::string("mirror: ") + rd_kafka_message_errstr(msg.get());
            continue;
        }
        rd_kafka_timestamp_type_t type;
        const std::int64_t ts = rd_kafka_message_timestamp(msg.get(), &type);
        out.add(
            std::string_view(static_cast<const char *>(msg->key), msg->key ? msg->key_len : 0),
            std::string_view(static_cast<const char *>(msg->payload), msg->payload ? msg->len : 0),
            ts >= 0 ? ts : nowMs);
        ++added;
    }
    if (added > 0)
        m_error.clear();
    return added;
}

std::string MirrorSource::describe() const
{
    return m_description;
}

} // namespace studio::core
