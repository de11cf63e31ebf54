#pragma once

#include <string>

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

/// Whether a libpq connection string ("... password=...") or postgresql:// URI
/// ("postgresql://user:secret@host/db", "...?password=...") carries a password, as libpq's own
/// parser (PQconninfoParse) reads it. A string libpq cannot parse is judged by a plain search
/// for "password" or a "user:secret@" part, so nothing that might hold one passes.
bool postgresConninfoHasPassword(const std::string &conninfo);

} // namespace studio::core
