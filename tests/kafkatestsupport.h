#pragma once

// Helpers shared by the tests that run against the embedded broker.

#include "core/kafka/clusterconfig.h"
#include "core/kafka/kafkaclient.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>

namespace studio::test {

/// A temporary file removed at the end of the test.
struct TempFile
{
    std::string path;
    TempFile()
    {
        char name[] = "/tmp/studio-test-XXXXXX";
        const int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        close(fd);
        path = name;
    }
    ~TempFile() { std::remove(path.c_str()); }
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;
};

/// Sum of the topic's high watermarks, asked of the brokers: messages ever appended.
inline std::int64_t highWatermarkSum(const core::ClusterConfig &cluster, const std::string &topic)
{
    std::string error;
    auto client = core::createKafkaClient(RD_KAFKA_PRODUCER,
                                          core::makeKafkaConf(cluster, {}, &error), &error);
    REQUIRE(client);
    auto w = core::queryTopicWatermarks(client.get(), topic, 5000, &error);
    INFO(error);
    REQUIRE(w);
    return core::sumHighWatermarks(*w);
}

/// Polls `condition` every 50 ms until it holds (true) or `timeout` passes (false).
inline bool waitFor(const std::function<bool()> &condition, std::chrono::seconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

} // namespace studio::test
