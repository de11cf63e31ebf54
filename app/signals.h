#pragma once

#include <functional>

namespace studio::app {

/// Installs SIGINT/SIGTERM handlers that only set a flag (async-signal-safe).
void installStopSignals();
/// True once SIGINT or SIGTERM arrived.
bool stopRequested();
/// Sleeps up to `seconds`, returning early (false) when a stop signal arrives.
bool sleepUnlessStopped(double seconds);

/// The loop of a command that runs for a while: calls `tick(elapsed seconds)` once a second until
/// `durationSeconds` have passed (0: no limit), a stop signal arrives or `finished()` holds.
/// Returns the seconds it ran.
double runTicking(double durationSeconds, const std::function<void(double)> &tick,
                  const std::function<bool()> &finished);

} // namespace studio::app
