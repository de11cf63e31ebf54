#include "core/monitor/connectiontest.h"

#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/kafka/kafkaclient.h"
#include "core/store/pgschema.h"
#include "core/store/pgstore.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <mutex>

namespace studio::core {

namespace {

using Clock = std::chrono::steady_clock;

ConnectionTestResult make(bool ok, std::string message, Clock::time_point start)
{
    return {ok, std::move(message), msSince(start)};
}

// The last client-level error librdkafka reported (authentication, TLS, resolve, ...): it says
// more than the metadata request's bare timeout.
struct KafkaErrors
{
    std::mutex mutex;
    std::string last;
};

void onKafkaError(rd_kafka_t *, int err, const char *reason, void *opaque)
{
    auto *errors = static_cast<KafkaErrors *>(opaque);
    std::lock_guard lock(errors->mutex);
    errors->last = kafkaErrorText(err, reason);
}

} // namespace

ConnectionTestResult testKafka(const ClusterConfig &cluster, std::chrono::milliseconds timeout)
{
    const auto start = Clock::now();
    const std::string where =
        "Kafka at " + (cluster.bootstrap.empty() ? "(no bootstrap)" : cluster.bootstrap);
    if (std::string e = cluster.validate(); !e.empty())
        return make(false, where + ": " + e, start);
    std::string error;
    const std::string ms = std::to_string(std::max<long long>(1000, timeout.count()));
    KafkaConf conf = makeKafkaConf(cluster,
                                   {{"socket.connection.setup.timeout.ms", ms},
                                    {"reconnect.backoff.max.ms", "1000"},
                                    {"topic.metadata.refresh.interval.ms", "-1"}},
                                   &error);
    if (!conf)
        return make(false, where + ": " + error, start);
    KafkaErrors errors; // outlives the client (declared before it)
    rd_kafka_conf_set_error_cb(conf.get(), &onKafkaError);
    rd_kafka_conf_set_opaque(conf.get(), &errors);
    KafkaHandle client = createKafkaClient(RD_KAFKA_PRODUCER, std::move(conf), &error);
    if (!client)
        return make(false, where + ": " + error, start);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    KafkaMetadata metadata =
        requestMetadata(client.get(), false, nullptr, static_cast<int>(timeout.count()), &err);
    if (!metadata) {
        std::string last;
        {
            std::lock_guard lock(errors.mutex);
            last = errors.last;
        }
        std::string why =
            err == RD_KAFKA_RESP_ERR__TIMED_OUT
                ? "no broker answered within " + std::to_string(timeout.count()) + " ms"
                : std::string("metadata request failed: ") + rd_kafka_err2str(err);
        if (!last.empty())
            why += " (" + last + ")";
        const double latency = msSince(start);
        client.reset();
        return {false, where + ": " + why, latency};
    }
    std::string brokers;
    for (int i = 0; i < metadata->broker_cnt; ++i)
        brokers += (i ? ", " : "") + std::string(metadata->brokers[i].host) + ":" +
                   std::to_string(metadata->brokers[i].port);
    const int count = metadata->broker_cnt;
    const int topics = metadata->topic_cnt;
    metadata.reset(); // before its client
    const double latency = msSince(start);
    client.reset();
    if (count == 0)
        return {false, where + ": the metadata lists no brokers", latency};
    return {true,
            where + ": " + std::to_string(count) + (count == 1 ? " broker (" : " brokers (") +
                brokers + "), " + std::to_string(topics) + (topics == 1 ? " topic" : " topics"),
            latency};
}

ConnectionTestResult testPostgres(const std::string &conninfo, const std::string &password,
                                  std::chrono::milliseconds timeout)
{
    const auto start = Clock::now();
    if (std::string problem = postgresAddressProblem(conninfo); !problem.empty())
        return make(false, std::move(problem), start);
    PostgresTarget target{conninfo, password};
    const std::string where =
        "PostgreSQL at " + (conninfo.empty() ? std::string("(libpq defaults)") : target.describe());
    const int seconds = std::max<int>(2, static_cast<int>((timeout.count() + 999) / 1000));
    std::unique_ptr<pqxx::connection> c;
    try {
        c = std::make_unique<pqxx::connection>(target.connectionString(seconds));
    } catch (const std::exception &e) {
        const std::string text = redact(oneLine(e.what()), password);
        return make(false,
                    where + ": " + classifyPostgresConnectError(text, target, seconds) + " (" +
                        text + ")",
                    start);
    }
    try {
        pqxx::nontransaction tx(*c);
        // A server that accepted us and then stalls must not hold the test for long.
        tx.exec("SET statement_timeout = " + std::to_string(seconds * 1000));
        const std::string version = tx.exec1("SHOW server_version")[0].as<std::string>();
        int schema = 0;
        if (!tx.exec1("SELECT to_regclass('schema_migrations') IS NULL")[0].as<bool>())
            schema =
                tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
        const double latency = msSince(start);
        const int latest = latestSchemaVersion();
        std::string message = where + ": PostgreSQL " + version + ", ";
        if (schema == 0)
            message += "no schema yet (created on first use)";
        else if (schema > latest)
            return {false,
                    message + "schema version " + std::to_string(schema) +
                        " is newer than this app knows (" + std::to_string(latest) + ")",
                    latency};
        else
            message += "schema version " + std::to_string(schema) + " of " + std::to_string(latest);
        return {true, message, latency};
    } catch (const std::exception &e) {
        std::string text = redact(oneLine(e.what()), password);
        const bool denied = text.find("permission denied") != std::string::npos;
        return make(false,
                    where + ": " + (denied ? "no permission (" : "query failed (") + text + ")",
                    start);
    }
}

namespace {

// Where the password goes instead: addresses are kept in plain text, passwords in the keychain.
std::string passwordInAddress(const std::string &kind, const std::string &form)
{
    return "The " + kind +
           " address contains a password. Addresses are kept in plain text (the settings file, "
           "connection files): remove the password from the address" +
           form + " and type it in the Password field, which keeps it in the keychain.";
}

} // namespace

std::string postgresAddressProblem(const std::string &conninfo)
{
    const std::string why = checkPostgresConninfo(conninfo);
    if (why.empty())
        return {};
    return why == kPostgresConninfoHasPassword ? passwordInAddress("PostgreSQL", "")
                                               : "PostgreSQL: " + why;
}

std::string redisAddressProblem(const std::string &uri)
{
    std::string why;
    if (parseRedisUri(uri, &why))
        return {};
    return why == kRedisUriHasPassword ? passwordInAddress("Redis", " (redis://USER@HOST:PORT)")
                                       : "Redis: " + why;
}

ConnectionTestResult testRedis(const std::string &uri, const std::string &user,
                               const std::string &password, std::chrono::milliseconds timeout)
{
    const auto start = Clock::now();
    if (std::string problem = redisAddressProblem(uri); !problem.empty())
        return make(false, std::move(problem), start);
    std::optional<RedisTarget> target = parseRedisUri(uri, user, nullptr);
    target->password = password;
    const std::string where = "Redis at " + target->host + ":" + std::to_string(target->port);
    // The health probe does connect, AUTH and PING, each within the timeout, password redacted.
    const ProbeResult r = makeRedisProbe("redis", *target)->probe(timeout);
    const bool ok = r.state == ServiceState::Up;
    return {ok, where + ": " + (ok ? std::string("PONG") : r.error), msSince(start)};
}

} // namespace studio::core
