#include "core/store/csvreport.h"

#include <catch2/catch.hpp>

using namespace studio::core;

TEST_CASE("CSV cells follow RFC 4180 and never run as formulas", "[csv]")
{
    CHECK(csvText("/home") == "/home");
    CHECK(csvText("a,b") == "\"a,b\"");
    CHECK(csvText("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(csvText("two\nlines") == "\"two\nlines\"");
    CHECK(csvText("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"");
    CHECK(csvText("+1") == "'+1");
    CHECK(csvText("-1") == "'-1");
    CHECK(csvText("@SUM(A1)") == "'@SUM(A1)");
    CHECK(csvText("\tx") == "'\tx");
    CHECK(csvText("") == "");
}
