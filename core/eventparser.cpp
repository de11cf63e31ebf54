#include "core/eventparser.h"

#include "core/timeutil.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <string>

namespace studio::core {

namespace {

enum Field : std::uint32_t {
    FEventId = 1u << 0,
    FEventType = 1u << 1,
    FTs = 1u << 2,
    FUserId = 1u << 3,
    FSessionId = 1u << 4,
    FPage = 1u << 5,
    FProductId = 1u << 6,
    FProductCategory = 1u << 7,
    FPrice = 1u << 8,
    FReferrer = 1u << 9,
    FCountry = 1u << 10,
    FDeviceType = 1u << 11,
    FBrowser = 1u << 12,
};
constexpr std::uint32_t kAllFields = (1u << 13) - 1;

// Prices whose cents do not fit an int64 (llround would return garbage).
constexpr double kPriceCentsLimit = 0x1p63;
// Nesting accepted inside a field value, as simdjson's DOM parser.
constexpr int kMaxDepth = 1024;

// On-demand skips what it is not asked for without checking it: walks a value the iteration
// would skip so that the whole payload must be JSON (unknown fields, values of a wrong type).
bool isWellFormed(simdjson::ondemand::value value, int depth = 0)
{
    using namespace simdjson;
    ondemand::json_type type;
    if (depth > kMaxDepth || value.type().get(type))
        return false;
    switch (type) {
    case ondemand::json_type::object: {
        ondemand::object object;
        if (value.get_object().get(object))
            return false;
        for (auto field : object) {
            std::string_view key;
            ondemand::value inner;
            if (field.unescaped_key().get(key) || field.value().get(inner)
                || !isWellFormed(inner, depth + 1))
                return false;
        }
        return true;
    }
    case ondemand::json_type::array: {
        ondemand::array array;
        if (value.get_array().get(array))
            return false;
        for (auto element : array) {
            ondemand::value inner;
            if (element.get(inner) || !isWellFormed(inner, depth + 1))
                return false;
        }
        return true;
    }
    case ondemand::json_type::number: {
        double number = 0;
        return value.get_double().get(number) == SUCCESS;
    }
    case ondemand::json_type::string: {
        std::string_view text;
        return value.get_string().get(text) == SUCCESS;
    }
    case ondemand::json_type::boolean: {
        bool flag = false;
        return value.get_bool().get(flag) == SUCCESS;
    }
    case ondemand::json_type::null: {
        bool isNull = false;
        return value.is_null().get(isNull) == SUCCESS && isNull;
    }
    }
    return false;
}

// Which schema field a raw (still escaped) key names, by its first byte then a compare; 0 for
// any other key. Keys written with escape sequences count as other keys.
std::uint32_t fieldOf(simdjson::ondemand::raw_json_string key)
{
    switch (key.raw()[0]) {
    case 'e':
        if (key.unsafe_is_equal("event_id"))
            return FEventId;
        if (key.unsafe_is_equal("event_type"))
            return FEventType;
        break;
    case 't':
        if (key.unsafe_is_equal("ts"))
            return FTs;
        break;
    case 'u':
        if (key.unsafe_is_equal("user_id"))
            return FUserId;
        break;
    case 's':
        if (key.unsafe_is_equal("session_id"))
            return FSessionId;
        break;
    case 'p':
        if (key.unsafe_is_equal("page"))
            return FPage;
        if (key.unsafe_is_equal("product_id"))
            return FProductId;
        if (key.unsafe_is_equal("product_category"))
            return FProductCategory;
        if (key.unsafe_is_equal("price"))
            return FPrice;
        break;
    case 'r':
        if (key.unsafe_is_equal("referrer"))
            return FReferrer;
        break;
    case 'c':
        if (key.unsafe_is_equal("country"))
            return FCountry;
        break;
    case 'd':
        if (key.unsafe_is_equal("device_type"))
            return FDeviceType;
        break;
    case 'b':
        if (key.unsafe_is_equal("browser"))
            return FBrowser;
        break;
    default:
        break;
    }
    return 0;
}

bool hasEscape(simdjson::ondemand::raw_json_string key)
{
    for (const char *p = key.raw(); *p != '"'; ++p) {
        if (*p == '\\')
            return true;
    }
    return false;
}

} // namespace

std::string_view toString(InvalidReason reason)
{
    switch (reason) {
    case InvalidReason::BadJson:
        return "bad_json";
    case InvalidReason::MissingField:
        return "missing_field";
    case InvalidReason::WrongType:
        return "wrong_type";
    case InvalidReason::BadTimestamp:
        return "bad_timestamp";
    case InvalidReason::UnknownEventType:
        return "unknown_event_type";
    case InvalidReason::Oversize:
        return "oversize";
    case InvalidReason::NotUtf8:
        return "not_utf8";
    case InvalidReason::Count:
        break;
    }
    return "unknown";
}

std::string_view toString(EventType type)
{
    switch (type) {
    case EventType::PageView:
        return "page_view";
    case EventType::Click:
        return "click";
    case EventType::AddToCart:
        return "add_to_cart";
    case EventType::Purchase:
        return "purchase";
    }
    return "page_view";
}

struct EventParser::Impl
{
    simdjson::ondemand::parser parser;
    std::string buffer;  // the payload plus simdjson's padding
    std::string keyCopy; // an unescaped key, quoted, for fieldOf()
};

EventParser::EventParser(std::size_t maxBytes)
    : m_impl(std::make_unique<Impl>())
    , m_maxBytes(maxBytes)
{}

EventParser::~EventParser() = default;

const std::size_t EventParser::kPaddingNeeded = simdjson::SIMDJSON_PADDING;

std::optional<InvalidReason> EventParser::parse(std::string_view payload, ParsedEvent &out,
                                                std::size_t readableAfter)
{
    using namespace simdjson;
    if (payload.size() > m_maxBytes)
        return InvalidReason::Oversize;

    const char *input = payload.data();
    std::size_t capacity = payload.size() + readableAfter;
    if (readableAfter < SIMDJSON_PADDING) {
        std::string &buf = m_impl->buffer;
        if (buf.size() < payload.size() + SIMDJSON_PADDING)
            buf.resize(payload.size() + SIMDJSON_PADDING);
        std::memcpy(buf.data(), payload.data(), payload.size());
        std::memset(buf.data() + payload.size(), 0, SIMDJSON_PADDING);
        input = buf.data();
        capacity = buf.size();
    }

    ondemand::document doc;
    // simdjson's first stage validates UTF-8 over the whole payload, keys and unknown fields too.
    if (const error_code e = m_impl->parser.iterate(input, payload.size(), capacity).get(doc))
        return e == UTF8_ERROR || !validate_utf8(payload.data(), payload.size())
                   ? InvalidReason::NotUtf8 // it may stop at another error first
                   : InvalidReason::BadJson;
    ondemand::object object;
    if (doc.get_object().get(object))
        return InvalidReason::BadJson;

    out = ParsedEvent{};
    std::uint32_t seen = 0;
    std::optional<InvalidReason> typeProblem; // reported after the structure is known good
    std::string_view eventType, ts;
    // always_inline: GCC keeps these lambdas out of line otherwise, at ~100 ns an event.
    auto problem = [&](InvalidReason r) __attribute__((always_inline)) {
        if (!typeProblem)
            typeProblem = r;
    };
    // A string field; a wrong JSON type is remembered, broken JSON ends the parse.
    auto readString = [&](ondemand::value &value, std::string_view &into)
                          __attribute__((always_inline)) -> bool {
        const error_code e = value.get_string().get(into);
        if (e == INCORRECT_TYPE) {
            problem(InvalidReason::WrongType);
            return isWellFormed(value);
        }
        return e == SUCCESS;
    };
    auto readNullableString = [&](ondemand::value &value, std::string_view &into,
                                  bool &present) __attribute__((always_inline)) -> bool {
        bool isNull = false;
        if (value.is_null().get(isNull))
            return false;
        if (isNull) {
            into = {}; // a repeated key: the last one wins, null included
            present = false;
            return true;
        }
        present = true;
        return readString(value, into);
    };

    for (auto field : object) {
        ondemand::raw_json_string rawKey;
        if (field.key().get(rawKey))
            return InvalidReason::BadJson;
        std::uint32_t key = fieldOf(rawKey);
        if (key == 0 && hasEscape(rawKey)) {
            // Rare: a key written with escapes ("ev\u0065nt_id") is compared once unescaped.
            std::string_view unescaped;
            if (field.unescaped_key().get(unescaped))
                return InvalidReason::BadJson;
            m_impl->keyCopy.assign(unescaped);
            m_impl->keyCopy.append(SIMDJSON_PADDING, '\0');
            m_impl->keyCopy.insert(m_impl->keyCopy.begin() + unescaped.size(), '"');
            key = fieldOf(ondemand::raw_json_string(
                reinterpret_cast<const uint8_t *>(m_impl->keyCopy.data())));
        }
        ondemand::value value;
        if (field.value().get(value))
            return InvalidReason::BadJson;
        bool ok = true;
        if (key == FEventId) {
            seen |= FEventId;
            ok = readString(value, out.eventId);
        } else if (key == FEventType) {
            seen |= FEventType;
            ok = readString(value, eventType);
        } else if (key == FTs) {
            seen |= FTs;
            ok = readString(value, ts);
        } else if (key == FUserId) {
            seen |= FUserId;
            ok = readString(value, out.userId);
        } else if (key == FSessionId) {
            seen |= FSessionId;
            ok = readString(value, out.sessionId);
        } else if (key == FPage) {
            seen |= FPage;
            ok = readString(value, out.page);
        } else if (key == FProductId) {
            seen |= FProductId;
            ok = readNullableString(value, out.productId, out.hasProduct);
        } else if (key == FProductCategory) {
            seen |= FProductCategory;
            bool present = false;
            ok = readNullableString(value, out.productCategory, present);
        } else if (key == FPrice) {
            seen |= FPrice;
            bool isNull = false;
            if (value.is_null().get(isNull))
                return InvalidReason::BadJson;
            out.hasPrice = false; // a repeated key: the last one wins, null included
            out.priceCents = 0;
            if (!isNull) {
                double price = 0;
                const error_code e = value.get_double().get(price);
                if (e == INCORRECT_TYPE) {
                    problem(InvalidReason::WrongType);
                    if (!isWellFormed(value))
                        return InvalidReason::BadJson;
                } else if (e == SUCCESS
                           && (!std::isfinite(price) || price < 0 || price * 100.0 >= kPriceCentsLimit))
                    problem(InvalidReason::WrongType);
                else if (e != SUCCESS)
                    return InvalidReason::BadJson;
                else {
                    out.hasPrice = true;
                    out.priceCents = std::llround(price * 100.0);
                }
            }
        } else if (key == FReferrer) {
            seen |= FReferrer;
            ok = readString(value, out.referrer);
        } else if (key == FCountry) {
            seen |= FCountry;
            ok = readString(value, out.country);
        } else if (key == FDeviceType) {
            seen |= FDeviceType;
            ok = readString(value, out.deviceType);
        } else if (key == FBrowser) {
            seen |= FBrowser;
            ok = readString(value, out.browser);
        } else {
            ok = isWellFormed(value); // an unknown field: ignored, but it must be JSON
        }
        if (!ok)
            return InvalidReason::BadJson;
    }
    const char *trailing = nullptr;
    if (doc.current_location().get(trailing) == SUCCESS)
        return InvalidReason::BadJson; // content after the object

    if (seen != kAllFields)
        return InvalidReason::MissingField;
    if (typeProblem)
        return typeProblem;
    if (out.eventId.empty() || out.userId.empty())
        return InvalidReason::MissingField;
    const auto parsedTs = parseIsoMs(ts);
    if (!parsedTs)
        return InvalidReason::BadTimestamp;
    out.timestampMs = *parsedTs;
    if (eventType == "page_view")
        out.type = EventType::PageView;
    else if (eventType == "click")
        out.type = EventType::Click;
    else if (eventType == "add_to_cart")
        out.type = EventType::AddToCart;
    else if (eventType == "purchase")
        out.type = EventType::Purchase;
    else
        return InvalidReason::UnknownEventType;
    return std::nullopt;
}

} // namespace studio::core
