#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/monitor/health.h"

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
/// `timeout`. `uri` is redis://[USER@]HOST[:PORT][/DB] or HOST[:PORT]; `user` overrides its user.
ConnectionTestResult testRedis(const std::string &uri, const std::string &user,
                               const std::string &password,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// redis://[USER@]HOST[:PORT][/DB] (or HOST[:PORT][/DB]) as a target without a password. Nullopt
/// and a message ("bad port in '...' (expected redis://HOST[:PORT][/DB])") when malformed; a
/// password in the URI ("user:secret@") is refused with kRedisUriHasPassword.
std::optional<RedisTarget> parseRedisUri(std::string_view uri, std::string *error);
inline constexpr const char *kRedisUriHasPassword = "contains a password";

} // namespace studio::core
