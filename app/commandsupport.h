#pragma once

#include "app/commands.h"
#include "core/engine/enginestatus.h"

#include <cstdint>
#include <string>
#include <vector>

namespace studio::app {

inline constexpr int kUsageError = 2;
inline constexpr int kRuntimeError = 1;
inline constexpr int kDeliveryFailures = 3;

/// Producer counters summed over an engine's producers.
struct Totals
{
    std::uint64_t produced = 0, acked = 0, failed = 0, inFlight = 0, shortfall = 0;
    std::uint64_t transactions = 0, abortedTransactions = 0, resent = 0;
    double rate = 0, target = 0;
    bool keepingUp = true, anyRunning = false;
    std::string limitedBy, lastError;
};
Totals totalsOf(const std::vector<core::ProducerSample> &producers);

/// Prints "error: message" and returns kUsageError.
int usageError(const std::string &message);

} // namespace studio::app
