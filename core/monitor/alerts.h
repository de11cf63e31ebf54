#pragma once

#include "core/monitor/health.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace studio::core {

/// Signal names the engine publishes for the alert rules every tick (labels in braces):
/// - service_up{service}: 1 when the service is up or degraded, 0 when down (no signal while
///   unknown or not configured); appendHealthSignals() makes them from a HealthSnapshot.
/// - lag_status_ok{group}: 1 when the group's Burrow status is OK (or not yet known), else 0.
/// - lag_seconds{group}: the group's lag in seconds.
/// - dead_letter_rate: events/s sent to the dead-letter topic (invalid + late).
/// - hot_low_conversion{product}: 1 while the funnel flags the product (many views, few sales).
/// - keys_folded_rate: distinct keys/s counted into a window's (other) row beyond the
///   per-window key cap (AggregateCounters::keysFolded's increase).
inline constexpr const char *kSignalServiceUp = "service_up";
inline constexpr const char *kSignalLagStatusOk = "lag_status_ok";
inline constexpr const char *kSignalLagSeconds = "lag_seconds";
inline constexpr const char *kSignalDeadLetterRate = "dead_letter_rate";
inline constexpr const char *kSignalHotLowConversion = "hot_low_conversion";
inline constexpr const char *kSignalKeysFoldedRate = "keys_folded_rate";
/// - deleted_unread_rate: records/s the broker deleted (retention) before the aggregator read
///   them (PipelineStats::deletedUnread's increase).
inline constexpr const char *kSignalDeletedUnreadRate = "deleted_unread_rate";

/// key=value pairs, kept sorted by key (keys unique).
using Labels = std::vector<std::pair<std::string, std::string>>;

/// One measured value at evaluation time.
struct Signal
{
    std::string name;
    Labels labels; ///< any order; the engine sorts them
    double value = 0;
};

/// Appends service_up{service=<name>} for every service of the snapshot that is up, degraded or
/// down.
void appendHealthSignals(const HealthSnapshot &health, std::vector<Signal> &out);

enum class Comparison { Greater, GreaterEqual, Less, LessEqual, Equal, NotEqual };
std::string_view toString(Comparison comparison); ///< ">", ">=", "<", "<=", "==", "!="
std::optional<Comparison> parseComparison(std::string_view text);

enum class Severity { Info, Warning, Critical };
std::string_view toString(Severity severity); ///< "info", "warning", "critical"
std::optional<Severity> parseSeverity(std::string_view text);

/// "Signal <comparison> threshold, held for `forSeconds`". One alert per label set of the signal
/// that matches (every matcher equal). The summary may name labels as {label} and {$value},
/// {$threshold}, {$rule}.
struct AlertRule
{
    std::string name; ///< unique; the alert's alertname
    std::string signal;
    Labels matchers; ///< equality on labels; empty = every label set
    Comparison comparison = Comparison::Greater;
    double threshold = 0;
    double forSeconds = 0; ///< 0 fires on the first evaluation that holds
    Severity severity = Severity::Warning;
    std::string summary;
    bool enabled = true;

    /// Empty when usable, else a message naming the rule and the bad field.
    std::string validate() const;
};

/// service down 120 s (critical), lag status not OK 60 s, lag above 30 s for 60 s, dead letters
/// above 100/s for 60 s, key cardinality capped (keys folded into (other), at once) (warnings),
/// hot product with low conversion 60 s (info).
std::vector<AlertRule> defaultAlertRules();

/// Rules as JSON ({"version":1,"rules":[...]}) and back. Parsing validates every rule and refuses
/// unknown fields, duplicate names, unknown comparisons or severities and negative `for`, with a
/// message naming the rule and field. save writes a temp file, then renames it over `path`.
std::string alertRulesToJson(const std::vector<AlertRule> &rules);
std::optional<std::vector<AlertRule>> parseAlertRules(const std::string &json, std::string *error);
bool saveAlertRules(const std::string &path, const std::vector<AlertRule> &rules,
                    std::string *error);
std::optional<std::vector<AlertRule>> loadAlertRules(const std::string &path, std::string *error);

enum class AlertState { Inactive, Pending, Firing, Resolved };
std::string_view toString(AlertState state); ///< "inactive", "pending", "firing", "resolved"

/// One alert instance: a rule and the labels of the signal that made it.
struct Alert
{
    std::string rule;
    Labels labels; ///< the signal's labels (sorted)
    Severity severity = Severity::Warning;
    AlertState state = AlertState::Inactive;
    double value = 0;    ///< the signal's last value
    std::string summary; ///< rendered
    std::int64_t activeSinceMs = 0;
    std::int64_t firingSinceMs = 0; ///< 0 unless it fired
    std::int64_t resolvedAtMs = 0;  ///< 0 unless resolved
};

/// A state change. Only firing and resolved ones are notifications (notifies()); a pending alert
/// whose condition clears goes back to inactive silently.
struct AlertTransition
{
    Alert alert; ///< after the change
    AlertState from = AlertState::Inactive;
    std::int64_t atMs = 0;
    bool notifies() const
    {
        return alert.state == AlertState::Firing || alert.state == AlertState::Resolved;
    }
};

/// 16 hex digits identifying (rule, labels), stable across runs (Alertmanager's fingerprint).
std::string alertFingerprint(const std::string &rule, const Labels &labels);

/// Evaluates rules over signals: inactive -> pending (condition holds) -> firing (held `for`)
/// -> resolved (condition false after firing, or the signal gone, or the rule removed or
/// disabled). Pure logic, no threads; all methods are thread-safe (one internal lock), so the
/// GUI can edit rules while another thread evaluates.
class AlertEngine
{
public:
    static constexpr std::size_t kHistoryCapacity = 1000;

    explicit AlertEngine(std::vector<AlertRule> rules = defaultAlertRules());

    std::vector<AlertRule> rules() const;
    /// Replaces all rules; false (and no change) when one is invalid or names repeat.
    bool setRules(std::vector<AlertRule> rules, std::string *error);
    bool addRule(AlertRule rule, std::string *error);
    /// Replaces the rule of the same name.
    bool updateRule(AlertRule rule, std::string *error);
    bool removeRule(const std::string &name);
    bool setEnabled(const std::string &name, bool enabled);

    /// One evaluation at `nowMs` (wall clock ms); returns the transitions it made.
    std::vector<AlertTransition> evaluate(std::int64_t nowMs, const std::vector<Signal> &signals);
    /// Pending and firing alerts.
    std::vector<Alert> active() const;
    /// The last kHistoryCapacity transitions, oldest first.
    std::vector<AlertTransition> history() const;

private:
    mutable std::mutex m_mutex;
    std::vector<AlertRule> m_rules;
    std::map<std::string, Alert> m_instances; // key: rule + labels
    std::deque<AlertTransition> m_history;
};

struct AlertHistoryStats
{
    std::uint64_t written = 0; ///< transitions stored
    std::uint64_t dropped = 0; ///< refused because the queue was full
    std::uint64_t failed = 0;  ///< given up after the server rejected them three times
    std::uint64_t errors = 0;  ///< failed write attempts (each is retried)
    std::size_t pending = 0;   ///< queued, not yet stored
    bool connected = false;
    std::string lastError; ///< no secrets
};

/// Writes transitions to PostgreSQL's alert_history on a worker thread of its own. The table is
/// defined only by the schema migrations (resources/sql), which it applies on each connect the
/// way the PostgreSQL sink does (core/store/pgschema.h migrateSchema(); a database migrated by a
/// newer build is refused, and that is its lastError). add() only queues (bounded, never blocks),
/// so a dead server never holds up the alert evaluation; writes are retried with backoff and
/// reconnects. Thread-safe.
class AlertHistoryStore
{
public:
    explicit AlertHistoryStore(PostgresTarget target, std::size_t capacity = 10'000);
    ~AlertHistoryStore();
    AlertHistoryStore(const AlertHistoryStore &) = delete;
    AlertHistoryStore &operator=(const AlertHistoryStore &) = delete;

    void start();
    /// Writes what it can within `flushTimeout`, then stops (what is left is lost, counted as
    /// pending in stats()). A connect attempt under way is not cut (libpq's connect_timeout,
    /// at most 5 s, bounds it); a write blocked on a silent server is.
    void stop(std::chrono::milliseconds flushTimeout = std::chrono::seconds(2));
    void add(const std::vector<AlertTransition> &transitions);
    AlertHistoryStats stats() const;
    /// Waits until nothing is pending (true) or `timeout` passes.
    bool waitIdle(std::chrono::milliseconds timeout) const;

private:
    void run();

    const PostgresTarget m_target;
    const std::size_t m_capacity;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_wake;
    std::deque<AlertTransition> m_queue;
    AlertHistoryStats m_stats;
    bool m_stopping = false;
    bool m_finished = false;
    std::chrono::steady_clock::time_point m_flushDeadline;
    int m_socket = -1; // the connection's socket, shut down when stop() runs out of time
    std::thread m_thread;
};

} // namespace studio::core
