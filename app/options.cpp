#include "app/options.h"

#include "core/monitor/connectiontest.h"
#include "core/store/targets.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <termios.h>
#include <unistd.h>

namespace studio::app {

namespace {

constexpr const char *kSecretRefusal =
    "passwords are never taken from the command line, where shell history and `ps` would keep "
    "them: set CLICKSTREAM_SASL_PASSWORD (or CLICKSTREAM_SSL_KEY_PASSWORD), or run in a terminal "
    "to be prompted";

bool parseWeights(const std::string &text, std::size_t count, double *out)
{
    std::stringstream in(text);
    std::string item;
    std::size_t n = 0;
    while (std::getline(in, item, ',')) {
        if (n >= count)
            return false;
        try {
            std::size_t used = 0;
            out[n] = std::stod(item, &used);
            if (used != item.size())
                return false;
        } catch (const std::exception &) {
            return false;
        }
        ++n;
    }
    return n == count;
}

std::string promptSecret(const std::string &what)
{
    if (!::isatty(STDIN_FILENO))
        return {};
    std::fprintf(stderr, "%s: ", what.c_str());
    std::fflush(stderr);
    termios old{};
    const bool haveTermios = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (haveTermios) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string secret;
    std::getline(std::cin, secret);
    if (haveTermios)
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
    return secret;
}

std::string secretFromEnvOrPrompt(const char *env, const std::string &prompt)
{
    if (const char *value = std::getenv(env); value && *value)
        return value;
    return promptSecret(prompt);
}

// "scheme://user:secret@host/..." (a ':' in the part before the host's '@').
bool webhookUrlHasPassword(const std::string &url)
{
    const auto scheme = url.find("://");
    const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    const std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
    const auto at = authority.rfind('@');
    return at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos;
}

} // namespace

void addConnectionOptions(CLI::App &app, ConnectionOptions &o)
{
    app.add_option("--broker", o.broker,
                   "'embedded' for an in-process broker, or a real cluster's HOST:PORT,...")
        ->capture_default_str();
    app.add_option("--embedded-brokers", o.embeddedBrokers, "brokers of the embedded cluster")
        ->check(CLI::Range(1, 32))
        ->capture_default_str();
    app.add_option("--embedded-partitions", o.embeddedPartitions,
                   "partitions of the topic on the embedded cluster")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--security-protocol", o.securityProtocol,
                   "plaintext, ssl, sasl_plaintext or sasl_ssl")
        ->capture_default_str();
    app.add_option("--sasl-mechanism", o.saslMechanism, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
        ->capture_default_str();
    app.add_option("--sasl-username", o.saslUsername,
                   "SASL user; the password comes from CLICKSTREAM_SASL_PASSWORD or a prompt");
    app.add_option("--ssl-ca", o.sslCa, "CA certificate file (PEM) for TLS");
    app.add_option("--ssl-cert", o.sslCertificate, "client certificate file (PEM) for mutual TLS");
    app.add_option("--ssl-key", o.sslKey,
                   "client key file (PEM); its password comes from CLICKSTREAM_SSL_KEY_PASSWORD");
    app.add_flag("--no-verify-hostname", o.noVerifyHostname,
                 "do not check the broker's host name against its certificate");
    // Accepted only to refuse them with a clear message instead of "unknown option".
    for (const char *name : {"--sasl-password", "--password", "--ssl-key-password"})
        app.add_option(name, o.rejectedSecret)->group("");
}

void addGeneratorOptions(CLI::App &app, GeneratorOptions &o)
{
    auto &c = o.config;
    const std::string group = "Generator";
    app.add_option("--seed", c.seed, "random seed: same seed, same events")
        ->capture_default_str()
        ->group(group);
    app.add_option("--users", c.users,
                   "most users at once (0: as many as the rate needs, one event per --think-ms "
                   "each)")
        ->check(CLI::Range(0, 10'000'000))
        ->capture_default_str()
        ->group(group);
    app.add_option("--products", c.products, "number of products")
        ->capture_default_str()
        ->group(group);
    app.add_option("--hot-product", c.hotProduct, "the high-interest product")
        ->capture_default_str()
        ->group(group);
    app.add_option("--hot-share", c.hotShare, "share of all events for the hot product (0..1)")
        ->capture_default_str()
        ->group(group);
    app.add_option("--hot-mix", o.hotMix, "hot product's view,add_to_cart,purchase weights")
        ->capture_default_str()
        ->group(group);
    app.add_option("--mix", o.mix, "page_view,click,add_to_cart,purchase weights of other events")
        ->capture_default_str()
        ->group(group);
    app.add_option("--duplicates", c.duplicateFraction, "fraction of re-sent duplicates (0..1)")
        ->capture_default_str()
        ->group(group);
    app.add_option("--late", c.lateFraction, "fraction of late events (0..1)")
        ->capture_default_str()
        ->group(group);
    app.add_option("--late-by-ms", c.lateByMs, "how far in the past late events lie")
        ->capture_default_str()
        ->group(group);
    app.add_option("--malformed", c.malformedFraction, "fraction of malformed payloads (0..1)")
        ->capture_default_str()
        ->group(group);
    app.add_option("--session-events", c.meanSessionEvents, "mean events per session")
        ->capture_default_str()
        ->group(group);
    app.add_option("--think-ms", c.thinkMs, "mean pause between two events of a user (ms)")
        ->capture_default_str()
        ->group(group);
}

void addProducerOptions(CLI::App &app, ProducerOptions &o)
{
    auto &s = o.settings;
    app.add_option("--topic", s.topic, "topic to produce to")->capture_default_str();
    app.add_option("--rps", s.ratePerSecond, "target rate in events/s (1 to 1000000)")
        ->check(CLI::Range(1.0, core::ProducerSettings::kMaxRate))
        ->capture_default_str();
    app.add_option("--duration", o.durationSeconds, "seconds to produce (0: until Ctrl-C)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--producers", o.producers,
                   "producers running at once, sharing the rate (0 with run/headless: aggregate "
                   "only)")
        ->check(CLI::Range(0, 64))
        ->capture_default_str();
    app.add_option("--compression", s.compression, "none, gzip, snappy, lz4 or zstd")
        ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))
        ->capture_default_str();
    app.add_option("--linger-ms", s.lingerMs, "producer linger (ms)")
        ->check(CLI::Range(0, 60000))
        ->capture_default_str();
    app.add_option("--batch-size", s.batchSizeBytes, "producer batch size (bytes)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--batch-messages", s.batchNumMessages, "most messages per batch")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_flag(
        "--transactional", s.transactional,
        "exactly once: send in Kafka transactions, an aborted one sent again (read_committed "
        "consumers never see a copy)");
    app.add_option("--transaction-ms", s.transactionMs,
                   "with --transactional: commit a transaction this often (ms)")
        ->check(CLI::Range(10, 10000))
        ->capture_default_str();
    app.add_option("--transactional-id", s.transactionalId,
                   "with --transactional: the transactional.id (default: unique per producer and "
                   "process; with several producers, each adds its number)");
    app.add_option("--replay", o.replayFile, "replay this JSON Lines file instead of generating")
        ->check(CLI::ExistingFile);
    app.add_flag("--loop", o.loop, "with --replay: start over at the end of the file");
    app.add_option("--mirror-from", o.mirrorFrom,
                   "mirror a topic of this cluster (HOST:PORT,..., plaintext) instead of "
                   "generating");
    app.add_option("--mirror-topic", o.mirrorTopic, "with --mirror-from: the topic to copy");
    app.add_flag("--json", o.json, "print the final summary as one JSON object on stdout");
}

std::string finishGeneratorOptions(GeneratorOptions &o)
{
    double mix[4];
    if (!parseWeights(o.mix, 4, mix))
        return "--mix needs four comma-separated weights (page_view,click,add_to_cart,purchase), "
               "got '" +
               o.mix + "'";
    double hot[3];
    if (!parseWeights(o.hotMix, 3, hot))
        return "--hot-mix needs three comma-separated weights (view,add_to_cart,purchase), got '" +
               o.hotMix + "'";
    o.config.mix = {mix[0], mix[1], mix[2], mix[3]};
    o.config.hotMix = {hot[0], 0.0, hot[1], hot[2]};
    return o.config.validate();
}

std::optional<std::int64_t> parseDurationMs(const std::string &text)
{
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception &) {
        return std::nullopt;
    }
    const std::string unit = text.substr(used);
    double factor = 0;
    if (unit.empty() || unit == "s")
        factor = 1000;
    else if (unit == "ms")
        factor = 1;
    else if (unit == "m" || unit == "min")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    if (factor == 0 || !(value >= 0) || value * factor > 1e15)
        return std::nullopt;
    return static_cast<std::int64_t>(value * factor + 0.5);
}

void addMetricsOptions(CLI::App &app, MetricsOptions &o)
{
    const std::string group = "Monitoring";
    auto *port = app.add_option("--metrics-port", o.port,
                                "serve Prometheus metrics at http://ADDRESS:PORT/metrics (0: any "
                                "free port; default: no endpoint)")
                     ->check(CLI::Range(0, 65535))
                     ->group(group);
    app.add_option("--metrics-address", o.address,
                   "address the metrics endpoint listens on (an IP address; 0.0.0.0 or :: for "
                   "every interface)")
        ->needs(port)
        ->capture_default_str()
        ->group(group);
}

void addMonitoringOptions(CLI::App &app, MonitoringOptions &o)
{
    const std::string group = "Monitoring";
    app.add_option("--postgres", o.postgres,
                   "PostgreSQL to watch (health probe, alert history), as a libpq conninfo "
                   "(\"host=... dbname=... user=...\") or postgresql:// URI without a password; "
                   "the password comes from PGPASSWORD, ~/.pgpass or CLICKSTREAM_PG_PASSWORD")
        ->group(group);
    app.add_option("--redis", o.redis,
                   "Redis to watch, redis://HOST[:PORT][/DB] (or HOST[:PORT]); the password comes "
                   "from REDISCLI_AUTH or CLICKSTREAM_REDIS_PASSWORD")
        ->group(group);
    app.add_option("--redis-user", o.redisUser, "Redis ACL user (default: the default user)")
        ->group(group);
    app.add_option("--alert-rules", o.alertRules,
                   "alert rules file (JSON); read at start when it exists, else the built-in rules")
        ->group(group);
    app.add_option("--webhook", o.webhook,
                   "POST firing and resolved alerts to this URL (Alertmanager webhook format); "
                   "for basic auth, the user in the URL (https://USER@host/...) and the password "
                   "from CLICKSTREAM_WEBHOOK_PASSWORD")
        ->group(group);
    for (const char *name : {"--postgres-password", "--pg-password", "--redis-password"})
        app.add_option(name, o.rejectedSecret)->group("");
}

std::string buildMonitorSettings(const MonitoringOptions &o, core::MonitorSettings &out)
{
    if (!o.rejectedSecret.empty())
        return "passwords are never taken from the command line, where shell history and `ps` "
               "would keep them: set PGPASSWORD (or use ~/.pgpass) and REDISCLI_AUTH";
    auto env = [](const char *name) {
        const char *v = std::getenv(name);
        return v ? std::string(v) : std::string();
    };
    if (!o.postgres.empty()) {
        if (const std::string why = core::checkPostgresConninfo(o.postgres); !why.empty())
            return why == core::kPostgresConninfoHasPassword
                       ? "--postgres must not contain a password (shell history and `ps` would "
                         "keep it): set PGPASSWORD or use ~/.pgpass instead"
                       : "--postgres: " + why;
        core::PostgresTarget target;
        target.conninfo = o.postgres;
        target.password = env("CLICKSTREAM_PG_PASSWORD");
        out.postgres = std::move(target);
    }
    if (!o.redis.empty()) {
        std::string e;
        auto target = core::parseRedisUri(o.redis, o.redisUser, &e);
        if (!target)
            return e == core::kRedisUriHasPassword
                       ? "--redis must not contain a password (shell history and `ps` would keep "
                         "it): set REDISCLI_AUTH or CLICKSTREAM_REDIS_PASSWORD instead"
                       : "--redis: " + e;
        target->password = env("REDISCLI_AUTH");
        if (target->password.empty())
            target->password = env("CLICKSTREAM_REDIS_PASSWORD");
        out.redis = std::move(*target);
    }
    out.alertRulesPath = o.alertRules;
    if (!o.webhook.empty()) {
        core::WebhookSettings w;
        w.url = o.webhook;
        if (webhookUrlHasPassword(o.webhook))
            return "--webhook must not contain a password (shell history and `ps` would keep "
                   "it): give the user in the URL (https://USER@host/...) and set "
                   "CLICKSTREAM_WEBHOOK_PASSWORD";
        w.password = env("CLICKSTREAM_WEBHOOK_PASSWORD");
        if (std::string e = w.validate(); !e.empty())
            return "--webhook: " + e;
        out.webhook = std::move(w);
    }
    return {};
}

void addAggregatorOptions(CLI::App &app, AggregatorOptions &o)
{
    const std::string group = "Aggregation";
    app.add_option("--page-window", o.pageWindow, "page and product-funnel window (e.g. 60s, 5m)")
        ->capture_default_str()
        ->group(group);
    app.add_option("--geo-window", o.geoWindow, "geo window")->capture_default_str()->group(group);
    app.add_option("--session-gap", o.sessionGap, "inactivity that ends a session")
        ->capture_default_str()
        ->group(group);
    app.add_option("--watermark-delay", o.watermarkDelay,
                   "how far the watermark trails the newest event time")
        ->capture_default_str()
        ->group(group);
    app.add_option("--max-future", o.maxFuture,
                   "an event further ahead than this of its partition's time is held until later "
                   "events confirm the jump (else refused as future_timestamp); in run/headless "
                   "also the most an event may be ahead of the wall clock")
        ->capture_default_str()
        ->group(group);
    app.add_option("--idle-timeout", o.idleTimeout,
                   "a partition without events for this long stops holding the watermark back "
                   "(wall time in run/headless; in aggregate and verify, event time)")
        ->capture_default_str()
        ->group(group);
    app.add_option("--page-query", o.pageQuery,
                   "the query string of `page`: drop (the default), keep, or "
                   "keep:NAME,NAME,... (only those parameters); the fragment is always dropped, "
                   "full URLs are reduced to their path (README \"Page normalisation\")")
        ->capture_default_str()
        ->group(group);
    app.add_option("--max-keys-per-window", o.maxKeysPerWindow,
                   "distinct pages, geo combinations and products a window holds at most; the "
                   "others are counted into its (other) row (0: no cap)")
        ->capture_default_str()
        ->group(group);
}

std::string finishAggregatorOptions(const AggregatorOptions &o, core::AggregatorConfig &config)
{
    const struct
    {
        const char *flag;
        const std::string &text;
        std::int64_t &into;
    } durations[] = {{"--page-window", o.pageWindow, config.pageWindowMs},
                     {"--geo-window", o.geoWindow, config.geoWindowMs},
                     {"--session-gap", o.sessionGap, config.sessionGapMs},
                     {"--watermark-delay", o.watermarkDelay, config.watermarkDelayMs},
                     {"--max-future", o.maxFuture, config.maxFutureMs},
                     {"--idle-timeout", o.idleTimeout, config.idleTimeoutMs}};
    for (const auto &d : durations) {
        const auto ms = parseDurationMs(d.text);
        if (!ms)
            return std::string(d.flag) + " takes a duration like 250ms, 60s, 5m or 1h; got '" +
                   d.text + "'";
        d.into = *ms;
    }
    config.funnelWindowMs = config.pageWindowMs;
    std::string error;
    if (!core::PageNormalization::parse(o.pageQuery, config.pageNormalization, error))
        return error;
    config.maxKeysPerWindow = o.maxKeysPerWindow;
    return config.validate();
}

std::string refuseSecretArguments(const ConnectionOptions &o)
{
    return o.rejectedSecret.empty() ? std::string() : std::string(kSecretRefusal);
}

std::string buildClusterConfig(const ConnectionOptions &o, core::ClusterConfig &out)
{
    if (std::string e = refuseSecretArguments(o); !e.empty())
        return e;
    const auto protocol = core::parseSecurityProtocol(o.securityProtocol);
    if (!protocol)
        return "--security-protocol must be plaintext, ssl, sasl_plaintext or sasl_ssl, got '" +
               o.securityProtocol + "'";
    out = {};
    out.name = o.broker;
    out.bootstrap = o.broker;
    out.security = *protocol;
    out.saslMechanism = o.saslMechanism;
    out.saslUsername = o.saslUsername;
    out.sslCaLocation = o.sslCa;
    out.sslCertificateLocation = o.sslCertificate;
    out.sslKeyLocation = o.sslKey;
    out.sslVerifyHostname = !o.noVerifyHostname;
    if (out.usesSasl() && !out.saslUsername.empty())
        out.saslPassword =
            secretFromEnvOrPrompt(core::kSaslPasswordEnv, "SASL password for " + out.saslUsername);
    if (out.usesTls() && !out.sslKeyLocation.empty())
        out.sslKeyPassword = secretFromEnvOrPrompt(
            core::kSslKeyPasswordEnv, "password of " + out.sslKeyLocation + " (empty if none)");
    return out.validate();
}

} // namespace studio::app
