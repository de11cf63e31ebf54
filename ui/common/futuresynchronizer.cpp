#include "ui/common/futuresynchronizer.h"

namespace studio::ui {

void FutureSynchronizer::waitForFinished()
{
    for (QFuture<void> &future : m_futures)
        future.waitForFinished();
    m_futures.clear();
}

int FutureSynchronizer::runningCount() const
{
    int running = 0;
    for (const QFuture<void> &future : m_futures)
        running += future.isFinished() ? 0 : 1;
    return running;
}

void FutureSynchronizer::flushFinishedFutures()
{
    m_futures.removeIf([](const QFuture<void> &future) { return future.isFinished(); });
}

} // namespace studio::ui
