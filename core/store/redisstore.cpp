#include "core/store/redisstore.h"

#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/store/redisclient.h"

#include <hiredis/hiredis.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// The product hash keeps the newest window: an older window's row (a final row that arrives
// after the next window's live row, or a replay) must not replace it. Window texts are compared
// by their digits, padded to the same length, so the server's collation locale cannot matter.
constexpr const char *kProductScript = R"lua(
local function norm(s) local d = string.gsub(s, '%D', '') return d .. string.rep('0', 17 - #d) end
local cur = redis.call('HGET', KEYS[1], 'window_start')
local ttl = tonumber(ARGV[9])
if not (cur and norm(cur) > norm(ARGV[1])) then
  redis.call('HSET', KEYS[1], 'window_start', ARGV[1], 'window_end', ARGV[2], 'views', ARGV[3],
    'add_to_cart', ARGV[4], 'purchases', ARGV[5], 'conversion', ARGV[6],
    'hot_low_conversion', ARGV[7], 'final', ARGV[8])
end
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 1
)lua";

// Removes the window fields of a click_count hash that start before ARGV[1].
constexpr const char *kPruneScript = R"lua(
local function norm(s) local d = string.gsub(s, '%D', '') return d .. string.rep('0', 17 - #d) end
local cutoff = norm(ARGV[1])
local removed = 0
local fields = redis.call('HKEYS', KEYS[1])
for i = 1, #fields do
  local f = fields[i]
  if string.find(f, '^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d') and norm(f) < cutoff then
    redis.call('HDEL', KEYS[1], f)
    removed = removed + 1
  end
end
return removed
)lua";

// hiredis writes with plain write(): a server that closes the connection would raise SIGPIPE and
// end the process. Blocked on this thread for the call, the write fails with EPIPE instead; a
// SIGPIPE that became pending meanwhile is taken before the old mask returns.
class SigpipeBlock
{
public:
    SigpipeBlock()
    {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, &m_old);
    }
    ~SigpipeBlock()
    {
        if (!sigismember(&m_old, SIGPIPE)) {
            sigset_t pending;
            sigpending(&pending);
            if (sigismember(&pending, SIGPIPE)) {
                sigset_t set;
                sigemptyset(&set);
                sigaddset(&set, SIGPIPE);
                const timespec zero{};
                sigtimedwait(&set, nullptr, &zero);
            }
        }
        pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    SigpipeBlock(const SigpipeBlock &) = delete;
    SigpipeBlock &operator=(const SigpipeBlock &) = delete;

private:
    sigset_t m_old;
};

std::size_t decimalDigits(std::size_t v)
{
    std::size_t n = 1;
    while (v >= 10) {
        v /= 10;
        ++n;
    }
    return n;
}

// One command's arguments, copied into one buffer (hiredis copies them again when appending).
class Command
{
public:
    Command &start()
    {
        m_arena.clear();
        m_parts.clear();
        return *this;
    }
    Command &arg(std::string_view s)
    {
        m_parts.push_back({m_arena.size(), s.size()});
        m_arena.append(s);
        return *this;
    }
    Command &key(std::string_view prefix, std::string_view kind, std::string_view name)
    {
        m_parts.push_back({m_arena.size(), prefix.size() + kind.size() + name.size()});
        m_arena.append(prefix).append(kind).append(name);
        return *this;
    }
    Command &number(std::uint64_t v)
    {
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        return arg({buf, static_cast<std::size_t>(r.ptr - buf)});
    }
    Command &number(double v)
    {
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        return arg({buf, static_cast<std::size_t>(r.ptr - buf)});
    }
    std::size_t size() const { return m_parts.size(); }

    /// Appends to the context's output buffer; the RESP byte count, or 0 when out of memory.
    std::size_t appendTo(redisContext *c)
    {
        m_argv.clear();
        m_lens.clear();
        std::size_t bytes = 1 + decimalDigits(m_parts.size()) + 2;
        for (const auto &[offset, length] : m_parts) {
            m_argv.push_back(m_arena.data() + offset);
            m_lens.push_back(length);
            bytes += 1 + decimalDigits(length) + 2 + length + 2;
        }
        if (redisAppendCommandArgv(c, static_cast<int>(m_argv.size()), m_argv.data(),
                                   m_lens.data()) != REDIS_OK)
            return 0;
        return bytes;
    }

private:
    std::string m_arena;
    std::vector<std::pair<std::size_t, std::size_t>> m_parts;
    std::vector<const char *> m_argv;
    std::vector<std::size_t> m_lens;
};

enum class Outcome { Ok, IoError, ReplyError, NoScript };

} // namespace

void RedisBatch::add(const FinalResults &results)
{
    pages.reserve(pages.size() + results.pages.size());
    for (const PageFinal &f : results.pages)
        pages.push_back(f.row);
    funnel.insert(funnel.end(), results.funnel.begin(), results.funnel.end());
}

struct RedisStore::Impl
{
    RedisStoreOptions options;
    RedisTarget target;
    bool haveTarget = false;
    milliseconds timeout{2000};
    RedisContextPtr ctx;
    std::string productSha;
    std::string pruneSha;
    // click_count pruning: the newest window of a page at its last prune (this process only).
    std::unordered_map<std::string, std::int64_t> prunedAt;
    std::vector<std::pair<std::string, std::int64_t>> prunesSent;

    mutable std::mutex statsMutex;
    RedisStoreStats stats;

    Command cmd;
    std::size_t pending = 0; // commands appended whose replies are unread
    std::string replyError;
    std::size_t replyErrors = 0;
    bool noScript = false;
    RedisWriteResult *current = nullptr;

    std::string where() const { return "Redis " + target.host + ":" + std::to_string(target.port); }
    std::string fail(const std::string &what) const
    {
        return redact(where() + ": " + what, target.password);
    }

    void drop()
    {
        ctx.reset();
        pending = 0;
        std::lock_guard lock(statsMutex);
        stats.connected = false;
    }

    // The message for the I/O error on `ctx` (then dropped), during `step`.
    std::string ioError(const char *step)
    {
        std::string text = ctx ? ctx->errstr : "";
        const int kind = ctx ? ctx->err : 0;
        drop();
        if (text.find("temporarily unavailable") != std::string::npos ||
            text.find("timed out") != std::string::npos)
            return fail(std::string(step) + " timed out after " + std::to_string(timeout.count()) +
                        " ms");
        if (kind == REDIS_ERR_EOF || text.empty())
            return fail(std::string(step) + " failed: connection closed by the server");
        return fail(std::string(step) + " failed: " + text);
    }

    // One command on the connection: null on an I/O error (then dropped, message in `error`);
    // error replies are returned as they are.
    RedisReplyPtr roundTrip(std::initializer_list<std::string_view> args, const char *step,
                            std::string *error)
    {
        cmd.start();
        for (std::string_view a : args)
            cmd.arg(a);
        void *raw = nullptr;
        if (cmd.appendTo(ctx.get()) == 0 || redisGetReply(ctx.get(), &raw) != REDIS_OK) {
            *error = ioError(step);
            return nullptr;
        }
        return adoptRedisReply(raw);
    }

    // A handshake command that must succeed; an error reply drops the connection.
    RedisReplyPtr call(std::initializer_list<std::string_view> args, const char *step,
                       std::string *error)
    {
        RedisReplyPtr reply = roundTrip(args, step, error);
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            const std::string text(reply->str, reply->len);
            if (text.rfind("NOAUTH", 0) == 0)
                *error = fail("authentication required: the server wants a password and none is "
                              "configured (" +
                              text + ")");
            else
                *error = fail(std::string(step) + " failed: " + text);
            drop();
            return nullptr;
        }
        return reply;
    }

    bool connectNow(std::string *error)
    {
        drop();
        if (!haveTarget || target.host.empty()) {
            *error = "Redis: no server configured";
            return false;
        }
        ctx.reset(redisConnectWithTimeout(target.host.c_str(), target.port, redisTimeval(timeout)));
        if (!ctx) {
            *error = fail("cannot allocate a connection");
            return false;
        }
        if (ctx->err) {
            *error = ioError("connect");
            return false;
        }
        if (redisSetTimeout(ctx.get(), redisTimeval(timeout)) != REDIS_OK) {
            *error = ioError("setting the timeout");
            return false;
        }
        if (!target.password.empty()) {
            RedisReplyPtr auth =
                target.user.empty()
                    ? roundTrip({"AUTH", target.password}, "AUTH", error)
                    : roundTrip({"AUTH", target.user, target.password}, "AUTH", error);
            if (!auth)
                return false;
            if (auth->type == REDIS_REPLY_ERROR) {
                *error = fail("authentication failed" +
                              (target.user.empty()
                                   ? std::string(" (wrong password)")
                                   : " for user '" + target.user + "' (wrong user or password)") +
                              ": " + std::string(auth->str, auth->len));
                drop();
                return false;
            }
        }
        if (!call({"PING"}, "PING", error))
            return false;
        if (target.db != 0 && !call({"SELECT", std::to_string(target.db)},
                                    ("SELECT " + std::to_string(target.db)).c_str(), error))
            return false;
        RedisReplyPtr product = call({"SCRIPT", "LOAD", kProductScript}, "SCRIPT LOAD", error);
        if (!product)
            return false;
        RedisReplyPtr prune = call({"SCRIPT", "LOAD", kPruneScript}, "SCRIPT LOAD", error);
        if (!prune)
            return false;
        productSha.assign(product->str, product->len);
        pruneSha.assign(prune->str, prune->len);
        std::lock_guard lock(statsMutex);
        stats.connected = true;
        ++stats.connects;
        return true;
    }

    // Reads every outstanding reply; false on an I/O error (the connection is dropped then).
    bool drain()
    {
        while (pending > 0) {
            void *raw = nullptr;
            if (redisGetReply(ctx.get(), &raw) != REDIS_OK)
                return false;
            --pending;
            RedisReplyPtr reply = adoptRedisReply(raw);
            if (reply->type == REDIS_REPLY_ERROR) {
                const std::string text(reply->str, reply->len);
                if (text.rfind("NOSCRIPT", 0) == 0)
                    noScript = true;
                if (replyErrors++ == 0)
                    replyError = text;
            }
        }
        return true;
    }

    bool send(Command &c)
    {
        const std::size_t bytes = c.appendTo(ctx.get());
        if (bytes == 0)
            return false;
        ++pending;
        ++current->commands;
        current->bytes += bytes;
        return pending < options.pipelineDepth || drain();
    }

    void expire(std::string_view kind, std::string_view name)
    {
        if (options.ttl.count() > 0)
            cmd.start()
                .arg("EXPIRE")
                .key(options.keyPrefix, kind, name)
                .number(static_cast<std::uint64_t>(options.ttl.count()));
    }

    bool sendPages(const std::vector<PageRow> &rows);
    bool sendFunnel(const std::vector<FunnelRow> &rows);
    Outcome sendBatch(const RedisBatch &batch);
    bool run(const char *what, const std::function<Outcome()> &body, std::string *error);
};

bool RedisStore::Impl::sendPages(const std::vector<PageRow> &rows)
{
    const std::int64_t ttlMs = options.ttl.count() * 1000;
    const std::size_t perCommand = std::max<std::size_t>(options.fieldsPerCommand, 1);
    // Rows grouped by page (one HSET per page) and by window (one ZADD per window), in order.
    std::unordered_map<std::string_view, std::size_t> pageIndex;
    std::vector<std::pair<std::int64_t, std::vector<std::size_t>>> pages; // newest, rows
    std::map<std::int64_t, std::vector<std::size_t>> windows;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto [it, added] = pageIndex.try_emplace(rows[i].page, pages.size());
        if (added)
            pages.push_back({rows[i].windowStart, {}});
        auto &group = pages[it->second];
        group.first = std::max(group.first, rows[i].windowStart);
        group.second.push_back(i);
        windows[rows[i].windowStart].push_back(i);
    }
    for (const auto &[newest, members] : pages) {
        const std::string &page = rows[members.front()].page;
        // Fields older than ttl before the page's newest window are pruned, so never written.
        const std::int64_t cutoff = ttlMs > 0 ? newest - ttlMs : INT64_MIN;
        std::size_t at = 0;
        while (at < members.size()) {
            cmd.start().arg("HSET").key(options.keyPrefix, "click_count:", page);
            for (; at < members.size() && cmd.size() < 2 + 2 * perCommand; ++at) {
                const PageRow &r = rows[members[at]];
                if (r.windowStart < cutoff)
                    continue;
                cmd.arg(windowText(r.windowStart))
                    .number(r.views + r.clicks + r.addToCart + r.purchases);
            }
            if (cmd.size() > 2 && !send(cmd))
                return false;
        }
        if (ttlMs <= 0)
            continue;
        expire("click_count:", page);
        if (!send(cmd))
            return false;
        // Pruning scans the hash: once per page per ttl/16 of event time is plenty.
        const auto seen = prunedAt.find(page);
        if (seen == prunedAt.end() ||
            newest - seen->second >= std::max<std::int64_t>(ttlMs / 16, 1000)) {
            cmd.start().arg("EVALSHA").arg(pruneSha).arg("1").key(options.keyPrefix,
                                                                  "click_count:", page);
            if (!send(cmd.arg(windowText(cutoff))))
                return false;
            prunesSent.emplace_back(page, newest);
        }
    }
    for (const auto &[start, members] : windows) {
        const std::string window = windowText(start);
        for (std::size_t at = 0; at < members.size();) {
            cmd.start().arg("ZADD").key(options.keyPrefix, "top_pages:", window);
            for (; at < members.size() && cmd.size() < 2 + 2 * perCommand; ++at)
                cmd.number(rows[members[at]].views).arg(rows[members[at]].page);
            if (!send(cmd))
                return false;
        }
        if (ttlMs > 0) {
            expire("top_pages:", window);
            if (!send(cmd))
                return false;
        }
    }
    return true;
}

bool RedisStore::Impl::sendFunnel(const std::vector<FunnelRow> &rows)
{
    // The newest window per product (the last row among equals), in first-seen order.
    std::unordered_map<std::string_view, std::size_t> newest;
    std::vector<std::string_view> order;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto [it, added] = newest.try_emplace(rows[i].productId, i);
        if (added)
            order.push_back(rows[i].productId);
        else if (rows[i].windowStart >= rows[it->second].windowStart)
            it->second = i;
    }
    for (std::string_view product : order) {
        const FunnelRow &r = rows[newest[product]];
        const double conversion = r.views ? double(r.purchases) / double(r.views) : 0.0;
        cmd.start()
            .arg("EVALSHA")
            .arg(productSha)
            .arg("1")
            .key(options.keyPrefix, "product:", product);
        cmd.arg(windowText(r.windowStart)).arg(windowText(r.windowEnd)).number(r.views);
        cmd.number(r.addToCart).number(r.purchases).number(conversion);
        cmd.arg(r.hotLowConversion ? "1" : "0").arg(r.final ? "1" : "0");
        cmd.number(static_cast<std::uint64_t>(std::max<std::int64_t>(options.ttl.count(), 0)));
        if (!send(cmd))
            return false;
    }
    return true;
}

Outcome RedisStore::Impl::sendBatch(const RedisBatch &batch)
{
    pending = 0;
    replyErrors = 0;
    replyError.clear();
    noScript = false;
    prunesSent.clear();
    if (!sendPages(batch.pages) || !sendFunnel(batch.funnel) || !drain())
        return Outcome::IoError;
    if (noScript)
        return Outcome::NoScript;
    if (replyErrors > 0)
        return Outcome::ReplyError;
    if (prunedAt.size() > 100'000) // bounded: forgetting only means one more prune per page
        prunedAt.clear();
    for (auto &[page, at] : prunesSent)
        prunedAt[std::move(page)] = at;
    return Outcome::Ok;
}

// Runs `body` on a connection: connects when there is none and, when a reused connection turns out
// dead or the server lost our scripts, once more on a fresh one.
bool RedisStore::Impl::run(const char *what, const std::function<Outcome()> &body,
                           std::string *error)
{
    SigpipeBlock noSigpipe;
    std::string why;
    for (int attempt = 0; attempt < 2; ++attempt) {
        bool fresh = false;
        if (!ctx) {
            if (!connectNow(&why))
                break;
            fresh = true;
        }
        const Outcome outcome = body();
        if (outcome == Outcome::Ok)
            return true;
        if (outcome == Outcome::IoError) {
            why = ioError(what);
            if (fresh)
                break;
            continue;
        }
        if (outcome == Outcome::NoScript && attempt == 0) {
            drop(); // the next connection loads the scripts again
            why = fail(std::string(what) + " failed: " + replyError);
            continue;
        }
        why = fail(std::string(what) + " failed: " + replyError +
                   (replyErrors > 1 ? " (and " + std::to_string(replyErrors - 1) + " more errors)"
                                    : std::string()));
        break;
    }
    if (error)
        *error = why;
    std::lock_guard lock(statsMutex);
    stats.lastError = why;
    return false;
}

RedisStore::RedisStore(RedisStoreOptions options)
    : m_impl(std::make_unique<Impl>())
{
    m_impl->options = std::move(options);
    m_impl->options.pipelineDepth = std::max<std::size_t>(m_impl->options.pipelineDepth, 1);
}

RedisStore::~RedisStore()
{
    m_impl->drop();
}

bool RedisStore::connect(const RedisTarget &target, std::chrono::milliseconds timeout,
                         std::string *error)
{
    m_impl->target = target;
    m_impl->haveTarget = true;
    m_impl->timeout = std::max(timeout, milliseconds(1));
    m_impl->prunedAt.clear();
    SigpipeBlock noSigpipe;
    std::string why;
    if (m_impl->connectNow(&why))
        return true;
    if (error)
        *error = why;
    std::lock_guard lock(m_impl->statsMutex);
    m_impl->stats.lastError = why;
    return false;
}

void RedisStore::disconnect()
{
    m_impl->drop();
}

bool RedisStore::isConnected() const
{
    return m_impl->ctx != nullptr;
}

bool RedisStore::write(const RedisBatch &batch, RedisWriteResult *result, std::string *error)
{
    const auto start = Clock::now();
    RedisWriteResult r;
    r.rows = batch.rows();
    m_impl->current = &r;
    const bool ok = batch.empty() || m_impl->run(
                                         "write", [&] { return m_impl->sendBatch(batch); }, error);
    m_impl->current = nullptr;
    r.latencyMs = msSince(start);
    {
        std::lock_guard lock(m_impl->statsMutex);
        RedisStoreStats &s = m_impl->stats;
        (ok ? s.writes : s.failedWrites) += 1;
        if (ok)
            s.rows += r.rows;
        s.commands += r.commands;
        s.bytes += r.bytes;
        s.lastLatencyMs = r.latencyMs;
    }
    if (result)
        *result = r;
    return ok;
}

bool RedisStore::writePages(const std::vector<PageRow> &rows, RedisWriteResult *result,
                            std::string *error)
{
    RedisBatch batch;
    batch.pages = rows;
    return write(batch, result, error);
}

bool RedisStore::writeFunnel(const std::vector<FunnelRow> &rows, RedisWriteResult *result,
                             std::string *error)
{
    RedisBatch batch;
    batch.funnel = rows;
    return write(batch, result, error);
}

bool RedisStore::ping(double *latencyMs, std::string *error)
{
    const auto start = Clock::now();
    RedisWriteResult r;
    m_impl->current = &r;
    const bool ok = m_impl->run(
        "PING",
        [&] {
            m_impl->pending = 0;
            m_impl->replyErrors = 0;
            m_impl->noScript = false;
            m_impl->cmd.start().arg("PING");
            if (!m_impl->send(m_impl->cmd) || !m_impl->drain())
                return Outcome::IoError;
            return m_impl->replyErrors ? Outcome::ReplyError : Outcome::Ok;
        },
        error);
    m_impl->current = nullptr;
    const double ms = msSince(start);
    if (latencyMs)
        *latencyMs = ms;
    std::lock_guard lock(m_impl->statsMutex);
    m_impl->stats.lastLatencyMs = ms;
    m_impl->stats.commands += r.commands;
    m_impl->stats.bytes += r.bytes;
    return ok;
}

RedisStoreStats RedisStore::stats() const
{
    std::lock_guard lock(m_impl->statsMutex);
    return m_impl->stats;
}

const RedisStoreOptions &RedisStore::options() const
{
    return m_impl->options;
}

std::string RedisStore::clickCountKey(std::string_view page) const
{
    return m_impl->options.keyPrefix + "click_count:" + std::string(page);
}

std::string RedisStore::topPagesKey(std::int64_t windowStartMs) const
{
    return m_impl->options.keyPrefix + "top_pages:" + windowText(windowStartMs);
}

std::string RedisStore::productKey(std::string_view productId) const
{
    return m_impl->options.keyPrefix + "product:" + std::string(productId);
}

std::string RedisStore::windowText(std::int64_t windowStartMs)
{
    char iso[kIsoMsLength];
    formatIsoMs(windowStartMs, iso); // "2025-06-10T05:04:00.000Z"
    const bool wholeSecond = iso[20] == '0' && iso[21] == '0' && iso[22] == '0';
    return std::string(iso, wholeSecond ? 19 : 23);
}

} // namespace studio::core
