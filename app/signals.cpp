#include "app/signals.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

namespace studio::app {

namespace {
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void onStopSignal(int)
{
    g_stop.store(true);
}
} // namespace

void installStopSignals()
{
    struct sigaction action = {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool stopRequested()
{
    return g_stop.load();
}

bool sleepUnlessStopped(double seconds)
{
    using namespace std::chrono;
    const auto until =
        steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(seconds));
    while (steady_clock::now() < until) {
        if (g_stop.load())
            return false;
        std::this_thread::sleep_for(
            std::min<steady_clock::duration>(milliseconds(20), until - steady_clock::now()));
    }
    return !g_stop.load();
}

double runTicking(double durationSeconds, const std::function<void(double)> &tick,
                  const std::function<bool()> &finished)
{
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(Clock::now() - started).count();
    };
    double nextTick = 1.0;
    for (;;) {
        double wait = nextTick - elapsed();
        if (durationSeconds > 0)
            wait = std::min(wait, durationSeconds - elapsed());
        if (wait > 0 && !sleepUnlessStopped(std::min(wait, 0.25)))
            break;
        if (elapsed() >= nextTick) {
            tick(elapsed());
            nextTick += 1.0;
        }
        if ((durationSeconds > 0 && elapsed() >= durationSeconds) || finished())
            break;
    }
    return elapsed();
}

} // namespace studio::app
