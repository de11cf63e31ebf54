#include "ui/common/secretstore.h"

#include <qt6keychain/keychain.h>

#include <QTimer>

namespace studio::ui {

SecretStore::SecretStore(QObject *parent)
    : SecretStore(QStringLiteral("Clickstream Studio"), parent)
{
}

SecretStore::SecretStore(const QString &service, QObject *parent)
    : QObject(parent)
    , m_service(service)
{
}

QString SecretStore::statusMessage() const
{
    return m_persistent ? QString()
                        : tr("No keychain service: passwords are kept for this session only");
}

bool SecretStore::noBackend(const QKeychain::Job *job)
{
    // Without a Secret Service on the session bus (or without a bus) QtKeychain reports either
    // NoBackendAvailable or OtherError carrying the D-Bus failure.
    return job->error() == QKeychain::NoBackendAvailable || job->error() == QKeychain::OtherError;
}

void SecretStore::fallBackToMemory()
{
    if (!m_persistent)
        return;
    m_persistent = false;
    Q_EMIT persistenceChanged(false);
}

void SecretStore::write(const QString &key, const QString &secret)
{
    if (!m_persistent) {
        m_session.insert(key, secret);
        QTimer::singleShot(0, this, [this, key] { Q_EMIT written(key, true, QString()); });
        return;
    }
    auto *job = new QKeychain::WritePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false); // never a plain-text file
    job->setKey(key);
    job->setTextData(secret);
    connect(job, &QKeychain::Job::finished, this, [this, key, secret](QKeychain::Job *j) {
        if (j->error() == QKeychain::NoError) {
            Q_EMIT written(key, true, QString());
        } else if (noBackend(j)) {
            fallBackToMemory();
            m_session.insert(key, secret);
            Q_EMIT written(key, true, QString());
        } else {
            Q_EMIT written(key, false, j->errorString());
        }
    });
    job->start();
}

void SecretStore::read(const QString &key)
{
    if (!m_persistent) {
        QTimer::singleShot(0, this, [this, key] {
            const auto it = m_session.constFind(key);
            const bool found = it != m_session.constEnd();
            Q_EMIT readDone(key, found ? *it : QString(), found, QString());
        });
        return;
    }
    auto *job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [this, key](QKeychain::Job *j) {
        const auto *readJob = static_cast<QKeychain::ReadPasswordJob *>(j);
        if (j->error() == QKeychain::NoError) {
            Q_EMIT readDone(key, readJob->textData(), true, QString());
        } else if (j->error() == QKeychain::EntryNotFound) {
            Q_EMIT readDone(key, QString(), false, QString());
        } else if (noBackend(j)) {
            fallBackToMemory();
            const auto it = m_session.constFind(key);
            const bool found = it != m_session.constEnd();
            Q_EMIT readDone(key, found ? *it : QString(), found, QString());
        } else {
            Q_EMIT readDone(key, QString(), false, j->errorString());
        }
    });
    job->start();
}

void SecretStore::remove(const QString &key)
{
    if (!m_persistent) {
        m_session.remove(key);
        QTimer::singleShot(0, this, [this, key] { Q_EMIT removed(key, true, QString()); });
        return;
    }
    auto *job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [this, key](QKeychain::Job *j) {
        if (j->error() == QKeychain::NoError || j->error() == QKeychain::EntryNotFound) {
            Q_EMIT removed(key, true, QString());
        } else if (noBackend(j)) {
            fallBackToMemory();
            m_session.remove(key);
            Q_EMIT removed(key, true, QString());
        } else {
            Q_EMIT removed(key, false, j->errorString());
        }
    });
    job->start();
}

} // namespace studio::ui
