#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace studio::core {

/// Label name/value pairs of one sample, in the order they are written.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// One scrape's worth of samples in the Prometheus text exposition format 0.0.4. Samples of a
/// family are grouped under one `# HELP` and one `# TYPE` line even when added in several calls;
/// families keep their first-seen order. Names are checked (metric names
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` without a `__` prefix,
/// counters end in `_total`); a bad sample, a type clash or a repeated series is dropped and
/// recorded in errors(), never written. Not thread-safe: one object per scrape.
class MetricsText
{
public:
    void counter(std::string_view name, std::string_view help, const MetricLabels &labels,
                 double value);
    void counter(std::string_view name, std::string_view help, double value)
    {
        counter(name, help, {}, value);
    }
    void gauge(std::string_view name, std::string_view help, const MetricLabels &labels,
               double value);
    void gauge(std::string_view name, std::string_view help, double value)
    {
        gauge(name, help, {}, value);
    }
    void untyped(std::string_view name, std::string_view help, const MetricLabels &labels,
                 double value);
    /// An enum as gauges, one series per state (label `labelName`), 1 for `current`, 0 for the
    /// others (the OpenMetrics "stateset" shape).
    void stateSet(std::string_view name, std::string_view help, const MetricLabels &labels,
                  std::string_view labelName, const std::vector<std::string_view> &states,
                  std::string_view current);

    /// Adds every sample of `other` (a collector's output) unless one clashes with this text (a
    /// family of another type, a series written twice): then adds nothing, records why in
    /// errors() and returns false. Errors recorded in `other` are not copied.
    bool append(const MetricsText &other);

    /// The exposition text, ending in a newline (empty when there are no samples).
    std::string str() const;
    std::size_t familyCount() const { return m_families.size(); }
    std::size_t sampleCount() const;
    /// Why samples were dropped, in order.
    const std::vector<std::string> &errors() const { return m_errors; }

    static bool isValidMetricName(std::string_view name);
    static bool isValidLabelName(std::string_view name);
    /// A sample value as Prometheus writes it: integers without exponent, NaN, +Inf, -Inf.
    static std::string formatValue(double value);
    /// Label value escaping: backslash, double quote and line feed.
    static std::string escapeLabelValue(std::string_view value);
    /// HELP escaping: backslash and line feed.
    static std::string escapeHelp(std::string_view help);

private:
    struct Family
    {
        std::string name, help, type;
        std::vector<std::pair<std::string, std::string>> samples; // {label text, value text}
        std::unordered_set<std::string> series;                   // label texts seen
    };
    void add(std::string_view type, std::string_view name, std::string_view help,
             const MetricLabels &labels, double value);
    void addRendered(std::string_view type, std::string_view name, std::string_view help,
                     std::string labelText, std::string valueText);

    std::vector<Family> m_families;
    std::unordered_map<std::string, std::size_t> m_index;
    std::vector<std::string> m_errors;
};

/// Named collectors that fill a MetricsText on each scrape. A collector that throws or writes
/// bad samples does not spoil the scrape: its output is dropped and
/// `clickstream_collector_errors_total{collector="<name>"}` counts the failure.
/// Thread-safe. render() holds the registry lock while the collectors run, so remove() (and a
/// Registration's destructor) waits for a scrape in progress: after it returns, the collector is
/// never called again, and the objects it reads may be destroyed. Hence collectors must be quick
/// (copy a snapshot, no I/O) and must not call add() or remove() themselves.
class MetricsRegistry
{
public:
    using Collector = std::function<void(MetricsText &)>;

    /// Removes its collector when destroyed or reset(). Must not outlive the registry.
    class Registration
    {
    public:
        Registration() = default;
        Registration(Registration &&other) noexcept;
        Registration &operator=(Registration &&other) noexcept;
        Registration(const Registration &) = delete;
        Registration &operator=(const Registration &) = delete;
        ~Registration() { reset(); }
        void reset();
        bool active() const { return m_registry != nullptr; }

    private:
        friend class MetricsRegistry;
        Registration(MetricsRegistry *registry, std::uint64_t id)
            : m_registry(registry)
            , m_id(id)
        {
        }
        MetricsRegistry *m_registry = nullptr;
        std::uint64_t m_id = 0;
    };

    /// Adds a collector, called in the order of adding. Throws std::invalid_argument when the
    /// name is empty or already taken (a programming error).
    [[nodiscard]] Registration add(std::string name, Collector collector);
    /// Removes the collector called `name`; false if there is none.
    bool remove(std::string_view name);
    std::vector<std::string> names() const;

    /// Calls every collector and returns the exposition text.
    std::string render();

private:
    void removeId(std::uint64_t id);
    struct Entry
    {
        std::uint64_t id;
        std::string name;
        Collector collector;
        std::uint64_t errors = 0;
        std::string lastError;
    };
    mutable std::mutex m_mutex;
    std::vector<Entry> m_entries;
    std::uint64_t m_nextId = 1;
};

} // namespace studio::core
