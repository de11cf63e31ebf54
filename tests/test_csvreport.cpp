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

TEST_CASE("a collector that only counts keeps no rows and refuses to write a report", "[csv]")
{
    FinalResults results;
    results.geo.resize(3);
    results.sessions.resize(5);
    results.funnel.resize(2);
    results.pages.resize(4);
    CsvReportCollector counting(false), keeping;
    for (int i = 0; i < 2; ++i) {
        FinalResults copy = results;
        counting.onFinal(std::move(copy));
        copy = results;
        keeping.onFinal(std::move(copy));
    }
    CHECK(counting.pageRows() == 8);
    CHECK(counting.geoRows() == 6);
    CHECK(counting.sessionRows() == 10);
    CHECK(counting.funnelRows() == 4);
    CHECK(counting.pages().empty());
    CHECK(counting.sessions().empty());
    CHECK(counting.geo().empty());
    CHECK(counting.funnel().empty());
    std::string error;
    CHECK_FALSE(counting.write("/tmp/never-written", &error));
    CHECK_THAT(error, Catch::Contains("counting only"));
    CHECK(keeping.sessionRows() == 10);
    CHECK(keeping.sessions().size() == 10);
    CHECK(keeping.pages().size() == 8);
}
