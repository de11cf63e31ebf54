#include "core/common/text.h"

namespace studio::core {

// Replaces every occurrence of `secret` by "***" (secrets shorter than 3 characters would turn
// ordinary words into stars and are not worth hiding that way).
std::string redact(std::string text, const std::string &secret)
{
    if (secret.size() < 3)
        return text;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3))
        text.replace(at, secret.size(), "***");
    return text;
}

// libpq's messages span lines ("FATAL:  ...\n\tIs the server running..."): one line, no tabs.
std::string oneLine(std::string text)
{
    std::string out;
    bool space = false;
    for (char c : text) {
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

} // namespace studio::core
