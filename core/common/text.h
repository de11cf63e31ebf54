#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace studio::core {

/// Secrets at least this long are hidden wherever they stand, even inside a longer word; shorter
/// ones only where they stand as a whole token (see redact).
inline constexpr std::size_t kRedactAnywhereLength = 8;

/// `text` with `secret` replaced by "***", for messages that may quote a password (a server's
/// error, a connection string). The rule, for every length of secret down to one character:
/// - an occurrence that stands as a whole token is replaced: on each side where the secret begins
///   or ends with a word character (ASCII letter, digit, '_', or any byte of a multi-byte UTF-8
///   character), the neighbouring character is not one; so "pw" goes in "password=pw",
///   "user:pw@host" and "'pw'", and ordinary words around it ("pwned", "upward") stay as they are;
/// - a secret of kRedactAnywhereLength characters or more is also replaced inside longer words:
///   a string that long glued to other text is the secret, not a coincidence.
/// An empty secret changes nothing. Thread-safe.
std::string redact(std::string text, std::string_view secret);

/// Server messages that span lines (libpq's "FATAL:  ...\n\tIs the server running...") as one
/// line: runs of whitespace become one space, none at either end.
std::string oneLine(std::string_view text);

namespace textdetail {
std::string groupThousands(std::uint64_t magnitude, bool negative);
} // namespace textdetail

/// `value` in decimal with a comma between groups of three digits, for status lines and log
/// messages: 1234567 -> "1,234,567", -1234 -> "-1,234". Locale-independent on purpose: the GUI
/// shows numbers with QLocale (ui/common/format.h groupedNumber) instead.
template <std::integral T> std::string groupThousands(T value)
{
    if constexpr (std::signed_integral<T>) {
        const auto wide = static_cast<std::int64_t>(value);
        const auto magnitude = wide < 0 ? std::uint64_t(0) - static_cast<std::uint64_t>(wide)
                                        : static_cast<std::uint64_t>(wide);
        return textdetail::groupThousands(magnitude, wide < 0);
    } else {
        return textdetail::groupThousands(static_cast<std::uint64_t>(value), false);
    }
}

/// A measured value (a rate) rounded to the nearest integer (half away from zero), then as
/// above; beyond the 64-bit range it is clamped, NaN gives "0".
std::string groupThousands(double value);

} // namespace studio::core
