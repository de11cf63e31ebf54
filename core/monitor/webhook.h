#pragma once

#include "core/monitor/alerts.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace studio::core {

/// Where and how alert notifications are posted.
struct WebhookSettings
{
    std::string url; ///< http[s]://[USER[:PASSWORD]@]host[:port]/path
    /// HTTP basic auth password for the URL's USER, in place of one in the URL (the command line
    /// refuses those: CLICKSTREAM_WEBHOOK_PASSWORD instead); in memory only, never printed.
    std::string password;
    std::string receiver = "clickstream-studio";
    std::string externalUrl;                       ///< Alertmanager's externalURL; may stay empty
    std::chrono::milliseconds timeout{5000};       ///< connect, and read/write each
    int maxAttempts = 4;                           ///< per message, first try included
    std::chrono::milliseconds initialBackoff{500}; ///< doubled after each failure
    std::size_t queueCapacity = 256;               ///< messages waiting; more are dropped (counted)

    /// Empty when usable, else a message (the URL is described without any user:password).
    std::string validate() const;
};

struct WebhookStats
{
    std::uint64_t sent = 0;    ///< messages the receiver accepted (2xx)
    std::uint64_t failed = 0;  ///< messages given up after maxAttempts or a 4xx answer
    std::uint64_t dropped = 0; ///< refused because the queue was full
    std::uint64_t retries = 0; ///< attempts after a failed one
    std::size_t pending = 0;   ///< queued or being sent
    int lastStatus = 0;        ///< HTTP status of the last answer, 0 when none came
    std::string lastError;
};

/// Alertmanager's webhook body (version "4") for notifying transitions of one rule: status
/// "firing" when any alert in it fires, else "resolved"; alerts[] with labels (alertname,
/// severity and the instance's labels), annotations.summary, startsAt, endsAt (RFC 3339;
/// "0001-01-01T00:00:00Z" while firing) and fingerprint; groupLabels, commonLabels,
/// commonAnnotations, groupKey and truncatedAlerts as Alertmanager sends them.
std::string webhookBody(const std::vector<AlertTransition> &group, const std::string &receiver,
                        const std::string &externalUrl);

/// Posts firing and resolved notifications to a webhook from a worker thread of its own: notify()
/// only queues (bounded), sends run with timeouts and retries with backoff, so a slow or dead
/// receiver never blocks the caller. One POST per rule per notify() call. Thread-safe.
class WebhookNotifier
{
public:
    explicit WebhookNotifier(WebhookSettings settings);
    ~WebhookNotifier();
    WebhookNotifier(const WebhookNotifier &) = delete;
    WebhookNotifier &operator=(const WebhookNotifier &) = delete;

    /// False with a message when the settings are unusable.
    bool start(std::string *error);
    /// Sends what is queued for up to `flushTimeout`, then stops; the rest stays pending. A send
    /// in progress is not cut: it ends within its own timeouts.
    void stop(std::chrono::milliseconds flushTimeout = std::chrono::seconds(2));

    /// Queues the notifying transitions (firing, resolved) of `transitions`; others are ignored.
    void notify(const std::vector<AlertTransition> &transitions);
    WebhookStats stats() const;
    /// Waits until nothing is pending (true) or `timeout` passes.
    bool waitIdle(std::chrono::milliseconds timeout) const;

private:
    struct Message
    {
        std::string body;
        int attempts = 0;
    };
    void run();
    bool post(const std::string &body, std::string *error, bool *retry);

    const WebhookSettings m_settings;
    std::string m_origin; // scheme://host:port
    std::string m_path;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_wake;
    std::deque<Message> m_queue;
    bool m_sending = false;
    bool m_stopping = false;
    std::chrono::steady_clock::time_point m_flushDeadline;
    WebhookStats m_stats;
    std::thread m_thread;
};

} // namespace studio::core
