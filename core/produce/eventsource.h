#pragma once

#include "core/common/recordbatch.h"

#include <cstdint>
#include <string>

namespace studio::core {

/// Where a producer's records come from: the synthetic generator, a JSON Lines replay or a mirrored
/// topic. The producer owns its source and calls it from its own worker thread only, so an
/// implementation need not be thread-safe; describe() may be called from any thread and must only
/// read immutable state.
class EventSource
{
public:
    virtual ~EventSource() = default;

    /// Appends at most `max` records to `out`. `nowMs` is the wall-clock time (ms since the epoch)
    /// at which they will be sent; live sources use it as event time. Returns how many records
    /// were appended: 0 means nothing is available right now (see atEnd()).
    virtual std::size_t fill(RecordBatch &out, std::size_t max, std::int64_t nowMs) = 0;

    /// True once the source will never yield another record (a replay played once).
    virtual bool atEnd() const { return false; }

    /// The last error the source met (a file that vanished, a mirror that cannot connect), or "".
    virtual std::string lastError() const { return {}; }

    /// One line for status displays, e.g. "generator (seed 42)" or "replay of events.jsonl".
    virtual std::string describe() const = 0;
};

} // namespace studio::core
