// The shared text helpers of core/common/text.h: redaction, one-line messages, digit grouping.

#include "core/common/text.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

using namespace studio::core;

TEST_CASE("redact hides a long secret wherever it stands", "[text]")
{
    const std::string secret = "hunter2-correct-horse";
    CHECK(redact("FATAL: password=" + secret + " rejected", secret) ==
          "FATAL: password=*** rejected");
    CHECK(redact(secret + secret, secret) == "******");
    CHECK(redact("x" + secret + "y", secret) == "x***y"); // glued to other text, still hidden
    CHECK(redact("nothing here", secret) == "nothing here");
    CHECK(redact("", secret).empty());
}

TEST_CASE("redact hides a 1- or 2-character password where it stands as a token", "[text]")
{
    // Before: secrets under 3 characters were left in the message.
    CHECK(redact("password authentication failed for password=pw", "pw") ==
          "password authentication failed for password=***");
    CHECK(redact("redis://user:pw@host:6379", "pw") == "redis://user:***@host:6379");
    CHECK(redact("AUTH 'pw' refused", "pw") == "AUTH '***' refused");
    CHECK(redact("pw", "pw") == "***");
    CHECK(redact("pw pw", "pw") == "*** ***");
    CHECK(redact("x=7&y=7", "7") == "x=***&y=***");
    // ...and ordinary words around it are not turned into stars.
    CHECK(redact("upward pwned pw_x", "pw") == "upward pwned pw_x");
    CHECK(redact("7 of 17 rows, 70 bytes", "7") == "*** of 17 rows, 70 bytes");
    // A letter of another script is part of the word (UTF-8 bytes are word bytes).
    CHECK(redact("pwé and éa", "pw") == "pwé and éa");
}

TEST_CASE("redact of a secret of 3 to 7 characters keeps ordinary words intact", "[text]")
{
    CHECK(redact("the other theme: the", "the") == "*** other theme: ***");
    CHECK(redact("format for: for", "for") == "format ***: ***");
    // A secret that starts or ends with punctuation: only its word edges need a boundary.
    CHECK(redact("key=!x!y", "!x!") == "key=***y");
    CHECK(redact("a-b!x!", "!x!") == "a-b***");
}

TEST_CASE("redact with an empty secret changes nothing", "[text]")
{
    CHECK(redact("password=", "") == "password=");
}

TEST_CASE("oneLine folds whitespace runs into one space and trims both ends", "[text]")
{
    CHECK(oneLine("FATAL:  password authentication failed\n\tIs the server running?\r\n") ==
          "FATAL: password authentication failed Is the server running?");
    CHECK(oneLine("  \n\t ") == "");
    CHECK(oneLine("one") == "one");
}

TEST_CASE("groupThousands puts a comma between groups of three digits", "[text]")
{
    CHECK(groupThousands(0) == "0");
    CHECK(groupThousands(999) == "999");
    CHECK(groupThousands(1000) == "1,000");
    CHECK(groupThousands(std::uint64_t(1234567)) == "1,234,567");
    CHECK(groupThousands(-1234) == "-1,234");
    CHECK(groupThousands(-999) == "-999");
    CHECK(groupThousands(std::numeric_limits<std::int64_t>::min()) == "-9,223,372,036,854,775,808");
    CHECK(groupThousands(std::numeric_limits<std::uint64_t>::max()) ==
          "18,446,744,073,709,551,615");
    // Measured values (rates) are rounded to the nearest integer, half away from zero.
    CHECK(groupThousands(1234.5) == "1,235");
    CHECK(groupThousands(999.4) == "999");
    CHECK(groupThousands(-0.4) == "0");
    CHECK(groupThousands(-1499.5) == "-1,500");
    CHECK(groupThousands(1e30) == "18,446,744,073,709,551,615");
    CHECK(groupThousands(std::nan("")) == "0");
}
