#include "core/store/targets.h"

#include "core/common/text.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <string_view>

namespace studio::core {

namespace {

std::string percentEncode(const std::string &text)
{
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// %XX sequences decoded; nullopt for a '%' not followed by two hex digits.
std::optional<std::string> percentDecode(std::string_view text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const int hi = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// A whole decimal number in [low, high]; nullopt for anything else ("", "+1", "6379x", " 1").
std::optional<int> wholeNumber(std::string_view text, int low, int high)
{
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low ||
        value > high)
        return std::nullopt;
    return value;
}

// Letters, digits, '-', '.' and '_': a DNS name or an IPv4 address.
bool plainHost(std::string_view host)
{
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    });
}

// Hex digits, ':' and '.' (an IPv4 tail): what may stand between the brackets of an IPv6 host.
bool ipv6Host(std::string_view host)
{
    return host.find(':') != std::string_view::npos &&
           std::all_of(host.begin(), host.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
           });
}

} // namespace

std::string PostgresTarget::connectionString(int connectTimeoutSeconds) const
{
    const std::string timeout = std::to_string(std::max(0, connectTimeoutSeconds));
    if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0) {
        std::string uri = conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") +
                          "connect_timeout=" + timeout;
        if (!password.empty())
            uri += "&password=" + percentEncode(password);
        return uri;
    }
    std::string out = conninfo + " connect_timeout=" + timeout;
    if (!password.empty()) {
        out += " password='";
        for (char c : password) {
            if (c == '\'' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '\'';
    }
    return out;
}

std::string PostgresTarget::describe() const
{
    std::string out = redact(conninfo, password);
    // A password in a URI's user part: postgresql://user:secret@host/...
    if (const auto scheme = out.find("://"); scheme != std::string::npos) {
        const std::size_t start = scheme + 3;
        const std::size_t end = std::min(out.find_first_of("/?#", start), out.size());
        const std::size_t at = out.rfind('@', end);
        if (at != std::string::npos && at > start) {
            const std::size_t colon = out.find(':', start);
            if (colon < at)
                out.replace(colon + 1, at - colon - 1, "***");
        }
    }
    // A password written into the conninfo itself: key=value or URI query form.
    for (const char *key : {"password=", "password ="}) {
        for (std::size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + 1)) {
            std::size_t begin = at + std::string_view(key).size();
            while (begin < out.size() && out[begin] == ' ')
                ++begin;
            std::size_t end = begin;
            if (end < out.size() && out[end] == '\'') {
                for (++end; end < out.size() && out[end] != '\''; ++end)
                    if (out[end] == '\\')
                        ++end;
                end = std::min(out.size(), end + 1);
            } else {
                while (end < out.size() && out[end] != ' ' && out[end] != '&')
                    ++end;
            }
            out.replace(begin, end - begin, "***");
        }
    }
    return out;
}

// ---- Addresses -----------------------------------------------------------------------------

std::optional<RedisTarget> parseRedisUri(std::string_view uri, std::string *error)
{
    const std::string text(uri);
    auto fail = [&](std::string message) -> std::optional<RedisTarget> {
        if (error)
            *error = std::move(message);
        return std::nullopt;
    };
    auto bad = [&](const std::string &what) {
        return fail(what + " in '" + text + "' (expected redis://[USER@]HOST[:PORT][/DB])");
    };
    std::string_view rest = uri;
    if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
        const std::string_view name = rest.substr(0, scheme);
        rest.remove_prefix(scheme + 3);
        if (name != "redis") {
            // Before anything is repeated: a password may follow.
            if (rest.find('@') != std::string_view::npos &&
                rest.substr(0, rest.find('@')).find(':') != std::string_view::npos)
                return fail(kRedisUriHasPassword);
            return fail(name == "rediss" ? "rediss:// (TLS to Redis) is not supported"
                                         : "'" + std::string(name) +
                                               "://' is not a Redis address (expected "
                                               "redis://[USER@]HOST[:PORT][/DB])");
        }
    }
    // The authority ends at the first '/', '?' or '#'; a password may sit before '@' or in a
    // query, so look for one before any message quotes the text.
    const std::size_t authorityEnd = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, authorityEnd);
    std::string_view tail = rest.substr(authorityEnd);
    const std::size_t at = authority.rfind('@');
    if (at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos)
        return fail(kRedisUriHasPassword);
    if (const auto query = tail.find_first_of("?#"); query != std::string_view::npos) {
        std::string lower(tail.substr(query));
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower.find("password") != std::string::npos || lower.find("pass=") != std::string::npos)
            return fail(kRedisUriHasPassword);
        return bad("a query or fragment ('" + std::string(tail.substr(query)) + "')");
    }
    RedisTarget target;
    if (at != std::string_view::npos) {
        const std::string_view user = authority.substr(0, at);
        if (user.find('@') != std::string_view::npos)
            return bad("a second '@' (write '@' in a user name as %40)");
        const auto decoded = percentDecode(user);
        if (!decoded || decoded->empty())
            return bad("a bad user");
        target.user = *decoded;
        authority.remove_prefix(at + 1);
    }
    // HOST[:PORT], the host bracketed when it is an IPv6 address.
    std::string_view host = authority, port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return bad("an unclosed '['");
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':')
            return bad("text after ']'");
        if (!after.empty())
            port = after.substr(1);
        if (!ipv6Host(host))
            return bad("a bad IPv6 address");
    } else {
        if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
            if (host.find(':') != std::string_view::npos)
                return bad("an IPv6 address without brackets (write [::1]:6379)");
            if (port.empty())
                return bad("bad port");
        }
        if (host.empty())
            return bad("no host");
        if (!plainHost(host))
            return bad("a bad host name");
    }
    if (!port.empty() || authority.ends_with(":")) {
        const auto number = wholeNumber(port, 1, 65535);
        if (!number)
            return bad("bad port");
        target.port = *number;
    }
    target.host = std::string(host);
    if (!tail.empty()) { // "/" or "/DB"
        const std::string_view db = tail.substr(1);
        if (!db.empty()) {
            const auto number = wholeNumber(db, 0, 1 << 30);
            if (!number)
                return bad("bad database number");
            target.db = *number;
        }
    }
    return target;
}

std::optional<RedisTarget> parseRedisUri(std::string_view uri, std::string_view user,
                                         std::string *error)
{
    auto target = parseRedisUri(uri, error);
    if (target && !user.empty())
        target->user = std::string(user);
    return target;
}

std::string redisUri(const RedisTarget &target)
{
    std::string out = "redis://";
    if (!target.user.empty())
        out += percentEncode(target.user) + "@";
    out += target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host;
    return out + ":" + std::to_string(target.port) + "/" + std::to_string(target.db);
}

std::string checkPostgresConninfo(std::string_view conninfo)
{
    char *parseError = nullptr;
    const std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption *)> options(
        PQconninfoParse(std::string(conninfo).c_str(), &parseError), &PQconninfoFree);
    if (!options) {
        std::string why = parseError ? oneLine(parseError) : "out of memory";
        PQfreemem(parseError);
        // libpq's reason may quote the text: judged by the text first, so that nothing that might
        // hold a password is repeated (a "password" word, or a "user:secret@" part).
        std::string lower(conninfo);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const auto scheme = lower.find("://");
        const auto at = lower.find('@');
        if (lower.find("password") != std::string::npos ||
            (scheme != std::string::npos && at != std::string::npos &&
             lower.find(':', scheme + 3) < at))
            return kPostgresConninfoHasPassword;
        return "not a valid PostgreSQL connection string: " + why;
    }
    for (const PQconninfoOption *o = options.get(); o->keyword; ++o) {
        if (std::string_view(o->keyword) == "password" && o->val && *o->val)
            return kPostgresConninfoHasPassword;
    }
    return {};
}

} // namespace studio::core
