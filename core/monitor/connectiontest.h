#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/monitor/health.h"
#include "core/store/targets.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace studio::core {

/// The answer of a "Test connection" button: ok or not, a message for a person (naming the
/// service and where it is; never a password), and how long the test took.
struct ConnectionTestResult
{
    bool ok = false;
    std::string message;
    double latencyMs = 0;
};

/// Kafka: a metadata request on a client of its own. Ok when a broker answers; the message names
/// the bootstrap and the brokers listed. Blocks up to about `timeout` plus the client's close:
/// call it from a worker thread.
ConnectionTestResult testKafka(const ClusterConfig &cluster,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// PostgreSQL: connect (libpq connect_timeout from `timeout`, at least 2 s), SELECT version() and
/// the schema version (schema_migrations; none yet is fine). Nothing is created or migrated. The
/// message says what went wrong: wrong password, unreachable, no permission, ...
ConnectionTestResult testPostgres(const std::string &conninfo, const std::string &password,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// Redis: connect, AUTH [user] password (when a password is given), PING, every step within
/// `timeout`. `uri` as parseRedisUri reads it; `user` overrides its user.
ConnectionTestResult testRedis(const std::string &uri, const std::string &user,
                               const std::string &password,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// What the PostgreSQL Test refuses before any network, and the Connections dialog's OK with it
/// (so both refuse the same addresses): empty when `conninfo` can be used, else the message for
/// the dialog, "PostgreSQL: ..." (checkPostgresConninfo's reason); for a password inside, "The
/// PostgreSQL address contains a password. ..." saying where the password goes instead (the
/// Password field, the keychain), never the password.
std::string postgresAddressProblem(const std::string &conninfo);

/// The same for a Redis URI (parseRedisUri): empty, "Redis: ...", or where the password goes.
std::string redisAddressProblem(const std::string &uri);

} // namespace studio::core
