#pragma once

namespace studio::app {

/// Installs SIGINT/SIGTERM handlers that only set a flag (async-signal-safe).
void installStopSignals();
/// True once SIGINT or SIGTERM arrived.
bool stopRequested();
/// Sleeps up to `seconds`, returning early (false) when a stop signal arrives.
bool sleepUnlessStopped(double seconds);

} // namespace studio::app
