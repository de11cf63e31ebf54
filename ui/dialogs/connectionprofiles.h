#pragma once

#include "core/kafka/clusterconfig.h"

#include <QAbstractTableModel>
#include <QList>
#include <QString>

#include <optional>

class QSettings;

namespace studio::ui {

/// One Kafka cluster the user can connect to. No password here: it lives in the SecretStore
/// under passwordKey().
struct KafkaProfile
{
    QString id; ///< stable across renames (a UUID); keys the password
    QString name;
    QString bootstrap;
    QString saslMechanism; ///< "" = no SASL, "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"
    QString username;
    bool tls = false;
    QString caFile; ///< PEM file of the CA; "" = the system's

    QString passwordKey() const { return QStringLiteral("kafka/") + id; }
    /// The core config with `password` as the SASL password (security protocol from SASL + TLS).
    core::ClusterConfig toClusterConfig(const QString &password) const;
};

/// The SASL mechanisms offered, "" first (none).
QStringList saslMechanisms();

/// The connections file (File > Import connections… / Export connections…, and
/// deploy/clickstream-studio-profiles.json for the docker-compose stack): versioned JSON
///
///     {"format": "clickstream-studio-connections", "version": 1,
///      "kafka": [{"name": "...", "bootstrap": "HOST:PORT,...", "saslMechanism": "PLAIN",
///                 "username": "...", "tls": false, "caFile": ""}],
///      "postgresql": {"uri": "postgresql://USER@HOST:PORT/DB"},
///      "redis": {"uri": "redis://HOST:PORT/DB", "user": ""}}
///
/// Every key but "format", "version" and a profile's "name" and "bootstrap" is optional. It
/// never holds a password: a file with a password (or secret) field anywhere, or a password in
/// a URI, is refused, so none is ever read from or written to such a file.
inline const QString kConnectionsFileFormat = QStringLiteral("clickstream-studio-connections");
inline constexpr int kConnectionsFileVersion = 1;

/// What a connections file holds (the Kafka profiles without ids).
struct ConnectionsFile
{
    QList<KafkaProfile> kafka;
    std::optional<QString> postgresUri;
    std::optional<QString> redisUri;
    std::optional<QString> redisUser;
};

/// "" when `uri` (a libpq conninfo or postgresql:// URI) holds no password, else a message that
/// says where the password goes instead: addresses are kept in plain text (the settings file,
/// connection files), passwords only in the keychain. libpq's own parser decides.
QString postgresAddressPasswordProblem(const QString &uri);
/// The same for a Redis address (redis://USER:SECRET@HOST...).
QString redisAddressPasswordProblem(const QString &uri);

/// Parses and checks a connections file; std::nullopt and `*error` (one sentence naming the
/// offending field, never a value that could be a secret) when it is not one this app can use.
std::optional<ConnectionsFile> parseConnectionsFile(const QByteArray &json, QString *error);

class SecretStore;

/// The Kafka profile called `name` in the saved settings as a cluster config, with its SASL
/// password from CLICKSTREAM_SASL_PASSWORD or else `secrets` (waits for the keychain, at most
/// `timeoutMs`: for start-up, before any window). False with `*error` when there is no such
/// profile, no password for a SASL profile, or the profile is not usable.
bool resolveKafkaProfile(const QString &name, SecretStore &secrets, core::ClusterConfig *out,
                         QString *error, int timeoutMs = 15'000);

/// Connection profiles in QSettings, without passwords: several Kafka clusters (the rows of this
/// table model), one PostgreSQL URI, one Redis URI with its ACL user. Keys for the SecretStore:
/// KafkaProfile::passwordKey(), kPostgresPasswordKey, kRedisPasswordKey.
class ConnectionProfiles : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Name, Bootstrap, SaslMechanism, Username, Tls, CaFile, ColumnCount };

    explicit ConnectionProfiles(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    /// Appends a profile (a new id when it has none); its row.
    int addProfile(KafkaProfile profile);
    void removeProfile(int row);
    const KafkaProfile &profile(int row) const { return m_profiles.at(row); }
    const QList<KafkaProfile> &profiles() const { return m_profiles; }

    QString postgresUri() const { return m_postgresUri; }
    void setPostgresUri(const QString &uri) { m_postgresUri = uri; }
    QString redisUri() const { return m_redisUri; }
    void setRedisUri(const QString &uri) { m_redisUri = uri; }
    QString redisUser() const { return m_redisUser; }
    void setRedisUser(const QString &user) { m_redisUser = user; }

    /// Replaces everything with what `settings` holds (group "connections").
    void load(QSettings &settings);
    /// Writes everything but passwords to `settings` (group "connections"). An address with a
    /// password inside (see postgresAddressPasswordProblem()) is written as "", never as it is;
    /// the settings dialog refuses one before it gets here.
    void save(QSettings &settings) const;

    /// Everything but passwords (and ids) as a connections file; an address with a password
    /// inside is left out.
    QByteArray toConnectionsJson() const;
    /// Writes toConnectionsJson() to `path` (atomically); false and `*error` on failure, or when
    /// an address holds a password (the message says where it goes; nothing is written).
    bool exportConnections(const QString &path, QString *error) const;
    /// Merges a connections file: a Kafka profile with the name of an existing one updates it
    /// (keeping its id, so its password in the keychain stays), others are appended; the
    /// PostgreSQL and Redis URIs the file names replace the current ones. On any error nothing
    /// changes. `*message` tells what was imported or why the file was refused.
    bool importConnectionsJson(const QByteArray &json, QString *message);
    /// importConnectionsJson() of the file at `path` (the message names the file).
    bool importConnections(const QString &path, QString *message);

private:
    QList<KafkaProfile> m_profiles;
    QString m_postgresUri;
    QString m_redisUri;
    QString m_redisUser;
};

inline const QString kPostgresPasswordKey = QStringLiteral("postgresql");
inline const QString kRedisPasswordKey = QStringLiteral("redis");

} // namespace studio::ui
