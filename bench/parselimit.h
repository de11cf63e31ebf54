#pragma once
// The parse-only limit shared by bench_aggregator and bench_compare: what simdjson on-demand needs
// to read every value of one event, without building anything from it.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace studio::bench {

/// Reads every field of the event at `data` (`len` bytes of JSON, `allocated` bytes readable
/// from `data`, at least len + SIMDJSON_PADDING). True when it is an object whose values all
/// have the expected types; `sum` takes a checksum of what was read, so the work stays
/// observable.
inline bool readEveryField(simdjson::ondemand::parser &parser, const char *data, std::size_t len,
                           std::size_t allocated, std::uint64_t &sum)
{
    using namespace simdjson;
    ondemand::document doc;
    ondemand::object object;
    if (parser.iterate(data, len, allocated).get(doc) || doc.get_object().get(object))
        return false;
    bool good = true;
    for (auto field : object) {
        ondemand::raw_json_string key;
        ondemand::value value;
        if (field.key().get(key) || field.value().get(value))
            return false;
        if (key.unsafe_is_equal("price")) {
            bool isNull = false;
            double price = 0;
            if (value.is_null().get(isNull) || (!isNull && value.get_double().get(price)))
                good = false;
            sum += static_cast<std::uint64_t>(price * 100.0);
        } else if (key.unsafe_is_equal("product_id") || key.unsafe_is_equal("product_category")) {
            bool isNull = false;
            std::string_view s;
            if (value.is_null().get(isNull) || (!isNull && value.get_string().get(s)))
                good = false;
            sum += s.size();
        } else {
            std::string_view s;
            if (value.get_string().get(s))
                good = false;
            sum += s.size() + static_cast<unsigned char>(s.empty() ? 0 : s[0]);
        }
        if (!good)
            break;
    }
    return good;
}

} // namespace studio::bench
