// PostgresStore's incremental checkpoints (issue 19): the checkpoint_pieces table of schema
// version 3. A piece is split into rows of at most kChunkBytes (bytea holds 1 GB at most, and a
// statement per chunk keeps each under the statement timeout); a chain is read one row at a
// time, so a large state is never held twice as text.
#include "core/store/pgstoreimpl.h"

#include <algorithm>

namespace studio::core {

using pgdetail::setError;

namespace {

constexpr std::size_t kChunkBytes = std::size_t{32} << 20;

constexpr const char *kInsertPiece = R"sql(
INSERT INTO checkpoint_pieces
    (group_id, topic, partition, seq, kind, chunk, chunks, next_offset, bytes, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (group_id, topic, partition, seq, kind, chunk) DO UPDATE SET
    chunks = EXCLUDED.chunks, next_offset = EXCLUDED.next_offset, bytes = EXCLUDED.bytes,
    state = EXCLUDED.state, written_at = now())sql";

// What a base at seq $4 replaces: every older piece, and the increment it folds in.
constexpr const char *kDeleteReplaced = R"sql(
DELETE FROM checkpoint_pieces
WHERE group_id = $1 AND topic = $2 AND partition = $3 AND (seq < $4 OR (seq = $4 AND kind = 1)))sql";

void insertPiece(pqxx::work &tx, const std::string &group, const std::string &topic,
                 const PartitionPiece &piece)
{
    if (piece.base)
        tx.exec_params(kDeleteReplaced, group, topic, piece.partition,
                       static_cast<std::int64_t>(piece.seq));
    const std::size_t size = piece.bytes.size();
    const std::size_t chunks = std::max<std::size_t>(1, (size + kChunkBytes - 1) / kChunkBytes);
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t from = c * kChunkBytes;
        const std::size_t n = std::min(kChunkBytes, size - std::min(size, from));
        const pqxx::binarystring state(piece.bytes.data() + from, n);
        tx.exec_params(kInsertPiece, group, topic, piece.partition,
                       static_cast<std::int64_t>(piece.seq), piece.base ? 0 : 1,
                       static_cast<int>(c), static_cast<int>(chunks), piece.nextOffset,
                       static_cast<std::int64_t>(size), state);
    }
}

} // namespace

void pgdetail::writePieces(pqxx::work &tx, const SinkBatch &batch)
{
    for (const PartitionPiece &piece : batch.pieces)
        insertPiece(tx, batch.groupId, batch.piecesTopic, piece);
}

bool PostgresStore::loadChains(const std::string &group, const std::string &topic,
                               const std::vector<std::int32_t> &partitions,
                               std::map<std::int32_t, StoredChain> *out, std::string *error)
{
    Impl &d = *m_impl;
    out->clear();
    if (!d.requireConnection(error))
        return false;
    std::int32_t current = -1;
    try {
        // One snapshot for the whole read: a compaction committing meanwhile is not seen half.
        pqxx::work tx(*d.connection, "load chains");
        tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
        for (const std::int32_t partition : partitions) {
            current = partition;
            const pqxx::result rows = tx.exec_params(
                "SELECT seq, kind, chunk, chunks, next_offset, bytes FROM checkpoint_pieces"
                " WHERE group_id = $1 AND topic = $2 AND partition = $3 AND seq >= coalesce("
                "  (SELECT max(seq) FROM checkpoint_pieces WHERE group_id = $1 AND topic = $2"
                "   AND partition = $3 AND kind = 0), 0)"
                " ORDER BY seq, kind, chunk",
                group, topic, partition);
            if (rows.empty())
                continue;
            StoredChain chain;
            std::int64_t pieceSeq = -1;
            int pieceKind = -1, expected = 0, next = 0;
            for (const auto &row : rows) {
                const auto seq = row[0].as<std::int64_t>();
                const int kind = row[1].as<int>();
                const int chunk = row[2].as<int>();
                if (seq != pieceSeq || kind != pieceKind) {
                    if (next != expected)
                        throw std::runtime_error("piece " + std::to_string(pieceSeq) +
                                                 " of partition " + std::to_string(partition) +
                                                 " has " + std::to_string(next) + " of " +
                                                 std::to_string(expected) + " chunks");
                    pieceSeq = seq;
                    pieceKind = kind;
                    expected = row[3].as<int>();
                    next = 0;
                    chain.pieces.emplace_back();
                    chain.pieces.back().reserve(row[5].as<std::size_t>());
                }
                if (kind == 0 && chain.pieces.size() > 1)
                    throw std::runtime_error("partition " + std::to_string(partition) +
                                             ": a base after increments");
                if (chunk != next++)
                    throw std::runtime_error("piece " + std::to_string(seq) + " of partition " +
                                             std::to_string(partition) + " misses a chunk");
                const pqxx::result state = tx.exec_params(
                    "SELECT state FROM checkpoint_pieces WHERE group_id = $1 AND topic = $2"
                    " AND partition = $3 AND seq = $4 AND kind = $5 AND chunk = $6",
                    group, topic, partition, seq, kind, chunk);
                if (state.empty())
                    throw std::runtime_error("a chunk vanished while read");
                const pqxx::binarystring bytes(state[0][0]);
                chain.pieces.back().append(bytes.get(), bytes.size());
                chain.lastSeq = static_cast<std::uint64_t>(seq);
                chain.nextOffset = row[4].as<std::int64_t>();
            }
            if (next != expected)
                throw std::runtime_error("the last piece of partition " +
                                         std::to_string(partition) + " misses chunks");
            for (const std::string &p : chain.pieces)
                chain.bytes += p.size();
            (*out)[partition] = std::move(chain);
        }
        tx.commit();
        return true;
    } catch (const std::exception &e) {
        out->clear();
        setError(error, d.failure("loading the checkpoint of partition " + std::to_string(current) +
                                      " failed",
                                  e));
        d.noteBroken(e);
        return false;
    }
}

bool PostgresStore::lastSequences(const std::string &group, const std::string &topic,
                                  const std::vector<std::int32_t> &partitions,
                                  std::map<std::int32_t, std::uint64_t> *out, std::string *error)
{
    Impl &d = *m_impl;
    out->clear();
    return d.readQuery(
        "reading the checkpoints' sequence numbers failed", error, [&](pqxx::read_transaction &tx) {
            const pqxx::result r =
                tx.exec_params("SELECT partition, max(seq) FROM checkpoint_pieces"
                               " WHERE group_id = $1 AND topic = $2 GROUP BY partition",
                               group, topic);
            for (const auto &row : r) {
                const auto partition = row[0].as<std::int32_t>();
                if (std::find(partitions.begin(), partitions.end(), partition) != partitions.end())
                    (*out)[partition] = row[1].as<std::uint64_t>();
            }
            return true;
        });
}

bool PostgresStore::compactionCandidates(const std::string &group, const std::string &topic,
                                         std::uint64_t minBytes, std::uint64_t maxIncrements,
                                         std::vector<std::int32_t> *out, std::string *error)
{
    Impl &d = *m_impl;
    out->clear();
    return d.readQuery(
        "finding checkpoints to compact failed", error, [&](pqxx::read_transaction &tx) {
            const pqxx::result r = tx.exec_params(
                "WITH b AS (SELECT partition, max(seq) AS seq FROM checkpoint_pieces"
                "  WHERE group_id = $1 AND topic = $2 AND kind = 0 GROUP BY partition),"
                " s AS (SELECT p.partition,"
                "  coalesce(sum(p.bytes) FILTER (WHERE p.kind = 0), 0) AS base,"
                "  coalesce(sum(p.bytes) FILTER (WHERE p.kind = 1), 0) AS increments,"
                "  count(*) FILTER (WHERE p.kind = 1) AS n"
                "  FROM checkpoint_pieces p JOIN b ON b.partition = p.partition"
                "  WHERE p.group_id = $1 AND p.topic = $2 AND p.chunk = 0 AND p.seq >= b.seq"
                "  GROUP BY p.partition)"
                " SELECT partition FROM s WHERE n > 0 AND"
                "  ((increments > base AND increments >= $3) OR n > $4)"
                " ORDER BY increments DESC",
                group, topic, static_cast<std::int64_t>(minBytes),
                static_cast<std::int64_t>(maxIncrements));
            for (const auto &row : r)
                out->push_back(row[0].as<std::int32_t>());
            return true;
        });
}

bool PostgresStore::storeCompacted(const std::string &group, const std::string &topic,
                                   const PartitionPiece &base, std::string *error)
{
    Impl &d = *m_impl;
    if (!d.requireConnection(error))
        return false;
    try {
        pqxx::work tx(*d.connection, "compact");
        // Only while the increment it folds in is still there: a newer base (another
        // instance's compaction, or the owner's own) has made this one pointless.
        const pqxx::result still =
            tx.exec_params("SELECT 1 FROM checkpoint_pieces WHERE group_id = $1 AND topic = $2"
                           " AND partition = $3 AND seq = $4 AND kind = 1 AND chunk = 0 FOR UPDATE",
                           group, topic, base.partition, static_cast<std::int64_t>(base.seq));
        if (still.empty())
            return true;
        insertPiece(tx, group, topic, base);
        tx.commit();
        return true;
    } catch (const std::exception &e) {
        setError(error, d.failure("storing a compacted checkpoint of partition " +
                                      std::to_string(base.partition) + " failed",
                                  e));
        d.noteBroken(e);
        return false;
    }
}

} // namespace studio::core
