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
    std::string buffer; // the payload plus simdjson's padding
};

EventParser::EventParser(std::size_t maxBytes)
    : m_impl(std::make_unique<Impl>())
    , m_maxBytes(maxBytes)
{}

EventParser::~EventParser() = default;

std::optional<InvalidReason> EventParser::parse(std::string_view payload, ParsedEvent &out)
{
    using namespace simdjson;
    if (payload.size() > m_maxBytes)
        return InvalidReason::Oversize;
    if (!validate_utf8(payload.data(), payload.size()))
        return InvalidReason::NotUtf8;

    std::string &buf = m_impl->buffer;
    if (buf.size() < payload.size() + SIMDJSON_PADDING)
        buf.resize(payload.size() + SIMDJSON_PADDING);
    std::memcpy(buf.data(), payload.data(), payload.size());
    std::memset(buf.data() + payload.size(), 0, SIMDJSON_PADDING);

    ondemand::document doc;
    if (m_impl->parser.iterate(buf.data(), payload.size(), buf.size()).get(doc))
        return InvalidReason::BadJson;
    ondemand::object object;
    if (doc.get_object().get(object))
        return InvalidReason::BadJson;

    out = ParsedEvent{};
    std::uint32_t seen = 0;
    std::optional<InvalidReason> typeProblem; // reported after the structure is known good
    std::string_view eventType, ts;
    auto problem = [&](InvalidReason r) {
        if (!typeProblem)
            typeProblem = r;
    };
    // A string field; a wrong JSON type is remembered, broken JSON ends the parse.
    auto readString = [&](ondemand::value &value, std::string_view &into) -> bool {
        const error_code e = value.get_string().get(into);
        if (e == INCORRECT_TYPE) {
            problem(InvalidReason::WrongType);
            return true;
        }
        return e == SUCCESS;
    };
    auto readNullableString = [&](ondemand::value &value, std::string_view &into,
                                  bool &present) -> bool {
        bool isNull = false;
        if (value.is_null().get(isNull))
            return false;
        if (isNull) {
            present = false;
            return true;
        }
        present = true;
        return readString(value, into);
    };

    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return InvalidReason::BadJson;
        ondemand::value value;
        if (field.value().get(value))
            return InvalidReason::BadJson;
        bool ok = true;
        if (key == "event_id") {
            seen |= FEventId;
            ok = readString(value, out.eventId);
        } else if (key == "event_type") {
            seen |= FEventType;
            ok = readString(value, eventType);
        } else if (key == "ts") {
            seen |= FTs;
            ok = readString(value, ts);
        } else if (key == "user_id") {
            seen |= FUserId;
            ok = readString(value, out.userId);
        } else if (key == "session_id") {
            seen |= FSessionId;
            ok = readString(value, out.sessionId);
        } else if (key == "page") {
            seen |= FPage;
            ok = readString(value, out.page);
        } else if (key == "product_id") {
            seen |= FProductId;
            ok = readNullableString(value, out.productId, out.hasProduct);
        } else if (key == "product_category") {
            seen |= FProductCategory;
            bool present = false;
            ok = readNullableString(value, out.productCategory, present);
        } else if (key == "price") {
            seen |= FPrice;
            bool isNull = false;
            if (value.is_null().get(isNull))
                return InvalidReason::BadJson;
            if (!isNull) {
                double price = 0;
                const error_code e = value.get_double().get(price);
                if (e == INCORRECT_TYPE || (e == SUCCESS && (!std::isfinite(price) || price < 0)))
                    problem(InvalidReason::WrongType);
                else if (e != SUCCESS)
                    return InvalidReason::BadJson;
                else {
                    out.hasPrice = true;
                    out.priceCents = std::llround(price * 100.0);
                }
            }
        } else if (key == "referrer") {
            seen |= FReferrer;
            ok = readString(value, out.referrer);
        } else if (key == "country") {
            seen |= FCountry;
            ok = readString(value, out.country);
        } else if (key == "device_type") {
            seen |= FDeviceType;
            ok = readString(value, out.deviceType);
        } else if (key == "browser") {
            seen |= FBrowser;
            ok = readString(value, out.browser);
        }
        // Unknown fields are skipped by the iteration itself.
        if (!ok)
            return InvalidReason::BadJson;
    }
    const char *trailing = nullptr;
    if (doc.current_location().get(trailing) == SUCCESS)
        return InvalidReason::BadJson; // content after the object

    if (seen != kAllFields || out.eventId.empty() || out.userId.empty())
        return InvalidReason::MissingField;
    if (typeProblem)
        return typeProblem;
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
