#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pqxx {
class connection_base;
}

namespace studio::core {

/// One versioned schema change: resources/sql/NNNN_name.sql, compiled in at build time
/// (cmake/StudioEmbedSql.cmake generates the definition of schemaMigrations()).
struct SchemaMigration
{
    int version = 0;       ///< NNNN, without leading zeros; 1, 2, 3, ...
    std::string_view name; ///< the part after the underscore
    std::string_view sql;  ///< the file's text, run as one multi-statement script
};

/// Every migration this build knows, in ascending version order. Thread-safe (constant data).
std::span<const SchemaMigration> schemaMigrations();

/// The newest schema version this build knows (the last migration's), 0 when there is none.
inline int latestSchemaVersion()
{
    const auto all = schemaMigrations();
    return all.empty() ? 0 : all.back().version;
}

/// Brings the database behind `connection` to this build's schema: every pending migration in
/// its own transaction, serialised across processes by an advisory lock, so the PostgreSQL sink
/// and the alert history (AlertHistoryStore) may both run it at once. `*version` is the schema
/// version afterwards. False with `*error` (one sentence, no secrets) when the database was
/// migrated by a newer build (nothing is changed then). libpqxx's exceptions pass through, with
/// `*step` saying which step ran ("applying schema migration 2 (merged_views)", ...).
bool migrateSchema(pqxx::connection_base &connection, int *version, std::string *step,
                   std::string *error);

} // namespace studio::core
