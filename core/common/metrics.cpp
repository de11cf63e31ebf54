#include "core/common/metrics.h"

#include <charconv>
#include <cmath>
#include <exception>
#include <stdexcept>

namespace studio::core {

namespace {

constexpr std::string_view kCollectorErrors = "clickstream_collector_errors_total";

bool endsWith(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool isNameStart(char c, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

bool isNameChar(char c, bool colon)
{
    return isNameStart(c, colon) || (c >= '0' && c <= '9');
}

bool isValidName(std::string_view name, bool colon)
{
    if (name.empty() || !isNameStart(name.front(), colon))
        return false;
    for (char c : name)
        if (!isNameChar(c, colon))
            return false;
    return true;
}

} // namespace

bool MetricsText::isValidMetricName(std::string_view name)
{
    return isValidName(name, true);
}

bool MetricsText::isValidLabelName(std::string_view name)
{
    return isValidName(name, false) && name.substr(0, 2) != "__";
}

std::string MetricsText::formatValue(double value)
{
    if (std::isnan(value))
        return "NaN";
    if (std::isinf(value))
        return value > 0 ? "+Inf" : "-Inf";
    if (value == 0)
        return "0"; // also -0
    char buf[64];
    std::to_chars_result r;
    // Whole numbers up to 2^63 in plain digits, as Go's strconv.FormatFloat(v, 'f', -1) would.
    if (std::trunc(value) == value && std::fabs(value) < 9.2e18)
        r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));
    else
        r = std::to_chars(buf, buf + sizeof buf, value); // shortest form that reads back exactly
    return std::string(buf, r.ptr);
}

std::string MetricsText::escapeLabelValue(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string MetricsText::escapeHelp(std::string_view help)
{
    std::string out;
    out.reserve(help.size());
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void MetricsText::counter(std::string_view name, std::string_view help, const MetricLabels &labels,
                          double value)
{
    add("counter", name, help, labels, value);
}

void MetricsText::gauge(std::string_view name, std::string_view help, const MetricLabels &labels,
                        double value)
{
    add("gauge", name, help, labels, value);
}

void MetricsText::untyped(std::string_view name, std::string_view help, const MetricLabels &labels,
                          double value)
{
    add("untyped", name, help, labels, value);
}

void MetricsText::stateSet(std::string_view name, std::string_view help, const MetricLabels &labels,
                           std::string_view labelName, const std::vector<std::string_view> &states,
                           std::string_view current)
{
    for (std::string_view state : states) {
        MetricLabels withState = labels;
        withState.emplace_back(labelName, state);
        gauge(name, help, withState, state == current ? 1 : 0);
    }
}

void MetricsText::add(std::string_view type, std::string_view name, std::string_view help,
                      const MetricLabels &labels, double value)
{
    std::string labelText;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto &[label, text] = labels[i];
        if (!isValidLabelName(label)) {
            m_errors.push_back("invalid label name '" + label + "' on " + std::string(name));
            return;
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (labels[j].first == label) {
                m_errors.push_back("label '" + label + "' repeated on " + std::string(name));
                return;
            }
        }
        labelText += (i == 0 ? "{" : ",") + label + "=\"" + escapeLabelValue(text) + "\"";
    }
    if (!labelText.empty())
        labelText += "}";
    addRendered(type, name, help, std::move(labelText), formatValue(value));
}

void MetricsText::addRendered(std::string_view type, std::string_view name, std::string_view help,
                              std::string labelText, std::string valueText)
{
    const std::string key(name);
    if (!isValidMetricName(name)) {
        m_errors.push_back("invalid metric name '" + key + "'");
        return;
    }
    // promtool's lint rules: only counters end in _total, and counters always do.
    if ((type == "counter") != endsWith(name, "_total")) {
        m_errors.push_back(key + ": only counters, and every counter, end in _total");
        return;
    }
    auto it = m_index.find(key);
    if (it == m_index.end()) {
        it = m_index.emplace(key, m_families.size()).first;
        m_families.push_back({key, std::string(help), std::string(type), {}, {}});
    }
    Family &family = m_families[it->second];
    if (family.type != type) {
        m_errors.push_back(key + " is a " + family.type + ", not a " + std::string(type));
        return;
    }
    if (!family.series.insert(labelText).second) {
        m_errors.push_back("series " + key + labelText + " written twice");
        return;
    }
    family.samples.emplace_back(std::move(labelText), std::move(valueText));
}

bool MetricsText::append(const MetricsText &other)
{
    for (const Family &f : other.m_families) {
        const auto it = m_index.find(f.name);
        if (it == m_index.end())
            continue;
        const Family &mine = m_families[it->second];
        if (mine.type != f.type) {
            m_errors.push_back(f.name + " is a " + mine.type + ", not a " + f.type);
            return false;
        }
        for (const auto &[labels, value] : f.samples) {
            if (mine.series.count(labels)) {
                m_errors.push_back("series " + f.name + labels + " written twice");
                return false;
            }
        }
    }
    for (const Family &f : other.m_families)
        for (const auto &[labels, value] : f.samples)
            addRendered(f.type, f.name, f.help, labels, value);
    return true;
}

std::size_t MetricsText::sampleCount() const
{
    std::size_t n = 0;
    for (const Family &f : m_families)
        n += f.samples.size();
    return n;
}

std::string MetricsText::str() const
{
    std::string out;
    for (const Family &f : m_families) {
        if (f.samples.empty())
            continue;
        if (!f.help.empty())
            out += "# HELP " + f.name + " " + escapeHelp(f.help) + "\n";
        out += "# TYPE " + f.name + " " + f.type + "\n";
        for (const auto &[labels, value] : f.samples)
            out += f.name + labels + " " + value + "\n";
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

MetricsRegistry::Registration::Registration(Registration &&other) noexcept
    : m_registry(std::exchange(other.m_registry, nullptr))
    , m_id(other.m_id)
{
}

MetricsRegistry::Registration &
MetricsRegistry::Registration::operator=(Registration &&other) noexcept
{
    if (this != &other) {
        reset();
        m_registry = std::exchange(other.m_registry, nullptr);
        m_id = other.m_id;
    }
    return *this;
}

void MetricsRegistry::Registration::reset()
{
    if (m_registry)
        m_registry->removeId(m_id);
    m_registry = nullptr;
}

MetricsRegistry::Registration MetricsRegistry::add(std::string name, Collector collector)
{
    if (name.empty() || !collector)
        throw std::invalid_argument("a metrics collector needs a name and a function");
    std::lock_guard lock(m_mutex);
    for (const Entry &e : m_entries)
        if (e.name == name)
            throw std::invalid_argument("metrics collector '" + name + "' is already registered");
    const std::uint64_t id = m_nextId++;
    m_entries.push_back({id, std::move(name), std::move(collector), 0, {}});
    return Registration(this, id);
}

bool MetricsRegistry::remove(std::string_view name)
{
    std::lock_guard lock(m_mutex);
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        if (it->name == name) {
            m_entries.erase(it);
            return true;
        }
    }
    return false;
}

void MetricsRegistry::removeId(std::uint64_t id)
{
    std::lock_guard lock(m_mutex);
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        if (it->id == id) {
            m_entries.erase(it);
            return;
        }
    }
}

std::vector<std::string> MetricsRegistry::names() const
{
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const Entry &e : m_entries)
        out.push_back(e.name);
    return out;
}

std::string MetricsRegistry::render()
{
    std::lock_guard lock(m_mutex);
    MetricsText all;
    for (Entry &e : m_entries) {
        MetricsText part;
        std::string failure;
        try {
            e.collector(part);
        } catch (const std::exception &ex) {
            failure = std::string("threw: ") + ex.what();
        } catch (...) {
            failure = "threw a non-standard exception";
        }
        if (failure.empty() && !part.errors().empty())
            failure = part.errors().front();
        // A clash with an earlier collector's families is this collector's fault too.
        if (failure.empty()) {
            if (all.append(part))
                continue;
            failure = all.errors().back();
        }
        ++e.errors;
        e.lastError = std::move(failure);
    }
    for (const Entry &e : m_entries)
        all.counter(kCollectorErrors,
                    "Scrapes in which a metrics collector failed (threw or wrote bad samples); "
                    "its samples were left out",
                    {{"collector", e.name}}, static_cast<double>(e.errors));
    std::string out = all.str();
    // Comments are ignored by Prometheus but tell a person reading the page what went wrong.
    for (const Entry &e : m_entries) {
        if (!e.lastError.empty()) {
            std::string why = e.lastError;
            for (char &c : why)
                if (c == '\n' || c == '\r')
                    c = ' ';
            out += "# collector " + e.name + " last failed: " + why + "\n";
        }
    }
    return out;
}

} // namespace studio::core
