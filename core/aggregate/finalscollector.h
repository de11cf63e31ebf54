#pragma once

#include "core/aggregate/aggregates.h"

#include <mutex>

namespace studio::core {

/// The aggregator's sink in durable mode: passes every final result on to `next` (the CSV
/// reports, say) and keeps a copy until the pipeline takes it into its next checkpoint batch, so
/// the finals and the offsets that produced them reach PostgreSQL in one transaction.
/// Thread-safe: onFinal() runs on the ingest thread, take() on the pipeline's or the caller's.
class FinalsCollector final : public AggregateSink
{
public:
    explicit FinalsCollector(AggregateSink *next = nullptr)
        : m_next(next)
    {
    }

    void onFinal(FinalResults &&results) override
    {
        {
            std::lock_guard lock(m_mutex);
            auto append = [](auto &into, const auto &from) {
                into.insert(into.end(), from.begin(), from.end());
            };
            append(m_pending.pages, results.pages);
            append(m_pending.geo, results.geo);
            append(m_pending.sessions, results.sessions);
            append(m_pending.funnel, results.funnel);
            append(m_pending.overflow, results.overflow);
        }
        if (m_next)
            m_next->onFinal(std::move(results));
    }

    /// What became final since the last take().
    FinalResults take()
    {
        std::lock_guard lock(m_mutex);
        FinalResults out = std::move(m_pending);
        m_pending = {};
        return out;
    }

private:
    AggregateSink *m_next;
    std::mutex m_mutex;
    FinalResults m_pending;
};

} // namespace studio::core
