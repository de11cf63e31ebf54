#include "core/common/text.h"

namespace studio::core {

namespace {

// ASCII letters, digits and '_', and every byte of a multi-byte UTF-8 character (a letter of
// another script must not split a word).
bool isWordByte(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
           u >= 0x80;
}

} // namespace

// Why two tiers: a one- or two-character password must never show, but replacing every "pw"
// would turn "upward" into "u***ard" and tell the reader what the password is. A whole token is
// how a password reaches a message (after '=', between ':' and '@', in quotes); a long secret is
// hidden wherever it stands, as before.
std::string redact(std::string text, std::string_view secret)
{
    if (secret.empty())
        return text;
    const bool anywhere = secret.size() >= kRedactAnywhereLength;
    const bool wordAtStart = isWordByte(secret.front());
    const bool wordAtEnd = isWordByte(secret.back());
    std::size_t at = text.find(secret);
    while (at != std::string::npos) {
        const std::size_t end = at + secret.size();
        const bool token =
            anywhere || ((!wordAtStart || at == 0 || !isWordByte(text[at - 1])) &&
                         (!wordAtEnd || end == text.size() || !isWordByte(text[end])));
        if (token) {
            text.replace(at, secret.size(), "***");
            at = text.find(secret, at + 3);
        } else {
            at = text.find(secret, at + 1);
        }
    }
    return text;
}

// libpq's messages span lines ("FATAL:  ...\n\tIs the server running..."): one line, no tabs.
std::string oneLine(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    bool space = false;
    for (const char c : text) {
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

namespace textdetail {

std::string groupThousands(std::uint64_t magnitude, bool negative)
{
    std::string digits = std::to_string(magnitude);
    for (auto i = static_cast<std::ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<std::size_t>(i), 1, ',');
    if (negative)
        digits.insert(digits.begin(), '-');
    return digits;
}

} // namespace textdetail

std::string groupThousands(double value)
{
    const bool negative = value < 0;
    const double rounded = (negative ? -value : value) + 0.5;
    constexpr std::uint64_t kMax = 18446744073709551615ULL;
    const std::uint64_t magnitude = rounded < double(kMax) ? static_cast<std::uint64_t>(rounded)
                                    : rounded > 0          ? kMax
                                                           : 0;
    return textdetail::groupThousands(magnitude, negative && magnitude != 0);
}

} // namespace studio::core
