#include "core/monitor/webhook.h"

#include "core/common/backoff.h"
#include "core/common/timeutil.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace studio::core {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kMaxBackoff{30'000};
constexpr const char *kZeroTime = "0001-01-01T00:00:00Z"; // Alertmanager's "not set"

struct ParsedUrl
{
    std::string scheme;
    std::string host;
    int port = 0;
    std::string path = "/";
    std::string user;
    std::string password;
};

// scheme://[user[:password]@]host[:port][/path[?query]]; nullopt with a message otherwise.
std::optional<ParsedUrl> parseUrl(const std::string &url, std::string *error)
{
    auto fail = [&](std::string message) -> std::optional<ParsedUrl> {
        *error = std::move(message);
        return std::nullopt;
    };
    ParsedUrl u;
    const auto schemeEnd = url.find("://");
    if (schemeEnd == std::string::npos)
        return fail("webhook URL must start with http:// or https://");
    u.scheme = url.substr(0, schemeEnd);
    std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (u.scheme != "http" && u.scheme != "https")
        return fail("webhook URL scheme must be http or https, not \"" + u.scheme + "\"");
    std::string rest = url.substr(schemeEnd + 3);
    const auto pathStart = rest.find_first_of("/?");
    std::string authority = rest.substr(0, pathStart);
    if (pathStart != std::string::npos)
        u.path = rest[pathStart] == '/' ? rest.substr(pathStart) : "/" + rest.substr(pathStart);
    if (const auto at = authority.rfind('@'); at != std::string::npos) {
        const std::string userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        const auto colon = userinfo.find(':');
        u.user = userinfo.substr(0, colon);
        if (colon != std::string::npos)
            u.password = userinfo.substr(colon + 1);
    }
    u.port = u.scheme == "https" ? 443 : 80;
    std::string host = authority;
    if (!authority.empty() && authority.front() == '[') { // [v6]:port
        const auto close = authority.find(']');
        if (close == std::string::npos)
            return fail("webhook URL has an unclosed '[' in its host");
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':')
            authority = authority.substr(close + 2);
        else
            authority.clear();
    } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
        host = authority.substr(0, colon);
        authority = authority.substr(colon + 1);
    } else {
        authority.clear();
    }
    if (!authority.empty()) {
        char *end = nullptr;
        const long port = std::strtol(authority.c_str(), &end, 10);
        if (*end != '\0' || port < 1 || port > 65535)
            return fail("webhook URL port \"" + authority + "\" is not a port number");
        u.port = static_cast<int>(port);
    }
    if (host.empty())
        return fail("webhook URL has no host");
    u.host = host;
    return u;
}

std::string rfc3339(std::int64_t ms)
{
    return ms > 0 ? formatIsoMs(ms) : std::string(kZeroTime);
}

json labelsOf(const Alert &alert)
{
    json labels = json::object();
    for (const auto &[k, v] : alert.labels)
        labels[k] = v;
    labels["alertname"] = alert.rule;
    labels["severity"] = std::string(toString(alert.severity));
    return labels;
}

// Keys with the same value in every object of `objects`.
json common(const std::vector<json> &objects)
{
    json out = json::object();
    if (objects.empty())
        return out;
    for (const auto &[key, value] : objects.front().items()) {
        if (std::all_of(objects.begin(), objects.end(),
                        [&](const json &o) { return o.contains(key) && o[key] == value; }))
            out[key] = value;
    }
    return out;
}

} // namespace

std::string WebhookSettings::validate() const
{
    std::string error;
    if (!parseUrl(url, &error))
        return error;
    if (timeout.count() <= 0)
        return "webhook timeout must be positive";
    if (maxAttempts < 1)
        return "webhook maxAttempts must be at least 1";
    if (queueCapacity < 1)
        return "webhook queueCapacity must be at least 1";
    return {};
}

std::string webhookBody(const std::vector<AlertTransition> &group, const std::string &receiver,
                        const std::string &externalUrl)
{
    json alerts = json::array();
    std::vector<json> labelSets, annotationSets;
    bool firing = false;
    for (const auto &t : group) {
        const Alert &a = t.alert;
        const bool isFiring = a.state == AlertState::Firing;
        firing = firing || isFiring;
        json labels = labelsOf(a);
        json annotations = {{"summary", a.summary}};
        alerts.push_back(
            {{"status", isFiring ? "firing" : "resolved"},
             {"labels", labels},
             {"annotations", annotations},
             {"startsAt", rfc3339(a.firingSinceMs ? a.firingSinceMs : a.activeSinceMs)},
             {"endsAt", isFiring ? std::string(kZeroTime) : rfc3339(a.resolvedAtMs)},
             {"generatorURL", externalUrl},
             {"fingerprint", alertFingerprint(a.rule, a.labels)}});
        labelSets.push_back(std::move(labels));
        annotationSets.push_back(std::move(annotations));
    }
    const std::string rule = group.empty() ? std::string() : group.front().alert.rule;
    json body = {{"version", "4"},
                 {"groupKey", "{}:{alertname=\"" + rule + "\"}"},
                 {"truncatedAlerts", 0},
                 {"status", firing ? "firing" : "resolved"},
                 {"receiver", receiver},
                 {"groupLabels", {{"alertname", rule}}},
                 {"commonLabels", common(labelSets)},
                 {"commonAnnotations", common(annotationSets)},
                 {"externalURL", externalUrl},
                 {"alerts", alerts}};
    return body.dump();
}

WebhookNotifier::WebhookNotifier(WebhookSettings settings)
    : m_settings(std::move(settings))
{
}

WebhookNotifier::~WebhookNotifier()
{
    stop(milliseconds(0));
}

bool WebhookNotifier::start(std::string *error)
{
    std::string message = m_settings.validate();
    if (!message.empty()) {
        if (error)
            *error = message;
        return false;
    }
    std::lock_guard lock(m_mutex);
    if (m_thread.joinable())
        return true;
    std::string ignored;
    const ParsedUrl u = *parseUrl(m_settings.url, &ignored);
    const bool v6 = u.host.find(':') != std::string::npos;
    m_origin = u.scheme + "://" + (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
    m_path = u.path;
    m_stopping = false;
    m_thread = std::thread(&WebhookNotifier::run, this);
    return true;
}

void WebhookNotifier::stop(milliseconds flushTimeout)
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_thread.joinable())
            return;
        m_stopping = true;
        m_flushDeadline = Clock::now() + flushTimeout;
        m_wake.notify_all();
    }
    m_thread.join(); // a send in progress ends within its timeouts
}

void WebhookNotifier::notify(const std::vector<AlertTransition> &transitions)
{
    std::vector<std::string> order;
    std::map<std::string, std::vector<AlertTransition>> groups;
    for (const auto &t : transitions) {
        if (!t.notifies())
            continue;
        if (!groups.count(t.alert.rule))
            order.push_back(t.alert.rule);
        groups[t.alert.rule].push_back(t);
    }
    if (order.empty())
        return;
    std::vector<std::string> bodies;
    for (const auto &rule : order)
        bodies.push_back(webhookBody(groups[rule], m_settings.receiver, m_settings.externalUrl));
    std::lock_guard lock(m_mutex);
    for (auto &body : bodies) {
        if (m_queue.size() >= m_settings.queueCapacity) {
            ++m_stats.dropped;
            continue;
        }
        m_queue.push_back({std::move(body), 0});
    }
    m_wake.notify_all();
}

WebhookStats WebhookNotifier::stats() const
{
    std::lock_guard lock(m_mutex);
    WebhookStats s = m_stats;
    s.pending = m_queue.size();
    return s;
}

bool WebhookNotifier::waitIdle(milliseconds timeout) const
{
    std::unique_lock lock(m_mutex);
    return m_wake.wait_for(lock, timeout, [&] { return m_queue.empty() && !m_sending; });
}

bool WebhookNotifier::post(const std::string &body, std::string *error, bool *retry)
{
    std::string ignored;
    const ParsedUrl u = *parseUrl(m_settings.url, &ignored);
    httplib::Client client(m_origin);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(m_settings.timeout);
    const time_t sec = static_cast<time_t>(us.count() / 1'000'000);
    const time_t usec = static_cast<time_t>(us.count() % 1'000'000);
    client.set_connection_timeout(sec, usec);
    client.set_read_timeout(sec, usec);
    client.set_write_timeout(sec, usec);
    if (!u.user.empty() || !m_settings.password.empty())
        client.set_basic_auth(u.user,
                              m_settings.password.empty() ? u.password : m_settings.password);
    const std::string where =
        u.host + ":" + std::to_string(u.port) + u.path.substr(0, u.path.find('?'));
    const auto res = client.Post(m_path, body, "application/json");
    {
        std::lock_guard lock(m_mutex);
        m_stats.lastStatus = res ? res->status : 0;
    }
    if (!res) {
        *error = "webhook POST to " + where + " failed: " + httplib::to_string(res.error());
        *retry = true;
        return false;
    }
    if (res->status >= 200 && res->status < 300)
        return true;
    *error = "webhook POST to " + where + " answered HTTP " + std::to_string(res->status);
    // A 4xx means the receiver refuses this body; sending it again will not help (but rate
    // limiting and timeouts will pass).
    *retry = res->status >= 500 || res->status == 429 || res->status == 408;
    return false;
}

void WebhookNotifier::run()
{
    std::unique_lock lock(m_mutex);
    auto nextAttempt = Clock::now();
    // For the message at the head of the queue: only it is ever retried.
    Backoff backoff({m_settings.initialBackoff, kMaxBackoff});
    for (;;) {
        const bool pastDeadline = m_stopping && Clock::now() >= m_flushDeadline;
        if ((m_stopping && m_queue.empty()) || pastDeadline)
            break;
        if (m_queue.empty() || Clock::now() < nextAttempt) {
            auto until = m_queue.empty() ? Clock::now() + std::chrono::seconds(1) : nextAttempt;
            if (m_stopping)
                until = std::min(until, m_flushDeadline);
            m_wake.wait_until(lock, until);
            continue;
        }
        Message &message = m_queue.front();
        const std::string body = message.body;
        const int attempt = ++message.attempts;
        m_sending = true;
        lock.unlock();

        std::string error;
        bool retry = false;
        const bool ok = post(body, &error, &retry);

        lock.lock();
        m_sending = false;
        if (attempt > 1)
            ++m_stats.retries;
        if (ok) {
            ++m_stats.sent;
            m_queue.pop_front();
            nextAttempt = Clock::now();
            backoff.reset();
        } else {
            m_stats.lastError = error;
            if (!retry || attempt >= m_settings.maxAttempts) {
                ++m_stats.failed;
                m_queue.pop_front();
                nextAttempt = Clock::now();
                backoff.reset();
            } else {
                nextAttempt = Clock::now() + backoff.next();
            }
        }
        m_wake.notify_all();
    }
    m_wake.notify_all();
}

} // namespace studio::core
