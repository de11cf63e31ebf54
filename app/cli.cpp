#include "app/cli.h"

#include "app/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdlib>
#include <limits>

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

/// `topics` and `groups`: --broker repeatable (its single-cluster meaning kept) and --profile.
void addClusterListOptions(CLI::App &cmd, ClusterList &clusters)
{
    cmd.remove_option(cmd.get_option("--broker"));
    cmd.add_option("--broker", clusters.brokers,
                   "a real cluster's HOST:PORT,... (repeatable: each cluster's section in turn, "
                   "all with the security options given)");
    cmd.add_option("--profile", clusters.profiles,
                   "a saved Kafka profile (File > Connections…; repeatable), its password from the "
                   "keychain or CLICKSTREAM_SASL_PASSWORD");
}

/// One --broker alone is the usual single-cluster command.
void takeClusterList(ClusterList &clusters, ConnectionOptions &connection)
{
    if (!clusters.several() && clusters.brokers.size() == 1) {
        connection.broker = clusters.brokers.front();
        clusters.brokers.clear();
    }
}

} // namespace

int runCommandLine(int argc, char **argv)
{
    CLI::App app{"Clickstream Studio: produce, aggregate, persist and monitor clickstream events "
                 "on Kafka.\nWithout a subcommand it opens the desktop application (or runs "
                 "headless when there is no display).",
                 "clickstream-studio"};
    app.set_version_flag("--version", std::string("clickstream-studio ") + STUDIO_VERSION);
    // Wide enough that an option and its description never meet with a single space (e.g.
    // "--sasl-mechanism TEXT=PLAIN"), which help2man would read as one term for the man page.
    // Subcommands share this formatter.
    app.get_formatter()->column_width(32);
    app.require_subcommand(0, 1);

    ProduceCommand gui;
    addConnectionOptions(app, gui.connection);
    addMetricsOptions(app, gui.metrics);
    addMonitoringOptions(app, gui.monitoring);
    std::string guiProfile;
    app.add_option("--profile", guiProfile,
                   "desktop app: connect to this saved Kafka profile (File > Connections…), its "
                   "password from the keychain or CLICKSTREAM_SASL_PASSWORD");

    BrokerCommand broker;
    auto *brokerCmd = app.add_subcommand(
        "broker", "Run an embedded Kafka broker until interrupted; prints its bootstrap address "
                  "on the first line of stdout.");
    brokerCmd->add_option("--brokers", broker.brokers, "number of brokers")
        ->check(CLI::Range(1, 32))
        ->capture_default_str();
    brokerCmd->add_option("--partitions", broker.partitions, "partitions per topic")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
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
        cmd.add_option("--shard", r.shard,
                       "this instance's name for its partial aggregates in PostgreSQL (stable "
                       "across restarts; one per instance when several share the group)")
            ->capture_default_str();
        cmd.add_option("--workers", r.workers,
                       "aggregation threads, each owning a share of the assigned partitions "
                       "(0: one per hardware thread)")
            ->check(CLI::Range(0, 256))
            ->capture_default_str();
        cmd.add_option("--checkpoint-ms", r.checkpointMs,
                       "with --postgres/--redis: how often results, open state and offsets are "
                       "stored together (ms)")
            ->check(CLI::Range(20, 600'000))
            ->capture_default_str();
        cmd.add_option("--session-timeout", r.sessionTimeoutSeconds,
                       "consumer group session timeout (s): how soon a crashed instance's "
                       "partitions move to another")
            ->check(CLI::Range(6.0, 300.0))
            ->capture_default_str();
        cmd.add_flag("--archive-raw", r.archiveRaw,
                     "with --postgres: also archive every accepted event in raw_events (COPY, "
                     "same transaction as the results; off by default)");
        cmd.add_option("--report-dir", r.reportDir,
                       "write page, geo, session and funnel CSV reports here at the end");
        cmd.add_option("--drain-timeout", r.drainSeconds,
                       "seconds to wait at the end for the aggregator to catch up")
            ->capture_default_str();
        cmd.add_flag("--json-status", r.jsonStatus,
                     "also print each second's status as one JSON object on stdout (counters, "
                     "lag, sinks, resident memory), before the summary line of --json");
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
        ->required()
        ->check(CLI::Range(1LL, 1'000'000'000'000LL));
    generateCmd->add_option("--rps", generate.rps, "virtual events per second")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    generateCmd->add_option("--start", generate.start,
                            "time of the first event, ISO-8601 UTC (default: now)");
    generateCmd->add_option("--out", generate.out, "output file (default: stdout)");
    addGeneratorOptions(*generateCmd, generate.generator);

    AggregateCommand aggregate;
    auto *aggregateCmd = app.add_subcommand(
        "aggregate",
        "Aggregate a JSON Lines file (as `generate` writes it) into page, geo, session "
        "and product-funnel CSV reports, in event time with a watermark.");
    aggregateCmd->add_option("--input", aggregate.input, "JSON Lines file of events")
        ->required()
        ->check(CLI::ExistingFile);
    aggregateCmd->add_option("--out", aggregate.outDir, "directory for the CSV reports")
        ->required();
    addAggregatorOptions(*aggregateCmd, aggregate.aggregator);
    addMetricsOptions(*aggregateCmd, aggregate.metrics);
    aggregateCmd->add_flag("--json", aggregate.json,
                           "print the summary as one JSON object on stdout");

    TopicsCommand topics;
    auto *topicsCmd = app.add_subcommand(
        "topics", "Brokers and topics of a running cluster (with --topic: its partitions, "
                  "leaders, replicas, ISR, watermarks and rates).");
    addConnectionOptions(*topicsCmd, topics.connection);
    addClusterListOptions(*topicsCmd, topics.clusters);
    topicsCmd->add_option("--topic", topics.topic, "show this topic's partitions");
    topicsCmd->add_option("--create", topics.create, "create this topic first");
    topicsCmd->add_option("--partitions", topics.partitions, "partitions of the created topic")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    topicsCmd
        ->add_option("--replication-factor", topics.replicationFactor,
                     "replication factor of the created topic")
        ->check(CLI::Range(1, 32))
        ->capture_default_str();
    topicsCmd->add_flag("--json", topics.json, "one JSON object on stdout");
    const std::string console = "Changing a topic (with --topic; a real cluster)";
    topicsCmd
        ->add_flag("--configs", topics.configs,
                   "list the topic's configs: value, source (default, broker, topic override), "
                   "read-only and sensitive flags")
        ->group(console);
    topicsCmd
        ->add_option("--set-config", topics.setConfigs,
                     "set a config, NAME=VALUE (repeatable); the topic's other overrides are kept")
        ->group(console);
    topicsCmd
        ->add_option("--add-partitions", topics.addPartitions,
                     "grow the topic to this many partitions (the new total)")
        ->check(CLI::Range(1, 100000))
        ->group(console);
    topicsCmd->add_flag("--delete", topics.remove, "delete the topic (needs --confirm NAME)")
        ->group(console);
    topicsCmd->add_option("--confirm", topics.confirm, "the topic's name again, for --delete")
        ->group(console);
    topicsCmd
        ->add_option("--delete-records-before", topics.deleteRecordsBefore,
                     "delete the records before this offset (-1: all of them)")
        ->check(CLI::Range(-1LL, std::numeric_limits<long long>::max()))
        ->group(console);
    topicsCmd
        ->add_option("--partition", topics.recordPartitions,
                     "with --delete-records-before: only this partition (repeatable)")
        ->check(CLI::NonNegativeNumber)
        ->group(console);

    MessagesCommand messages;
    auto *messagesCmd = app.add_subcommand(
        "messages", "Read, search or follow a topic's messages without joining any consumer "
                    "group (default: the last 10 of each partition).");
    addConnectionOptions(*messagesCmd, messages.connection);
    messagesCmd->add_option("--topic", messages.topic, "topic")->capture_default_str();
    messagesCmd->add_option("--partition", messages.partition, "only this partition")
        ->check(CLI::NonNegativeNumber);
    messagesCmd->add_option("--offset", messages.offset, "read from this offset")
        ->check(CLI::NonNegativeNumber);
    messagesCmd->add_option("--last", messages.last, "read the last N of each partition")
        ->check(CLI::NonNegativeNumber);
    messagesCmd->add_option("--since", messages.since,
                            "read from the first message at or after this ISO-8601 UTC time");
    messagesCmd->add_option("--search", messages.search,
                            "find this text in keys, values and headers (newest first)");
    messagesCmd->add_flag("--case-sensitive", messages.caseSensitive, "search case-sensitively");
    messagesCmd
        ->add_option("--max", messages.max,
                     "most messages per partition to read, or matches to show")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
        ->capture_default_str();
    messagesCmd
        ->add_option("--scan", messages.scan, "search: newest messages scanned per partition")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
        ->capture_default_str();
    messagesCmd->add_flag("--follow,-f", messages.follow, "then show new messages until Ctrl-C");
    messagesCmd->add_flag("--json", messages.json, "one JSON object per message");
    messagesCmd->add_flag("--pretty", messages.pretty, "pretty-print JSON values");
    messagesCmd->add_option("--timeout", messages.timeoutSeconds, "seconds a read may take")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    const std::string produceGroup = "Producing (--produce)";
    messagesCmd
        ->add_flag("--produce", messages.produce,
                   "produce one message (the value from --value-file or stdin) and print its "
                   "partition and offset")
        ->group(produceGroup);
    messagesCmd->add_option("--key", messages.key, "the message key")->group(produceGroup);
    messagesCmd->add_option("--header", messages.headers, "a header NAME=VALUE (repeatable)")
        ->group(produceGroup);
    messagesCmd->add_option("--value-file", messages.valueFile, "read the value from this file")
        ->check(CLI::ExistingFile)
        ->group(produceGroup);
    messagesCmd->add_option("--copies", messages.copies, "produce this many copies")
        ->check(CLI::Range(1, 1'000'000))
        ->capture_default_str()
        ->group(produceGroup);
    messagesCmd
        ->add_option("--timestamp", messages.timestamp,
                     "the message timestamp, ISO-8601 UTC (default: now)")
        ->group(produceGroup);
    messagesCmd
        ->add_flag("--raw", messages.raw, "send the value as it is (default: it must be JSON)")
        ->group(produceGroup);

    GroupsCommand groups;
    auto *groupsCmd = app.add_subcommand(
        "groups", "Consumer groups: on a real cluster every group (state, members, lag), or with "
                  "--group one group's state, members and their partitions, committed offsets, "
                  "lag (messages and seconds) and Burrow-style status (OK, WARN, STALL, STOP, "
                  "REWIND), watched for a while. The embedded broker cannot list groups: there "
                  "the --group (default clickstream-studio) on --topic is shown.");
    addConnectionOptions(*groupsCmd, groups.connection);
    addClusterListOptions(*groupsCmd, groups.clusters);
    groupsCmd->add_option("--group", groups.group, "consumer group")->capture_default_str();
    groupsCmd->add_option("--topic", groups.topics, "topic the group reads (repeatable)")
        ->capture_default_str();
    groupsCmd->add_option("--seconds", groups.seconds, "how long to watch before reporting")
        ->check(CLI::Range(1.0, 3600.0))
        ->capture_default_str();
    groupsCmd->add_flag("--json", groups.json, "one JSON object on stdout");
    const std::string change = "Changing a group (a real cluster; the group without members)";
    groupsCmd
        ->add_option("--reset-to", groups.resetTo,
                     "reset the group's offsets to earliest, latest, an ISO-8601 UTC time, "
                     "offset:N or shift:N (a dry run unless --execute)")
        ->group(change);
    groupsCmd
        ->add_option("--partition", groups.resetPartitions,
                     "with --reset-to: only this partition (repeatable)")
        ->check(CLI::NonNegativeNumber)
        ->group(change);
    groupsCmd->add_flag("--execute", groups.execute, "with --reset-to: commit the new offsets")
        ->group(change);
    groupsCmd->add_flag("--delete", groups.remove, "delete the group (it must have no members)")
        ->group(change);

    AclsCommand acls;
    auto *aclsCmd = app.add_subcommand(
        "acls", "The cluster's ACLs: principal, host, operation, permission and resource "
                "pattern (needs Describe on the cluster).");
    addConnectionOptions(*aclsCmd, acls.connection);
    aclsCmd->add_option("--principal", acls.principal, "only this principal, e.g. User:alice");
    aclsCmd->add_option("--resource-type", acls.resourceType,
                        "only this resource type: topic, group or cluster");
    aclsCmd->add_option("--resource-name", acls.resourceName,
                        "only ACLs that match this resource name (literal, prefixed or '*')");
    aclsCmd->add_flag("--json", acls.json, "one JSON object per ACL");

    CheckCommand check;
    auto *checkCmd = app.add_subcommand(
        "check", "Self-check: create a fresh topic, produce N events from a fixed seed, "
                 "aggregate them, and verify that PostgreSQL, Redis and the CSV reports hold "
                 "exactly the expected totals; PASS/FAIL per step, non-zero exit on a failure.");
    addConnectionOptions(*checkCmd, check.connection);
    addMonitoringOptions(*checkCmd, check.monitoring);
    checkCmd->add_option("--count", check.count, "events to produce")
        ->check(CLI::Range(1LL, 10'000'000LL))
        ->capture_default_str();
    checkCmd->add_option("--timeout", check.timeoutSeconds, "seconds the aggregation may take")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    checkCmd->add_option("--report-dir", check.reportDir,
                         "where the CSV reports go (default: a temporary directory)");

    AlertRulesCommand alertRules;
    auto *alertRulesCmd = app.add_subcommand(
        "alert-rules", "Print the built-in alert rules as JSON (a starting point for "
                       "--alert-rules), write them to a file, or check a rules file.");
    alertRulesCmd->add_option("--out", alertRules.out, "write the built-in rules to this file");
    alertRulesCmd->add_option("--check", alertRules.check, "validate this rules file")
        ->check(CLI::ExistingFile);

    ReportCommand report;
    auto *reportCmd = addReportCommand(app, report);

    VerifyCommand verify;
    auto *verifyCmd = addVerifyCommand(app, verify);

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
        return runGui(argc, argv, run, {});
    }
    if (*generateCmd)
        return runGenerate(generate);
    if (*aggregateCmd)
        return runAggregate(aggregate);
    if (*topicsCmd) {
        takeClusterList(topics.clusters, topics.connection);
        return runTopics(topics);
    }
    if (*messagesCmd) {
        messages.keyGiven = messagesCmd->count("--key") > 0;
        return runMessages(messages);
    }
    if (*groupsCmd) {
        takeClusterList(groups.clusters, groups.connection);
        groups.groupGiven = groupsCmd->count("--group") > 0;
        groups.topicsGiven = groupsCmd->count("--topic") > 0;
        return runGroups(groups);
    }
    if (*aclsCmd)
        return runAcls(acls);
    if (*alertRulesCmd)
        return runAlertRules(alertRules);
    if (*checkCmd)
        return runCheck(check);
    if (*reportCmd)
        return runReport(report);
    if (*verifyCmd)
        return runVerify(verify);
    if (!haveDisplay()) {
        RunCommand fallback;
        fallback.produce = gui;
        fallback.produce.producer.settings.ratePerSecond = 1000;
        return runPipeline(fallback, "no display found (DISPLAY, WAYLAND_DISPLAY and "
                                     "QT_QPA_PLATFORM are unset): running headless instead of "
                                     "the GUI. `clickstream-studio run --help` lists its options.");
    }
    if (!guiProfile.empty() && !gui.connection.embedded()) {
        fmt::print(stderr, "error: --profile and --broker both name a cluster: give one\n");
        return 2;
    }
    RunCommand desktop;
    desktop.produce = gui;
    return runGui(argc, argv, desktop, guiProfile);
}

} // namespace studio::app
