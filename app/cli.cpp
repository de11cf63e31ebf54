#include "app/cli.h"

#include "app/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdlib>

namespace studio::app {

namespace {

bool haveDisplay()
{
    auto set = [](const char *name) {
        const char *v = std::getenv(name);
        return v && *v;
    };
    return set("DISPLAY") || set("WAYLAND_DISPLAY") || set("QT_QPA_PLATFORM");
}

} // namespace

int runCommandLine(int argc, char **argv)
{
    CLI::App app{"Clickstream Studio: produce, aggregate, persist and monitor clickstream events "
                 "on Kafka.\nWithout a subcommand it opens the desktop application (or runs "
                 "headless when there is no display).",
                 "clickstream-studio"};
    app.set_version_flag("--version", std::string("clickstream-studio ") + STUDIO_VERSION);
    app.require_subcommand(0, 1);

    ProduceCommand gui;
    addConnectionOptions(app, gui.connection);
    addMetricsOptions(app, gui.metrics);
    addMonitoringOptions(app, gui.monitoring);

    BrokerCommand broker;
    auto *brokerCmd = app.add_subcommand(
        "broker", "Run an embedded Kafka broker until interrupted; prints its bootstrap address "
                  "on the first line of stdout.");
    brokerCmd->add_option("--brokers", broker.brokers, "number of brokers")
        ->check(CLI::Range(1, 32))->capture_default_str();
    brokerCmd->add_option("--partitions", broker.partitions, "partitions per topic")
        ->check(CLI::Range(1, 1000))->capture_default_str();
    brokerCmd->add_option("--topic", broker.topics, "topic to create (repeatable)")
        ->capture_default_str();

    ProduceCommand produce;
    auto *produceCmd = app.add_subcommand(
        "produce", "Produce events to Kafka at a target rate, printing a status line each second "
                   "and a summary at the end.");
    addConnectionOptions(*produceCmd, produce.connection);
    addProducerOptions(*produceCmd, produce.producer);
    addGeneratorOptions(*produceCmd, produce.generator);
    addMetricsOptions(*produceCmd, produce.metrics);

    // `run` and its alias `headless`: producer and aggregator together, the same engine as the GUI.
    RunCommand run;
    run.produce.producer.settings.ratePerSecond = 1000;
    auto addRunOptions = [](CLI::App &cmd, RunCommand &r) {
        addConnectionOptions(cmd, r.produce.connection);
        addProducerOptions(cmd, r.produce.producer);
        addGeneratorOptions(cmd, r.produce.generator);
        addAggregatorOptions(cmd, r.aggregator);
        addMetricsOptions(cmd, r.produce.metrics);
        addMonitoringOptions(cmd, r.produce.monitoring);
        cmd.add_option("--group", r.groupId, "consumer group of the aggregator")
            ->capture_default_str();
        cmd.add_option("--report-dir", r.reportDir,
                       "write page, geo, session and funnel CSV reports here at the end");
        cmd.add_option("--drain-timeout", r.drainSeconds,
                       "seconds to wait at the end for the aggregator to catch up")
            ->capture_default_str();
    };
    auto *runCmd = app.add_subcommand(
        "run", "Producer and aggregator together on the embedded broker (or --broker): one status "
               "line per second, CSV reports and a summary at the end.");
    addRunOptions(*runCmd, run);
    runCmd->add_flag("--headless", run.headless, "no GUI (the default when there is no display)");
    RunCommand headless = run;
    auto *headlessCmd = app.add_subcommand("headless", "Same as `run --headless`.");
    addRunOptions(*headlessCmd, headless);

    GenerateCommand generate;
    auto *generateCmd = app.add_subcommand(
        "generate", "Write N events as JSON Lines in virtual time (timestamps spaced as if "
                    "produced at --rps from --start), without Kafka.");
    generateCmd->add_option("--count", generate.count, "number of events")
        ->required()->check(CLI::Range(1LL, 1'000'000'000'000LL));
    generateCmd->add_option("--rps", generate.rps, "virtual events per second")
        ->check(CLI::PositiveNumber)->capture_default_str();
    generateCmd->add_option("--start", generate.start,
                            "time of the first event, ISO-8601 UTC (default: now)");
    generateCmd->add_option("--out", generate.out, "output file (default: stdout)");
    addGeneratorOptions(*generateCmd, generate.generator);

    AggregateCommand aggregate;
    auto *aggregateCmd = app.add_subcommand(
        "aggregate", "Aggregate a JSON Lines file (as `generate` writes it) into page, geo, session "
                     "and product-funnel CSV reports, in event time with a watermark.");
    aggregateCmd->add_option("--input", aggregate.input, "JSON Lines file of events")
        ->required()->check(CLI::ExistingFile);
    aggregateCmd->add_option("--out", aggregate.outDir, "directory for the CSV reports")->required();
    addAggregatorOptions(*aggregateCmd, aggregate.aggregator);
    addMetricsOptions(*aggregateCmd, aggregate.metrics);
    aggregateCmd->add_flag("--json", aggregate.json, "print the summary as one JSON object on stdout");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    }

    if (*brokerCmd)
        return runBroker(broker);
    if (*produceCmd)
        return runProduce(produce, false);
    if (*headlessCmd)
        return runPipeline(headless);
    if (*runCmd) {
        if (run.headless || !haveDisplay())
            return runPipeline(run);
        return runGui(argc, argv, run.produce);
    }
    if (*generateCmd)
        return runGenerate(generate);
    if (*aggregateCmd)
        return runAggregate(aggregate);
    if (!haveDisplay()) {
        RunCommand fallback;
        fallback.produce = gui;
        fallback.produce.producer.settings.ratePerSecond = 1000;
        return runPipeline(fallback, "no display found (DISPLAY, WAYLAND_DISPLAY and "
                                     "QT_QPA_PLATFORM are unset): running headless instead of "
                                     "the GUI. `clickstream-studio run --help` lists its options.");
    }
    return runGui(argc, argv, gui);
}

} // namespace studio::app
