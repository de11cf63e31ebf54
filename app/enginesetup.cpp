#include "app/enginesetup.h"

#include "app/commandsupport.h"
#include "core/produce/filereplaysource.h"
#include "core/produce/mirrorsource.h"

#include <fmt/core.h>

namespace studio::app {

namespace {

std::unique_ptr<core::EventSource> makeSource(const ProduceCommand &c, std::string *error)
{
    const ProducerOptions &p = c.producer;
    if (!p.replayFile.empty())
        return core::FileReplaySource::open(p.replayFile, p.loop, error);
    core::ClusterConfig from;
    from.name = "mirror source";
    from.bootstrap = p.mirrorFrom;
    return core::MirrorSource::open(from, p.mirrorTopic, "clickstream-studio-mirror", error);
}

} // namespace

std::string buildProducerEngineSettings(ProduceCommand &c, core::StudioEngineSettings &s)
{
    const ConnectionOptions &conn = c.connection;
    if (std::string e = refuseSecretArguments(conn); !e.empty())
        return e;
    if (std::string e = finishGeneratorOptions(c.generator); !e.empty())
        return e;
    s.topic = c.producer.settings.topic;
    s.embedded = conn.embedded();
    s.embeddedOptions.brokers = conn.embeddedBrokers;
    s.embeddedOptions.partitions = conn.embeddedPartitions;
    s.embeddedOptions.topics = {s.topic};
    if (!s.embedded) {
        if (std::string e = buildClusterConfig(conn, s.cluster); !e.empty())
            return e;
    }
    s.aggregate = false;
    s.monitor = false;
    return {};
}

std::string buildEngineSettings(RunCommand &r, core::StudioEngineSettings &s)
{
    if (std::string e = finishAggregatorOptions(r.aggregator, s.aggregator); !e.empty())
        return e;
    s.aggregator.workers = r.workers;
    if (std::string e = buildMonitorSettings(r.produce.monitoring, s.monitorSettings); !e.empty())
        return e;
    const core::MonitorSettings &targets = s.monitorSettings;
    if (r.archiveRaw && !targets.postgres)
        return "--archive-raw needs --postgres (the archive is the raw_events table)";
    if (std::string e = buildProducerEngineSettings(r.produce, s); !e.empty())
        return e;
    s.aggregate = true;
    s.monitor = true;
    s.groupId = r.groupId;
    s.shard = r.shard;
    s.checkpointIntervalMs = r.checkpointMs;
    s.sessionTimeoutMs = static_cast<int>(r.sessionTimeoutSeconds * 1000);
    s.archiveRaw = r.archiveRaw;
    // Persistence: with --postgres or --redis the results go to the sinks, checkpointed with the
    // offsets they cover (durable mode). The monitor's probes watch the same targets.
    if (targets.postgres || targets.redis) {
        core::SinkSettings sinks;
        sinks.postgres = targets.postgres;
        sinks.redis = targets.redis;
        s.sinks = std::move(sinks);
    }
    return {};
}

std::string checkProducerOptions(const ProduceCommand &c)
{
    const ProducerOptions &p = c.producer;
    if (!p.replayFile.empty() && !p.mirrorFrom.empty())
        return "--replay and --mirror-from are alternatives: give one";
    if (!p.mirrorFrom.empty() && p.mirrorTopic.empty())
        return "--mirror-from needs --mirror-topic";
    if (p.loop && p.replayFile.empty())
        return "--loop goes with --replay";
    if (p.producers > 1 && (!p.replayFile.empty() || !p.mirrorFrom.empty()))
        return "--producers above 1 is for generated events only";
    return p.settings.validate();
}

std::optional<int> startEngine(core::StudioEngine &engine)
{
    std::string error;
    if (!engine.connect(&error)) {
        fmt::print(stderr, "error: {}\n", error);
        return kRuntimeError;
    }
    if (const core::EmbeddedBroker *broker = engine.embeddedBroker())
        fmt::print(stderr, "embedded broker at {} (in this process, gone when it exits)\n",
                   broker->bootstrap());
    core::EnginePart failed = core::EnginePart::Broker;
    if (!engine.start(&error, &failed)) {
        fmt::print(stderr, "error: {}\n", error);
        // The monitor refuses only unusable settings (a bad webhook URL, say).
        return failed == core::EnginePart::Monitor ? kUsageError : kRuntimeError;
    }
    return std::nullopt;
}

std::optional<int> startProducers(const ProduceCommand &c, core::StudioEngine &engine)
{
    const ProducerOptions &p = c.producer;
    for (int i = 0; i < p.producers; ++i) {
        core::StudioProducerSettings settings;
        settings.producer = p.settings;
        settings.producer.name = "producer-" + std::to_string(i + 1);
        if (!p.settings.transactionalId.empty() && p.producers > 1)
            settings.producer.transactionalId += "-" + std::to_string(i + 1); // never fenced
        settings.producer.ratePerSecond = p.settings.ratePerSecond / p.producers;
        settings.generator = c.generator.config;
        settings.generator.seed += static_cast<std::uint64_t>(i); // distinct event ids each
        int id = 0;
        if (!p.replayFile.empty() || !p.mirrorFrom.empty()) {
            std::string error;
            auto source = makeSource(c, &error);
            if (!source) {
                fmt::print(stderr, "error: {}\n", error);
                return kRuntimeError;
            }
            id = engine.addProducer(std::move(settings), std::move(source));
        } else {
            id = engine.addProducer(std::move(settings));
        }
        if (id == 0 || !engine.startProducer(id)) {
            fmt::print(stderr, "error: producer-{} could not be added\n", i + 1);
            return kRuntimeError;
        }
    }
    engine.waitIdle(); // the producers start on the engine's control thread
    for (const core::ProducerSample &s : engine.status().producers) {
        if (s.stats.state == core::ProducerState::Failed) {
            fmt::print(stderr, "error: {}\n", s.stats.lastError);
            return kRuntimeError;
        }
    }
    return std::nullopt;
}

GuiEngine startGuiEngine(const core::StudioEngineSettings &settings, const ProduceCommand &command,
                         core::MetricsRegistry &registry)
{
    GuiEngine g;
    g.engine = std::make_unique<core::StudioEngine>(settings);
    std::string error;
    if (g.engine->start(&error)) { // on failure the window says why
        fmt::print(stderr, "broker: {}\n", g.engine->status().broker);
        // One producer from the command line's settings, stopped: Start is one click away.
        core::StudioProducerSettings first;
        first.producer = command.producer.settings;
        first.generator = command.generator.config;
        g.firstProducer = g.engine->addProducer(std::move(first));
    } else {
        fmt::print(stderr, "error: {}\n", error);
    }
    g.metrics = g.engine->registerMetrics(registry);
    return g;
}

} // namespace studio::app
