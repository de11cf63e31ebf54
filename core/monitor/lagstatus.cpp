#include "core/monitor/lagstatus.h"

#include <algorithm>
#include <cstdio>

namespace studio::core {

const char *lagStatusName(LagStatus status)
{
    switch (status) {
    case LagStatus::Ok:
        return "OK";
    case LagStatus::Warn:
        return "WARN";
    case LagStatus::Stall:
        return "STALL";
    case LagStatus::Stop:
        return "STOP";
    case LagStatus::Rewind:
        return "REWIND";
    case LagStatus::Unknown:
        break;
    }
    return "UNKNOWN";
}

int lagStatusSeverity(LagStatus status)
{
    switch (status) {
    case LagStatus::Unknown:
        return 0;
    case LagStatus::Ok:
        return 1;
    case LagStatus::Warn:
        return 2;
    case LagStatus::Stall:
        return 3;
    case LagStatus::Rewind:
        return 4;
    case LagStatus::Stop:
        return 5;
    }
    return 0;
}

std::int64_t LagSample::lag() const
{
    const std::int64_t base = committed >= 0 ? committed : low;
    return std::max<std::int64_t>(0, high - base);
}

std::string formatLagDuration(double seconds)
{
    char text[32];
    if (seconds >= 10)
        std::snprintf(text, sizeof text, "%.0f s", seconds);
    else
        std::snprintf(text, sizeof text, "%.1f s", std::max(0.0, seconds));
    return text;
}

LagWindow::LagWindow(std::size_t capacity)
    : m_capacity(std::max(capacity, kMinSamples))
{
}

void LagWindow::add(const LagSample &sample)
{
    if (m_samples.empty()) {
        // The first sample stands for "progress" so that a group which never moves is judged
        // only once that sample has left the window.
        if (m_lastProgressMs < 0 || sample.timeMs >= m_lastProgressMs)
            m_lastProgressMs = sample.timeMs;
    } else {
        const LagSample &previous = m_samples.back();
        if (sample.timeMs < previous.timeMs)
            return;
        if (sample.committed != previous.committed || sample.commitSeen)
            m_lastProgressMs = sample.timeMs;
    }
    if (sample.lag() == 0)
        m_lastProgressMs = sample.timeMs;
    m_samples.push_back(sample);
    while (m_samples.size() > m_capacity)
        m_samples.pop_front();
}

void LagWindow::clear()
{
    m_samples.clear();
    m_lastProgressMs = -1;
}

double LagWindow::consumeRate() const
{
    if (m_samples.size() < 2)
        return 0;
    const LagSample &first = m_samples.front();
    const LagSample &last = m_samples.back();
    const std::int64_t spanMs = last.timeMs - first.timeMs;
    if (spanMs <= 0 || first.committed < 0 || last.committed <= first.committed)
        return 0;
    return double(last.committed - first.committed) * 1000.0 / double(spanMs);
}

LagEvaluation LagWindow::evaluate() const
{
    return evaluate(m_samples.empty() ? 0 : m_samples.back().timeMs);
}

LagEvaluation LagWindow::evaluate(std::int64_t nowMs) const
{
    LagEvaluation out;
    if (m_samples.empty()) {
        out.reason = "no samples yet";
        return out;
    }
    const LagSample &oldest = m_samples.front();
    const LagSample &newest = m_samples.back();
    out.lag = newest.lag();
    out.committed = newest.committed;
    const std::string lagText = std::to_string(out.lag);

    // 1. Too little to judge.
    if (m_samples.size() < kMinSamples) {
        out.reason = "collecting samples: " + std::to_string(m_samples.size()) + " of " +
                     std::to_string(kMinSamples);
        return out;
    }
    if (newest.committed < 0) {
        out.reason = "no committed offset (lag " + lagText + " counted from the low watermark)";
        return out;
    }

    // 2. The committed offset went backwards: the latest such step is reported.
    for (std::size_t i = m_samples.size() - 1; i > 0; --i) {
        const LagSample &before = m_samples[i - 1];
        const LagSample &after = m_samples[i];
        if (before.committed >= 0 && after.committed >= 0 && after.committed < before.committed) {
            out.status = LagStatus::Rewind;
            out.reason = "committed offset went back from " + std::to_string(before.committed) +
                         " to " + std::to_string(after.committed) + " (offset reset?), lag " +
                         lagText;
            return out;
        }
    }

    // 3. No sign of progress for longer than the window spans, while there is work to do.
    const std::int64_t spanMs = newest.timeMs - oldest.timeMs;
    const std::int64_t idleMs = nowMs - m_lastProgressMs;
    const bool full = m_samples.size() == m_capacity;
    if (out.lag > 0 && (idleMs > spanMs || (full && idleMs == spanMs))) {
        out.status = LagStatus::Stop;
        out.reason = "committed offset " + std::to_string(newest.committed) + " unchanged for " +
                     formatLagDuration(double(idleMs) / 1000.0) + " while lag " + lagText;
        return out;
    }

    // 4. Caught up at some point of the window.
    const bool zeroSeen = std::any_of(m_samples.begin(), m_samples.end(),
                                      [](const LagSample &s) { return s.lag() == 0; });
    if (zeroSeen) {
        out.status = LagStatus::Ok;
        out.reason = out.lag == 0 ? "lag 0" : "lag " + lagText + " (was 0 within the window)";
        return out;
    }

    // 5. Alive and committing, but the same offset every time.
    const bool unchanged = std::all_of(m_samples.begin(), m_samples.end(), [&](const LagSample &s) {
        return s.committed == newest.committed;
    });
    const bool commitsSeen = std::any_of(m_samples.begin() + 1, m_samples.end(),
                                         [](const LagSample &s) { return s.commitSeen; });
    if (unchanged && commitsSeen) {
        out.status = LagStatus::Stall;
        out.reason = "commits repeat offset " + std::to_string(newest.committed) + " for " +
                     formatLagDuration(double(spanMs) / 1000.0) + " while lag " + lagText;
        return out;
    }

    // 6. Moving, but never closing the gap.
    bool neverShrank = true;
    for (std::size_t i = 1; i < m_samples.size() && neverShrank; ++i)
        neverShrank = m_samples[i].lag() >= m_samples[i - 1].lag();
    if (oldest.committed >= 0 && newest.committed > oldest.committed && neverShrank) {
        out.status = LagStatus::Warn;
        out.reason = "lag grew from " + std::to_string(oldest.lag()) + " to " + lagText + " over " +
                     formatLagDuration(double(spanMs) / 1000.0) +
                     " while the offset advanced (falling behind)";
        return out;
    }

    out.status = LagStatus::Ok;
    out.reason = "lag " + lagText;
    return out;
}

LagEvaluation evaluateGroupLag(const std::vector<NamedLagEvaluation> &partitions)
{
    LagEvaluation out;
    const NamedLagEvaluation *worst = nullptr;
    std::int64_t total = 0;
    bool anyLag = false;
    int ok = 0;
    int unknown = 0;
    for (const auto &p : partitions) {
        const LagEvaluation &e = p.evaluation;
        if (e.lag >= 0) {
            total += e.lag;
            anyLag = true;
        }
        if (e.status == LagStatus::Unknown)
            ++unknown;
        else if (e.status == LagStatus::Ok)
            ++ok;
        if (!worst) {
            worst = &p;
            continue;
        }
        const int rank = lagStatusSeverity(e.status);
        const int worstRank = lagStatusSeverity(worst->evaluation.status);
        if (rank > worstRank || (rank == worstRank && e.lag > worst->evaluation.lag))
            worst = &p;
    }
    out.lag = anyLag ? total : -1;
    if (!worst) {
        out.reason = "no partitions";
        return out;
    }
    out.status = worst->evaluation.status;
    out.committed = worst->evaluation.committed;
    if (out.status == LagStatus::Ok) {
        out.reason = std::to_string(ok) + (ok == 1 ? " partition" : " partitions") + " OK";
        if (unknown > 0)
            out.reason += " (" + std::to_string(unknown) + " unknown)";
        out.reason += ", total lag " + std::to_string(total);
    } else {
        out.reason = worst->name + ": " + worst->evaluation.reason;
    }
    return out;
}

} // namespace studio::core
