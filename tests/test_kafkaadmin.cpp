// KafkaAdmin (issue 23) on the embedded broker: what librdkafka's mock can do works (produce with
// headers, an offset reset through AlterConsumerGroupOffsets), and what it cannot do ends at once
// with a one-line reason instead of a timeout or librdkafka 2.0.2's deadlock. The real-Kafka side
// is tests/kafka/test_kafka.py ConsoleTest.
#include "core/kafka/embeddedbroker.h"
#include "core/kafka/kafkaadmin.h"
#include "core/kafka/messagebrowser.h"

#include <catch2/catch.hpp>

#include <chrono>

using namespace studio::core;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTimeoutMs = 20'000;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

TEST_CASE("offset reset specs parse as the CLI takes them", "[kafkaadmin]")
{
    using Kind = OffsetResetSpec::Kind;
    CHECK(OffsetResetSpec::parse("earliest")->kind == Kind::Earliest);
    CHECK(OffsetResetSpec::parse("latest")->kind == Kind::Latest);
    CHECK(OffsetResetSpec::parse("offset:42")->value == 42);
    CHECK(OffsetResetSpec::parse("shift:-20")->value == -20);
    CHECK(OffsetResetSpec::parse("shift:+5")->value == 5);
    const auto t = OffsetResetSpec::parse("2026-01-01T00:00:00.000Z");
    REQUIRE(t);
    CHECK(t->kind == Kind::Timestamp);
    CHECK(t->value == 1767225600000);
    for (const char *bad : {"", "offset:", "offset:-1", "shift:x", "shift:1x", "yesterday"})
        CHECK_FALSE(OffsetResetSpec::parse(bad));
}

TEST_CASE("on the embedded broker what the mock cannot do is refused at once with a reason",
          "[kafkaadmin][broker]")
{
    EmbeddedBroker broker;
    EmbeddedBroker::Options options;
    options.partitions = 3;
    options.topics = {"console"};
    std::string error;
    REQUIRE(broker.start(options, &error));
    KafkaAdmin admin(broker.clusterConfig(), kTimeoutMs);
    REQUIRE(admin.connect(&error));
    CHECK(admin.isEmbeddedBroker());

    // Each would time out (no controller), answer "unsupported" or deadlock librdkafka 2.0.2
    // (DeleteGroups): none may wait, all say why in one line.
    const auto start = Clock::now();
    std::vector<std::string> errors;
    CHECK_FALSE(admin.describeTopicConfigs("console", &error));
    errors.push_back(error);
    CHECK_FALSE(admin.alterTopicConfigs("console", {{"retention.ms", "1000"}}, &error));
    errors.push_back(error);
    CHECK_FALSE(admin.createPartitions("console", 6, &error));
    errors.push_back(error);
    CHECK_FALSE(admin.deleteTopic("console", &error));
    errors.push_back(error);
    CHECK_FALSE(admin.deleteRecords("console", {}, 1, &error));
    errors.push_back(error);
    CHECK_FALSE(admin.deleteGroup("some-group", &error));
    errors.push_back(error);
    CHECK_FALSE(admin.describeAcls({}, &error));
    errors.push_back(error);
    CHECK(secondsSince(start) < 1.0);
    for (const auto &e : errors) {
        INFO(e);
        CHECK(e.find("not possible on the embedded broker") != std::string::npos);
        CHECK(e.find('\n') == std::string::npos);
    }
    // Without --topic the mock cannot tell a group's partitions: said at once.
    const auto spec = OffsetResetSpec::parse("earliest");
    CHECK_FALSE(admin.planOffsetReset("g", {}, {}, *spec, &error));
    CHECK(error.find("name the topics with --topic") != std::string::npos);
    // Regression: a reset to a time went to the log end there (the mock answers every lookup by
    // time with "none"): refused, not planned wrong.
    const auto byTime = OffsetResetSpec::parse("2026-01-01T00:00:00Z");
    REQUIRE(byTime);
    CHECK_FALSE(admin.planOffsetReset("g", {"console"}, {}, *byTime, &error));
    CHECK(error.find("not possible on the embedded broker") != std::string::npos);
}

TEST_CASE("on the embedded broker a produced message keeps its key and headers and a group's "
          "offsets are reset",
          "[kafkaadmin][broker]")
{
    EmbeddedBroker broker;
    EmbeddedBroker::Options options;
    options.partitions = 2;
    options.topics = {"console"};
    std::string error;
    REQUIRE(broker.start(options, &error));
    KafkaAdmin admin(broker.clusterConfig(), kTimeoutMs);
    REQUIRE(admin.connect(&error));

    ProduceRequest request;
    request.topic = "console";
    request.partition = 1;
    request.key = "user-1";
    request.value = R"({"a":1})";
    request.headers = {{"source", "test"}, {"empty", ""}};
    request.copies = 5;
    const auto reports = admin.produce(request, &error);
    INFO(error);
    REQUIRE(reports);
    REQUIRE(reports->size() == 5);
    for (std::size_t i = 0; i < reports->size(); ++i) {
        CHECK((*reports)[i].error.empty());
        CHECK((*reports)[i].partition == 1);
        CHECK((*reports)[i].offset == std::int64_t(i));
    }
    MessageBrowser browser(broker.clusterConfig());
    const BrowseResult read = browser.readFromOffset("console", 1, 0, 5);
    REQUIRE(read.ok);
    REQUIRE(read.messages.size() == 5);
    CHECK(read.messages[0].key == "user-1");
    CHECK(read.messages[0].value == R"({"a":1})");
    CHECK(read.messages[0].headers ==
          std::vector<std::pair<std::string, std::string>>{{"source", "test"}, {"empty", ""}});

    // The mock takes AlterConsumerGroupOffsets; it cannot describe groups, so the members are
    // not known (-1) and the reset goes ahead.
    const auto latest = admin.planOffsetReset("console-group", {"console"}, {},
                                              *OffsetResetSpec::parse("latest"), &error);
    INFO(error);
    REQUIRE(latest);
    CHECK(latest->activeMembers == -1);
    REQUIRE(latest->rows.size() == 2);
    CHECK(latest->rows[1].oldOffset == -1);
    CHECK(latest->rows[1].newOffset == 5);
    CHECK(latest->rows[1].lagAfter == 0);
    REQUIRE(admin.commitOffsetReset(*latest, &error));
    const auto shifted = admin.planOffsetReset("console-group", {"console"}, {1},
                                               *OffsetResetSpec::parse("shift:-2"), &error);
    REQUIRE(shifted);
    REQUIRE(shifted->rows.size() == 1);
    CHECK(shifted->rows[0].oldOffset == 5); // what the first reset committed
    CHECK(shifted->rows[0].newOffset == 3);
    CHECK(shifted->rows[0].lagAfter == 2);
    // Past the log's start: moved to it, and said so.
    const auto before = admin.planOffsetReset("console-group", {"console"}, {1},
                                              *OffsetResetSpec::parse("shift:-100"), &error);
    REQUIRE(before);
    CHECK(before->rows[0].newOffset == 0);
    CHECK(before->rows[0].note.find("before the log start") != std::string::npos);
}
