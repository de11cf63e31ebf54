// EventParser against a corpus of hand-made events: every field of the schema (design.md, "The
// event"), every InvalidReason on single-problem inputs, every prefix of a valid event, binary
// garbage, and reuse of one parser across events.

#include "core/aggregate/eventparser.h"
#include "core/common/recordbatch.h"
#include "core/produce/generator.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace studio::core;
using namespace std::string_literals;

namespace {

// One field as (key, raw JSON value); an event is an ordered list of them.
using Field = std::pair<std::string, std::string>;
using Fields = std::vector<Field>;

Fields fullEvent()
{
    return {
        {"event_id", R"("evt_89025cc1_0000000002")"},
        {"event_type", R"("purchase")"},
        {"ts", R"("2026-01-01T00:00:00.123Z")"},
        {"user_id", R"("user_0327")"},
        {"session_id", R"("sess_89025cc1_0000000001")"},
        {"page", R"("/product/prod_0027")"},
        {"product_id", R"("prod_0027")"},
        {"product_category", R"("Home & Kitchen")"},
        {"price", "427.99"},
        {"referrer", R"("https://www.google.com/")"},
        {"country", R"("BR")"},
        {"device_type", R"("desktop")"},
        {"browser", R"("Chrome")"},
    };
}

const std::vector<std::string> &fieldNames()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto &f : fullEvent())
            n.push_back(f.first);
        return n;
    }();
    return names;
}

// The twelve fields whose type is string (price is the only number).
std::vector<std::string> stringFieldNames()
{
    std::vector<std::string> n = fieldNames();
    n.erase(std::remove(n.begin(), n.end(), "price"s), n.end());
    return n;
}

std::string render(const Fields &fields)
{
    std::string s = "{";
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i)
            s += ',';
        s += '"' + fields[i].first + "\":" + fields[i].second;
    }
    s += '}';
    return s;
}

Fields with(Fields fields, const std::string &key, const std::string &rawValue)
{
    for (auto &f : fields)
        if (f.first == key) {
            f.second = rawValue;
            return fields;
        }
    fields.emplace_back(key, rawValue);
    return fields;
}

Fields without(Fields fields, const std::string &key)
{
    fields.erase(std::remove_if(fields.begin(), fields.end(),
                                [&](const Field &f) { return f.first == key; }),
                 fields.end());
    return fields;
}

std::string event(const std::string &key, const std::string &rawValue)
{
    return render(with(fullEvent(), key, rawValue));
}

const std::string kFull = render(fullEvent());

// "ok" or the reason, for readable failure messages.
std::string verdict(EventParser &parser, std::string_view payload, ParsedEvent &out)
{
    const auto r = parser.parse(payload, out);
    return r ? std::string(toString(*r)) : "ok"s;
}

std::string name(InvalidReason r)
{
    return std::string(toString(r));
}

bool isRealReason(const std::optional<InvalidReason> &r)
{
    return r && static_cast<std::size_t>(*r) < kInvalidReasonCount;
}

// 2026-01-01T00:00:00Z in milliseconds since the epoch.
constexpr std::int64_t kNewYear2026 = 1767225600000LL;

} // namespace

// ---------------------------------------------------------------------------------------------
// Valid events

TEST_CASE("parser: A full event parses with every value", "[parser][valid]")
{
    EventParser parser;
    ParsedEvent e;
    REQUIRE(verdict(parser, kFull, e) == "ok");
    CHECK(e.eventId == "evt_89025cc1_0000000002");
    CHECK(e.type == EventType::Purchase);
    CHECK(e.timestampMs == kNewYear2026 + 123);
    CHECK(e.userId == "user_0327");
    CHECK(e.sessionId == "sess_89025cc1_0000000001");
    CHECK(e.page == "/product/prod_0027");
    CHECK(e.productId == "prod_0027");
    CHECK(e.productCategory == "Home & Kitchen");
    CHECK(e.hasProduct);
    CHECK(e.hasPrice);
    CHECK(e.priceCents == 42799);
    CHECK(e.referrer == "https://www.google.com/");
    CHECK(e.country == "BR");
    CHECK(e.deviceType == "desktop");
    CHECK(e.browser == "Chrome");
}

TEST_CASE("parser: Events straight from the generator parse", "[parser][valid]")
{
    // Two lines of `clickstream-studio generate --seed 1`, verbatim.
    const std::string lines[] = {
        R"({"event_id":"evt_89025cc1_0000000001","event_type":"page_view","ts":"2026-11-23T16:06:29.636Z","user_id":"user_0445","session_id":"sess_89025cc1_0000000000","page":"/","product_id":null,"product_category":null,"price":null,"referrer":"https://www.reddit.com/","country":"NL","device_type":"desktop","browser":"Samsung Internet"})",
        R"({"event_id":"evt_89025cc1_000000000e","event_type":"add_to_cart","ts":"2026-11-23T16:06:29.649Z","user_id":"user_0269","session_id":"sess_89025cc1_000000000d","page":"/product/prod_0021","product_id":"prod_0021","product_category":"Beauty","price":250.99,"referrer":"https://www.google.com/","country":"BR","device_type":"desktop","browser":"Safari"})",
    };
    EventParser parser;
    ParsedEvent e;
    REQUIRE(verdict(parser, lines[0], e) == "ok");
    CHECK(e.type == EventType::PageView);
    CHECK(e.browser == "Samsung Internet");
    CHECK_FALSE(e.hasProduct);
    REQUIRE(verdict(parser, lines[1], e) == "ok");
    CHECK(e.type == EventType::AddToCart);
    CHECK(e.priceCents == 25099);
    CHECK(e.productCategory == "Beauty");
}

TEST_CASE("parser: All four event types map to their enum", "[parser][valid]")
{
    const std::pair<const char *, EventType> types[] = {{"page_view", EventType::PageView},
                                                        {"click", EventType::Click},
                                                        {"add_to_cart", EventType::AddToCart},
                                                        {"purchase", EventType::Purchase}};
    EventParser parser;
    for (const auto &[text, type] : types) {
        INFO(text);
        ParsedEvent e;
        REQUIRE(verdict(parser, event("event_type", '"' + std::string(text) + '"'), e) == "ok");
        CHECK(e.type == type);
        CHECK(toString(e.type) == text);
    }
}

TEST_CASE("parser: Fields may come in any order", "[parser][valid]")
{
    Fields fields = fullEvent();
    std::reverse(fields.begin(), fields.end());
    EventParser parser;
    ParsedEvent e;
    REQUIRE(verdict(parser, render(fields), e) == "ok");
    CHECK(e.eventId == "evt_89025cc1_0000000002");
    CHECK(e.browser == "Chrome");
    CHECK(e.priceCents == 42799);

    std::mt19937 rng(7);
    for (int i = 0; i < 50; ++i) {
        std::shuffle(fields.begin(), fields.end(), rng);
        const std::string text = render(fields);
        INFO(text);
        REQUIRE(verdict(parser, text, e) == "ok");
        CHECK(e.userId == "user_0327");
        CHECK(e.timestampMs == kNewYear2026 + 123);
    }
}

TEST_CASE("parser: Unknown fields are ignored, whatever their type", "[parser][valid]")
{
    const char *extras[] = {
        R"("extra")",
        "42",
        "-1.5e10",
        "true",
        "false",
        "null",
        "{}",
        "[]",
        R"({"nested":{"deeper":[1,2,{"event_id":7,"price":"x"}]},"list":[null,true,"s"]})",
        R"([[[[["deep"]]]],{"a":{"b":{"c":{}}}}])",
        R"("contains } and ] and , and \" inside")",
        "123456789012345678901234567890123456789", // valid JSON, just beyond 64 bits
        "-0",
        "1E+2",
        "0.5e-3",
        R"("\u0000 \ud83d\ude00 \/")",
        "[1,[2,[3,[4,[5,[6,[7,[8,[9,[10]]]]]]]]]]",
    };
    EventParser parser;
    for (const char *extra : extras) {
        INFO(extra);
        // Before, between and after the known fields.
        Fields fields = fullEvent();
        fields.insert(fields.begin(), {"x_first", extra});
        fields.insert(fields.begin() + 7, {"x_middle", extra});
        fields.emplace_back("x_last", extra);
        ParsedEvent e;
        REQUIRE(verdict(parser, render(fields), e) == "ok");
        CHECK(e.eventId == "evt_89025cc1_0000000002");
        CHECK(e.priceCents == 42799);
        CHECK(e.browser == "Chrome");
    }
}

TEST_CASE("parser: product_id, product_category and price may all be null", "[parser][valid]")
{
    Fields fields = fullEvent();
    fields = with(fields, "product_id", "null");
    fields = with(fields, "product_category", "null");
    fields = with(fields, "price", "null");
    fields = with(fields, "page", R"("/home")");
    EventParser parser;
    ParsedEvent e;
    REQUIRE(verdict(parser, render(fields), e) == "ok");
    CHECK_FALSE(e.hasProduct);
    CHECK(e.productId.empty());
    CHECK(e.productCategory.empty());
    CHECK_FALSE(e.hasPrice);
    CHECK(e.priceCents == 0);
    CHECK(e.page == "/home");

    // Each one alone may be null too.
    for (const char *key : {"product_id", "product_category", "price"}) {
        INFO(key);
        REQUIRE(verdict(parser, event(key, "null"), e) == "ok");
    }
}

TEST_CASE("parser: JSON escapes in strings are decoded", "[parser][valid]")
{
    Fields fields = fullEvent();
    fields = with(fields, "page", R"("/search?q=\"shoes\"")");
    fields = with(fields, "referrer", R"("C:\\path\\x \/ slash")");
    fields = with(fields, "country", R"("\u00e9t\u00E9")");          // été
    fields = with(fields, "browser", R"("emoji \ud83d\ude00 end")"); // surrogate pair: U+1F600
    fields = with(fields, "product_category", R"("tab\there\nnewline\r\b\f")");
    fields = with(fields, "session_id", R"("caf\u00e9 \u20ac \u0041")"); // café € A
    fields =
        with(fields, "user_id", "\"raw caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""); // raw UTF-8
    EventParser parser;
    ParsedEvent e;
    REQUIRE(verdict(parser, render(fields), e) == "ok");
    CHECK(e.page == R"(/search?q="shoes")");
    CHECK(e.referrer == R"(C:\path\x / slash)");
    CHECK(e.country == "\xc3\xa9t\xc3\xa9");
    CHECK(e.browser == "emoji \xf0\x9f\x98\x80 end");
    CHECK(e.productCategory == "tab\there\nnewline\r\b\f");
    CHECK(e.sessionId == "caf\xc3\xa9 \xe2\x82\xac A");
    CHECK(e.userId == "raw caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");

    // Escaped keys are matched after unescaping.
    const std::string escapedKey =
        R"({"event\u005fid":"k1",)" + kFull.substr(kFull.find("\"event_type\""));
    REQUIRE(verdict(parser, escapedKey, e) == "ok");
    CHECK(e.eventId == "k1");
}

TEST_CASE("parser: Whitespace around and inside the object is accepted", "[parser][valid]")
{
    EventParser parser;
    ParsedEvent e;
    for (const std::string &text :
         {" "s + kFull + " ", "\n\t\r "s + kFull + "\r\n", kFull + "\n", "  \n"s + kFull}) {
        REQUIRE(verdict(parser, text, e) == "ok");
        CHECK(e.eventId == "evt_89025cc1_0000000002");
    }
    // Between every token.
    std::string spaced = "{ ";
    const Fields fields = fullEvent();
    for (std::size_t i = 0; i < fields.size(); ++i) {
        spaced += (i ? " ,\n " : "") + ("\"" + fields[i].first + "\"") + " \t: " + fields[i].second;
    }
    spaced += " \n}";
    REQUIRE(verdict(parser, spaced, e) == "ok");
    CHECK(e.browser == "Chrome");
    CHECK(e.priceCents == 42799);
}

TEST_CASE("parser: Prices are read as whole cents", "[parser][valid]")
{
    const std::pair<const char *, std::int64_t> prices[] = {
        {"0", 0},
        {"0.0", 0},
        {"20", 2000},
        {"19.99", 1999},
        {"19.999", 2000},
        {"19.994", 1999},
        {"0.01", 1},
        {"0.1", 10},
        {"427.99", 42799},
        {"1e2", 10000},
        {"2.5E1", 2500},
        {"999999.99", 99999999},
        {"1234567", 123456700},
    };
    EventParser parser;
    for (const auto &[text, cents] : prices) {
        INFO(text);
        ParsedEvent e;
        REQUIRE(verdict(parser, event("price", text), e) == "ok");
        CHECK(e.hasPrice);
        CHECK(e.priceCents == cents);
    }
    // Every two-decimal price is exact in cents (no off-by-one from binary floating point).
    for (std::int64_t cents = 0; cents < 100000; cents += 7) {
        const std::string text = std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
                                 std::to_string(cents % 100);
        ParsedEvent e;
        REQUIRE(verdict(parser, event("price", text), e) == "ok");
        if (e.priceCents != cents)
            FAIL("price " << text << " gave " << e.priceCents << " cents");
    }
}

TEST_CASE("parser: Timestamps with 0 to 9 fraction digits and a +00:00 offset", "[parser][valid]")
{
    const std::pair<const char *, std::int64_t> times[] = {
        {"2026-01-01T00:00:00Z", kNewYear2026},
        {"2026-01-01T00:00:00.5Z", kNewYear2026 + 500},
        {"2026-01-01T00:00:00.123Z", kNewYear2026 + 123},
        {"2026-01-01T00:00:00.123456Z", kNewYear2026 + 123},
        {"2026-01-01T00:00:00.999999999Z", kNewYear2026 + 999},
        {"2026-01-01T00:00:00+00:00", kNewYear2026},
        {"2026-01-01T00:00:00.250+00:00", kNewYear2026 + 250},
        {"2026-01-01T23:59:59.999Z", kNewYear2026 + 86'399'999},
        {"2024-02-29T12:00:00Z", 1709208000000LL},
        {"1970-01-01T00:00:00.000Z", 0},
    };
    EventParser parser;
    for (const auto &[text, ms] : times) {
        INFO(text);
        ParsedEvent e;
        REQUIRE(verdict(parser, event("ts", '"' + std::string(text) + '"'), e) == "ok");
        CHECK(e.timestampMs == ms);
    }
}

TEST_CASE("parser: A payload exactly at the size limit is accepted", "[parser][valid]")
{
    EventParser parser(kFull.size());
    ParsedEvent e;
    CHECK(verdict(parser, kFull, e) == "ok");
    CHECK(parser.maxBytes() == kFull.size());
    EventParser defaults;
    CHECK(defaults.maxBytes() == 64 * 1024);
    std::string padded = render(with(fullEvent(), "padding", "\"\""));
    padded.insert(padded.size() - 2, 64 * 1024 - padded.size(), 'p');
    REQUIRE(padded.size() == 64 * 1024);
    CHECK(verdict(defaults, padded, e) == "ok");
}

// ---------------------------------------------------------------------------------------------
// BadJson

TEST_CASE("parser: Not a JSON object is BadJson", "[parser][bad_json]")
{
    const std::string cases[] = {
        "",
        " ",
        "\n",
        "null",
        "true",
        "42",
        "\"a string\"",
        "[]",
        "[" + kFull + "]",
        "{",
        "}",
        "{}}",
        kFull + " x",
        kFull + "}",
        kFull + ",",
        kFull + "]",
        kFull + "null",
        kFull + kFull,
        kFull + "\n" + kFull,
        kFull + "{}",
        "{" + kFull.substr(1, kFull.size() - 2) + ",}",                      // trailing comma
        "{" + kFull.substr(1, kFull.size() - 2) + ",,\"x\":1}",              // double comma
        "{,"s + kFull.substr(1),                                             // leading comma
        R"({event_id:"e1",)" + kFull.substr(kFull.find("\"event_type\"")),   // unquoted key
        R"({'event_id':"e1",)" + kFull.substr(kFull.find("\"event_type\"")), // single-quoted key
        R"({"event_id" "e1",)" + kFull.substr(kFull.find("\"event_type\"")), // no colon
        R"({"event_id":"e1" )" + kFull.substr(kFull.find("\"event_type\"")), // no comma
    };
    EventParser parser;
    for (const std::string &text : cases) {
        INFO(text);
        ParsedEvent e;
        CHECK(verdict(parser, text, e) == name(InvalidReason::BadJson));
    }
}

TEST_CASE("parser: Every prefix of a valid event is refused as BadJson", "[parser][bad_json]")
{
    Fields rich = fullEvent();
    rich.insert(rich.begin() + 3, {"extra", R"({"a":[1,{"b":"c\"}"}],"n":null})"});
    rich.insert(rich.begin() + 9, {"esc", R"("\u00e9\ud83d\ude00\\")"});
    const std::string events[] = {kFull, render(rich), " " + kFull + " "};
    EventParser parser;
    for (const std::string &text : events) {
        ParsedEvent e;
        REQUIRE(verdict(parser, text, e) == "ok");
        const std::size_t end = text.find_last_of('}');
        for (std::size_t cut = 0; cut <= end; ++cut) {
            const std::string prefix = text.substr(0, cut);
            const auto r = parser.parse(prefix, e);
            if (!r)
                FAIL("prefix of " << cut << " bytes accepted: " << prefix);
            else if (*r != InvalidReason::BadJson)
                FAIL("prefix of " << cut << " bytes gave " << toString(*r) << ": " << prefix);
        }
        // The parser still works after all that.
        REQUIRE(verdict(parser, text, e) == "ok");
        CHECK(e.userId == "user_0327");
    }
}

TEST_CASE("parser: Malformed JSON inside an unknown field is BadJson", "[parser][bad_json]")
{
    // The whole payload must be JSON: an unknown field is skipped for its content, not for its
    // syntax.
    const char *badValues[] = {
        "[1 2]",       R"({"a" 1})", "tru", "nul", "{]",       "[1,]", R"({"a":1,})",  R"("\q")",
        R"("\ud800")", "01",         "1.",  "-",   "'single'", "NaN",  R"({"a":[}]})",
    };
    EventParser parser;
    for (const char *bad : badValues) {
        INFO("\"x\":" << bad);
        ParsedEvent e;
        CHECK(verdict(parser, render(with(fullEvent(), "x", bad)), e) ==
              name(InvalidReason::BadJson));
    }
}

TEST_CASE("parser: Malformed JSON in place of a known field's value is BadJson",
          "[parser][bad_json]")
{
    // Not a value of the wrong type: not a JSON value at all.
    const char *badValues[] = {"tru", "'single'", "NaN", "[1 2]", R"({"a" 1})", "nul"};
    EventParser parser;
    for (const std::string &key : {"page"s, "browser"s, "product_id"s, "price"s}) {
        for (const char *bad : badValues) {
            INFO("\"" << key << "\":" << bad);
            ParsedEvent e;
            CHECK(verdict(parser, event(key, bad), e) == name(InvalidReason::BadJson));
        }
    }
}

TEST_CASE("parser: Broken string escapes and raw control characters in values are refused",
          "[parser][bad_json]")
{
    EventParser parser;
    ParsedEvent e;
    // Unknown escape, short \u, raw tab and raw newline: BadJson.
    for (const std::string &value : {R"("a\qb")"s, R"("\u12")"s, "\"a\tb\""s, "\"a\nb\""s}) {
        INFO(value);
        CHECK(verdict(parser, event("page", value), e) == name(InvalidReason::BadJson));
    }
    // A lone surrogate escape decodes to no valid UTF-8: refused (BadJson or NotUtf8).
    for (const std::string &value : {R"("\ud800")"s, R"("x\udc00y")"s, R"("\ud83d\u0041")"s}) {
        INFO(value);
        const std::string v = verdict(parser, event("browser", value), e);
        CHECK((v == name(InvalidReason::BadJson) || v == name(InvalidReason::NotUtf8)));
    }
}

TEST_CASE("parser: Deep nesting in an unknown field does not crash", "[parser][bad_json]")
{
    EventParser parser;
    ParsedEvent e;
    for (const std::size_t depth :
         {std::size_t{100}, std::size_t{1000}, std::size_t{5000}, std::size_t{30000}}) {
        INFO("depth " << depth);
        const std::string nested = std::string(depth, '[') + std::string(depth, ']');
        const auto r = parser.parse(render(with(fullEvent(), "x", nested)), e);
        if (depth <= 100)
            CHECK_FALSE(r);
        else
            CHECK((!r || *r == InvalidReason::BadJson)); // a depth limit is the parser's choice
        // Unbalanced: always refused.
        CHECK(parser.parse(render(with(fullEvent(), "x", std::string(depth, '['))), e) ==
              InvalidReason::BadJson);
    }
    REQUIRE(verdict(parser, kFull, e) == "ok");
}

TEST_CASE("parser: A repeated key leaves a consistent event", "[parser][valid]")
{
    // JSON does not forbid repeated keys. Refusing them is fine; accepting them must not mix
    // the two values: the null that came last means no product and no price.
    EventParser parser;
    ParsedEvent e;
    Fields fields = fullEvent();
    fields.emplace_back("product_id", "null");
    fields.emplace_back("product_category", "null");
    fields.emplace_back("price", "null");
    const auto r = parser.parse(render(fields), e);
    if (!r) {
        CHECK_FALSE(e.hasProduct);
        CHECK(e.productId.empty());
        CHECK(e.productCategory.empty());
        CHECK_FALSE(e.hasPrice);
        CHECK(e.priceCents == 0);
    }
    // The other way round: the values that came last.
    Fields nullsFirst = with(
        with(with(fullEvent(), "product_id", "null"), "product_category", "null"), "price", "null");
    nullsFirst.emplace_back("product_id", R"("prod_0001")");
    nullsFirst.emplace_back("product_category", R"("Toys")");
    nullsFirst.emplace_back("price", "5.5");
    if (!parser.parse(render(nullsFirst), e)) {
        CHECK(e.hasProduct);
        CHECK(e.productId == "prod_0001");
        CHECK(e.productCategory == "Toys");
        CHECK(e.hasPrice);
        CHECK(e.priceCents == 550);
    }
}

// ---------------------------------------------------------------------------------------------
// MissingField

TEST_CASE("parser: Each required field removed in turn is MissingField", "[parser][missing_field]")
{
    EventParser parser;
    for (const std::string &key : fieldNames()) {
        INFO("without " << key);
        ParsedEvent e;
        CHECK(verdict(parser, render(without(fullEvent(), key)), e) ==
              name(InvalidReason::MissingField));
    }
    ParsedEvent e;
    CHECK(verdict(parser, "{}", e) == name(InvalidReason::MissingField));
    CHECK(verdict(parser, R"({"unrelated":1})", e) == name(InvalidReason::MissingField));
}

TEST_CASE("parser: An empty event_id or user_id is MissingField", "[parser][missing_field]")
{
    EventParser parser;
    ParsedEvent e;
    CHECK(verdict(parser, event("event_id", R"("")"), e) == name(InvalidReason::MissingField));
    CHECK(verdict(parser, event("user_id", R"("")"), e) == name(InvalidReason::MissingField));
    // Other strings may be empty.
    for (const char *key : {"session_id", "page", "referrer", "country", "device_type", "browser",
                            "product_id", "product_category"}) {
        INFO(key);
        CHECK(verdict(parser, event(key, R"("")"), e) == "ok");
    }
}

// ---------------------------------------------------------------------------------------------
// WrongType

TEST_CASE("parser: A string field with another JSON type is WrongType", "[parser][wrong_type]")
{
    const char *others[] = {"123", "-1.5", "{}", R"({"a":"b"})", "[]", R"(["x"])", "true", "false"};
    EventParser parser;
    for (const std::string &key : stringFieldNames()) {
        for (const char *value : others) {
            INFO("\"" << key << "\":" << value);
            ParsedEvent e;
            CHECK(verdict(parser, event(key, value), e) == name(InvalidReason::WrongType));
        }
    }
}

TEST_CASE("parser: A null in a non-nullable string field is refused", "[parser][wrong_type]")
{
    EventParser parser;
    for (const std::string &key : stringFieldNames()) {
        if (key == "product_id" || key == "product_category")
            continue;
        INFO(key);
        ParsedEvent e;
        const std::string v = verdict(parser, event(key, "null"), e);
        CHECK((v == name(InvalidReason::WrongType) || v == name(InvalidReason::MissingField)));
    }
}

TEST_CASE("parser: A bad price or product id is WrongType", "[parser][wrong_type]")
{
    EventParser parser;
    for (const char *value :
         {R"("19.99")", R"("")", "-0.01", "-19.99", "-1", "true", "{}", "[19.99]"}) {
        INFO("price " << value);
        ParsedEvent e;
        CHECK(verdict(parser, event("price", value), e) == name(InvalidReason::WrongType));
    }
    for (const char *value : {"42", "0", "[]", "{}", "false"}) {
        INFO("product_id " << value);
        ParsedEvent e;
        CHECK(verdict(parser, event("product_id", value), e) == name(InvalidReason::WrongType));
    }
}

TEST_CASE("parser: A price too large for int64 cents is WrongType, not a garbage value",
          "[parser][wrong_type]")
{
    EventParser parser;
    ParsedEvent e;
    // Big but representable: fine.
    REQUIRE(verdict(parser, event("price", "1e15"), e) == "ok");
    CHECK(e.priceCents == 100'000'000'000'000'000LL);
    for (const char *value : {"1e17", "1e300", "1.7976931348623157e308"}) {
        INFO("price " << value);
        CHECK(verdict(parser, event("price", value), e) == name(InvalidReason::WrongType));
    }
}

// ---------------------------------------------------------------------------------------------
// BadTimestamp

TEST_CASE("parser: A ts that is not strict ISO-8601 UTC is BadTimestamp", "[parser][bad_timestamp]")
{
    const char *bad[] = {
        "2026-01-01",                      // date only
        "2026-01-01T00:00:00",             // no zone
        "2026-01-01T00:00:00.123",         // no zone, fraction
        "2026-01-01T00:00:00+01:00",       // another offset
        "2026-01-01T00:00:00-05:00",       // another offset
        "2026-02-30T00:00:00Z",            // Feb 30
        "2026-02-29T00:00:00Z",            // not a leap year
        "2026-01-01T24:00:00Z",            // hour 24
        "2026-01-01T00:60:00Z",            // minute 60
        "2026-13-01T00:00:00Z",            // month 13
        "2026-00-10T00:00:00Z",            // month 0
        "2026-01-00T00:00:00Z",            // day 0
        "2026-02-30T25:61:00.000Z",        // the generator's malformed ts
        "abcd-ef-ghTij:kl:mnZ",            // letters
        "2026-01-01Tab:00:00Z",            // letters
        "2026-01-01T00:00:00.1234567890Z", // ten fraction digits
        "2026-01-01T00:00:00.Z",           // empty fraction
        "2026-01-01 00:00:00Z",            // space instead of T
        "",                                // empty
        "1767225600000",                   // epoch millis as a string
        " 2026-01-01T00:00:00Z",           // leading space
        "2026-01-01T00:00:00Z ",           // trailing space
    };
    EventParser parser;
    for (const char *ts : bad) {
        INFO(ts);
        ParsedEvent e;
        CHECK(verdict(parser, event("ts", '"' + std::string(ts) + '"'), e) ==
              name(InvalidReason::BadTimestamp));
    }
}

// ---------------------------------------------------------------------------------------------
// UnknownEventType

TEST_CASE("parser: An event_type outside the four is UnknownEventType",
          "[parser][unknown_event_type]")
{
    EventParser parser;
    for (const char *type : {"hover", "", "PAGE_VIEW", "Click", "page_view ", " click",
                             "purchase\\u0000", "add-to-cart", "page_viewX"}) {
        INFO(type);
        ParsedEvent e;
        CHECK(verdict(parser, event("event_type", '"' + std::string(type) + '"'), e) ==
              name(InvalidReason::UnknownEventType));
    }
}

// ---------------------------------------------------------------------------------------------
// Oversize

TEST_CASE("parser: Payloads over the limit are Oversize", "[parser][oversize]")
{
    EventParser parser; // 64 KiB
    ParsedEvent e;
    std::string padded = render(with(fullEvent(), "padding", "\"\""));
    padded.insert(padded.size() - 2, 64 * 1024 + 1 - padded.size(), 'p');
    REQUIRE(padded.size() == 64 * 1024 + 1);
    CHECK(verdict(parser, padded, e) == name(InvalidReason::Oversize));
    padded.insert(padded.size() - 2, 1 << 20, 'p');
    CHECK(verdict(parser, padded, e) == name(InvalidReason::Oversize));

    EventParser small(100);
    CHECK(verdict(small, kFull, e) == name(InvalidReason::Oversize));
    CHECK(verdict(small, std::string(101, ' '), e) == name(InvalidReason::Oversize));
    EventParser tight(kFull.size() - 1);
    CHECK(verdict(tight, kFull, e) == name(InvalidReason::Oversize));
}

// ---------------------------------------------------------------------------------------------
// NotUtf8

TEST_CASE("parser: Invalid UTF-8 anywhere is NotUtf8", "[parser][not_utf8]")
{
    const std::pair<const char *, std::string> bytes[] = {
        {"0xff", "\xff"},
        {"0xfe", "\xfe"},
        {"overlong slash C0 AF", "\xc0\xaf"},
        {"overlong NUL C0 80", "\xc0\x80"},
        {"overlong 3 bytes E0 80 AF", "\xe0\x80\xaf"},
        {"lone continuation 80", "\x80"},
        {"lone continuation BF", "a\xbf"},
        {"truncated 2-byte", "\xc3"},
        {"truncated 3-byte", "\xe2\x82"},
        {"truncated 4-byte", "\xf0\x9f\x98"},
        {"UTF-16 surrogate D800 as UTF-8", "\xed\xa0\x80"},
        {"beyond U+10FFFF", "\xf4\x90\x80\x80"},
        {"latin-1 e-acute", "caf\xe9"},
    };
    EventParser parser;
    for (const auto &[what, raw] : bytes) {
        INFO(what);
        ParsedEvent e;
        CHECK(verdict(parser, event("page", "\"/p" + raw + "x\""), e) ==
              name(InvalidReason::NotUtf8));
        CHECK(verdict(parser, event("browser", "\"" + raw + "\""), e) ==
              name(InvalidReason::NotUtf8));
        // In a key (an unknown field) and in an unknown field's value.
        CHECK(verdict(parser, render(with(fullEvent(), "k" + raw, "1")), e) ==
              name(InvalidReason::NotUtf8));
        CHECK(verdict(parser, render(with(fullEvent(), "x", "[\"" + raw + "\"]")), e) ==
              name(InvalidReason::NotUtf8));
    }
    ParsedEvent e;
    CHECK(verdict(parser, "\xff" + kFull, e) == name(InvalidReason::NotUtf8));
}

// ---------------------------------------------------------------------------------------------
// Garbage

TEST_CASE("parser: Random bytes are refused without crashing", "[parser][garbage]")
{
    std::mt19937 rng(2000);
    std::uniform_int_distribution<int> length(0, 2000), byte(0, 255);
    EventParser parser;
    std::size_t perReason[kInvalidReasonCount] = {};
    for (int i = 0; i < 2000; ++i) {
        std::string buffer(static_cast<std::size_t>(length(rng)), '\0');
        for (char &c : buffer)
            c = static_cast<char>(byte(rng));
        // Every third one starts like an event to get past the first byte.
        if (i % 3 == 1 && !buffer.empty())
            buffer[0] = '{';
        ParsedEvent e;
        const auto r = parser.parse(buffer, e);
        REQUIRE(isRealReason(r));
        ++perReason[static_cast<std::size_t>(*r)];
    }
    // Random bytes are almost never UTF-8; what passes that check is not an event either.
    CHECK(perReason[static_cast<std::size_t>(InvalidReason::NotUtf8)] > 1000);

    // ASCII-only garbage gets past the UTF-8 check, into the JSON parser.
    const std::string alphabet = "{}[]:,\"\\ \n0123456789.eE+-truefalsnl_abcdxyz";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    for (int i = 0; i < 2000; ++i) {
        std::string buffer(static_cast<std::size_t>(length(rng)) / 4, '\0');
        for (char &c : buffer)
            c = alphabet[pick(rng)];
        ParsedEvent e;
        REQUIRE(isRealReason(parser.parse(buffer, e)));
    }
    ParsedEvent e;
    REQUIRE(verdict(parser, kFull, e) == "ok");
}

TEST_CASE("parser: Random corruptions of a valid event never crash", "[parser][garbage]")
{
    std::mt19937 rng(42);
    Fields rich = fullEvent();
    rich.emplace_back("extra", R"({"a":[1,2,{"b":null}],"s":"\u00e9"})");
    const std::string base = render(rich);
    std::uniform_int_distribution<std::size_t> pos(0, base.size() - 1);
    std::uniform_int_distribution<int> byte(0, 127), edits(1, 4), kind(0, 2);
    EventParser parser;
    for (int i = 0; i < 5000; ++i) {
        std::string text = base;
        for (int n = edits(rng); n > 0 && !text.empty(); --n) {
            const std::size_t p = pos(rng) % text.size();
            switch (kind(rng)) {
            case 0:
                text[p] = static_cast<char>(byte(rng));
                break;
            case 1:
                text.erase(p, 1);
                break;
            default:
                text.insert(p, 1, static_cast<char>(byte(rng)));
                break;
            }
        }
        ParsedEvent e;
        const auto r = parser.parse(text, e);
        if (r) {
            REQUIRE(isRealReason(r));
        } else {
            // Accepted: the ids are there and the views are readable.
            REQUIRE_FALSE(e.eventId.empty());
            REQUIRE_FALSE(e.userId.empty());
            REQUIRE(std::string(e.browser).size() == e.browser.size());
        }
    }
}

TEST_CASE("parser: NUL bytes are refused without crashing", "[parser][garbage]")
{
    EventParser parser;
    ParsedEvent e;
    const std::string nul(1, '\0');
    for (const std::string &text :
         {nul, std::string(100, '\0'), std::string(5000, '\0'), nul + kFull, kFull + nul,
          "{" + nul + "}", kFull.substr(0, 40) + nul + kFull.substr(40)}) {
        INFO("length " << text.size());
        CHECK(isRealReason(parser.parse(text, e)));
    }
    // A raw NUL inside a string is an unescaped control character.
    CHECK(verdict(parser, event("page", "\"/a" + nul + "b\""), e) == name(InvalidReason::BadJson));
    // Escaped, it is fine.
    REQUIRE(verdict(parser, event("page", R"("/a\u0000b")"), e) == "ok");
    CHECK(e.page == std::string_view("/a\0b", 4));
}

// ---------------------------------------------------------------------------------------------
// Reuse

TEST_CASE("parser: One parser is reusable after invalid events", "[parser][reuse]")
{
    EventParser parser;
    ParsedEvent e;
    const std::string bad[] = {"",
                               "{",
                               "\xff",
                               kFull.substr(0, 60),
                               event("ts", R"("nope")"),
                               event("event_type", R"("hover")"),
                               render(without(fullEvent(), "page")),
                               event("price", R"("1")"),
                               std::string(70 * 1024, ' ')};
    for (const std::string &b : bad) {
        INFO(b.substr(0, 80));
        REQUIRE(parser.parse(b, e));
        REQUIRE(verdict(parser, kFull, e) == "ok");
        CHECK(e.eventId == "evt_89025cc1_0000000002");
        CHECK(e.userId == "user_0327");
        CHECK(e.productCategory == "Home & Kitchen");
        CHECK(e.priceCents == 42799);
        CHECK(e.timestampMs == kNewYear2026 + 123);
    }
    // Values from a previous valid event do not leak into the next one.
    REQUIRE(verdict(parser,
                    render(with(with(with(fullEvent(), "product_id", "null"), "price", "null"),
                                "product_category", "null")),
                    e) == "ok");
    CHECK_FALSE(e.hasProduct);
    CHECK_FALSE(e.hasPrice);
    CHECK(e.priceCents == 0);
    CHECK(e.productCategory.empty());
}

TEST_CASE("parser: Views stay valid until the next parse, independent of the payload",
          "[parser][reuse]")
{
    EventParser parser;
    ParsedEvent e;
    {
        std::string payload = event("page", R"("/caf\u00e9")");
        REQUIRE(verdict(parser, payload, e) == "ok");
        // The caller's buffer is overwritten and freed: the views point into the parser.
        std::fill(payload.begin(), payload.end(), 'X');
    }
    std::vector<std::string> churn(100, std::string(1000, 'y')); // reuse freed memory
    CHECK(e.page == "/caf\xc3\xa9");
    CHECK(e.eventId == "evt_89025cc1_0000000002");
    CHECK(e.browser == "Chrome");

    // Another parser does not disturb them.
    EventParser other;
    ParsedEvent e2;
    REQUIRE(verdict(other, event("page", R"("/other")"), e2) == "ok");
    CHECK(e.page == "/caf\xc3\xa9");
    CHECK(e2.page == "/other");

    // Growing the parser's buffers (a much larger event) then shrinking back works.
    std::string big = render(with(fullEvent(), "padding", '"' + std::string(30000, 'p') + '"'));
    REQUIRE(verdict(parser, big, e) == "ok");
    CHECK(e.browser == "Chrome");
    REQUIRE(verdict(parser, kFull, e) == "ok");
    CHECK(e.page == "/product/prod_0027");
}

TEST_CASE("parser: Every reason has a name", "[parser]")
{
    for (std::size_t i = 0; i < kInvalidReasonCount; ++i)
        CHECK(toString(static_cast<InvalidReason>(i)) != "unknown");
    CHECK(toString(InvalidReason::BadJson) == "bad_json");
    CHECK(toString(InvalidReason::NotUtf8) == "not_utf8");
}

TEST_CASE("parser: Parsing in place gives the same verdicts whatever follows the payload",
          "[parser][inplace]")
{
    // What follows the payload in a batch buffer is other records: JSON-looking bytes that would
    // complete a truncated event if the parser read them as part of it.
    EventParser copying, inPlace;
    const std::vector<std::string> followers = {std::string(80, ' '), std::string(80, '\0'),
                                                "\"}" + std::string(78, '}'),
                                                ",\"x\":1}" + std::string(73, 'z')};
    studio::core::GeneratorConfig config;
    config.malformedFraction = 0.5;
    studio::core::EventGenerator generator(config);
    studio::core::RecordBatch events;
    for (int i = 0; i < 400; ++i)
        generator.next(1767225600000LL + i, events);
    for (std::size_t i = 0; i < events.size(); ++i) {
        const std::string payload(events.value(i));
        for (const std::string &after : followers) {
            for (const std::size_t cut : {payload.size(), payload.size() / 2, payload.size() - 1}) {
                const std::string buffer = payload.substr(0, cut) + after;
                ParsedEvent a, b;
                const auto ra = copying.parse(std::string_view(buffer.data(), cut), a);
                const auto rb =
                    inPlace.parse(std::string_view(buffer.data(), cut), b, buffer.size() - cut);
                INFO(payload.substr(0, cut));
                REQUIRE(ra == rb);
                if (!ra) {
                    CHECK(a.eventId == b.eventId);
                    CHECK(a.timestampMs == b.timestampMs);
                    CHECK(a.page == b.page);
                    CHECK(a.priceCents == b.priceCents);
                }
            }
        }
    }
}

TEST_CASE("parser: Strings come back whole or decoded wherever a backslash stands",
          "[parser][valid][strings]")
{
    // Strings without escapes are read where they stand, others are unescaped: lengths across
    // the 8- and 16-byte steps of the backslash scan, one escape at every position, in place with
    // backslashes and quotes right after the payload, and whitespace after the closing quote.
    EventParser parser, inPlace;
    ParsedEvent e;
    const std::string tail(80, '\\');
    for (std::size_t length = 0; length <= 70; ++length) {
        std::string plain;
        for (std::size_t i = 0; i < length; ++i)
            plain += static_cast<char>('a' + i % 26);
        for (const char *key : {"page", "product_id", "browser"}) {
            INFO(key << " of length " << length);
            const std::string payload = event(key, '"' + plain + '"');
            REQUIRE(verdict(parser, payload, e) == "ok");
            const std::string buffer = payload + "\"" + tail;
            REQUIRE_FALSE(inPlace.parse(std::string_view(buffer.data(), payload.size()), e,
                                        buffer.size() - payload.size()));
            const std::string_view got = key == "page"s         ? e.page
                                         : key == "product_id"s ? e.productId
                                                                : e.browser;
            CHECK(got == plain);
        }
        for (std::size_t at = 0; at <= length; ++at) {
            for (const auto &[escape, decoded] : {std::pair{"\\\""s, "\""s},
                                                  {"\\\\"s, "\\"s},
                                                  {"\\n"s, "\n"s},
                                                  {"\\u0041"s, "A"s}}) {
                const std::string raw = plain.substr(0, at) + escape + plain.substr(at);
                INFO("page " << raw);
                REQUIRE(verdict(parser, event("page", '"' + raw + '"'), e) == "ok");
                CHECK(e.page == plain.substr(0, at) + decoded + plain.substr(at));
            }
        }
    }
    REQUIRE(verdict(parser, R"({"page" : "/a"  ,)" + kFull.substr(1), e) == "ok");
    CHECK(e.page == "/product/prod_0027"); // the last of a repeated key wins
    REQUIRE(verdict(parser, render(with(fullEvent(), "page", "\"/a\" \t\r\n ")), e) == "ok");
    CHECK(e.page == "/a");
    REQUIRE(verdict(parser, render(with(fullEvent(), "browser", "\"x\"\n")), e) == "ok");
    CHECK(e.browser == "x");
}

TEST_CASE("parser: One parser follows payloads whose field order and keys change",
          "[parser][valid][order]")
{
    // The parser first tries the key seen at the same position in the previous payload: keys
    // that share a prefix with a schema key, or extend one, must never be taken for it.
    EventParser parser;
    ParsedEvent e;
    const Fields canonical = fullEvent();
    Fields reversed = canonical;
    std::reverse(reversed.begin(), reversed.end());
    Fields lookalikes;
    for (const auto &[key, value] : canonical) {
        lookalikes.emplace_back(key + "x", R"("wrong")");
        lookalikes.emplace_back(key.substr(0, key.size() - 1), R"("wrong")");
        lookalikes.emplace_back(key, value);
    }
    Fields escaped = canonical;
    escaped[0].first = "event\\u005fid";
    escaped[12].first = "b\\u0072owser";
    for (int round = 0; round < 3; ++round) {
        for (const Fields &fields : {canonical, reversed, lookalikes, canonical, escaped}) {
            const std::string text = render(fields);
            INFO(text);
            REQUIRE(verdict(parser, text, e) == "ok");
            CHECK(e.eventId == "evt_89025cc1_0000000002");
            CHECK(e.type == EventType::Purchase);
            CHECK(e.timestampMs == kNewYear2026 + 123);
            CHECK(e.userId == "user_0327");
            CHECK(e.sessionId == "sess_89025cc1_0000000001");
            CHECK(e.page == "/product/prod_0027");
            CHECK(e.productId == "prod_0027");
            CHECK(e.productCategory == "Home & Kitchen");
            CHECK(e.priceCents == 42799);
            CHECK(e.referrer == "https://www.google.com/");
            CHECK(e.country == "BR");
            CHECK(e.deviceType == "desktop");
            CHECK(e.browser == "Chrome");
        }
        // A field missing where the previous payload had it.
        CHECK(verdict(parser, render(without(canonical, "ts")), e) ==
              name(InvalidReason::MissingField));
        CHECK(verdict(parser, render(with(canonical, "page", "7")), e) ==
              name(InvalidReason::WrongType));
    }
}
