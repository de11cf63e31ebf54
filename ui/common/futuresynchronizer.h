#pragma once

#include <QFuture>
#include <QList>

namespace studio::ui {

/// Holds the futures of background tasks that use something their widget does not own (the
/// engine's ClusterMonitor, the aggregator behind a snapshot function), and waits for them when
/// it is destroyed, so what they use can only go after them. Qt Creator's
/// Utils::FutureSynchronizer, without the cancel: these tasks end within their own timeouts.
///
/// Make it a member of the widget that starts the tasks: the widget's destructor then waits
/// before its children (the watchers) go and before the owner destroys what the tasks use, and
/// the result a QFutureWatcher parented to the widget would deliver is simply dropped. Finished
/// futures are let go on each addFuture(), so it holds only the tasks still running. GUI thread.
class FutureSynchronizer
{
public:
    FutureSynchronizer() = default;
    ~FutureSynchronizer() { waitForFinished(); }
    FutureSynchronizer(const FutureSynchronizer &) = delete;
    FutureSynchronizer &operator=(const FutureSynchronizer &) = delete;

    template <class T> void addFuture(const QFuture<T> &future)
    {
        flushFinishedFutures();
        m_futures.append(QFuture<void>(future));
    }
    /// Blocks until every task added so far has finished.
    void waitForFinished();
    /// Tasks added and not finished yet.
    int runningCount() const;

private:
    void flushFinishedFutures();

    QList<QFuture<void>> m_futures;
};

} // namespace studio::ui
