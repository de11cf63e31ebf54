#pragma once

#include "core/aggregate/aggregator.h"
#include "core/kafka/clusterconfig.h"
#include "core/monitor/monitor.h"
#include "core/produce/generator.h"
#include "core/produce/producer.h"

#include <cstdint>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace studio::app {

/// Which Kafka to use: "embedded" (an in-process broker) or a bootstrap list, with the security
/// options of a real cluster. Secrets never come from here: see resolveSecrets().
struct ConnectionOptions
{
    std::string broker = "embedded";
    int embeddedBrokers = 3;
    int embeddedPartitions = 12;
    std::string securityProtocol = "plaintext";
    std::string saslMechanism = "PLAIN";
    std::string saslUsername;
    std::string sslCa;
    std::string sslCertificate;
    std::string sslKey;
    bool noVerifyHostname = false;
    std::string rejectedSecret; // set when a password was passed on the command line

    bool embedded() const { return broker == "embedded"; }
};

/// The generator's knobs as command-line text (mixes are comma-separated weights).
struct GeneratorOptions
{
    core::GeneratorConfig config;
    std::string mix = "70,18,8,4";
    std::string hotMix = "95,4,1";
};

struct ProducerOptions
{
    core::ProducerSettings settings;
    double durationSeconds = 0;
    int producers = 1;
    std::string replayFile;
    bool loop = false;
    std::string mirrorFrom;
    std::string mirrorTopic;
    bool json = false;
};

/// The aggregator's windows as command-line durations.
struct AggregatorOptions
{
    std::string pageWindow = "60s";
    std::string geoWindow = "300s";
    std::string sessionGap = std::to_string(core::AggregatorConfig{}.sessionGapMs / 1000) + "s";
    std::string watermarkDelay = "10s";
    std::string maxFuture = "5m";
    std::string idleTimeout = "30s";
    std::string pageQuery = "drop";
    std::size_t maxKeysPerWindow = core::AggregatorConfig{}.maxKeysPerWindow;
};

/// The /metrics endpoint: off unless a port is given; loopback unless an address is given.
struct MetricsOptions
{
    int port = -1; ///< -1: no endpoint; 0: any free port
    std::string address = "127.0.0.1";

    bool enabled() const { return port >= 0; }
};

void addMetricsOptions(CLI::App &app, MetricsOptions &options);

/// What the monitor watches besides Kafka, and where alerts go. Passwords never come from here:
/// libpq's PGPASSWORD / ~/.pgpass (or CLICKSTREAM_PG_PASSWORD), REDISCLI_AUTH (or
/// CLICKSTREAM_REDIS_PASSWORD) and CLICKSTREAM_WEBHOOK_PASSWORD.
struct MonitoringOptions
{
    std::string postgres;   ///< libpq conninfo or postgresql:// URL, without a password
    std::string redis;      ///< redis://host[:port][/db] or host[:port]
    std::string redisUser;  ///< ACL user (Redis 6+); empty: the default user
    std::string alertRules; ///< JSON rules file; loaded when it exists, else the defaults
    std::string webhook;    ///< Alertmanager-compatible webhook URL for firing/resolved alerts
    std::string rejectedSecret;
};
void addMonitoringOptions(CLI::App &app, MonitoringOptions &options);
/// Fills `out` (targets with their passwords from the environment, rules path, webhook); empty
/// or an error message. A password inside --postgres is refused.
std::string buildMonitorSettings(const MonitoringOptions &options, core::MonitorSettings &out);

void addAggregatorOptions(CLI::App &app, AggregatorOptions &options);
/// Fills `config` from the options; empty or an error message.
std::string finishAggregatorOptions(const AggregatorOptions &options,
                                    core::AggregatorConfig &config);

void addConnectionOptions(CLI::App &app, ConnectionOptions &options);
void addGeneratorOptions(CLI::App &app, GeneratorOptions &options);
void addProducerOptions(CLI::App &app, ProducerOptions &options);

/// Parses the mixes into `options.config` and validates it; empty or an error message.
std::string finishGeneratorOptions(GeneratorOptions &options);

/// "250ms", "60s", "5m", "1h" or a plain number of seconds, as milliseconds; nullopt if malformed.
std::optional<std::int64_t> parseDurationMs(const std::string &text);

/// The refusal message when a password was given as an argument, else empty.
std::string refuseSecretArguments(const ConnectionOptions &options);

/// A ClusterConfig for a real cluster from the options, secrets read from the environment
/// (CLICKSTREAM_SASL_PASSWORD, CLICKSTREAM_SSL_KEY_PASSWORD) or, on a terminal, a prompt without
/// echo. Empty message on success.
std::string buildClusterConfig(const ConnectionOptions &options, core::ClusterConfig &out);

} // namespace studio::app
