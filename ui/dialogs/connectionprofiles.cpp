#include "ui/dialogs/connectionprofiles.h"

#include "ui/common/secretstore.h"

#include "core/monitor/connectiontest.h"
#include "core/store/targets.h"

#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSettings>
#include <QTimer>
#include <QUuid>

#include <algorithm>

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
    // The settings file is plain text: an address with a password in it is never written.
    settings.setValue(QStringLiteral("postgres/uri"),
                      postgresAddressPasswordProblem(m_postgresUri).isEmpty() ? m_postgresUri
                                                                              : QString());
    settings.setValue(QStringLiteral("redis/uri"),
                      redisAddressPasswordProblem(m_redisUri).isEmpty() ? m_redisUri : QString());
    settings.setValue(QStringLiteral("redis/user"), m_redisUser);
    settings.endGroup();
}

QString postgresAddressPasswordProblem(const QString &uri)
{
    const std::string address = uri.trimmed().toStdString();
    if (core::checkPostgresConninfo(address) != core::kPostgresConninfoHasPassword)
        return {};
    return QString::fromStdString(core::postgresAddressProblem(address));
}

QString redisAddressPasswordProblem(const QString &uri)
{
    const std::string address = uri.trimmed().toStdString();
    std::string why;
    if (address.empty() || core::parseRedisUri(address, &why) || why != core::kRedisUriHasPassword)
        return {};
    return QString::fromStdString(core::redisAddressProblem(address));
}

namespace {

constexpr qint64 kMaxConnectionsFileBytes = 1 << 20;

QString tr(const char *text)
{
    return ConnectionProfiles::tr(text);
}

// The path of the first key anywhere in `value` that names a password or secret, else "".
QString secretKeyPath(const QJsonValue &value, const QString &path)
{
    if (value.isObject()) {
        const QJsonObject o = value.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString key = it.key().toLower();
            const QString here =
                path.isEmpty() ? it.key() : QString(path + QLatin1Char('.') + it.key());
            if (key.contains(QLatin1String("password")) || key.contains(QLatin1String("secret")) ||
                key.contains(QLatin1String("passwd")) || key == QLatin1String("jaas"))
                return here;
            if (QString inner = secretKeyPath(it.value(), here); !inner.isEmpty())
                return inner;
        }
    } else if (value.isArray()) {
        const QJsonArray a = value.toArray();
        for (int i = 0; i < a.size(); ++i)
            if (QString inner = secretKeyPath(a.at(i), QStringLiteral("%1[%2]").arg(path).arg(i));
                !inner.isEmpty())
                return inner;
    }
    return {};
}

// Checks that `o` has only `allowed` keys; the first other one in `*unknown`.
bool onlyKeys(const QJsonObject &o, const QStringList &allowed, QString *unknown)
{
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!allowed.contains(it.key())) {
            *unknown = it.key();
            return false;
        }
    return true;
}

} // namespace

std::optional<ConnectionsFile> parseConnectionsFile(const QByteArray &json, QString *error)
{
    auto fail = [error](const QString &why) -> std::optional<ConnectionsFile> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (json.size() > kMaxConnectionsFileBytes)
        return fail(tr("it is larger than 1 MiB, too large for a connections file"));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return fail(tr("it is not valid JSON (%1 at byte %2)")
                        .arg(parseError.errorString())
                        .arg(parseError.offset));
    if (!doc.isObject())
        return fail(tr("it is not a JSON object"));
    const QJsonObject root = doc.object();
    // Before anything else, so that no field of a file with a secret is ever used.
    if (const QString key = secretKeyPath(root, {}); !key.isEmpty())
        return fail(tr("it contains a password field (%1); connection files never carry "
                       "passwords: remove it and type the password in File > Connections…, "
                       "which keeps it in the keychain")
                        .arg(key));
    if (root.value(QStringLiteral("format")).toString() != kConnectionsFileFormat)
        return fail(tr("it is not a Clickstream Studio connections file (\"format\" is not "
                       "\"%1\")")
                        .arg(kConnectionsFileFormat));
    const QJsonValue version = root.value(QStringLiteral("version"));
    if (!version.isDouble() || version.toDouble() != double(version.toInt()) || version.toInt() < 1)
        return fail(tr("its \"version\" is missing or not a positive integer"));
    if (version.toInt() > kConnectionsFileVersion)
        return fail(tr("it is version %1, written by a newer Clickstream Studio; this one reads "
                       "version %2")
                        .arg(version.toInt())
                        .arg(kConnectionsFileVersion));
    QString unknown;
    if (!onlyKeys(root,
                  {QStringLiteral("format"), QStringLiteral("version"), QStringLiteral("kafka"),
                   QStringLiteral("postgresql"), QStringLiteral("redis"),
                   QStringLiteral("comment")},
                  &unknown))
        return fail(tr("it has an unknown field \"%1\"").arg(unknown));

    ConnectionsFile out;
    const QJsonValue kafka = root.value(QStringLiteral("kafka"));
    if (!kafka.isUndefined() && !kafka.isArray())
        return fail(tr("\"kafka\" is not a list of profiles"));
    const QJsonArray profiles = kafka.toArray();
    for (int i = 0; i < profiles.size(); ++i) {
        const QString where = QStringLiteral("kafka[%1]").arg(i);
        if (!profiles.at(i).isObject())
            return fail(tr("%1 is not an object").arg(where));
        const QJsonObject o = profiles.at(i).toObject();
        if (!onlyKeys(o,
                      {QStringLiteral("name"), QStringLiteral("bootstrap"),
                       QStringLiteral("saslMechanism"), QStringLiteral("username"),
                       QStringLiteral("tls"), QStringLiteral("caFile"), QStringLiteral("comment")},
                      &unknown))
            return fail(tr("%1 has an unknown field \"%2\"").arg(where, unknown));
        auto text = [&o](const char *key, QString *value) {
            const QJsonValue v = o.value(QLatin1String(key));
            if (v.isUndefined())
                return true;
            if (!v.isString())
                return false;
            *value = v.toString().trimmed();
            return true;
        };
        KafkaProfile p;
        for (const auto &[key, field] :
             {std::pair{"name", &p.name}, std::pair{"bootstrap", &p.bootstrap},
              std::pair{"saslMechanism", &p.saslMechanism}, std::pair{"username", &p.username},
              std::pair{"caFile", &p.caFile}})
            if (!text(key, field))
                return fail(tr("%1.%2 is not a string").arg(where, QLatin1String(key)));
        const QJsonValue tls = o.value(QStringLiteral("tls"));
        if (!tls.isUndefined() && !tls.isBool())
            return fail(tr("%1.tls is not true or false").arg(where));
        p.tls = tls.toBool();
        if (p.name.isEmpty())
            return fail(tr("%1 has no name").arg(where));
        for (const KafkaProfile &before : out.kafka)
            if (before.name == p.name)
                return fail(tr("two Kafka profiles are named \"%1\"").arg(p.name));
        p.saslMechanism = p.saslMechanism.toUpper();
        if (!saslMechanisms().contains(p.saslMechanism))
            return fail(tr("%1 (\"%2\"): the SASL mechanism must be PLAIN, SCRAM-SHA-256 or "
                           "SCRAM-SHA-512")
                            .arg(where, p.name));
        // The password is typed later; a stand-in lets the core check everything else.
        const std::string problem = p.toClusterConfig(QStringLiteral("stand-in")).validate();
        if (!problem.empty())
            return fail(tr("%1 (\"%2\"): %3").arg(where, p.name, QString::fromStdString(problem)));
        out.kafka.append(p);
    }

    const QJsonValue postgres = root.value(QStringLiteral("postgresql"));
    if (!postgres.isUndefined()) {
        if (!postgres.isObject() ||
            !onlyKeys(postgres.toObject(), {QStringLiteral("uri")}, &unknown) ||
            !postgres.toObject().value(QStringLiteral("uri")).isString())
            return fail(tr("\"postgresql\" must be {\"uri\": \"...\"}"));
        const QString uri = postgres.toObject().value(QStringLiteral("uri")).toString().trimmed();
        if (const std::string why = core::checkPostgresConninfo(uri.toStdString()); !why.empty())
            return fail(why == core::kPostgresConninfoHasPassword
                            ? tr("postgresql.uri contains a password; connection files never "
                                 "carry passwords: remove it and type the password in File > "
                                 "Connections…")
                            : tr("postgresql.uri: %1").arg(QString::fromStdString(why)));
        out.postgresUri = uri;
    }
    const QJsonValue redis = root.value(QStringLiteral("redis"));
    if (!redis.isUndefined()) {
        const QJsonObject o = redis.toObject();
        if (!redis.isObject() ||
            !onlyKeys(o, {QStringLiteral("uri"), QStringLiteral("user")}, &unknown) ||
            !o.value(QStringLiteral("uri")).isString() ||
            !(o.value(QStringLiteral("user")).isUndefined() ||
              o.value(QStringLiteral("user")).isString()))
            return fail(tr("\"redis\" must be {\"uri\": \"...\", \"user\": \"...\"}"));
        const QString uri = o.value(QStringLiteral("uri")).toString().trimmed();
        if (!uri.isEmpty()) {
            std::string why;
            if (!core::parseRedisUri(uri.toStdString(), &why))
                return fail(why == core::kRedisUriHasPassword
                                ? tr("redis.uri contains a password; connection files never "
                                     "carry passwords: remove it and type the password in "
                                     "File > Connections…")
                                : tr("redis.uri: %1").arg(QString::fromStdString(why)));
        }
        out.redisUri = uri;
        out.redisUser = o.value(QStringLiteral("user")).toString().trimmed();
    }
    if (out.kafka.isEmpty() && !out.postgresUri && !out.redisUri)
        return fail(tr("it names no Kafka profile, PostgreSQL or Redis"));
    return out;
}

QByteArray ConnectionProfiles::toConnectionsJson() const
{
    QJsonArray kafka;
    for (const KafkaProfile &p : m_profiles) {
        QJsonObject o{{QStringLiteral("name"), p.name}, {QStringLiteral("bootstrap"), p.bootstrap}};
        if (!p.saslMechanism.isEmpty()) {
            o.insert(QStringLiteral("saslMechanism"), p.saslMechanism);
            o.insert(QStringLiteral("username"), p.username);
        }
        o.insert(QStringLiteral("tls"), p.tls);
        if (!p.caFile.isEmpty())
            o.insert(QStringLiteral("caFile"), p.caFile);
        kafka.append(o);
    }
    QJsonObject root{{QStringLiteral("format"), kConnectionsFileFormat},
                     {QStringLiteral("version"), kConnectionsFileVersion},
                     {QStringLiteral("kafka"), kafka}};
    // A connections file never holds a password: an address with one is left out
    // (exportConnections() refuses to write such a file at all).
    if (!m_postgresUri.isEmpty() && postgresAddressPasswordProblem(m_postgresUri).isEmpty())
        root.insert(QStringLiteral("postgresql"),
                    QJsonObject{{QStringLiteral("uri"), m_postgresUri}});
    if (!m_redisUri.isEmpty() && redisAddressPasswordProblem(m_redisUri).isEmpty())
        root.insert(QStringLiteral("redis"), QJsonObject{{QStringLiteral("uri"), m_redisUri},
                                                         {QStringLiteral("user"), m_redisUser}});
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

bool ConnectionProfiles::exportConnections(const QString &path, QString *error) const
{
    for (const QString &problem :
         {postgresAddressPasswordProblem(m_postgresUri), redisAddressPasswordProblem(m_redisUri)}) {
        if (!problem.isEmpty()) {
            if (error)
                *error = tr("Not exported: connection files never hold passwords. %1").arg(problem);
            return false;
        }
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(toConnectionsJson()) < 0 || !file.commit()) {
        if (error)
            *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool ConnectionProfiles::importConnectionsJson(const QByteArray &json, QString *message)
{
    QString why;
    const std::optional<ConnectionsFile> file = parseConnectionsFile(json, &why);
    if (!file) {
        if (message)
            *message = tr("Nothing was imported: %1.").arg(why);
        return false;
    }
    int added = 0;
    int updated = 0;
    for (const KafkaProfile &incoming : file->kafka) {
        auto same = std::find_if(m_profiles.begin(), m_profiles.end(),
                                 [&](const KafkaProfile &p) { return p.name == incoming.name; });
        if (same == m_profiles.end()) {
            addProfile(incoming);
            ++added;
            continue;
        }
        KafkaProfile merged = incoming;
        merged.id = same->id; // its password in the keychain stays with it
        *same = merged;
        const int row = static_cast<int>(same - m_profiles.begin());
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        ++updated;
    }
    QStringList parts;
    parts << tr("%n Kafka profile(s) added", nullptr, added);
    if (updated)
        parts << tr("%n updated", nullptr, updated);
    if (file->postgresUri) {
        m_postgresUri = *file->postgresUri;
        parts << tr("PostgreSQL %1").arg(m_postgresUri);
    }
    if (file->redisUri) {
        m_redisUri = *file->redisUri;
        m_redisUser = file->redisUser.value_or(QString());
        parts << tr("Redis %1").arg(m_redisUri);
    }
    if (message)
        *message = tr("Imported: %1. Passwords are not in connection files: enter them in File > "
                      "Connections….")
                       .arg(parts.join(QStringLiteral(", ")));
    return true;
}

bool ConnectionProfiles::importConnections(const QString &path, QString *message)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (message)
            *message =
                tr("Nothing was imported: cannot read %1: %2.").arg(path, file.errorString());
        return false;
    }
    if (file.size() > kMaxConnectionsFileBytes) {
        if (message)
            *message = tr("Nothing was imported: %1 is larger than 1 MiB, too large for a "
                          "connections file.")
                           .arg(QFileInfo(path).fileName());
        return false;
    }
    QString inner;
    const bool ok = importConnectionsJson(file.readAll(), &inner);
    if (message)
        *message = ok ? inner : tr("%1 was refused. %2").arg(QFileInfo(path).fileName(), inner);
    return ok;
}

bool resolveKafkaProfile(const QString &name, SecretStore &secrets, core::ClusterConfig *out,
                         QString *error, int timeoutMs)
{
    ConnectionProfiles profiles;
    QSettings settings;
    profiles.load(settings);
    const KafkaProfile *found = nullptr;
    QStringList names;
    for (const KafkaProfile &p : profiles.profiles()) {
        names << QLatin1Char('"') + p.name + QLatin1Char('"');
        if (p.name == name)
            found = &p;
    }
    if (!found) {
        *error = names.isEmpty()
                     ? QObject::tr("no Kafka profile named \"%1\": none is saved (File > "
                                   "Connections… or File > Import connections… adds them)")
                           .arg(name)
                     : QObject::tr("no Kafka profile named \"%1\"; saved profiles: %2")
                           .arg(name, names.join(QStringLiteral(", ")));
        return false;
    }
    QString password = qEnvironmentVariable("CLICKSTREAM_SASL_PASSWORD");
    if (!found->saslMechanism.isEmpty() && password.isEmpty()) {
        QEventLoop loop;
        bool answered = false;
        QString why;
        const QString key = found->passwordKey();
        QObject::connect(&secrets, &SecretStore::readDone, &loop,
                         [&](const QString &k, const QString &secret, bool, const QString &e) {
                             if (k != key)
                                 return;
                             answered = true;
                             password = secret;
                             why = e;
                             loop.quit();
                         });
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        secrets.read(key);
        if (!answered)
            loop.exec();
        if (password.isEmpty()) {
            *error = QObject::tr("Kafka profile \"%1\" uses SASL but has no password: %2 "
                                 "(store it in File > Connections…, or set "
                                 "CLICKSTREAM_SASL_PASSWORD)")
                         .arg(name, !answered       ? QObject::tr("the keychain did not answer")
                                    : why.isEmpty() ? QObject::tr("none in the keychain")
                                                    : why);
            return false;
        }
    }
    core::ClusterConfig config = found->toClusterConfig(password);
    if (const std::string problem = config.validate(); !problem.empty()) {
        *error = QObject::tr("Kafka profile \"%1\": %2").arg(name, QString::fromStdString(problem));
        return false;
    }
    *out = std::move(config);
    return true;
}

} // namespace studio::ui
