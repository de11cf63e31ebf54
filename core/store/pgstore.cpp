#include "core/store/pgstore.h"

#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/store/pgschema.h"
#include "core/store/pgstatements.h"
#include "core/store/pgstoreimpl.h"

#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>
#include <unordered_map>

namespace studio::core {

using pgdetail::setError;
using namespace pgsql;

namespace {

// Serialises schema changes across processes: pg_advisory_xact_lock(kMigrationLock).
constexpr std::int64_t kMigrationLock = 0x53747564696f4442; // "StudioDB"

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t floorDiv(std::int64_t a, std::int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/// YYYYMMDD of the UTC date of `ms`, and that date as "YYYY-MM-DD".
std::pair<int, std::string> utcDate(std::int64_t ms)
{
    using namespace std::chrono;
    const year_month_day ymd{sys_days{days{floorDiv(ms, kDayMs)}}};
    const int y = static_cast<int>(ymd.year());
    const unsigned m = static_cast<unsigned>(ymd.month());
    const unsigned d = static_cast<unsigned>(ymd.day());
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", y, m, d);
    return {y * 10000 + static_cast<int>(m * 100 + d), text};
}

// pqxx::tablewriter is deprecated in favour of stream_to, which escapes every field itself and
// sends row by row; tablewriter's write_raw_line takes our pre-escaped chunks as they are.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/// Rows of COPY text format, sent in chunks of many lines (tablewriter adds the last newline).
/// Text is escaped for COPY; a NUL byte, which PostgreSQL text cannot hold, becomes U+FFFD.
class CopyWriter
{
public:
    CopyWriter(pqxx::transaction_base &tx, const std::string &table,
               const std::vector<std::string> &columns)
        : m_writer(tx, table, columns.begin(), columns.end())
    {
        m_buffer.reserve(kChunk + 4096);
    }

    CopyWriter &text(std::string_view s)
    {
        separate();
        for (const char c : s) {
            switch (c) {
            case '\\':
                m_buffer += "\\\\";
                break;
            case '\t':
                m_buffer += "\\t";
                break;
            case '\n':
                m_buffer += "\\n";
                break;
            case '\r':
                m_buffer += "\\r";
                break;
            case '\0':
                m_buffer += "\xEF\xBF\xBD";
                break;
            default:
                m_buffer += c;
            }
        }
        return *this;
    }
    CopyWriter &optionalText(std::string_view s) { return s.empty() ? null() : text(s); }
    CopyWriter &integer(std::int64_t v)
    {
        separate();
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
        m_buffer.append(digits, end);
        return *this;
    }
    CopyWriter &real(double v)
    {
        separate();
        char digits[32];
        const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
        m_buffer.append(digits, end);
        return *this;
    }
    CopyWriter &money(std::int64_t cents)
    {
        separate();
        const bool negative = cents < 0;
        const std::uint64_t v =
            negative ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
        if (negative)
            m_buffer += '-';
        m_buffer += std::to_string(v / 100);
        m_buffer += '.';
        m_buffer += static_cast<char>('0' + (v % 100) / 10);
        m_buffer += static_cast<char>('0' + v % 10);
        return *this;
    }
    CopyWriter &time(std::int64_t ms)
    {
        separate();
        m_buffer += pgdetail::timestampText(ms);
        return *this;
    }
    CopyWriter &boolean(bool v)
    {
        separate();
        m_buffer += v ? 't' : 'f';
        return *this;
    }
    CopyWriter &bytes(std::string_view data)
    {
        separate();
        static const char hex[] = "0123456789abcdef";
        m_buffer += "\\\\x"; // bytea hex input "\x...", its backslash escaped for COPY
        for (const char c : data) {
            const auto b = static_cast<unsigned char>(c);
            m_buffer += hex[b >> 4];
            m_buffer += hex[b & 15];
        }
        return *this;
    }
    CopyWriter &null()
    {
        separate();
        m_buffer += "\\N";
        return *this;
    }
    void endRow()
    {
        m_buffer += '\n';
        m_rowStart = true;
        if (m_buffer.size() >= kChunk)
            flush();
    }
    void complete()
    {
        flush();
        m_writer.complete();
    }

private:
    static constexpr std::size_t kChunk = 256 * 1024;
    void separate()
    {
        if (!m_rowStart)
            m_buffer += '\t';
        m_rowStart = false;
    }
    void flush()
    {
        if (m_buffer.empty())
            return;
        m_buffer.pop_back(); // the writer ends the chunk with its own newline
        m_writer.write_raw_line(m_buffer);
        m_buffer.clear();
    }

    pqxx::tablewriter m_writer;
    std::string m_buffer;
    bool m_rowStart = true;
};

#pragma GCC diagnostic pop

/// Indices of `rows` to write: the last row of each key (a later row replaces an earlier one).
template <class Row, class KeyFn>
std::vector<std::size_t> lastOfEachKey(const std::vector<Row> &rows, KeyFn key)
{
    std::unordered_map<std::string, std::size_t> last;
    last.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        last[key(rows[i])] = i;
    std::vector<std::size_t> keep;
    keep.reserve(last.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (last[key(rows[i])] == i)
            keep.push_back(i);
    return keep;
}

std::string keyOf(std::int64_t ms, std::initializer_list<std::string_view> parts)
{
    std::string key(reinterpret_cast<const char *>(&ms), sizeof ms);
    for (const auto part : parts) {
        key += part;
        key += '\0';
    }
    return key;
}

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

} // namespace

// Shared with the connection test (core/monitor/connectiontest.cpp).
std::string classifyPostgresConnectError(const std::string &message, const PostgresTarget &target,
                                         int timeoutSeconds)
{
    const std::string m = lower(message);
    auto has = [&](const char *s) {
        return m.find(s) != std::string::npos;
    };
    if (has("password authentication failed"))
        return std::string("wrong password (authentication failed; the password comes from ") +
               "PGPASSWORD, ~/.pgpass, CLICKSTREAM_PG_PASSWORD or the keychain)";
    if (has("no password supplied") || has("password is required"))
        return target.password.empty()
                   ? "the server wants a password and none was given (set PGPASSWORD, use "
                     "~/.pgpass or CLICKSTREAM_PG_PASSWORD)"
                   : "the server refused the password";
    if (has("timeout expired"))
        return "unreachable: no answer within " + std::to_string(timeoutSeconds) + " s";
    if (has("connection refused"))
        return "unreachable: connection refused (is the server running on that host and port?)";
    if (has("could not translate host name") || has("name or service not known"))
        return "unreachable: unknown host name";
    if (has("no route to host") || has("network is unreachable") || has("could not connect"))
        return "unreachable";
    if (has("permission denied for database") || has("not have connect privilege"))
        return "no permission to connect to this database (GRANT CONNECT to the user)";
    if (has("database") && has("does not exist"))
        return "the database does not exist";
    if (has("role") && has("does not exist"))
        return "the user (role) does not exist";
    if (has("pg_hba.conf"))
        return "refused by the server's pg_hba.conf for this host, user and database";
    if (has("ssl"))
        return "TLS handshake failed";
    return "cannot connect";
}

namespace {

/// Whether a write that failed with `e` may succeed later with the same batch.
bool retryable(const std::exception &e)
{
    if (dynamic_cast<const pqxx::broken_connection *>(&e) ||
        dynamic_cast<const pqxx::in_doubt_error *>(&e) ||
        dynamic_cast<const pqxx::transaction_rollback *>(&e) ||
        dynamic_cast<const pqxx::insufficient_resources *>(&e))
        return true;
    if (const auto *sql = dynamic_cast<const pqxx::sql_error *>(&e)) {
        // Connection, transaction rollback, resources, object in use (locks), operator
        // intervention (timeouts, shutdown), system errors.
        const std::string cls = sql->sqlstate().substr(0, 2);
        for (const char *c : {"08", "40", "53", "55", "57", "58"})
            if (cls == c)
                return true;
    }
    return false;
}

} // namespace

// ---- Impl -------------------------------------------------------------------------------------

std::string PostgresStore::Impl::failure(const std::string &what, const std::exception &e) const
{
    std::string text = oneLine(e.what());
    if (const auto *sql = dynamic_cast<const pqxx::sql_error *>(&e);
        sql && !sql->sqlstate().empty())
        text += " [SQLSTATE " + sql->sqlstate() + "]";
    return where + ": " + what + ": " + redact(std::move(text), target.password);
}

void PostgresStore::Impl::noteBroken(const std::exception &e)
{
    if (dynamic_cast<const pqxx::broken_connection *>(&e) ||
        (connection && !connection->is_open())) {
        std::lock_guard lock(socketMutex);
        socket = -1;
        connection.reset();
    }
}

bool PostgresStore::Impl::requireConnection(std::string *error) const
{
    if (connection)
        return true;
    setError(error, (where.empty() ? std::string("PostgreSQL") : where) +
                        ": not connected (connect() first, or again after a failure)");
    return false;
}

// ---- PostgresStore ----------------------------------------------------------------------------

std::string_view toString(ReportTable table)
{
    switch (table) {
    case ReportTable::PageMetrics:
        return "page_metrics";
    case ReportTable::GeoMetrics:
        return "geo_metrics";
    case ReportTable::Sessions:
        return "sessions";
    case ReportTable::ProductFunnel:
        return "product_funnel";
    }
    return "page_metrics";
}

std::optional<ReportTable> reportTableFromName(std::string_view name)
{
    for (const auto t : {ReportTable::PageMetrics, ReportTable::GeoMetrics, ReportTable::Sessions,
                         ReportTable::ProductFunnel})
        if (toString(t) == name)
            return t;
    return std::nullopt;
}

bool migrateSchema(pqxx::connection_base &connection, int *version, std::string *step,
                   std::string *error)
{
    *step = "applying the schema migrations";
    const auto migrations = schemaMigrations();
    const int latest = latestSchemaVersion();
    for (;;) {
        pqxx::work tx(connection, "migrate");
        tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
        if (tx.exec("SELECT to_regclass('schema_migrations') IS NULL")[0][0].as<bool>())
            tx.exec("CREATE TABLE schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())");
        const int current =
            tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
        if (current > latest) {
            setError(error, "database schema version " + std::to_string(current) +
                                " is newer than this app knows (" + std::to_string(latest) +
                                "): upgrade clickstream-studio");
            return false; // the transaction rolls back; nothing changed
        }
        const auto next =
            std::find_if(migrations.begin(), migrations.end(),
                         [&](const SchemaMigration &m) { return m.version > current; });
        if (next == migrations.end()) {
            tx.commit();
            *version = current;
            return true;
        }
        *step = "applying schema migration " + std::to_string(next->version) + " (" +
                std::string(next->name) + ")";
        tx.exec(std::string(next->sql));
        tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                       next->version, std::string(next->name));
        tx.commit();
    }
}

PostgresStore::PostgresStore(PostgresStoreOptions options)
    : m_impl(std::make_unique<Impl>())
{
    m_impl->options = options;
}

PostgresStore::~PostgresStore() = default;

bool PostgresStore::connect(const PostgresTarget &target, std::chrono::milliseconds timeout,
                            std::string *error)
{
    disconnect();
    Impl &d = *m_impl;
    d.target = target;
    d.where = "PostgreSQL at " + (target.conninfo.empty() ? "(libpq defaults)" : target.describe());
    const int seconds = std::max<int>(2, static_cast<int>((timeout.count() + 999) / 1000));
    std::unique_ptr<pqxx::connection> c;
    try {
        c = std::make_unique<pqxx::connection>(target.connectionString(seconds));
    } catch (const std::exception &e) {
        const std::string text = redact(oneLine(e.what()), target.password);
        setError(error, d.where + ": " + classifyPostgresConnectError(text, target, seconds) +
                            " (" + text + ")");
        return false;
    }
    std::string step = "setting up the session";
    try {
        {
            pqxx::nontransaction tx(*c);
            tx.exec("SET TimeZone = 'UTC'");
            tx.exec("SET application_name = 'clickstream-studio'");
            tx.exec("SET statement_timeout = " +
                    std::to_string(std::max<long long>(0, d.options.statementTimeout.count())));
        }
        std::string newer;
        if (!migrateSchema(*c, &d.schemaVersion, &step, &newer)) {
            setError(error, d.where + ": " + newer);
            return false;
        }
        step = "preparing the session";
        {
            pqxx::nontransaction tx(*c);
            d.hll = !tx.exec("SELECT 1 FROM pg_extension WHERE extname = 'hll'").empty();
            tx.exec(kStagingDdl);
        }
        c->prepare("studio_upsert_date", kUpsertDate);
        c->prepare("studio_upsert_offset", kUpsertOffset);
        c->prepare("studio_upsert_checkpoint", kUpsertCheckpoint);
    } catch (const pqxx::sql_error &e) {
        const std::string state = e.sqlstate();
        // (libpqxx 6.4 throws insufficient_privilege without its SQLSTATE.)
        if (state == "42501" || dynamic_cast<const pqxx::insufficient_privilege *>(&e))
            setError(error, d.failure("no permission to create or use the schema in this "
                                      "database while " +
                                          step +
                                          " (grant the user CREATE on "
                                          "schema public, or connect once as the database owner)",
                                      e));
        else
            setError(error, d.failure(step + " failed", e));
        return false;
    } catch (const std::exception &e) {
        setError(error, d.failure(step + " failed", e));
        return false;
    }
    std::lock_guard lock(d.socketMutex); // cancel() reaches the connection from here on
    d.socket = c->sock();
    d.connection = std::move(c);
    return true;
}

void PostgresStore::disconnect()
{
    std::unique_ptr<pqxx::connection> old;
    {
        std::lock_guard lock(m_impl->socketMutex);
        m_impl->socket = -1;
        old = std::move(m_impl->connection);
    }
    m_impl->schemaVersion = 0;
    m_impl->hll = false;
    old.reset(); // closes outside the lock
}

bool PostgresStore::isConnected() const
{
    return m_impl->connection != nullptr;
}

int PostgresStore::schemaVersion() const
{
    return m_impl->schemaVersion;
}

bool PostgresStore::hasHllExtension() const
{
    return m_impl->hll;
}

void PostgresStore::cancel()
{
    std::lock_guard lock(m_impl->socketMutex);
    if (m_impl->socket >= 0)
        ::shutdown(m_impl->socket, SHUT_RDWR);
}

bool PostgresStore::lastWriteRetryable() const
{
    return m_impl->lastWriteRetryable;
}

PostgresStoreStats PostgresStore::stats() const
{
    return m_impl->stats;
}

bool PostgresStore::ping(std::string *error)
{
    Impl &d = *m_impl;
    if (!d.requireConnection(error))
        return false;
    try {
        pqxx::nontransaction tx(*d.connection);
        tx.exec("SELECT 1");
        return true;
    } catch (const std::exception &e) {
        setError(error, d.failure("ping failed", e));
        d.noteBroken(e);
        return false;
    }
}

bool PostgresStore::write(const SinkBatch &batch, std::string *error)
{
    Impl &d = *m_impl;
    d.lastWriteRetryable = true;
    if (!d.requireConnection(error))
        return false;
    if (batch.groupId.empty() &&
        (!batch.offsets.empty() || batch.checkpoint || !batch.pieces.empty())) {
        setError(error, d.where + ": a batch with offsets or a checkpoint needs its groupId");
        d.lastWriteRetryable = false;
        return false;
    }
    const FinalResults &r = batch.results;
    const bool archive = d.options.rawArchive && !batch.rawEvents.empty();
    std::string step = "starting the transaction";
    try {
        pqxx::work tx(*d.connection, "write");

        step = "writing the date dimension";
        std::set<std::int64_t> days;
        for (const auto &p : r.pages)
            days.insert(floorDiv(p.row.windowStart, kDayMs));
        for (const auto &g : r.geo)
            days.insert(floorDiv(g.windowStart, kDayMs));
        for (const auto &s : r.sessions)
            days.insert(floorDiv(s.start, kDayMs));
        for (const auto &f : r.funnel)
            days.insert(floorDiv(f.windowStart, kDayMs));
        for (const std::int64_t day : days) {
            const auto [key, text] = utcDate(day * kDayMs);
            tx.exec_prepared("studio_upsert_date", key, text);
        }

        if (!r.pages.empty()) {
            step = "writing page_metrics";
            CopyWriter copy(tx, "stage_page_metrics",
                            {"window_start", "window_end", "page", "views", "clicks", "add_to_cart",
                             "purchases", "revenue", "unique_users", "unique_sessions", "users_hll",
                             "sessions_hll", "date_key"});
            for (const std::size_t i : lastOfEachKey(r.pages, [](const PageFinal &p) {
                     return keyOf(p.row.windowStart, {p.row.page});
                 })) {
                const PageFinal &p = r.pages[i];
                const PageRow &row = p.row;
                copy.time(row.windowStart)
                    .time(row.windowEnd)
                    .text(row.page)
                    .integer(static_cast<std::int64_t>(row.views))
                    .integer(static_cast<std::int64_t>(row.clicks))
                    .integer(static_cast<std::int64_t>(row.addToCart))
                    .integer(static_cast<std::int64_t>(row.purchases))
                    .money(row.revenueCents)
                    .real(p.users.estimate())
                    .real(p.sessions.estimate())
                    .bytes(p.users.toHllBytes())
                    .bytes(p.sessions.toHllBytes())
                    .integer(utcDate(row.windowStart).first);
                copy.endRow();
            }
            copy.complete();
            tx.exec(kUpsertDimsPages);
            tx.exec_params(kUpsertPages, batch.shard);
        }

        if (!r.geo.empty()) {
            step = "writing geo_metrics";
            CopyWriter copy(tx, "stage_geo_metrics",
                            {"window_start", "window_end", "country", "browser", "device_type",
                             "events", "date_key"});
            for (const std::size_t i : lastOfEachKey(r.geo, [](const GeoRow &g) {
                     return keyOf(g.windowStart, {g.country, g.browser, g.deviceType});
                 })) {
                const GeoRow &g = r.geo[i];
                copy.time(g.windowStart)
                    .time(g.windowEnd)
                    .text(g.country)
                    .text(g.browser)
                    .text(g.deviceType)
                    .integer(static_cast<std::int64_t>(g.events))
                    .integer(utcDate(g.windowStart).first);
                copy.endRow();
            }
            copy.complete();
            tx.exec(kUpsertDimsGeo);
            tx.exec_params(kUpsertGeo, batch.shard);
        }

        if (!r.sessions.empty()) {
            step = "writing sessions";
            CopyWriter copy(tx, "stage_sessions",
                            {"user_id", "session_start", "session_end", "events", "distinct_pages",
                             "revenue", "converted", "date_key"});
            for (const std::size_t i : lastOfEachKey(
                     r.sessions, [](const SessionRow &s) { return keyOf(s.start, {s.userId}); })) {
                const SessionRow &s = r.sessions[i];
                copy.text(s.userId)
                    .time(s.start)
                    .time(s.end)
                    .integer(static_cast<std::int64_t>(s.events))
                    .integer(s.distinctPages)
                    .money(s.revenueCents)
                    .boolean(s.converted)
                    .integer(utcDate(s.start).first);
                copy.endRow();
            }
            copy.complete();
            tx.exec_params(kUpsertSessions, batch.shard);
        }

        if (!r.funnel.empty()) {
            step = "writing product_funnel";
            CopyWriter copy(tx, "stage_product_funnel",
                            {"window_start", "window_end", "product_id", "views", "add_to_cart",
                             "purchases", "hot_low_conversion", "date_key"});
            for (const std::size_t i : lastOfEachKey(r.funnel, [](const FunnelRow &f) {
                     return keyOf(f.windowStart, {f.productId});
                 })) {
                const FunnelRow &f = r.funnel[i];
                copy.time(f.windowStart)
                    .time(f.windowEnd)
                    .text(f.productId)
                    .integer(static_cast<std::int64_t>(f.views))
                    .integer(static_cast<std::int64_t>(f.addToCart))
                    .integer(static_cast<std::int64_t>(f.purchases))
                    .boolean(f.hotLowConversion)
                    .integer(utcDate(f.windowStart).first);
                copy.endRow();
            }
            copy.complete();
            tx.exec(kUpsertDimsFunnel);
            tx.exec_params(kUpsertFunnel, batch.shard);
        }

        if (archive) {
            step = "archiving raw events";
            CopyWriter copy(tx, "stage_raw_events",
                            {"event_id", "event_type", "ts", "user_id", "session_id", "page",
                             "product_id", "product_category", "price", "referrer", "country",
                             "device_type", "browser", "kafka_topic", "kafka_partition",
                             "kafka_offset"});
            for (const RawEvent &e : batch.rawEvents) {
                copy.text(e.eventId)
                    .text(e.eventType)
                    .time(e.timestampMs)
                    .text(e.userId)
                    .text(e.sessionId)
                    .text(e.page)
                    .optionalText(e.productId)
                    .optionalText(e.productCategory);
                if (e.hasPrice)
                    copy.money(e.priceCents);
                else
                    copy.null();
                copy.text(e.referrer)
                    .text(e.country)
                    .text(e.deviceType)
                    .text(e.browser)
                    .optionalText(e.topic);
                if (e.partition >= 0)
                    copy.integer(e.partition);
                else
                    copy.null();
                if (e.offset >= 0)
                    copy.integer(e.offset);
                else
                    copy.null();
                copy.endRow();
            }
            copy.complete();
            tx.exec(kArchiveRaw);
        }

        step = "writing the consumer offsets";
        for (const KafkaOffset &o : batch.offsets)
            tx.exec_prepared("studio_upsert_offset", batch.groupId, o.topic, o.partition,
                             o.nextOffset);

        if (!batch.pieces.empty()) {
            step = "writing the checkpoint pieces";
            pgdetail::writePieces(tx, batch);
        }
        if (batch.checkpoint) {
            step = "writing the checkpoint";
            nlohmann::json offsets = nlohmann::json::array();
            for (const KafkaOffset &o : batch.offsets)
                offsets.push_back({{"topic", o.topic},
                                   {"partition", o.partition},
                                   {"next_offset", o.nextOffset}});
            const pqxx::binarystring state(batch.checkpoint->data(), batch.checkpoint->size());
            tx.exec_prepared(
                "studio_upsert_checkpoint", batch.groupId, batch.shard, state,
                offsets.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }

        step = "committing";
        tx.commit();
    } catch (const pqxx::in_doubt_error &e) {
        ++d.stats.failures;
        d.lastWriteRetryable = true;
        setError(error, d.failure("the connection broke while committing, so whether the batch "
                                  "was stored is unknown (writing it again is safe)",
                                  e));
        d.noteBroken(e);
        return false;
    } catch (const std::exception &e) {
        ++d.stats.failures;
        d.lastWriteRetryable = retryable(e);
        setError(error, d.failure(step + " failed, nothing of the batch was stored", e));
        d.noteBroken(e);
        return false;
    }
    ++d.stats.batches;
    d.stats.rows += batch.rowCount();
    if (archive)
        d.stats.rawEvents += batch.rawEvents.size();
    return true;
}

bool PostgresStore::loadOffsets(const std::string &group, const std::string &topic,
                                std::vector<KafkaOffset> *out, std::string *error)
{
    Impl &d = *m_impl;
    out->clear();
    return d.readQuery("loading the offsets failed", error, [&](pqxx::read_transaction &tx) {
        const pqxx::result r =
            tx.exec_params("SELECT partition, next_offset FROM consumer_offsets"
                           " WHERE group_id = $1 AND topic = $2 ORDER BY partition",
                           group, topic);
        for (const auto &row : r)
            out->push_back({topic, row[0].as<std::int32_t>(), row[1].as<std::int64_t>()});
        return true;
    });
}

bool PostgresStore::loadCheckpoint(const std::string &group, const std::string &shard,
                                   std::optional<Checkpoint> *out, std::string *error)
{
    Impl &d = *m_impl;
    out->reset();
    return d.readQuery("loading the checkpoint failed", error, [&](pqxx::read_transaction &tx) {
        const pqxx::result r = tx.exec_params(
            "SELECT state, offsets::text, (extract(epoch FROM updated_at) * 1000)::bigint"
            " FROM aggregator_checkpoints WHERE group_id = $1 AND shard = $2",
            group, shard);
        if (r.empty())
            return true;
        Checkpoint c;
        const pqxx::binarystring state(r[0][0]);
        c.state.assign(state.get(), state.size());
        for (const auto &o : nlohmann::json::parse(r[0][1].c_str()))
            c.offsets.push_back({o.at("topic").get<std::string>(),
                                 o.at("partition").get<std::int32_t>(),
                                 o.at("next_offset").get<std::int64_t>()});
        c.updatedAtMs = r[0][2].as<std::int64_t>();
        *out = std::move(c);
        return true;
    });
}

} // namespace studio::core
