#pragma once

#include <QHash>
#include <QObject>
#include <QString>

namespace QKeychain {
class Job;
}

namespace studio::ui {

/// Passwords by key in the system keychain (Secret Service, KWallet, macOS Keychain, Windows
/// Credential Store through QtKeychain), service "Clickstream Studio".
///
/// When no keychain service answers (no D-Bus session, no Secret Service), the store falls back
/// to keeping secrets in memory for this session only: persistent() turns false and
/// statusMessage() says so, for the UI to show. Secrets never go to QSettings, logs or stdout.
///
/// Every call is asynchronous and answers with one signal (also in memory mode, queued, so the
/// caller sees one order of events). GUI thread only.
class SecretStore : public QObject
{
    Q_OBJECT
public:
    explicit SecretStore(QObject *parent = nullptr);
    /// `service` names the entries in the keychain (tests use their own).
    explicit SecretStore(const QString &service, QObject *parent = nullptr);

    void write(const QString &key, const QString &secret);
    void read(const QString &key);
    void remove(const QString &key);

    /// False once the keychain was found missing: secrets then live until the app quits.
    bool persistent() const { return m_persistent; }
    /// Empty while persistent, else "No keychain service: passwords are kept for this session
    /// only".
    QString statusMessage() const;
    QString service() const { return m_service; }

Q_SIGNALS:
    void written(const QString &key, bool ok, const QString &error);
    /// `found` false (and `secret` empty) when there is no entry; `error` set on a failure.
    void readDone(const QString &key, const QString &secret, bool found, const QString &error);
    void removed(const QString &key, bool ok, const QString &error);
    /// Emitted once, when the store falls back to memory.
    void persistenceChanged(bool persistent);

private:
    /// True when `job` failed because there is no keychain to talk to.
    static bool noBackend(const QKeychain::Job *job);
    void fallBackToMemory();

    QString m_service;
    bool m_persistent = true;
    QHash<QString, QString> m_session; // keys -> secrets, memory mode only
};

} // namespace studio::ui
