#include "core/monitor/lagstatus.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace studio::core;

namespace {

LagSample sample(std::int64_t timeMs, std::int64_t committed, std::int64_t high,
                 bool commitSeen = false)
{
    LagSample s;
    s.timeMs = timeMs;
    s.committed = committed;
    s.high = high;
    s.commitSeen = commitSeen;
    return s;
}

// The consecutive distinct statuses a sequence of evaluations went through.
std::vector<LagStatus> distinct(const std::vector<LagStatus> &statuses)
{
    std::vector<LagStatus> out;
    for (LagStatus s : statuses)
        if (out.empty() || out.back() != s)
            out.push_back(s);
    return out;
}

std::vector<const char *> names(const std::vector<LagStatus> &statuses)
{
    std::vector<const char *> out;
    for (LagStatus s : statuses)
        out.push_back(lagStatusName(s));
    return out;
}

} // namespace

TEST_CASE("lag statuses have Burrow's names and a severity order", "[lag][unit]")
{
    CHECK(std::string(lagStatusName(LagStatus::Ok)) == "OK");
    CHECK(std::string(lagStatusName(LagStatus::Warn)) == "WARN");
    CHECK(std::string(lagStatusName(LagStatus::Stall)) == "STALL");
    CHECK(std::string(lagStatusName(LagStatus::Stop)) == "STOP");
    CHECK(std::string(lagStatusName(LagStatus::Rewind)) == "REWIND");
    CHECK(std::string(lagStatusName(LagStatus::Unknown)) == "UNKNOWN");
    CHECK(lagStatusSeverity(LagStatus::Unknown) < lagStatusSeverity(LagStatus::Ok));
    CHECK(lagStatusSeverity(LagStatus::Ok) < lagStatusSeverity(LagStatus::Warn));
    CHECK(lagStatusSeverity(LagStatus::Warn) < lagStatusSeverity(LagStatus::Stall));
    CHECK(lagStatusSeverity(LagStatus::Stall) < lagStatusSeverity(LagStatus::Rewind));
    CHECK(lagStatusSeverity(LagStatus::Rewind) < lagStatusSeverity(LagStatus::Stop));
    CHECK(formatLagDuration(42.4) == "42 s");
    CHECK(formatLagDuration(4.25) == "4.2 s");
}

TEST_CASE("a window with fewer than three samples is unknown", "[lag][unit]")
{
    LagWindow window(5);
    CHECK(window.evaluate().status == LagStatus::Unknown);
    window.add(sample(0, 100, 200));
    CHECK(window.evaluate().status == LagStatus::Unknown);
    window.add(sample(1000, 100, 300));
    const LagEvaluation two = window.evaluate();
    CHECK(two.status == LagStatus::Unknown);
    CHECK(two.reason == "collecting samples: 2 of 3");
    CHECK(two.lag == 200);
    window.add(sample(2000, 150, 300));
    CHECK(window.evaluate().status != LagStatus::Unknown);

    SECTION("and so is one whose group has committed nothing")
    {
        LagWindow none(5);
        for (int i = 0; i < 5; ++i) {
            LagSample s = sample(i * 1000, -1, 500);
            s.low = 100;
            none.add(s);
        }
        const LagEvaluation e = none.evaluate();
        CHECK(e.status == LagStatus::Unknown);
        CHECK(e.lag == 400); // high - low
    }
}

TEST_CASE("lag that was zero anywhere in the window is OK", "[lag][unit]")
{
    LagWindow window(5);
    window.add(sample(0, 100, 100));
    window.add(sample(1000, 100, 180));
    window.add(sample(2000, 120, 260));
    window.add(sample(3000, 140, 340));
    const LagEvaluation e = window.evaluate();
    CHECK(e.status == LagStatus::Ok);
    CHECK(e.lag == 200);
    CHECK(e.reason == "lag 200 (was 0 within the window)");
}

TEST_CASE("a consumer keeping up with a fluctuating lag is OK", "[lag][unit]")
{
    LagWindow window(10);
    std::int64_t high = 0;
    for (int i = 0; i < 30; ++i) {
        high += 100;
        window.add(sample(i * 1000, high - (i % 2 ? 40 : 15), high));
        if (window.size() >= LagWindow::kMinSamples)
            CHECK(window.evaluate().status == LagStatus::Ok);
    }
    // Committed 2085 at 20 s and 2960 at 29 s.
    CHECK(window.consumeRate() == Approx(875.0 / 9.0));
}

TEST_CASE("offsets that advance while lag never shrinks are WARN", "[lag][unit]")
{
    LagWindow window(5);
    for (int i = 0; i < 5; ++i) // consumes 50/s of 100/s
        window.add(sample(i * 1000, 1000 + i * 50, 1100 + i * 100));
    const LagEvaluation e = window.evaluate();
    CHECK(e.status == LagStatus::Warn);
    CHECK(e.reason ==
          "lag grew from 100 to 300 over 4.0 s while the offset advanced (falling behind)");

    SECTION("a constant lag counts as never shrinking, as in Burrow")
    {
        LagWindow flat(4);
        for (int i = 0; i < 4; ++i)
            flat.add(sample(i * 1000, 1000 + i * 100, 1500 + i * 100));
        CHECK(flat.evaluate().status == LagStatus::Warn);
    }
    SECTION("one shrinking step makes it OK")
    {
        window.add(sample(5000, 1400, 1600)); // lag 200 < 300
        CHECK(window.evaluate().status == LagStatus::Ok);
    }
}

TEST_CASE("no commit for longer than the window spans, with lag, is STOP", "[lag][unit]")
{
    LagWindow window(5);
    window.add(sample(0, 1000, 1000));    // caught up
    window.add(sample(1000, 1100, 1200)); // the last move
    for (int i = 2; i < 5; ++i)
        window.add(sample(i * 1000, 1100, 1200 + i * 100));
    // Window 0..4000: the move at 1000 is inside it (and lag was 0 at 0).
    CHECK(window.evaluate().status == LagStatus::Ok);
    window.add(sample(5000, 1100, 1700));
    // Window 1000..5000 (span 4 s): nothing moved after its oldest sample.
    LagEvaluation e = window.evaluate();
    CHECK(e.status == LagStatus::Stop);
    CHECK(e.reason == "committed offset 1100 unchanged for 4.0 s while lag 600");
    window.add(sample(6000, 1100, 1800));
    e = window.evaluate();
    CHECK(e.status == LagStatus::Stop);
    CHECK(e.reason == "committed offset 1100 unchanged for 5.0 s while lag 700");
    CHECK(window.lastProgressMs() == 1000);

    SECTION("a failed poll later still ends in STOP when evaluated at a later now")
    {
        LagWindow w(4);
        w.add(sample(0, 10, 20));
        w.add(sample(1000, 20, 30));
        w.add(sample(2000, 30, 45));
        CHECK(w.evaluate().status != LagStatus::Stop);
        CHECK(w.evaluate(6000).status == LagStatus::Stop);
    }
    SECTION("a group that never moved is STOP once the window is full, not before")
    {
        LagWindow w(4);
        w.add(sample(0, 10, 20));
        w.add(sample(1000, 10, 25));
        w.add(sample(2000, 10, 30));
        CHECK(w.evaluate().status == LagStatus::Ok); // still filling: the first sample counts
        w.add(sample(3000, 10, 35));
        CHECK(w.evaluate().status == LagStatus::Stop);
    }
}

TEST_CASE("a caught-up consumer of an idle topic is not stopped", "[lag][unit]")
{
    LagWindow window(4);
    for (int i = 0; i < 10; ++i) // nothing produced, nothing committed
        window.add(sample(i * 1000, 500, 500));
    CHECK(window.evaluate().status == LagStatus::Ok);
    // A burst arrives; the consumer has not committed yet at the next poll.
    window.add(sample(10'000, 500, 900));
    CHECK(window.evaluate().status == LagStatus::Ok);
    window.add(sample(11'000, 900, 900));
    CHECK(window.evaluate().status == LagStatus::Ok);
}

TEST_CASE("commits that repeat the same offset while lag exists are STALL", "[lag][unit]")
{
    LagWindow window(4);
    window.add(sample(0, 700, 900, true));
    for (int i = 1; i < 6; ++i)
        window.add(sample(i * 1000, 700, 900 + i * 10, true));
    const LagEvaluation e = window.evaluate();
    CHECK(e.status == LagStatus::Stall);
    CHECK(e.reason == "commits repeat offset 700 for 3.0 s while lag 250");

    SECTION("without commits seen the same offsets end in STOP")
    {
        LagWindow blind(4);
        for (int i = 0; i < 6; ++i)
            blind.add(sample(i * 1000, 700, 900 + i * 10));
        CHECK(blind.evaluate().status == LagStatus::Stop);
    }
    SECTION("when the commits stop coming, STALL becomes STOP")
    {
        for (int i = 6; i < 11; ++i)
            window.add(sample(i * 1000, 700, 960));
        CHECK(window.evaluate().status == LagStatus::Stop);
    }
}

TEST_CASE("an offset reset backwards is REWIND until it leaves the window", "[lag][unit]")
{
    LagWindow window(4);
    for (int i = 0; i < 4; ++i) // caught up, idle
        window.add(sample(i * 1000, 5000, 5000));
    window.add(sample(4000, 1200, 5000));
    LagEvaluation e = window.evaluate();
    CHECK(e.status == LagStatus::Rewind); // reported although lag was 0 just before
    CHECK(e.reason == "committed offset went back from 5000 to 1200 (offset reset?), lag 3800");
    // The group re-reads quickly: still REWIND while the step is in the window ...
    window.add(sample(5000, 3000, 5000));
    window.add(sample(6000, 4500, 5000));
    CHECK(window.evaluate().status == LagStatus::Rewind);
    // ... and OK once it has slid out (samples 4000..7000 only move forward).
    window.add(sample(7000, 5000, 5000));
    CHECK(window.evaluate().status == LagStatus::Ok);
}

TEST_CASE("a consumer goes OK, WARN, STOP and back to OK as it slows, stops and catches up",
          "[lag][unit]")
{
    LagWindow window(5);
    std::vector<LagStatus> seen;
    std::int64_t t = 0;
    std::int64_t high = 0;
    std::int64_t committed = 0;
    auto poll = [&](std::int64_t produced, std::int64_t consumed) {
        high += produced;
        committed += consumed;
        window.add(sample(t, committed, high));
        t += 1000;
        seen.push_back(window.evaluate().status);
    };
    for (int i = 0; i < 6; ++i) // keeps up: lag 0 at every poll
        poll(100, 100);
    for (int i = 0; i < 8; ++i) // slows down: 60 of 100 a second
        poll(100, 60);
    for (int i = 0; i < 8; ++i) // stops
        poll(100, 0);
    for (int i = 0; i < 2; ++i) // catches up at 500 a second (lag shrinks each poll)
        poll(100, 500);
    while (committed < high) // and reaches the end
        poll(0, std::min<std::int64_t>(500, high - committed));
    poll(0, 0);

    const std::vector<LagStatus> expected = {LagStatus::Unknown, LagStatus::Ok, LagStatus::Warn,
                                             LagStatus::Stop, LagStatus::Ok};
    CHECK(names(distinct(seen)) == names(expected));
    CHECK(window.evaluate().lag == 0);
}

TEST_CASE("the window keeps its newest samples only", "[lag][unit]")
{
    LagWindow window(3);
    CHECK(window.capacity() == 3);
    for (int i = 0; i < 10; ++i)
        window.add(sample(i * 1000, i * 10, i * 10 + 5));
    REQUIRE(window.size() == 3);
    CHECK(window.samples().front().timeMs == 7000);
    CHECK(window.samples().back().timeMs == 9000);
    CHECK(window.consumeRate() == Approx(10.0));
    // A sample from the past is ignored.
    window.add(sample(5000, 0, 0));
    CHECK(window.samples().back().timeMs == 9000);
    // Capacity never drops below what the rules need.
    CHECK(LagWindow(1).capacity() == LagWindow::kMinSamples);
    window.clear();
    CHECK(window.size() == 0);
    CHECK(window.lastProgressMs() == -1);
}

TEST_CASE("a group's status is its worst partition's, named in the reason", "[lag][unit]")
{
    auto eval = [](LagStatus status, std::int64_t lag, std::string reason) {
        LagEvaluation e;
        e.status = status;
        e.lag = lag;
        e.reason = std::move(reason);
        return e;
    };
    std::vector<NamedLagEvaluation> partitions = {
        {"clickstream[0]", eval(LagStatus::Ok, 10, "lag 10")},
        {"clickstream[1]", eval(LagStatus::Warn, 300, "lag grew")},
        {"clickstream[2]", eval(LagStatus::Ok, 0, "lag 0")},
        {"clickstream[3]",
         eval(LagStatus::Stop, 5000, "committed offset 1200 unchanged for 42 s while lag 5000")},
        {"clickstream[4]", eval(LagStatus::Unknown, -1, "collecting samples: 1 of 3")},
    };
    LagEvaluation group = evaluateGroupLag(partitions);
    CHECK(group.status == LagStatus::Stop);
    CHECK(group.reason ==
          "clickstream[3]: committed offset 1200 unchanged for 42 s while lag 5000");
    CHECK(group.lag == 5310);

    partitions[3].evaluation = eval(LagStatus::Rewind, 50, "went back");
    partitions[0].evaluation = eval(LagStatus::Stall, 10, "repeats");
    CHECK(evaluateGroupLag(partitions).status == LagStatus::Rewind);

    SECTION("equal statuses: the larger lag names the group")
    {
        partitions[3].evaluation = eval(LagStatus::Warn, 900, "lag grew more");
        partitions[0].evaluation = eval(LagStatus::Ok, 10, "lag 10");
        const LagEvaluation g = evaluateGroupLag(partitions);
        CHECK(g.status == LagStatus::Warn);
        CHECK(g.reason == "clickstream[3]: lag grew more");
    }
    SECTION("all OK reads as a count and the total; unknown only when all are")
    {
        for (auto &p : partitions)
            if (p.evaluation.status != LagStatus::Unknown)
                p.evaluation = eval(LagStatus::Ok, 5, "lag 5");
        const LagEvaluation g = evaluateGroupLag(partitions);
        CHECK(g.status == LagStatus::Ok);
        CHECK(g.reason == "4 partitions OK (1 unknown), total lag 20");
        CHECK(evaluateGroupLag({partitions.back()}).status == LagStatus::Unknown);
        CHECK(evaluateGroupLag({}).status == LagStatus::Unknown);
    }
}
