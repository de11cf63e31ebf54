#include "core/aggregate/eventparser.h"

#include "core/common/timeutil.h"

#include <simdjson.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
            if (field.unescaped_key().get(key) || field.value().get(inner) ||
                !isWellFormed(inner, depth + 1))
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

// Compares the first N bytes at `p` with a literal: a fixed-size memcmp, which the compiler turns
// into one or two word compares (simdjson's unsafe_is_equal walks byte by byte).
template <std::size_t N> bool startsWith(const char *p, const char (&literal)[N])
{
    return std::memcmp(p, literal, N - 1) == 0;
}

// Which schema field a raw (still escaped) key names, by its first byte then a compare that
// includes the closing quote; 0 for any other key. Keys written with escape sequences count as
// other keys. Reading a few bytes past a short key is safe: every key lies inside a padded
// buffer (simdjson's padding, or the keyCopy below), and a mismatch found there only means "not
// this key" (the closing quote the compare includes cannot lie beyond the key's own end).
inline std::uint32_t fieldOf(simdjson::ondemand::raw_json_string key)
{
    const char *k = key.raw();
    switch (k[0]) {
    case 'e':
        if (startsWith(k, "event_id\""))
            return FEventId;
        if (startsWith(k, "event_type\""))
            return FEventType;
        break;
    case 't':
        if (startsWith(k, "ts\""))
            return FTs;
        break;
    case 'u':
        if (startsWith(k, "user_id\""))
            return FUserId;
        break;
    case 's':
        if (startsWith(k, "session_id\""))
            return FSessionId;
        break;
    case 'p':
        if (startsWith(k, "page\""))
            return FPage;
        if (startsWith(k, "product_id\""))
            return FProductId;
        if (startsWith(k, "product_category\""))
            return FProductCategory;
        if (startsWith(k, "price\""))
            return FPrice;
        break;
    case 'r':
        if (startsWith(k, "referrer\""))
            return FReferrer;
        break;
    case 'c':
        if (startsWith(k, "country\""))
            return FCountry;
        break;
    case 'd':
        if (startsWith(k, "device_type\""))
            return FDeviceType;
        break;
    case 'b':
        if (startsWith(k, "browser\""))
            return FBrowser;
        break;
    default:
        break;
    }
    return 0;
}

constexpr std::size_t kFieldCount = 13;
constexpr std::size_t kOrderSlots = 16;

// A schema key and its closing quote as the little-endian words a raw key is compared with:
// `mask` keeps the bytes the key spans.
struct KeyPattern
{
    std::uint64_t word[3] = {};
    std::uint64_t mask[3] = {};
};

constexpr KeyPattern keyPattern(std::string_view name)
{
    KeyPattern p;
    for (std::size_t i = 0; i <= name.size(); ++i) {
        const auto byte = static_cast<std::uint8_t>(i < name.size() ? name[i] : '"');
        p.word[i / 8] |= std::uint64_t{byte} << (8 * (i % 8));
        p.mask[i / 8] |= std::uint64_t{0xff} << (8 * (i % 8));
    }
    return p;
}

// Indexed by the bit number of the Field.
constexpr std::array<KeyPattern, kFieldCount> kKeyPatterns = {
    keyPattern("event_id"),   keyPattern("event_type"),       keyPattern("ts"),
    keyPattern("user_id"),    keyPattern("session_id"),       keyPattern("page"),
    keyPattern("product_id"), keyPattern("product_category"), keyPattern("price"),
    keyPattern("referrer"),   keyPattern("country"),          keyPattern("device_type"),
    keyPattern("browser")};
static_assert(std::size("product_category\"") - 1 <= 24, "a key pattern spans three words");

std::uint64_t load64(const char *p)
{
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// Whether the raw key at `k` is exactly the pattern's key: three branch-free word compares.
// Reads 24 bytes from `k`, all inside the padded input. Little-endian only.
inline bool matches(const char *k, const KeyPattern &p)
{
    if constexpr (std::endian::native != std::endian::little)
        return false; // fieldOf() decides
    return (((load64(k) ^ p.word[0]) & p.mask[0]) | ((load64(k + 8) ^ p.word[1]) & p.mask[1]) |
            ((load64(k + 16) ^ p.word[2]) & p.mask[2])) == 0;
}

constexpr std::array<std::uint8_t, kOrderSlots> defaultOrder()
{
    std::array<std::uint8_t, kOrderSlots> order{};
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<std::uint8_t>(i); // the order the schema lists (and generate writes)
    return order;
}

bool hasEscape(simdjson::ondemand::raw_json_string key)
{
    for (const char *p = key.raw(); *p != '"'; ++p) {
        if (*p == '\\')
            return true;
    }
    return false;
}

// Whether `text` holds a backslash, 16 (SSE2) or 8 bytes at a time. Reads up to 15 bytes past
// its end: only for text inside a simdjson-padded input.
inline bool hasBackslash(std::string_view text)
{
#if defined(__SSE2__)
    const __m128i backslashes = _mm_set1_epi8('\\');
    for (std::size_t i = 0; i < text.size(); i += 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i *>(text.data() + i));
        auto found = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslashes)));
        if (const std::size_t left = text.size() - i; left < 16)
            found &= (1u << left) - 1; // only the bytes of `text` count
        if (found)
            return true;
    }
    return false;
#else
    if constexpr (std::endian::native != std::endian::little)
        return text.find('\\') != std::string_view::npos; // the masking below is little-endian
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    for (std::size_t i = 0; i < text.size(); i += 8) {
        std::uint64_t word;
        std::memcpy(&word, text.data() + i, 8);
        const std::uint64_t x = word ^ (kOnes * '\\'); // a zero byte where a backslash is
        std::uint64_t zeros = (x - kOnes) & ~x & kHighs;
        // Only the bytes of `text` count. A borrow can flag a byte above a real zero byte, never
        // one below it, so masking the upper bytes off keeps the answer exact.
        if (const std::size_t left = text.size() - i; left < 8)
            zeros &= (std::uint64_t{1} << (8 * left)) - 1;
        if (zeros)
            return true;
    }
    return false;
#endif
}

// The characters of a string value as they stand in the input, when that is what get_string()
// would give: `token` is the value's raw token (from its opening quote to the next structural
// character). False when it is not a string or holds an escape sequence (then get_string()
// decides: the type error, or the unescaping). simdjson's first stage has already checked what
// this skips: the closing quote exists, no raw control character, the whole input is UTF-8.
inline bool rawStringContent(std::string_view token, std::string_view &into)
{
    if (token.size() < 2 || token[0] != '"')
        return false;
    std::size_t end = token.size() - 1; // the closing quote, once whitespace is trimmed
    while (end > 0 && token[end] != '"') {
        const char c = token[end];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return false;
        --end;
    }
    if (end == 0)
        return false;
    const std::string_view content = token.substr(1, end - 1);
    if (hasBackslash(content))
        return false;
    into = content;
    return true;
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
    case InvalidReason::FutureTimestamp:
        return "future_timestamp";
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
    std::string buffer;    // a copied payload, simdjson's padding, room for unescaped strings
    std::string unescaped; // room for the unescaped strings of a payload parsed in place
    std::string keyCopy;   // an unescaped key, quoted, for fieldOf()
    IsoTimeParser time;    // remembers the last date: events come in runs of one day
    // The field (bit number) found at each position of the previous payloads' objects.
    std::array<std::uint8_t, kOrderSlots> order = defaultOrder();
};

EventParser::EventParser(std::size_t maxBytes)
    : m_impl(std::make_unique<Impl>())
    , m_maxBytes(maxBytes)
{
}

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
    // Strings without escapes are views of the input; the few with escapes are unescaped and
    // copied to `scratch`: in the copy's buffer after its padding (every view of a copied
    // payload in one buffer of the parser), else in a buffer of their own. Unescaping never
    // lengthens a string, so the payload's size is room enough.
    char *scratch = nullptr;
    if (readableAfter < SIMDJSON_PADDING) {
        std::string &buf = m_impl->buffer;
        if (buf.size() < 2 * payload.size() + SIMDJSON_PADDING)
            buf.resize(2 * payload.size() + SIMDJSON_PADDING);
        std::memcpy(buf.data(), payload.data(), payload.size());
        std::memset(buf.data() + payload.size(), 0, SIMDJSON_PADDING);
        input = buf.data();
        capacity = payload.size() + SIMDJSON_PADDING;
        scratch = buf.data() + capacity;
    } else {
        if (m_impl->unescaped.size() < payload.size())
            m_impl->unescaped.resize(payload.size());
        scratch = m_impl->unescaped.data();
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

    // No `out = ParsedEvent{}` (a 180-byte clear, ~5% of the parse): a valid event has every
    // field of `out` assigned below, required ones when seen, the rest after the loop.
    std::uint32_t seen = 0;
    std::optional<InvalidReason> typeProblem; // reported after the structure is known good
    std::string_view eventType, ts;
    // always_inline: GCC keeps these lambdas out of line otherwise, at ~100 ns an event.
    auto problem = [&](InvalidReason r) __attribute__((always_inline))
    {
        if (!typeProblem)
            typeProblem = r;
    };
    // A string field; a wrong JSON type is remembered, broken JSON ends the parse.
    auto readString = [&](ondemand::value & value, std::string_view & into)
                          __attribute__((always_inline))
                              ->bool
    {
        if (rawStringContent(value.raw_json_token(), into)) [[likely]] {
            ondemand::raw_json_string unused;
            return value.get_raw_json_string().get(unused) == SUCCESS; // moves past the value
        }
        const error_code e = value.get_string().get(into);
        if (e == SUCCESS) { // unescaped into simdjson's buffer: moved next to the other views
            if (!into.empty())
                std::memcpy(scratch, into.data(), into.size());
            into = std::string_view(scratch, into.size());
            scratch += into.size();
            return true;
        }
        if (e == INCORRECT_TYPE) {
            problem(InvalidReason::WrongType);
            return isWellFormed(value);
        }
        return false;
    };
    auto readNullableString = [&](ondemand::value & value, std::string_view & into, bool &present)
                                  __attribute__((always_inline))
                                      ->bool
    {
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

    std::size_t position = 0; // of the field in the object
    for (auto field : object) {
        ondemand::raw_json_string rawKey;
        if (field.key().get(rawKey))
            return InvalidReason::BadJson;
        std::uint32_t key = 0;
        // Most payloads list the fields in the order of the one before: try that key first.
        std::uint8_t &predicted = m_impl->order[position < kOrderSlots ? position : 0];
        if (position < kOrderSlots && predicted < kFieldCount &&
            matches(rawKey.raw(), kKeyPatterns[predicted])) [[likely]]
            key = 1u << predicted;
        else if ((key = fieldOf(rawKey)) != 0 && position < kOrderSlots)
            predicted = static_cast<std::uint8_t>(std::countr_zero(key));
        ++position;
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
                } else if (e == SUCCESS && (!std::isfinite(price) || price < 0 ||
                                            price * 100.0 >= kPriceCentsLimit))
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
        } else if (startsWith(rawKey.raw(), "partition\"")) {
            // Optional: events written from Kafka with their partition (aggregate of a file).
            std::int64_t partition = -1;
            if (value.get_int64().get(partition) == SUCCESS && partition >= 0 &&
                partition <= INT32_MAX)
                out.partition = static_cast<std::int32_t>(partition);
            else
                ok = isWellFormed(value);
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
    const auto parsedTs = m_impl->time.parse(ts);
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
