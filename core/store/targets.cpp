#include "core/store/targets.h"

#include "core/common/text.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
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

bool postgresConninfoHasPassword(const std::string &conninfo)
{
    char *why = nullptr;
    const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
        PQconninfoParse(conninfo.c_str(), &why), &PQconninfoFree);
    if (why)
        PQfreemem(why);
    if (options) {
        for (const PQconninfoOption *o = options.get(); o->keyword; ++o) {
            if (std::string_view(o->keyword) == "password" && o->val && *o->val)
                return true;
        }
        return false;
    }
    // Not parsable: judged by its text (a password may still be in it).
    std::string lower = conninfo;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("password") != std::string::npos)
        return true;
    const auto scheme = lower.find("://");
    const auto at = lower.find('@');
    if (scheme == std::string::npos || at == std::string::npos)
        return false;
    const auto colon = lower.find(':', scheme + 3);
    return colon < at;
}

} // namespace studio::core
