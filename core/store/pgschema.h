#pragma once

#include <span>
#include <string_view>

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

} // namespace studio::core
