#pragma once

#include "app/options.h"

#include <string>
#include <vector>

namespace studio::app {

struct BrokerCommand
{
    int brokers = 3;
    int partitions = 12;
    std::vector<std::string> topics{"clickstream"};
};

struct GenerateCommand
{
    long long count = 0;
    double rps = 1000;
    std::string start; // ISO-8601; empty = now
    std::string out;   // empty or "-" = stdout
    GeneratorOptions generator;
};

struct ProduceCommand
{
    ConnectionOptions connection;
    GeneratorOptions generator;
    ProducerOptions producer;
    MetricsOptions metrics;
    MonitoringOptions monitoring; ///< used by `run`/`headless` and the GUI
};

struct AggregateCommand
{
    std::string input;
    std::string outDir;
    AggregatorOptions aggregator;
    MetricsOptions metrics;
    bool json = false;
};

/// Producer and aggregator together on one broker (the headless mode).
struct RunCommand
{
    ProduceCommand produce;
    AggregatorOptions aggregator;
    std::string groupId = "clickstream-studio";
    std::string reportDir;
    double drainSeconds = 60;
    bool headless = false;
};

/// Each returns the process exit code; messages for people go to stderr, data to stdout.
int runBroker(const BrokerCommand &command);
int runGenerate(GenerateCommand &command);
/// `headless` reuses this: with `headless` set it says so and defaults to running until stopped.
int runProduce(ProduceCommand &command, bool headless);
int runAggregate(const AggregateCommand &command);
/// `announce` says why it runs headless (no display), if it does for that reason.
int runPipeline(RunCommand &command, const std::string &announce = {});
int runGui(int argc, char **argv, ProduceCommand &command);

} // namespace studio::app
