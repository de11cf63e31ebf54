#include "core/monitor/alerts.h"

#include "core/common/backoff.h"
#include "core/common/text.h"
#include "core/common/timeutil.h"
#include "core/store/pgschema.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

Labels sorted(Labels labels)
{
    std::sort(labels.begin(), labels.end());
    return labels;
}

std::string instanceKey(const std::string &rule, const Labels &labels)
{
    std::string key = rule;
    for (const auto &[k, v] : labels) {
        key += '\x1f';
        key += k;
        key += '=';
        key += v;
    }
    return key;
}

bool holds(const AlertRule &rule, double value)
{
    if (std::isnan(value))
        return false;
    switch (rule.comparison) {
    case Comparison::Greater:
        return value > rule.threshold;
    case Comparison::GreaterEqual:
        return value >= rule.threshold;
    case Comparison::Less:
        return value < rule.threshold;
    case Comparison::LessEqual:
        return value <= rule.threshold;
    case Comparison::Equal:
        return value == rule.threshold;
    case Comparison::NotEqual:
        return value != rule.threshold;
    }
    return false;
}

bool matches(const AlertRule &rule, const Signal &signal, const Labels &labels)
{
    if (signal.name != rule.signal)
        return false;
    for (const auto &[key, value] : rule.matchers) {
        auto it = std::find_if(labels.begin(), labels.end(),
                               [&](const auto &l) { return l.first == key; });
        if (it == labels.end() || it->second != value)
            return false;
    }
    return true;
}

std::string number(double v)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", v);
    return buffer;
}

// {label}, {$value}, {$threshold}, {$rule}; anything else in braces stays as written.
std::string render(const AlertRule &rule, const Labels &labels, double value)
{
    const std::string &text = rule.summary;
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::size_t close = text[i] == '{' ? text.find('}', i) : std::string::npos;
        if (close == std::string::npos) {
            out += text[i];
            continue;
        }
        const std::string name = text.substr(i + 1, close - i - 1);
        std::optional<std::string> replacement;
        if (name == "$value")
            replacement = number(value);
        else if (name == "$threshold")
            replacement = number(rule.threshold);
        else if (name == "$rule")
            replacement = rule.name;
        else
            for (const auto &[k, v] : labels)
                if (k == name)
                    replacement = v;
        if (!replacement) {
            out += text[i];
            continue;
        }
        out += *replacement;
        i = close;
    }
    return out;
}

bool isSignalName(const std::string &name)
{
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
    });
}

std::string ruleLabel(std::size_t index, const std::string &name)
{
    std::string out = "rule " + std::to_string(index + 1);
    if (!name.empty())
        out += " (\"" + name + "\")";
    return out;
}

std::string checkNames(const std::vector<AlertRule> &rules)
{
    std::set<std::string> names;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (std::string e = rules[i].validate(); !e.empty())
            return ruleLabel(i, rules[i].name) + ": " + e;
        if (!names.insert(rules[i].name).second)
            return ruleLabel(i, rules[i].name) + ": another rule has the same name";
    }
    return {};
}

} // namespace

void appendHealthSignals(const HealthSnapshot &health, std::vector<Signal> &out)
{
    for (const auto &service : health.services) {
        const ServiceState state = service->current.state;
        if (state != ServiceState::Up && state != ServiceState::Degraded &&
            state != ServiceState::Down)
            continue;
        out.push_back({kSignalServiceUp,
                       {{"service", service->name}},
                       state == ServiceState::Down ? 0.0 : 1.0});
    }
}

std::string_view toString(Comparison comparison)
{
    switch (comparison) {
    case Comparison::Greater:
        return ">";
    case Comparison::GreaterEqual:
        return ">=";
    case Comparison::Less:
        return "<";
    case Comparison::LessEqual:
        return "<=";
    case Comparison::Equal:
        return "==";
    case Comparison::NotEqual:
        return "!=";
    }
    return ">";
}

std::optional<Comparison> parseComparison(std::string_view text)
{
    for (Comparison c : {Comparison::Greater, Comparison::GreaterEqual, Comparison::Less,
                         Comparison::LessEqual, Comparison::Equal, Comparison::NotEqual})
        if (text == toString(c))
            return c;
    return std::nullopt;
}

std::string_view toString(Severity severity)
{
    switch (severity) {
    case Severity::Info:
        return "info";
    case Severity::Warning:
        return "warning";
    case Severity::Critical:
        return "critical";
    }
    return "warning";
}

std::optional<Severity> parseSeverity(std::string_view text)
{
    for (Severity s : {Severity::Info, Severity::Warning, Severity::Critical})
        if (text == toString(s))
            return s;
    return std::nullopt;
}

std::string_view toString(AlertState state)
{
    switch (state) {
    case AlertState::Inactive:
        return "inactive";
    case AlertState::Pending:
        return "pending";
    case AlertState::Firing:
        return "firing";
    case AlertState::Resolved:
        return "resolved";
    }
    return "inactive";
}

std::string AlertRule::validate() const
{
    if (name.empty())
        return "field \"name\" is empty";
    if (std::any_of(name.begin(), name.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        return "field \"name\" holds control characters";
    if (!isSignalName(signal))
        return "field \"signal\": \"" + signal +
               "\" is not a signal name (letters, digits, '_' and ':')";
    for (const auto &[key, value] : matchers)
        if (key.empty())
            return "field \"labels\": a matcher has an empty label name";
    if (!std::isfinite(threshold))
        return "field \"threshold\" must be a finite number";
    if (!std::isfinite(forSeconds) || forSeconds < 0)
        return "field \"for\" must be a number of seconds >= 0";
    return {};
}

std::vector<AlertRule> defaultAlertRules()
{
    auto rule = [](const char *name, const char *signal, Comparison c, double threshold,
                   double forSeconds, Severity severity, const char *summary) {
        AlertRule r;
        r.name = name;
        r.signal = signal;
        r.comparison = c;
        r.threshold = threshold;
        r.forSeconds = forSeconds;
        r.severity = severity;
        r.summary = summary;
        return r;
    };
    return {
        rule("ServiceDown", kSignalServiceUp, Comparison::Equal, 0, 120, Severity::Critical,
             "{service} is down"),
        rule("ConsumerLagStatusNotOk", kSignalLagStatusOk, Comparison::Equal, 0, 60,
             Severity::Warning, "consumer group {group}: lag status is not OK"),
        rule("ConsumerLagHigh", kSignalLagSeconds, Comparison::Greater, 30, 60, Severity::Warning,
             "consumer group {group} is {$value} s behind (limit {$threshold} s)"),
        rule("DeadLetterRateHigh", kSignalDeadLetterRate, Comparison::Greater, 100, 60,
             Severity::Warning, "{$value} events/s go to the dead-letter topic"),
        rule("HotProductLowConversion", kSignalHotLowConversion, Comparison::Equal, 1, 60,
             Severity::Info, "product {product} draws many views but few purchases"),
        rule("KeyCardinalityCapped", kSignalKeysFoldedRate, Comparison::Greater, 0, 0,
             Severity::Warning,
             "key cardinality capped: {$value} keys/s counted into (other) beyond the "
             "per-window key cap (--max-keys-per-window)"),
        rule("RecordsDeletedUnread", kSignalDeletedUnreadRate, Comparison::Greater, 0, 0,
             Severity::Critical,
             "{$value} records/s deleted by the broker's retention before the aggregator read "
             "them: it is behind by more than the topic keeps"),
    };
}

// ---- JSON -------------------------------------------------------------------------------------

std::string alertRulesToJson(const std::vector<AlertRule> &rules)
{
    json list = json::array();
    for (const auto &r : rules) {
        json labels = json::object();
        for (const auto &[k, v] : r.matchers)
            labels[k] = v;
        list.push_back({{"name", r.name},
                        {"signal", r.signal},
                        {"labels", labels},
                        {"comparison", std::string(toString(r.comparison))},
                        {"threshold", r.threshold},
                        {"for", r.forSeconds},
                        {"severity", std::string(toString(r.severity))},
                        {"summary", r.summary},
                        {"enabled", r.enabled}});
    }
    return json{{"version", 1}, {"rules", list}}.dump(2) + "\n";
}

std::optional<std::vector<AlertRule>> parseAlertRules(const std::string &text, std::string *error)
{
    auto fail = [&](std::string message) -> std::optional<std::vector<AlertRule>> {
        if (error)
            *error = std::move(message);
        return std::nullopt;
    };
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error &e) {
        return fail(std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array())
        return fail("expected an object with a \"rules\" array");
    if (doc.contains("version") && doc["version"] != 1)
        return fail("unsupported version " + doc["version"].dump() + " (expected 1)");

    static const std::set<std::string> known = {"name",       "signal",    "labels",
                                                "comparison", "threshold", "for",
                                                "severity",   "summary",   "enabled"};
    std::vector<AlertRule> rules;
    const json &list = doc["rules"];
    for (std::size_t i = 0; i < list.size(); ++i) {
        const json &item = list[i];
        if (!item.is_object())
            return fail(ruleLabel(i, {}) + ": expected an object");
        AlertRule r;
        if (item.contains("name") && item["name"].is_string())
            r.name = item["name"].get<std::string>();
        const std::string where = ruleLabel(i, r.name);
        for (const auto &[key, value] : item.items())
            if (!known.count(key))
                return fail(where + ": unknown field \"" + key + "\"");
        auto field = [&](const char *key) -> const json * {
            return item.contains(key) ? &item[key] : nullptr;
        };
        for (const char *key : {"name", "signal", "comparison", "threshold"})
            if (!field(key))
                return fail(where + ": missing field \"" + key + "\"");
        for (const char *key : {"name", "signal", "comparison", "severity", "summary"})
            if (field(key) && !field(key)->is_string())
                return fail(where + ": field \"" + key + "\" must be a string");
        r.signal = item["signal"].get<std::string>();
        const std::string comparison = item["comparison"].get<std::string>();
        auto c = parseComparison(comparison);
        if (!c)
            return fail(where + ": field \"comparison\": unknown comparison \"" + comparison +
                        "\" (use >, >=, <, <=, == or !=)");
        r.comparison = *c;
        if (!item["threshold"].is_number())
            return fail(where + ": field \"threshold\" must be a number");
        r.threshold = item["threshold"].get<double>();
        if (const json *f = field("for")) {
            if (!f->is_number())
                return fail(where + ": field \"for\" must be a number of seconds");
            r.forSeconds = f->get<double>();
        }
        if (const json *s = field("severity")) {
            auto severity = parseSeverity(s->get<std::string>());
            if (!severity)
                return fail(where + ": field \"severity\": unknown severity \"" +
                            s->get<std::string>() + "\" (use info, warning or critical)");
            r.severity = *severity;
        }
        if (const json *s = field("summary"))
            r.summary = s->get<std::string>();
        if (const json *e = field("enabled")) {
            if (!e->is_boolean())
                return fail(where + ": field \"enabled\" must be true or false");
            r.enabled = e->get<bool>();
        }
        if (const json *labels = field("labels")) {
            if (!labels->is_object())
                return fail(where + ": field \"labels\" must be an object of strings");
            for (const auto &[k, v] : labels->items()) {
                if (!v.is_string())
                    return fail(where + ": label \"" + k + "\" must be a string");
                r.matchers.emplace_back(k, v.get<std::string>());
            }
            r.matchers = sorted(std::move(r.matchers));
        }
        if (std::string e = r.validate(); !e.empty())
            return fail(where + ": " + e);
        rules.push_back(std::move(r));
    }
    if (std::string e = checkNames(rules); !e.empty())
        return fail(e);
    return rules;
}

bool saveAlertRules(const std::string &path, const std::vector<AlertRule> &rules,
                    std::string *error)
{
    if (std::string e = checkNames(rules); !e.empty()) {
        if (error)
            *error = e;
        return false;
    }
    const std::string temp = path + ".tmp";
    {
        std::ofstream out(temp, std::ios::trunc);
        out << alertRulesToJson(rules);
        out.close();
        if (!out) {
            if (error)
                *error = "cannot write " + temp + ": " + std::strerror(errno);
            std::remove(temp.c_str());
            return false;
        }
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
        if (error)
            *error = "cannot replace " + path + ": " + std::strerror(errno);
        std::remove(temp.c_str());
        return false;
    }
    return true;
}

std::optional<std::vector<AlertRule>> loadAlertRules(const std::string &path, std::string *error)
{
    std::ifstream in(path);
    if (!in) {
        if (error)
            *error = "cannot read " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string message;
    auto rules = parseAlertRules(text.str(), &message);
    if (!rules && error)
        *error = path + ": " + message;
    return rules;
}

std::string alertFingerprint(const std::string &rule, const Labels &labels)
{
    std::uint64_t h = 1469598103934665603ULL; // FNV-1a 64
    for (unsigned char c : instanceKey(rule, sorted(labels))) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(h));
    return buffer;
}

// ---- the engine -------------------------------------------------------------------------------

AlertEngine::AlertEngine(std::vector<AlertRule> rules)
{
    std::string error;
    if (!setRules(std::move(rules), &error))
        m_rules = defaultAlertRules();
}

std::vector<AlertRule> AlertEngine::rules() const
{
    std::lock_guard lock(m_mutex);
    return m_rules;
}

bool AlertEngine::setRules(std::vector<AlertRule> rules, std::string *error)
{
    for (auto &r : rules)
        r.matchers = sorted(std::move(r.matchers));
    if (std::string e = checkNames(rules); !e.empty()) {
        if (error)
            *error = e;
        return false;
    }
    std::lock_guard lock(m_mutex);
    m_rules = std::move(rules);
    return true;
}

bool AlertEngine::addRule(AlertRule rule, std::string *error)
{
    std::lock_guard lock(m_mutex);
    rule.matchers = sorted(std::move(rule.matchers));
    std::vector<AlertRule> next = m_rules;
    next.push_back(std::move(rule));
    if (std::string e = checkNames(next); !e.empty()) {
        if (error)
            *error = e;
        return false;
    }
    m_rules = std::move(next);
    return true;
}

bool AlertEngine::updateRule(AlertRule rule, std::string *error)
{
    std::lock_guard lock(m_mutex);
    auto it = std::find_if(m_rules.begin(), m_rules.end(),
                           [&](const AlertRule &r) { return r.name == rule.name; });
    if (it == m_rules.end()) {
        if (error)
            *error = "no rule named \"" + rule.name + "\"";
        return false;
    }
    rule.matchers = sorted(std::move(rule.matchers));
    if (std::string e = rule.validate(); !e.empty()) {
        if (error)
            *error = "rule \"" + rule.name + "\": " + e;
        return false;
    }
    *it = std::move(rule);
    return true;
}

bool AlertEngine::removeRule(const std::string &name)
{
    std::lock_guard lock(m_mutex);
    const auto before = m_rules.size();
    m_rules.erase(std::remove_if(m_rules.begin(), m_rules.end(),
                                 [&](const AlertRule &r) { return r.name == name; }),
                  m_rules.end());
    return m_rules.size() != before;
}

bool AlertEngine::setEnabled(const std::string &name, bool enabled)
{
    std::lock_guard lock(m_mutex);
    for (auto &r : m_rules) {
        if (r.name == name) {
            r.enabled = enabled;
            return true;
        }
    }
    return false;
}

std::vector<AlertTransition> AlertEngine::evaluate(std::int64_t nowMs,
                                                   const std::vector<Signal> &signals)
{
    std::lock_guard lock(m_mutex);
    std::vector<AlertTransition> out;
    auto change = [&](Alert &alert, AlertState to) {
        AlertTransition t;
        t.from = alert.state;
        alert.state = to;
        t.alert = alert;
        t.atMs = nowMs;
        out.push_back(std::move(t));
    };

    std::vector<Labels> signalLabels;
    signalLabels.reserve(signals.size());
    for (const auto &s : signals)
        signalLabels.push_back(sorted(s.labels));

    std::set<std::string> seen;
    for (const AlertRule &rule : m_rules) {
        if (!rule.enabled)
            continue;
        for (std::size_t i = 0; i < signals.size(); ++i) {
            const Signal &signal = signals[i];
            const Labels &labels = signalLabels[i];
            if (!matches(rule, signal, labels))
                continue;
            const std::string key = instanceKey(rule.name, labels);
            if (!seen.insert(key).second)
                continue; // the same series twice in one tick: the first counts
            auto it = m_instances.find(key);
            if (it != m_instances.end()) {
                it->second.value = signal.value;
                it->second.severity = rule.severity;
                it->second.summary = render(rule, labels, signal.value);
            }
            if (!holds(rule, signal.value)) {
                seen.erase(key); // handled below as "condition false"
                continue;
            }
            if (it == m_instances.end()) {
                Alert alert;
                alert.rule = rule.name;
                alert.labels = labels;
                alert.severity = rule.severity;
                alert.value = signal.value;
                alert.summary = render(rule, labels, signal.value);
                alert.activeSinceMs = nowMs;
                it = m_instances.emplace(key, std::move(alert)).first;
                if (rule.forSeconds <= 0) {
                    it->second.firingSinceMs = nowMs;
                    change(it->second, AlertState::Firing);
                } else {
                    change(it->second, AlertState::Pending);
                }
            } else if (it->second.state == AlertState::Pending &&
                       static_cast<double>(nowMs - it->second.activeSinceMs) >=
                           rule.forSeconds * 1000.0) {
                it->second.firingSinceMs = nowMs;
                change(it->second, AlertState::Firing);
            }
        }
    }
    // Condition false, signal gone, or rule removed or disabled.
    for (auto it = m_instances.begin(); it != m_instances.end();) {
        if (seen.count(it->first)) {
            ++it;
            continue;
        }
        if (it->second.state == AlertState::Firing) {
            it->second.resolvedAtMs = nowMs;
            change(it->second, AlertState::Resolved);
        } else {
            change(it->second, AlertState::Inactive);
        }
        it = m_instances.erase(it);
    }
    for (const auto &t : out) {
        m_history.push_back(t);
        if (m_history.size() > kHistoryCapacity)
            m_history.pop_front();
    }
    return out;
}

std::vector<Alert> AlertEngine::active() const
{
    std::lock_guard lock(m_mutex);
    std::vector<Alert> out;
    for (const auto &[key, alert] : m_instances)
        out.push_back(alert);
    return out;
}

std::vector<AlertTransition> AlertEngine::history() const
{
    std::lock_guard lock(m_mutex);
    return {m_history.begin(), m_history.end()};
}

// ---- history in PostgreSQL --------------------------------------------------------------------

namespace {

constexpr std::size_t kBatch = 200;
constexpr int kMaxRejections = 3;
constexpr milliseconds kMaxBackoff{5000};

const char *kInsert =
    "INSERT INTO alert_history (rule, labels, severity, state, value, at, summary) "
    "VALUES ($1, $2::jsonb, $3, $4, $5, to_timestamp($6::double precision / 1000.0), $7)";

std::string labelsJson(const Labels &labels)
{
    json object = json::object();
    for (const auto &[k, v] : labels)
        object[k] = v;
    return object.dump();
}

} // namespace

AlertHistoryStore::AlertHistoryStore(PostgresTarget target, std::size_t capacity)
    : m_target(std::move(target))
    , m_capacity(std::max<std::size_t>(capacity, 1))
{
}

AlertHistoryStore::~AlertHistoryStore()
{
    stop();
}

void AlertHistoryStore::start()
{
    std::lock_guard lock(m_mutex);
    if (m_thread.joinable())
        return;
    m_stopping = false;
    m_finished = false;
    m_thread = std::thread(&AlertHistoryStore::run, this);
}

void AlertHistoryStore::stop(milliseconds flushTimeout)
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_thread.joinable())
            return;
        m_stopping = true;
        m_flushDeadline = Clock::now() + flushTimeout;
        m_wake.notify_all();
    }
    {
        // A write blocked on a silent server past the deadline: cut its connection.
        std::unique_lock lock(m_mutex);
        if (!m_wake.wait_until(lock, m_flushDeadline + milliseconds(500),
                               [&] { return m_finished; }) &&
            m_socket >= 0)
            ::shutdown(m_socket, SHUT_RDWR);
    }
    m_thread.join();
}

void AlertHistoryStore::add(const std::vector<AlertTransition> &transitions)
{
    std::lock_guard lock(m_mutex);
    for (const auto &t : transitions) {
        if (m_queue.size() >= m_capacity) {
            ++m_stats.dropped;
            continue;
        }
        m_queue.push_back(t);
    }
    m_stats.pending = m_queue.size();
    m_wake.notify_all();
}

AlertHistoryStats AlertHistoryStore::stats() const
{
    std::lock_guard lock(m_mutex);
    AlertHistoryStats s = m_stats;
    s.pending = m_queue.size();
    return s;
}

bool AlertHistoryStore::waitIdle(milliseconds timeout) const
{
    std::unique_lock lock(m_mutex);
    return m_wake.wait_for(lock, timeout, [&] { return m_queue.empty(); });
}

void AlertHistoryStore::run()
{
    std::unique_ptr<pqxx::connection> connection;
    Backoff backoff({milliseconds(250), kMaxBackoff});
    auto retryAt = Clock::now();
    int rejections = 0; // of the batch at the head of the queue

    std::unique_lock lock(m_mutex);
    for (;;) {
        if (m_stopping && (m_queue.empty() || Clock::now() >= m_flushDeadline))
            break;
        if (m_queue.empty() || Clock::now() < retryAt) {
            const auto until = m_queue.empty() ? Clock::now() + std::chrono::seconds(1) : retryAt;
            m_wake.wait_until(lock, m_stopping ? std::min(until, m_flushDeadline) : until);
            continue;
        }
        const std::size_t n = std::min(kBatch, m_queue.size());
        std::vector<AlertTransition> batch(m_queue.begin(),
                                           m_queue.begin() + static_cast<std::ptrdiff_t>(n));
        const bool flushing = m_stopping;
        lock.unlock();

        std::string error;
        bool rejected = false;
        try {
            if (!connection) {
                connection =
                    std::make_unique<pqxx::connection>(m_target.connectionString(flushing ? 2 : 5));
                {
                    std::lock_guard socketLock(m_mutex);
                    m_socket = connection->sock();
                }
                // alert_history is defined by the schema migrations: the same ones the sink runs.
                int version = 0;
                std::string step, newer;
                if (!migrateSchema(*connection, &version, &step, &newer))
                    throw std::runtime_error(newer);
            }
            pqxx::work tx(*connection);
            for (const auto &t : batch) {
                tx.exec_params(kInsert, t.alert.rule, labelsJson(t.alert.labels),
                               std::string(toString(t.alert.severity)),
                               std::string(toString(t.alert.state)), t.alert.value,
                               static_cast<double>(t.atMs), t.alert.summary);
            }
            tx.commit();
        } catch (const pqxx::broken_connection &e) {
            error = e.what();
        } catch (const pqxx::sql_error &e) {
            error = e.what();
            rejected = connection && connection->is_open();
        } catch (const std::exception &e) {
            error = e.what();
        }

        lock.lock();
        if (error.empty()) {
            m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(n));
            m_stats.written += n;
            m_stats.connected = true;
            backoff.reset();
            rejections = 0;
        } else {
            ++m_stats.errors;
            m_stats.lastError = redact(oneLine(error), m_target.password);
            if (rejected && ++rejections >= kMaxRejections) {
                // The server refuses these rows themselves: give them up rather than block the
                // rest behind them forever.
                m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(n));
                m_stats.failed += n;
                rejections = 0;
            }
            if (!rejected || !connection || !connection->is_open()) {
                m_stats.connected = false;
                m_socket = -1;
                lock.unlock();
                connection.reset();
                lock.lock();
            }
            retryAt = Clock::now() + backoff.next();
        }
        m_stats.pending = m_queue.size();
        m_wake.notify_all();
    }
    m_socket = -1;
    lock.unlock();
    connection.reset();
    lock.lock();
    m_finished = true;
    m_wake.notify_all();
}

} // namespace studio::core
