#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace studio::core {

enum class EventType : std::uint8_t { PageView, Click, AddToCart, Purchase };

/// Why an event was refused. Counted per reason and sent to the dead-letter topic with it.
enum class InvalidReason : std::uint8_t {
    BadJson,          ///< not a JSON object, truncated, trailing garbage
    MissingField,     ///< a required field is absent (or an id is empty)
    WrongType,        ///< a field has the wrong JSON type (or a negative price)
    BadTimestamp,     ///< ts is not a strict ISO-8601 UTC time
    UnknownEventType, ///< event_type is not one of the four
    Oversize,         ///< larger than the configured limit
    NotUtf8,          ///< invalid UTF-8 anywhere in the payload
    FutureTimestamp,  ///< ts too far ahead of the wall clock (live) or of its partition's time
    Count
};
inline constexpr std::size_t kInvalidReasonCount = static_cast<std::size_t>(InvalidReason::Count);
std::string_view toString(InvalidReason reason);
std::string_view toString(EventType type);

/// One validated event. The views stay valid until the parser's next parse(): they point into the
/// parser's own memory, or, for a payload parsed in place (see parse()), partly into the payload,
/// which must then stay too.
struct ParsedEvent
{
    std::string_view eventId;
    std::string_view userId;
    std::string_view sessionId;
    std::string_view page;
    std::string_view productId;       ///< empty when null
    std::string_view productCategory; ///< empty when null
    std::string_view referrer;
    std::string_view country;
    std::string_view deviceType;
    std::string_view browser;
    std::int64_t timestampMs = 0;
    std::int64_t priceCents = 0; ///< 0 when null
    EventType type = EventType::PageView;
    bool hasProduct = false;
    bool hasPrice = false;
    /// The optional integer field "partition" (files of events taken from Kafka); -1 if absent.
    std::int32_t partition = -1;
};

/// Parses and validates events of the schema in design.md with simdjson: every required field
/// present with its type, ts strictly ISO-8601, the event type known, UTF-8 valid, size bounded.
/// Fields may come in any order; unknown fields are ignored. Not thread-safe: one per thread.
class EventParser
{
public:
    explicit EventParser(std::size_t maxBytes = 64 * 1024);
    ~EventParser();
    EventParser(const EventParser &) = delete;
    EventParser &operator=(const EventParser &) = delete;

    /// nullopt and `out` filled when valid, else the reason it is not. When at least
    /// kPaddingNeeded bytes after the payload are readable memory (say, the rest of a batch
    /// buffer), pass their count as `readableAfter`: the payload is then parsed where it is,
    /// without a copy (simdjson reads past the end, but what it finds there does not matter).
    std::optional<InvalidReason> parse(std::string_view payload, ParsedEvent &out,
                                       std::size_t readableAfter = 0);
    static const std::size_t kPaddingNeeded;

    std::size_t maxBytes() const { return m_maxBytes; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::size_t m_maxBytes;
};

} // namespace studio::core
