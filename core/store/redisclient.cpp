#include "core/store/redisclient.h"

#include <algorithm>

namespace studio::core {

timeval redisTimeval(std::chrono::milliseconds timeout)
{
    timeout = std::max(timeout, std::chrono::milliseconds(1));
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    return tv;
}

RedisReplyPtr redisCommandArgs(redisContext *context, const std::vector<std::string> &args)
{
    std::vector<const char *> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string &a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    return adoptRedisReply(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
}

} // namespace studio::core
