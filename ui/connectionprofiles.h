#pragma once

#include "core/clusterconfig.h"

#include <QAbstractTableModel>
#include <QList>
#include <QString>

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
    /// Writes everything but passwords to `settings` (group "connections").
    void save(QSettings &settings) const;

private:
    QList<KafkaProfile> m_profiles;
    QString m_postgresUri;
    QString m_redisUri;
    QString m_redisUser;
};

inline const QString kPostgresPasswordKey = QStringLiteral("postgresql");
inline const QString kRedisPasswordKey = QStringLiteral("redis");

} // namespace studio::ui
