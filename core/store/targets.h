#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace studio::core {

/// A Redis server; an empty host means not configured. `user` empty = AUTH with the password
/// only (requirepass); password empty = no AUTH.
struct RedisTarget
{
    std::string host;
    int port = 6379;
    std::string user;
    std::string password; ///< held in memory only, never printed
    int db = 0;           ///< SELECTed after AUTH (the RedisStore; the probe ignores it)
};

/// A PostgreSQL server: a libpq connection string ("host=.. port=.. dbname=.. user=.." or a
/// postgresql:// URI) without the password, which is given separately. Empty = not configured.
struct PostgresTarget
{
    std::string conninfo;
    std::string password; ///< held in memory only, never printed

    /// conninfo plus connect_timeout and the password, quoted: secrets included, hand it to libpq
    /// (pqxx::connection) only.
    std::string connectionString(int connectTimeoutSeconds) const;
    /// conninfo with any password in it replaced by ***, for logs and the UI.
    std::string describe() const;
};

// ---- Addresses as people type them ----------------------------------------------------------
// One parser per kind of address, used by every place that reads one (the command line, the
// engine's configureSinks, the Connections dialog's Test and OK, connection files), so that no
// place accepts what another refuses. Passwords never travel inside an address.

/// The error of parseRedisUri and checkPostgresConninfo for an address that carries a password;
/// callers say where the password goes instead (the password field, the environment, ...).
inline constexpr const char *kRedisUriHasPassword = "contains a password";
inline constexpr const char *kPostgresConninfoHasPassword = kRedisUriHasPassword;

/// A Redis address, strictly: `redis://[USER@]HOST[:PORT][/DB]`, or the same without the scheme.
/// HOST is a name, an IPv4 address or a bracketed IPv6 address (`[::1]`); PORT is 1..65535
/// (default 6379); DB a non-negative number (default 0); USER may be percent-encoded. Anything
/// else is refused with a message naming the part and the expected form: another scheme
/// (`rediss://`: TLS to Redis is not supported), a query or fragment, spaces, a second '@'.
/// A password (`USER:PASSWORD@`, `:PASSWORD@`, `?password=`) is refused with
/// kRedisUriHasPassword and never repeated in a message.
std::optional<RedisTarget> parseRedisUri(std::string_view uri, std::string *error);

/// parseRedisUri, then `user` (when not empty) in place of the URI's user: what the Connections
/// dialog (URI and ACL user fields) and the command line (--redis, --redis-user) describe.
std::optional<RedisTarget> parseRedisUri(std::string_view uri, std::string_view user,
                                         std::string *error);

/// `target` as a URI that parseRedisUri reads back to the same host, port, user and db:
/// "redis://[USER@]HOST:PORT/DB" (IPv6 hosts bracketed, the user percent-encoded); never the
/// password.
std::string redisUri(const RedisTarget &target);

/// Empty when `conninfo` is a connection string libpq accepts (key=value words or a
/// postgresql:// URI) and holds no password; else why not: kPostgresConninfoHasPassword for a
/// password in any form libpq reads one (`password=...`, `user:secret@` also percent-encoded,
/// `?password=...`), or "not a valid PostgreSQL connection string: <libpq's reason>". It asks
/// libpq's own parser (PQconninfoParse), which reads no environment, file or server. A string
/// libpq cannot parse that has the word "password" or a "user:secret@" part in it counts as
/// holding a password, so that nothing that might be one is repeated in a message.
std::string checkPostgresConninfo(std::string_view conninfo);

} // namespace studio::core
