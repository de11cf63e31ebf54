#pragma once

// Private to pgstore.cpp and pgstoreload.cpp: PostgresStore's state and shared helpers.

#include "core/store/pgstore.h"

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <memory>
#include <mutex>
#include <string>

namespace studio::core {

struct PostgresStore::Impl
{
    PostgresStoreOptions options;
    PostgresTarget target;
    std::string where; ///< "PostgreSQL at <conninfo without password>"
    std::unique_ptr<pqxx::connection> connection;
    int schemaVersion = 0;
    bool hll = false;
    PostgresStoreStats stats;
    bool lastWriteRetryable = true;

    std::mutex socketMutex; ///< guards socket, for cancel() from another thread
    int socket = -1;

    /// "<where>: <what>: <the exception's text on one line, password redacted>".
    std::string failure(const std::string &what, const std::exception &e) const;
    /// Drops the connection when the exception says it broke.
    void noteBroken(const std::exception &e);
    /// Whether the merged loads union sketches in PostgreSQL.
    bool mergeInPostgres() const
    {
        return options.hllMerge == HllMerge::InPostgres ||
               (options.hllMerge == HllMerge::Auto && hll);
    }
    bool requireConnection(std::string *error) const;
    /// Runs `read(tx)` in a read-only transaction on the connection. False, with
    /// failure(what, ...) in `error` and the connection dropped when it broke, if it throws.
    template <class Read> bool readQuery(const std::string &what, std::string *error, Read &&read);
};

namespace pgdetail {

/// `ms` as an ISO-8601 timestamptz literal, clamped to years 0001..9999.
std::string timestampText(std::int64_t ms);

/// The batch's checkpoint pieces, in `tx` (pgcheckpoints.cpp).
void writePieces(pqxx::work &tx, const SinkBatch &batch);

inline void setError(std::string *error, std::string message)
{
    if (error)
        *error = std::move(message);
}

} // namespace pgdetail

template <class Read>
bool PostgresStore::Impl::readQuery(const std::string &what, std::string *error, Read &&read)
{
    if (!requireConnection(error))
        return false;
    try {
        pqxx::read_transaction tx(*connection);
        return read(tx);
    } catch (const std::exception &e) {
        pgdetail::setError(error, failure(what, e));
        noteBroken(e);
        return false;
    }
}

} // namespace studio::core
