#include "core/kafka/kafkaclient.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string_view>

namespace studio::core {

namespace {

// A broker that is down makes librdkafka repeat itself every few hundred milliseconds, on every
// connection: keep one line per facility per ten seconds and say how many were held back.
void stderrLog(int level, const char *facility, const char *message)
{
    static std::mutex mutex;
    static std::map<std::string, std::pair<std::chrono::steady_clock::time_point, int>> recent;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex);
    auto &[last, held] = recent[facility];
    if (last.time_since_epoch().count() != 0 && now - last < std::chrono::seconds(10)) {
        ++held;
        return;
    }
    std::fprintf(stderr, "kafka %s%s: %s", level <= 3 ? "error " : "", facility, message);
    if (held > 0)
        std::fprintf(stderr, " (and %d similar in the last 10 s)", held);
    std::fputc('\n', stderr);
    last = now;
    held = 0;
}

KafkaLogHandler g_logHandler = &stderrLog;

// Last client-level error per client, for lastClientError(); erased when the client is destroyed.
std::mutex g_errorsMutex;
std::map<const rd_kafka_t *, std::string> g_lastErrors;

void recordError(rd_kafka_t *rk, int err, const char *reason, void *)
{
    std::string text = kafkaErrorText(err, reason);
    const std::string_view r(reason ? reason : "");
    if (r.find("invalid credentials") != std::string_view::npos &&
        r.find("SCRAM") != std::string_view::npos && rd_kafka_version() < 0x020601ff) {
        // librdkafka before 2.6.1 sends a SCRAM nonce that Kafka 4.0 and newer reject
        // (confluentinc/librdkafka#4895): there even the right password fails.
        text += std::string(" [a wrong user name or password; or the cluster runs Kafka 4.0 or "
                            "newer, where this build's librdkafka ") +
                rd_kafka_version_str() +
                " cannot log in with SCRAM at all (fixed in librdkafka 2.6.1): use PLAIN over "
                "TLS there]";
    }
    {
        std::lock_guard lock(g_errorsMutex);
        g_lastErrors[rk] = text;
    }
    // Without an error callback librdkafka would have logged it: keep that line.
    g_logHandler(3, "ERROR", reason ? reason : "");
}

void forwardLog(const rd_kafka_t *, int level, const char *facility, const char *message)
{
    // Old brokers and the embedded one cannot honour allow.auto.create.topics=false; our readers
    // look topics up in the full topic list first, so the warning says nothing actionable.
    if (std::string_view(facility) == "AUTOCREATE")
        return;
    g_logHandler(level, facility, message);
}

} // namespace

void setKafkaLogHandler(KafkaLogHandler handler)
{
    g_logHandler = handler ? handler : &stderrLog;
}

KafkaMetadata requestMetadata(rd_kafka_t *client, bool allTopics, rd_kafka_topic_t *onlyTopic,
                              int timeoutMs, rd_kafka_resp_err_t *error)
{
    const rd_kafka_metadata_t *raw = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(client, allTopics ? 1 : 0, onlyTopic, &raw, timeoutMs);
    KafkaMetadata md(raw);
    if (error)
        *error = err;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        md.reset();
    return md;
}

KafkaPartitionList makePartitionList(int size)
{
    return KafkaPartitionList(rd_kafka_topic_partition_list_new(std::max(size, 0)));
}

rd_kafka_resp_err_t subscribeToTopic(rd_kafka_t *consumer, const std::string &topic)
{
    const KafkaPartitionList topics = makePartitionList(1);
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    return rd_kafka_subscribe(consumer, topics.get());
}

KafkaPartitionList currentAssignment(rd_kafka_t *consumer)
{
    rd_kafka_topic_partition_list_t *assigned = nullptr;
    if (rd_kafka_assignment(consumer, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return nullptr;
    return KafkaPartitionList(assigned);
}

namespace kafkadetail {

void destroyClient(rd_kafka_t *client)
{
    rd_kafka_destroy(client);
    forgetClientError(client);
}

void destroyWithoutConsumerClose(rd_kafka_t *client)
{
    rd_kafka_destroy_flags(client, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    forgetClientError(client);
}

} // namespace kafkadetail

void forgetClientError(const rd_kafka_t *client)
{
    std::lock_guard lock(g_errorsMutex);
    g_lastErrors.erase(client);
}

std::string lastClientError(const rd_kafka_t *client)
{
    std::lock_guard lock(g_errorsMutex);
    auto it = g_lastErrors.find(client);
    return it == g_lastErrors.end() ? std::string() : it->second;
}

std::string withClientError(std::string message, const rd_kafka_t *client)
{
    // Error callbacks are served by rd_kafka_poll(): serve what is queued (up to 100 ms) first.
    // Not for a consumer whose main queue goes to its consumer queue (rd_kafka_poll_set_consumer),
    // where rd_kafka_poll must not be called.
    if (client)
        rd_kafka_poll(const_cast<rd_kafka_t *>(client), 100);
    if (std::string last = lastClientError(client); !last.empty())
        message += " (" + last + ")";
    return message;
}

std::string kafkaErrorText(int err, const char *reason)
{
    return std::string("Kafka: ") + rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) +
           ": " + reason;
}

KafkaConf makeKafkaConf(const ClusterConfig &cluster, const Properties &overrides,
                        std::string *error)
{
    KafkaConf conf(rd_kafka_conf_new());
    char errstr[512];
    auto set = [&](const std::string &key, const std::string &value) {
        if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            if (error)
                *error = "Kafka setting '" + key + "' rejected: " + errstr;
            return false;
        }
        return true;
    };
    // Connection closes by idle brokers are routine; they are not worth a log line each.
    if (!set("log.connection.close", "false"))
        return nullptr;
    rd_kafka_conf_set_log_cb(conf.get(), &forwardLog);
    rd_kafka_conf_set_error_cb(conf.get(), &recordError);
    for (const auto &[key, value] : cluster.clientProperties()) {
        if (!set(key, value))
            return nullptr;
    }
    for (const auto &[key, value] : overrides) {
        if (!set(key, value))
            return nullptr;
    }
    return conf;
}

KafkaHandle createKafkaClient(rd_kafka_type_t type, KafkaConf conf, std::string *error)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
    if (!rk) {
        if (error)
            *error = std::string("cannot create Kafka client: ") + errstr;
        return nullptr;
    }
    (void)conf.release(); // rd_kafka_new took ownership
    return KafkaHandle(rk);
}

std::optional<std::vector<PartitionWatermarks>> queryTopicWatermarks(rd_kafka_t *client,
                                                                     const std::string &topic,
                                                                     int timeoutMs,
                                                                     std::string *error)
{
    const KafkaTopic handle(rd_kafka_topic_new(client, topic.c_str(), nullptr));
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    const KafkaMetadata md = requestMetadata(client, false, handle.get(), timeoutMs, &err);
    if (!md) {
        if (error)
            *error = "metadata for '" + topic + "': " + rd_kafka_err2str(err);
        return std::nullopt;
    }
    std::vector<PartitionWatermarks> out;
    std::string failure;
    for (int t = 0; t < md->topic_cnt; ++t) {
        const rd_kafka_metadata_topic &mt = md->topics[t];
        if (topic != mt.topic)
            continue;
        if (mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            failure = "topic '" + topic + "': " + rd_kafka_err2str(mt.err);
            break;
        }
        for (int p = 0; p < mt.partition_cnt; ++p) {
            PartitionWatermarks w;
            w.partition = mt.partitions[p].id;
            const rd_kafka_resp_err_t werr = rd_kafka_query_watermark_offsets(
                client, topic.c_str(), w.partition, &w.low, &w.high, timeoutMs);
            if (werr != RD_KAFKA_RESP_ERR_NO_ERROR) {
                failure = "watermarks of " + topic + "[" + std::to_string(w.partition) +
                          "]: " + rd_kafka_err2str(werr);
                break;
            }
            out.push_back(w);
        }
    }
    if (!failure.empty() || out.empty()) {
        if (error)
            *error = failure.empty() ? "topic '" + topic + "' has no partitions" : failure;
        return std::nullopt;
    }
    return out;
}

bool queryWatermarks(rd_kafka_t *client, std::vector<TopicPartitionWatermarks> &partitions,
                     int timeoutMs, std::string *error)
{
    if (partitions.empty())
        return true;
    // ListOffsets with the logical timestamps -2 (earliest) and -1 (latest) answers the
    // watermarks; librdkafka groups the partitions by leader, one request each.
    for (const std::int64_t which : {RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_END}) {
        const KafkaPartitionList list = makePartitionList(static_cast<int>(partitions.size()));
        for (const auto &p : partitions)
            rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset =
                which;
        const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(client, list.get(), timeoutMs);
        // A local error (timed out, transport, all brokers down) fails the whole request. A
        // broker's error (Not leader for partition while a leader is elected, e.g. just after a
        // topic was created or a broker died) is returned for the first partition that had one,
        // but every partition carries its own answer: the others are good.
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err < 0) {
            if (error)
                *error = std::string("watermarks: ") + rd_kafka_err2str(err);
            return false;
        }
        // The list keeps the order it was built in.
        for (int i = 0; i < list->cnt; ++i) {
            auto &p = partitions[static_cast<std::size_t>(i)];
            const rd_kafka_topic_partition_t &e = list->elems[i];
            if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR || e.offset < 0) {
                p.error = e.err != RD_KAFKA_RESP_ERR_NO_ERROR ? e.err : err;
                continue;
            }
            (which == RD_KAFKA_OFFSET_BEGINNING ? p.low : p.high) = e.offset;
        }
    }
    return true;
}

std::int64_t sumHighWatermarks(const std::vector<PartitionWatermarks> &partitions)
{
    std::int64_t sum = 0;
    for (const auto &p : partitions)
        sum += p.high;
    return sum;
}

} // namespace studio::core
