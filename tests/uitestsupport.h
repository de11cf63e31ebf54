#pragma once

// Helpers shared by the widget tests.

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QSettings>
#include <QTemporaryDir>
#include <QThread>

#include <chrono>
#include <functional>

namespace studio::test {

/// QSettings of the test go to a temporary directory, never to the user's configuration.
struct IsolatedSettings
{
    QTemporaryDir dir;
    IsolatedSettings()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("clickstream-studio-tests"));
        QCoreApplication::setApplicationName(QStringLiteral("ui-tests"));
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir.path());
        QSettings().clear();
    }
};

/// Processes events until `condition` holds (true) or `timeout` passes (false), like QTRY_VERIFY.
inline bool waitUntil(const std::function<bool()> &condition, std::chrono::milliseconds timeout)
{
    QElapsedTimer timer;
    timer.start();
    while (!condition()) {
        if (timer.elapsed() > timeout.count())
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(20);
    }
    return true;
}

} // namespace studio::test
