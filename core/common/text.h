#pragma once

#include <string>

namespace studio::core {

/// `text` with every occurrence of `secret` replaced by "***". Secrets shorter than 3 characters
/// are left alone (hiding them would turn ordinary words into stars).
std::string redact(std::string text, const std::string &secret);

/// Server messages that span lines (libpq's "FATAL:  ...\n\tIs the server running...") as one
/// line: runs of whitespace become one space, none at either end.
std::string oneLine(std::string text);

} // namespace studio::core
