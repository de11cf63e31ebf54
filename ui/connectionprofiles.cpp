#include "ui/connectionprofiles.h"

#include <QSettings>
#include <QUuid>

namespace studio::ui {

core::ClusterConfig KafkaProfile::toClusterConfig(const QString &password) const
{
    core::ClusterConfig c;
    c.name = name.toStdString();
    c.bootstrap = bootstrap.trimmed().toStdString();
    const bool sasl = !saslMechanism.isEmpty();
    c.security =
        sasl ? (tls ? core::SecurityProtocol::SaslSsl : core::SecurityProtocol::SaslPlaintext)
             : (tls ? core::SecurityProtocol::Ssl : core::SecurityProtocol::Plaintext);
    if (sasl) {
        c.saslMechanism = saslMechanism.toStdString();
        c.saslUsername = username.toStdString();
        c.saslPassword = password.toStdString();
    }
    if (tls)
        c.sslCaLocation = caFile.toStdString();
    return c;
}

QStringList saslMechanisms()
{
    return {QString(), QStringLiteral("PLAIN"), QStringLiteral("SCRAM-SHA-256"),
            QStringLiteral("SCRAM-SHA-512")};
}

ConnectionProfiles::ConnectionProfiles(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int ConnectionProfiles::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_profiles.size());
}

int ConnectionProfiles::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConnectionProfiles::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const KafkaProfile &p = m_profiles.at(index.row());
    if (index.column() == Tls && role == Qt::CheckStateRole)
        return p.tls ? Qt::Checked : Qt::Unchecked;
    if (role != Qt::DisplayRole && role != Qt::EditRole)
        return {};
    switch (index.column()) {
    case Name:
        return p.name;
    case Bootstrap:
        return p.bootstrap;
    case SaslMechanism:
        return role == Qt::DisplayRole && p.saslMechanism.isEmpty() ? tr("none") : p.saslMechanism;
    case Username:
        return p.username;
    case Tls:
        return role == Qt::EditRole ? QVariant(p.tls) : QVariant(p.tls ? tr("on") : tr("off"));
    case CaFile:
        return p.caFile;
    default:
        return {};
    }
}

bool ConnectionProfiles::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    KafkaProfile &p = m_profiles[index.row()];
    const bool checkRole = role == Qt::CheckStateRole && index.column() == Tls;
    if (role != Qt::EditRole && !checkRole)
        return false;
    switch (index.column()) {
    case Name:
        p.name = value.toString();
        break;
    case Bootstrap:
        p.bootstrap = value.toString();
        break;
    case SaslMechanism: {
        const QString m = value.toString();
        if (!saslMechanisms().contains(m))
            return false;
        p.saslMechanism = m;
        break;
    }
    case Username:
        p.username = value.toString();
        break;
    case Tls:
        p.tls = checkRole ? value.toInt() == Qt::Checked : value.toBool();
        break;
    case CaFile:
        p.caFile = value.toString();
        break;
    default:
        return false;
    }
    Q_EMIT dataChanged(index, index, {Qt::DisplayRole, Qt::EditRole, Qt::CheckStateRole});
    return true;
}

Qt::ItemFlags ConnectionProfiles::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemIsEditable;
    if (index.column() == Tls)
        f |= Qt::ItemIsUserCheckable;
    return f;
}

QVariant ConnectionProfiles::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Name");
    case Bootstrap:
        return tr("Bootstrap");
    case SaslMechanism:
        return tr("SASL");
    case Username:
        return tr("User");
    case Tls:
        return tr("TLS");
    case CaFile:
        return tr("CA file");
    default:
        return {};
    }
}

int ConnectionProfiles::addProfile(KafkaProfile profile)
{
    if (profile.id.isEmpty())
        profile.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const int row = static_cast<int>(m_profiles.size());
    beginInsertRows({}, row, row);
    m_profiles.append(std::move(profile));
    endInsertRows();
    return row;
}

void ConnectionProfiles::removeProfile(int row)
{
    if (row < 0 || row >= m_profiles.size())
        return;
    beginRemoveRows({}, row, row);
    m_profiles.removeAt(row);
    endRemoveRows();
}

void ConnectionProfiles::load(QSettings &settings)
{
    beginResetModel();
    m_profiles.clear();
    settings.beginGroup(QStringLiteral("connections"));
    const int n = settings.beginReadArray(QStringLiteral("kafka"));
    for (int i = 0; i < n; ++i) {
        settings.setArrayIndex(i);
        KafkaProfile p;
        p.id = settings.value(QStringLiteral("id")).toString();
        if (p.id.isEmpty())
            p.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        p.name = settings.value(QStringLiteral("name")).toString();
        p.bootstrap = settings.value(QStringLiteral("bootstrap")).toString();
        p.saslMechanism = settings.value(QStringLiteral("saslMechanism")).toString();
        if (!saslMechanisms().contains(p.saslMechanism))
            p.saslMechanism.clear();
        p.username = settings.value(QStringLiteral("username")).toString();
        p.tls = settings.value(QStringLiteral("tls")).toBool();
        p.caFile = settings.value(QStringLiteral("caFile")).toString();
        m_profiles.append(p);
    }
    settings.endArray();
    m_postgresUri = settings.value(QStringLiteral("postgres/uri")).toString();
    m_redisUri = settings.value(QStringLiteral("redis/uri")).toString();
    m_redisUser = settings.value(QStringLiteral("redis/user")).toString();
    settings.endGroup();
    endResetModel();
}

void ConnectionProfiles::save(QSettings &settings) const
{
    settings.beginGroup(QStringLiteral("connections"));
    settings.remove(QStringLiteral("kafka"));
    settings.beginWriteArray(QStringLiteral("kafka"), static_cast<int>(m_profiles.size()));
    for (int i = 0; i < m_profiles.size(); ++i) {
        const KafkaProfile &p = m_profiles.at(i);
        settings.setArrayIndex(i);
        settings.setValue(QStringLiteral("id"), p.id);
        settings.setValue(QStringLiteral("name"), p.name);
        settings.setValue(QStringLiteral("bootstrap"), p.bootstrap);
        settings.setValue(QStringLiteral("saslMechanism"), p.saslMechanism);
        settings.setValue(QStringLiteral("username"), p.username);
        settings.setValue(QStringLiteral("tls"), p.tls);
        settings.setValue(QStringLiteral("caFile"), p.caFile);
    }
    settings.endArray();
    settings.setValue(QStringLiteral("postgres/uri"), m_postgresUri);
    settings.setValue(QStringLiteral("redis/uri"), m_redisUri);
    settings.setValue(QStringLiteral("redis/user"), m_redisUser);
    settings.endGroup();
}

} // namespace studio::ui
