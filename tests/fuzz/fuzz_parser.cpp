// libFuzzer target for EventParser::parse (built and run by run_fuzz.sh with ASan and UBSan).
//
// Besides "no crash, no sanitizer report", every input checks these invariants:
//  - parse() returns nullopt or one of the InvalidReason values;
//  - a parser whose limit is below the payload's size says Oversize;
//  - when valid: event_id and user_id are non-empty; every view is readable byte by byte (ASan
//    checks the range), no longer than the payload, valid UTF-8, and points into the parser's own
//    memory (one region, not the caller's payload, which may be freed right after parse());
//    the values are in range (type, price, timestamp that formats and parses back);
//  - the payload is then JSON by the grammar of RFC 8259 (checked by a small independent
//    validator below, since on-demand parsing skips what it is not asked for): one object;
//  - parsing the same payload again with the same (reused) parser gives the same verdict and
//    the same values.

#include "core/aggregate/eventparser.h"
#include "core/common/timeutil.h"

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace studio::core;

namespace {

[[noreturn]] void broken(const char *what, int line)
{
    std::fprintf(stderr, "fuzz_parser: invariant broken (fuzz_parser.cpp:%d): %s\n", line, what);
    std::abort();
}

#define INVARIANT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            broken(#cond, __LINE__);                                                               \
    } while (false)

volatile unsigned g_sink = 0;

// RFC 8259 grammar, nothing more: the oracle for "accepted means JSON". Not simdjson's DOM parser,
// which refuses valid numbers it cannot represent (integers over 64 bits).
class JsonGrammar
{
public:
    explicit JsonGrammar(std::string_view text)
        : m_p(text.data())
        , m_end(text.data() + text.size())
    {
    }

    bool isOneObject()
    {
        ws();
        if (m_p == m_end || *m_p != '{' || !value(0))
            return false;
        ws();
        return m_p == m_end;
    }

private:
    static bool isDigit(char c) { return c >= '0' && c <= '9'; }
    static bool isHex(char c)
    {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    bool more() const { return m_p != m_end; }
    void ws()
    {
        while (more() && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }
    bool literal(std::string_view word)
    {
        if (static_cast<std::size_t>(m_end - m_p) < word.size() ||
            std::string_view(m_p, word.size()) != word)
            return false;
        m_p += word.size();
        return true;
    }
    void digits()
    {
        while (more() && isDigit(*m_p))
            ++m_p;
    }
    bool string()
    {
        if (!more() || *m_p != '"')
            return false;
        ++m_p;
        while (more()) {
            const auto c = static_cast<unsigned char>(*m_p++);
            if (c == '"')
                return true;
            if (c < 0x20)
                return false;
            if (c != '\\')
                continue;
            if (!more())
                return false;
            switch (*m_p++) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                break;
            case 'u':
                for (int i = 0; i < 4; ++i, ++m_p)
                    if (!more() || !isHex(*m_p))
                        return false;
                break;
            default:
                return false;
            }
        }
        return false;
    }
    bool number()
    {
        if (more() && *m_p == '-')
            ++m_p;
        if (!more())
            return false;
        if (*m_p == '0')
            ++m_p;
        else if (isDigit(*m_p))
            digits();
        else
            return false;
        if (more() && *m_p == '.') {
            ++m_p;
            if (!more() || !isDigit(*m_p))
                return false;
            digits();
        }
        if (more() && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (more() && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (!more() || !isDigit(*m_p))
                return false;
            digits();
        }
        return true;
    }
    // Members or elements until `close`; the opening bracket is consumed.
    bool container(char close, bool members, int depth)
    {
        ++m_p;
        ws();
        if (more() && *m_p == close) {
            ++m_p;
            return true;
        }
        for (;;) {
            ws();
            if (members) {
                if (!string())
                    return false;
                ws();
                if (!more() || *m_p != ':')
                    return false;
                ++m_p;
            }
            if (!value(depth + 1))
                return false;
            ws();
            if (!more())
                return false;
            const char c = *m_p++;
            if (c == close)
                return true;
            if (c != ',')
                return false;
        }
    }
    bool value(int depth)
    {
        ws();
        if (!more() || depth > 10000)
            return false;
        switch (*m_p) {
        case '{':
            return container('}', true, depth);
        case '[':
            return container(']', false, depth);
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            return number();
        }
    }

    const char *m_p;
    const char *m_end;
};

struct Owned
{
    std::string eventId, userId, sessionId, page, productId, productCategory, referrer, country,
        deviceType, browser;
    std::int64_t timestampMs = 0, priceCents = 0;
    EventType type = EventType::PageView;
    bool hasProduct = false, hasPrice = false;

    bool operator==(const Owned &) const = default;
};

Owned own(const ParsedEvent &e)
{
    return {std::string(e.eventId),
            std::string(e.userId),
            std::string(e.sessionId),
            std::string(e.page),
            std::string(e.productId),
            std::string(e.productCategory),
            std::string(e.referrer),
            std::string(e.country),
            std::string(e.deviceType),
            std::string(e.browser),
            e.timestampMs,
            e.priceCents,
            e.type,
            e.hasProduct,
            e.hasPrice};
}

void checkValid(const ParsedEvent &e, const std::uint8_t *data, std::size_t size)
{
    INVARIANT(!e.eventId.empty());
    INVARIANT(!e.userId.empty());

    const std::string_view views[] = {e.eventId,    e.userId,          e.sessionId, e.page,
                                      e.productId,  e.productCategory, e.referrer,  e.country,
                                      e.deviceType, e.browser};
    const auto payloadBegin = reinterpret_cast<std::uintptr_t>(data);
    const auto payloadEnd = payloadBegin + size;
    std::uintptr_t lowest = UINTPTR_MAX, highest = 0;
    for (const std::string_view v : views) {
        if (v.empty())
            continue;
        INVARIANT(v.data() != nullptr);
        INVARIANT(v.size() <= size); // unescaping never lengthens a string
        const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
        const auto end = begin + v.size();
        INVARIANT(end > begin);                                // no wrap-around
        INVARIANT(end <= payloadBegin || begin >= payloadEnd); // not into the caller's payload
        lowest = std::min(lowest, begin);
        highest = std::max(highest, end);
        unsigned sum = 0;
        for (const char c : v) // instrumented reads: ASan reports any byte out of bounds
            sum += static_cast<unsigned char>(c);
        g_sink = g_sink + sum;
        INVARIANT(simdjson::validate_utf8(v.data(), v.size()));
    }
    // All views lie in one buffer of the parser, sized from this payload.
    if (highest != 0)
        INVARIANT(highest - lowest <= 2 * size + simdjson::SIMDJSON_PADDING);

    INVARIANT(static_cast<unsigned>(e.type) <= static_cast<unsigned>(EventType::Purchase));
    INVARIANT(e.priceCents >= 0);
    INVARIANT(e.hasPrice || e.priceCents == 0);
    INVARIANT(e.hasProduct || e.productId.empty());
    INVARIANT(parseIsoMs(formatIsoMs(e.timestampMs)) == e.timestampMs);

    // Accepted means well-formed JSON: one object and nothing else.
    INVARIANT(
        JsonGrammar(std::string_view(reinterpret_cast<const char *>(data), size)).isOneObject());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static EventParser parser; // reused across inputs, as in the aggregator
    const std::string_view payload(reinterpret_cast<const char *>(data), size);

    ParsedEvent event;
    const auto reason = parser.parse(payload, event);
    if (reason) {
        INVARIANT(static_cast<std::size_t>(*reason) < kInvalidReasonCount);
    } else {
        checkValid(event, data, size);
    }
    const Owned first = own(event);

    // The same payload again, same parser: same verdict, same values.
    ParsedEvent again;
    const auto reason2 = parser.parse(payload, again);
    INVARIANT(reason == reason2);
    if (!reason2) {
        checkValid(again, data, size);
        INVARIANT(own(again) == first);
    }

    // Below the payload's size, the limit wins.
    if (size > 0) {
        EventParser limited(size - 1);
        ParsedEvent ignored;
        INVARIANT(limited.parse(payload, ignored) == InvalidReason::Oversize);
    }
    return 0;
}
