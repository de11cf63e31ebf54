#pragma once
// A field of a flat JSON line (a command's --json summary or --json-status line), for tests.

#include <simdjson.h>

#include <cstdint>
#include <string>

namespace studio::test {

/// The integer (or boolean, as 0/1) `key` of the JSON object on `line`; -1 when absent or not
/// parseable. `parser` is reused between calls.
inline std::int64_t jsonInt(simdjson::dom::parser &parser, const std::string &line, const char *key)
{
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc))
        return -1;
    std::int64_t v = -1;
    if (doc[key].get(v) == simdjson::SUCCESS)
        return v;
    std::uint64_t u = 0;
    if (doc[key].get(u) == simdjson::SUCCESS)
        return static_cast<std::int64_t>(u);
    bool b = false;
    if (doc[key].get(b) == simdjson::SUCCESS)
        return b ? 1 : 0;
    return -1;
}

inline std::int64_t jsonInt(const std::string &line, const char *key)
{
    simdjson::dom::parser parser;
    return jsonInt(parser, line, key);
}

} // namespace studio::test
