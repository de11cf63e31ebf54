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
    std::string shard = "main";        ///< this instance's key for its partial aggregates
    int workers = 1;                   ///< aggregation threads; 0: one per hardware thread
    int checkpointMs = 2000;           ///< durable mode: checkpoint period
    double sessionTimeoutSeconds = 10; ///< consumer group session timeout
    bool archiveRaw = false; ///< with --postgres: every accepted event also goes to raw_events
    std::string reportDir;
    double drainSeconds = 60;
    bool headless = false;
    bool jsonStatus = false; ///< one JSON status object per second on stdout (before the summary)
};

/// `topics`: brokers, topics and (with a topic) its partitions; optionally creates one first.
/// Several clusters for `topics` and `groups` (issue 23): every --broker (each with the same
/// security options) and every saved --profile, in turn; one of them alone is the usual output.
struct ClusterList
{
    std::vector<std::string> brokers;
    std::vector<std::string> profiles; ///< saved in the desktop app (File > Connections…)
    bool several() const { return brokers.size() + profiles.size() > 1 || !profiles.empty(); }
};

struct TopicsCommand
{
    ConnectionOptions connection;
    ClusterList clusters;
    std::string topic;
    std::string create;
    int partitions = 12;
    int replicationFactor = 1;
    bool json = false;
    // The console's changes (issue 23); each needs --topic.
    bool configs = false;                ///< list the topic's configs with their source
    std::vector<std::string> setConfigs; ///< NAME=VALUE, each
    int addPartitions = -1;              ///< the new total
    bool remove = false;                 ///< --delete
    std::string confirm;                 ///< --confirm: the topic's name typed again
    long long deleteRecordsBefore = -2;  ///< -1: everything; -2: not asked
    std::vector<int> recordPartitions;   ///< --partition for --delete-records-before
};
/// `messages`: read, search or follow a topic without joining any consumer group.
struct MessagesCommand
{
    ConnectionOptions connection;
    std::string topic = "clickstream";
    int partition = -1;
    long long offset = -1;
    long long last = -1;
    std::string since;
    std::string search;
    bool caseSensitive = false;
    std::size_t max = 100;     ///< messages per partition (reads) or matches (search)
    std::size_t scan = 10'000; ///< search: newest messages scanned per partition
    bool follow = false;
    bool json = false;
    bool pretty = false;
    double timeoutSeconds = 10;
    // --produce (issue 23)
    bool produce = false;
    std::string key;
    bool keyGiven = false;            ///< --key given (an empty key is a key)
    std::vector<std::string> headers; ///< NAME=VALUE
    std::string valueFile;            ///< empty: stdin
    int copies = 1;
    std::string timestamp; ///< ISO-8601; empty: now
    bool raw = false;      ///< do not require JSON
};
/// `groups`: a consumer group's lag per partition and its Burrow-style status.
struct GroupsCommand
{
    ConnectionOptions connection;
    ClusterList clusters;
    std::string group = "clickstream-studio";
    std::vector<std::string> topics{"clickstream"};
    double seconds = 6;
    bool json = false;
    bool groupGiven = false;  ///< --group named: describe that one group
    bool topicsGiven = false; ///< --topic named: else a real cluster's offsets tell the topics
    // Offset reset and deletion (issue 23)
    std::string resetTo;              ///< earliest, latest, ISO time, offset:N, shift:N
    std::vector<int> resetPartitions; ///< --partition
    bool execute = false;             ///< commit the reset (else a dry run)
    bool remove = false;              ///< --delete the group
};
/// `acls`: the cluster's ACLs, filtered.
struct AclsCommand
{
    ConnectionOptions connection;
    std::string principal;
    std::string resourceType;
    std::string resourceName;
    bool json = false;
};
/// `check`: fresh topic, N events from a fixed seed, aggregated through the sinks, totals
/// verified in PostgreSQL, Redis and the CSV reports.
struct CheckCommand
{
    ConnectionOptions connection;
    MonitoringOptions monitoring; ///< --postgres, --redis
    long long count = 10'000;
    double timeoutSeconds = 120;
    std::string reportDir;
};
/// `alert-rules`: print or write the built-in rules, or check a rules file.
struct AlertRulesCommand
{
    std::string out;
    std::string check;
};
/// `report`: one aggregate table over a time range as CSV, from PostgreSQL.
struct ReportCommand
{
    std::string table;
    std::string from; ///< ISO-8601 UTC; empty = no lower bound
    std::string to;   ///< exclusive; empty = no upper bound
    std::string out;  ///< file, or "-" for stdout
    std::string postgres;
    double timeoutSeconds = 10;
    std::string rejectedSecret; ///< set when a password was passed on the command line
};
/// Registers the `report` subcommand on `app` (app/reportcommand.cpp).
CLI::App *addReportCommand(CLI::App &app, ReportCommand &command);

/// `verify`: every event of a topic counted exactly once in PostgreSQL (app/verifycommand.cpp).
struct VerifyCommand
{
    ConnectionOptions connection;
    std::string topic = "clickstream";
    std::string messagesFile; ///< a tap (kcat -J, messages --json) instead of the topic
    AggregatorOptions aggregator;
    std::string postgres;
    long long expectEvents = -1; ///< the producer's acked count; -1 = not checked
    std::size_t examples = 5;
    std::string dump; ///< JSON Lines of the topic's events, when set
    double timeoutSeconds = 60;
    std::string rejectedSecret;
};

CLI::App *addVerifyCommand(CLI::App &app, VerifyCommand &command);

/// Each returns the process exit code; messages for people go to stderr, data to stdout.
int runBroker(const BrokerCommand &command);
int runGenerate(GenerateCommand &command);
/// `headless` reuses this: with `headless` set it says so and defaults to running until stopped.
int runProduce(ProduceCommand &command, bool headless);
int runAggregate(const AggregateCommand &command);
/// `announce` says why it runs headless (no display), if it does for that reason.
int runPipeline(RunCommand &command, const std::string &announce = {});
int runTopics(const TopicsCommand &command);
int runMessages(const MessagesCommand &command);
int runGroups(const GroupsCommand &command);
int runAcls(const AclsCommand &command);
/// The console's changes, which runTopics/runMessages/runGroups hand over to (consolecommands).
int runTopicChanges(const TopicsCommand &command);
int runProduce(const MessagesCommand &command);
int runGroupChange(const GroupsCommand &command);
int runAlertRules(const AlertRulesCommand &command);
int runCheck(CheckCommand &command);
int runReport(const ReportCommand &command);
int runVerify(const VerifyCommand &command);
/// The desktop app over the same engine settings as `run` (app/enginesetup.h); `profile` names a
/// saved Kafka profile to connect to instead of --broker.
int runGui(int argc, char **argv, RunCommand &command, const std::string &profile);

} // namespace studio::app
