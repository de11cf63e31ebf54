// Where a benchmark's events live (`--kafka embedded|single`):
// - embedded: librdkafka's mock cluster in this process, a fresh one for every run (the default);
// - single: a real Apache Kafka node (KRaft, PLAINTEXT) in its own JVM process on loopback,
//   started once per benchmark by scripts/kafka.sh and stopped at exit; every run gets a fresh
//   topic on it, created through the admin API.
// Both give a ClusterConfig and a topic name, so a benchmark's code is the same for either.
#pragma once

#include "core/kafka/clusterconfig.h"
#include "core/kafka/embeddedbroker.h"
#include "core/monitor/clustermonitor.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>

namespace studio::bench {

class BenchKafka
{
public:
    enum class Kind { Embedded, Single };

    struct Target
    {
        core::ClusterConfig cluster;
        std::string topic;
        std::unique_ptr<core::EmbeddedBroker> embedded; ///< set for Kind::Embedded
    };

    static std::optional<Kind> parseKind(const std::string &text)
    {
        if (text == "embedded")
            return Kind::Embedded;
        if (text == "single")
            return Kind::Single;
        return std::nullopt;
    }

    BenchKafka(Kind kind, int embeddedBrokers)
        : m_kind(kind)
        , m_brokers(embeddedBrokers)
    {
    }
    ~BenchKafka() { stop(); }
    BenchKafka(const BenchKafka &) = delete;
    BenchKafka &operator=(const BenchKafka &) = delete;

    Kind kind() const { return m_kind; }

    /// For `single`: runs `scripts/kafka.sh start single DIR` (the jars resolved by Maven on
    /// first use) and reads the bootstrap it wrote; the node is stopped by the destructor or at
    /// exit. Nothing to do for the embedded broker.
    bool start(std::string *error)
    {
        if (m_kind == Kind::Embedded)
            return true;
        char folder[] = "/tmp/bench-kafka-XXXXXX";
        if (!mkdtemp(folder)) {
            *error = "cannot make a folder for the Kafka node";
            return false;
        }
        m_dir = folder;
        s_running = this;
        std::atexit([] {
            if (s_running)
                s_running->stop();
        });
        // The script's progress goes to our stderr; its stdout (bootstrap=...) is not needed,
        // DIR/bootstrap holds the same line.
        const std::string command =
            fmt::format("bash '{}' start single '{}' >/dev/null", kafkaScript(), m_dir);
        fmt::print(stderr, "starting a real Kafka node: {}\n", command);
        if (std::system(command.c_str()) != 0) {
            *error = "scripts/kafka.sh could not start a Kafka node (its message is above)";
            return false;
        }
        std::ifstream bootstrap(m_dir + "/bootstrap");
        std::getline(bootstrap, m_bootstrap);
        std::ifstream version(m_dir + "/version");
        std::getline(version, m_version);
        if (m_bootstrap.empty()) {
            *error = "scripts/kafka.sh wrote no bootstrap into " + m_dir;
            return false;
        }
        return true;
    }

    void stop()
    {
        if (m_dir.empty())
            return;
        const std::string command =
            fmt::format("bash '{}' stop '{}' >/dev/null 2>&1", kafkaScript(), m_dir);
        if (std::system(command.c_str()) == 0)
            std::system(fmt::format("rm -rf '{}'", m_dir).c_str());
        m_dir.clear();
        if (s_running == this)
            s_running = nullptr;
    }

    std::string describe() const
    {
        if (m_kind == Kind::Embedded)
            return fmt::format("embedded broker ({} brokers, in process)", m_brokers);
        return fmt::format("Apache Kafka {} single node (KRaft, PLAINTEXT, own JVM process) at {}",
                           m_version, m_bootstrap);
    }

    /// A fresh topic of `partitions`: a new embedded cluster holding "clickstream", or a new topic
    /// on the real node (replication factor 1), its partitions' leaders elected.
    std::optional<Target> fresh(int partitions, std::string *error)
    {
        Target t;
        if (m_kind == Kind::Embedded) {
            t.embedded = std::make_unique<core::EmbeddedBroker>();
            core::EmbeddedBroker::Options options;
            options.brokers = m_brokers;
            options.partitions = partitions;
            if (!t.embedded->start(options, error))
                return std::nullopt;
            t.cluster = t.embedded->clusterConfig();
            t.topic = "clickstream";
            return t;
        }
        t.cluster.name = "bench-single";
        t.cluster.bootstrap = m_bootstrap;
        t.topic = fmt::format("bench-{}-{}", getpid(), ++m_topics);
        core::ClusterMonitorOptions options;
        options.requestTimeoutMs = 30'000;
        core::ClusterMonitor admin(t.cluster, nullptr, options);
        if (!admin.createTopic(t.topic, partitions, 1, error))
            return std::nullopt;
        return t;
    }

private:
    static std::string kafkaScript()
    {
        if (const char *path = std::getenv("STUDIO_KAFKA_SH"))
            return path;
        return std::string(STUDIO_SOURCE_DIR) + "/scripts/kafka.sh";
    }

    inline static BenchKafka *s_running = nullptr;
    Kind m_kind;
    int m_brokers;
    std::string m_dir;
    std::string m_bootstrap;
    std::string m_version;
    int m_topics = 0;
};

} // namespace studio::bench
