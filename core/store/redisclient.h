#pragma once

// Owners of hiredis objects and the few calls every hiredis user here needs, so that no file
// declares its own deleters. Link PkgConfig::HIREDIS where these are used.

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace studio::core {

namespace redisdetail {
struct ContextFree
{
    void operator()(redisContext *context) const noexcept { redisFree(context); }
};
struct ReplyFree
{
    void operator()(redisReply *reply) const noexcept { freeReplyObject(reply); }
};
} // namespace redisdetail

/// A hiredis connection; destroying it closes the socket.
using RedisContextPtr = std::unique_ptr<redisContext, redisdetail::ContextFree>;
/// One reply (with its elements); null where hiredis gave none (the connection failed: see the
/// context's errstr).
using RedisReplyPtr = std::unique_ptr<redisReply, redisdetail::ReplyFree>;

/// Takes a reply that hiredis hands over as void* (redisCommand, redisGetReply).
inline RedisReplyPtr adoptRedisReply(void *reply)
{
    return RedisReplyPtr(static_cast<redisReply *>(reply));
}

/// `timeout` as hiredis takes it, at least 1 ms (a zero timeval would mean "wait forever").
timeval redisTimeval(std::chrono::milliseconds timeout);

/// Sends one command given as its arguments (binary-safe: no format string) and waits for the
/// reply. Null when the connection failed.
RedisReplyPtr redisCommandArgs(redisContext *context, const std::vector<std::string> &args);

} // namespace studio::core
