// GUI issue 6, settings: the keychain adapter (a real Secret Service and none at all), the
// connection profiles model, the settings dialog, and the connection tests against real servers.
#include "serversupport.h"

#include "core/engine/studioengine.h"
#include "core/kafka/embeddedbroker.h"
#include "core/monitor/connectiontest.h"
#include "core/store/targets.h"
#include "ui/common/secretstore.h"
#include "ui/dialogs/connectionprofiles.h"
#include "ui/dialogs/settingsdialog.h"

#include <catch2/catch.hpp>

#include <QAbstractItemModelTester>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace studio;
using namespace std::chrono_literals;

namespace {

// A unique keychain service per run, so a test never reads a leftover entry.
QString testService()
{
    return QStringLiteral("Clickstream Studio test ") +
           QUuid::createUuid().toString(QUuid::WithoutBraces);
}

// QSettings() of the code under test goes to a fresh directory.
struct TempSettings
{
    QTemporaryDir dir;
    TempSettings()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("ClickstreamStudioTest"));
        QCoreApplication::setApplicationName(QStringLiteral("settings"));
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir.path());
        QSettings().clear();
    }
    QString fileName() const { return QSettings().fileName(); }
    QByteArray contents() const
    {
        QSettings().sync();
        QFile f(fileName());
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
};

struct ReadAnswer
{
    QString secret;
    bool found = false;
    QString error;
};

ReadAnswer readSecret(ui::SecretStore &store, const QString &key)
{
    QSignalSpy spy(&store, &ui::SecretStore::readDone);
    store.read(key);
    REQUIRE((spy.count() > 0 || spy.wait(10'000)));
    const QList<QVariant> args = spy.takeFirst();
    REQUIRE(args.at(0).toString() == key);
    return {args.at(1).toString(), args.at(2).toBool(), args.at(3).toString()};
}

void writeSecret(ui::SecretStore &store, const QString &key, const QString &secret)
{
    QSignalSpy spy(&store, &ui::SecretStore::written);
    store.write(key, secret);
    REQUIRE((spy.count() > 0 || spy.wait(10'000)));
    const QList<QVariant> args = spy.takeFirst();
    INFO(args.at(2).toString().toStdString());
    REQUIRE(args.at(1).toBool());
}

void removeSecret(ui::SecretStore &store, const QString &key)
{
    QSignalSpy spy(&store, &ui::SecretStore::removed);
    store.remove(key);
    REQUIRE((spy.count() > 0 || spy.wait(10'000)));
    REQUIRE(spy.takeFirst().at(1).toBool());
}

} // namespace

TEST_CASE("SecretStore round trip against a real Secret Service", "[.keyring][keyring]")
{
    // Only meaningful inside tests/with_keyring.sh (ctest: ui_settings_keyring).
    REQUIRE(qEnvironmentVariableIsSet("STUDIO_TEST_KEYRING"));
    TempSettings settings;
    ui::SecretStore store(testService());
    const QString secret = QStringLiteral("kafka-Sëcret-%1").arg(QUuid::createUuid().toString());

    writeSecret(store, QStringLiteral("kafka/one"), secret);
    CHECK(store.persistent());
    CHECK(store.statusMessage().isEmpty());

    // A second store (another run of the app) reads it from the keyring, not from memory.
    ui::SecretStore later(store.service());
    ReadAnswer a = readSecret(later, QStringLiteral("kafka/one"));
    CHECK(a.found);
    CHECK(a.secret == secret);
    CHECK(later.persistent());

    removeSecret(later, QStringLiteral("kafka/one"));
    a = readSecret(store, QStringLiteral("kafka/one"));
    CHECK_FALSE(a.found);
    CHECK(a.error.isEmpty());
    CHECK(store.persistent());
    // Nothing of it in the settings file.
    CHECK_FALSE(settings.contents().contains(secret.toUtf8()));

    // The settings dialog writes through to the keyring on OK.
    // (keyClicks types ASCII only.)
    const QString typed = QStringLiteral("pg-%1").arg(QUuid::createUuid().toString());
    ui::ConnectionProfiles profiles;
    {
        ui::SettingsDialog dialog(&profiles, &store);
        QList<QLineEdit *> passwords;
        for (QLineEdit *edit : dialog.findChildren<QLineEdit *>())
            if (edit->echoMode() == QLineEdit::Password)
                passwords << edit;
        REQUIRE(passwords.size() == 3);
        QTest::keyClicks(passwords[1], typed); // PostgreSQL
        QSignalSpy written(&store, &ui::SecretStore::written);
        dialog.accept();
        REQUIRE((written.count() > 0 || written.wait(10'000)));
        CHECK(written.at(0).at(1).toBool());
    }
    ui::SecretStore third(store.service());
    a = readSecret(third, ui::kPostgresPasswordKey);
    CHECK(a.found);
    CHECK(a.secret == typed);
    CHECK(third.persistent());
    removeSecret(third, ui::kPostgresPasswordKey);
    CHECK_FALSE(settings.contents().contains(typed.toUtf8()));
}

TEST_CASE("SecretStore without a keychain service keeps secrets for the session", "[ui][settings]")
{
    // A session bus address where nothing listens: what a headless box without D-Bus looks like.
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/studio-test-bus");
    TempSettings settings;
    ui::SecretStore store(testService());
    QSignalSpy changed(&store, &ui::SecretStore::persistenceChanged);
    const QString secret = QStringLiteral("pg-secret-%1").arg(QUuid::createUuid().toString());

    writeSecret(store, ui::kPostgresPasswordKey, secret);
    CHECK_FALSE(store.persistent());
    CHECK(changed.count() == 1);
    CHECK(store.statusMessage() ==
          QStringLiteral("No keychain service: passwords are kept for this session only"));
    ReadAnswer a = readSecret(store, ui::kPostgresPasswordKey);
    CHECK(a.found);
    CHECK(a.secret == secret);
    removeSecret(store, ui::kPostgresPasswordKey);
    CHECK_FALSE(readSecret(store, ui::kPostgresPasswordKey).found);
    CHECK_FALSE(settings.contents().contains(secret.toUtf8()));

    SECTION("the settings dialog shows it, and keeps passwords out of QSettings")
    {
        ui::ConnectionProfiles profiles;
        ui::KafkaProfile kafka;
        kafka.name = QStringLiteral("prod");
        kafka.bootstrap = QStringLiteral("kafka-1.example:9093");
        kafka.saslMechanism = QStringLiteral("SCRAM-SHA-512");
        kafka.username = QStringLiteral("studio");
        kafka.tls = true;
        profiles.addProfile(kafka);
        ui::SettingsDialog dialog(&profiles, &store);
        dialog.show();
        QCoreApplication::processEvents();
        bool shown = false;
        for (const QLabel *label : dialog.findChildren<QLabel *>())
            shown = shown || (label->isVisible() && label->text() == store.statusMessage());
        CHECK(shown);
        if (const QString dir = qEnvironmentVariable("STUDIO_SCREENSHOT_DIR"); !dir.isEmpty())
            dialog.grab().save(dir + QStringLiteral("/settings-dialog.png"));

        // Type the passwords as a user would, then OK.
        QLineEdit *pgUri = nullptr;
        QList<QLineEdit *> passwords;
        for (QLineEdit *edit : dialog.findChildren<QLineEdit *>()) {
            if (edit->echoMode() == QLineEdit::Password)
                passwords << edit;
            else if (edit->placeholderText().startsWith(QStringLiteral("postgresql://")))
                pgUri = edit;
        }
        REQUIRE(pgUri);
        REQUIRE(passwords.size() == 3); // Kafka, PostgreSQL, Redis
        pgUri->setText(QStringLiteral("postgresql://studio@127.0.0.1:5432/studio"));
        const QString typed = QStringLiteral("typed-%1").arg(QUuid::createUuid().toString());
        for (QLineEdit *edit : passwords) {
            edit->clear();
            QTest::keyClicks(edit, typed); // textEdited fires, as for typing
        }
        QSignalSpy chosen(&dialog, &ui::SettingsDialog::sinkConfigurationChosen);
        dialog.accept();
        REQUIRE(chosen.count() == 1);
        const auto c = chosen.takeFirst().at(0).value<ui::SinkConfiguration>();
        CHECK(c.postgresUri == QStringLiteral("postgresql://studio@127.0.0.1:5432/studio"));
        CHECK(c.postgresPassword == typed);
        QTest::qWait(50); // the queued secret writes
        CHECK(readSecret(store, ui::kPostgresPasswordKey).secret == typed);
        CHECK(readSecret(store, profiles.profile(0).passwordKey()).secret == typed);

        const QByteArray file = settings.contents();
        CHECK(file.contains("kafka-1.example:9093"));
        CHECK(file.contains("SCRAM-SHA-512"));
        CHECK(file.contains("postgresql://studio@127.0.0.1:5432/studio"));
        CHECK_FALSE(file.contains(typed.toUtf8()));

        // Opened again, the dialog fills the password fields from the store.
        ui::SettingsDialog again(&profiles, &store);
        QTest::qWait(50);
        QStringList shownPasswords;
        for (QLineEdit *edit : again.findChildren<QLineEdit *>())
            if (edit->echoMode() == QLineEdit::Password)
                shownPasswords << edit->text();
        CHECK(shownPasswords == QStringList{typed, typed, typed});

        // A profile removed on OK takes its password with it.
        const QString kafkaKey = profiles.profile(0).passwordKey();
        QPushButton *remove = nullptr;
        for (QPushButton *button : again.findChildren<QPushButton *>())
            if (button->text() == QStringLiteral("Remove"))
                remove = button;
        REQUIRE(remove);
        remove->click();
        CHECK(profiles.rowCount() == 0);
        again.accept();
        QTest::qWait(50);
        CHECK_FALSE(readSecret(store, kafkaKey).found);
        CHECK(readSecret(store, ui::kPostgresPasswordKey).found);
    }
}

TEST_CASE("ConnectionProfiles is a well-behaved model saved without passwords", "[ui][settings]")
{
    TempSettings temp;
    ui::ConnectionProfiles profiles;
    QAbstractItemModelTester tester(&profiles,
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    ui::KafkaProfile a;
    a.name = QStringLiteral("local");
    a.bootstrap = QStringLiteral("127.0.0.1:9092");
    ui::KafkaProfile b;
    b.name = QStringLiteral("prod");
    b.bootstrap = QStringLiteral("b1:9093,b2:9093");
    b.saslMechanism = QStringLiteral("SCRAM-SHA-256");
    b.username = QStringLiteral("alice");
    b.tls = true;
    b.caFile = QStringLiteral("/etc/ssl/prod-ca.pem");
    CHECK(profiles.addProfile(a) == 0);
    CHECK(profiles.addProfile(b) == 1);
    CHECK(profiles.rowCount() == 2);
    CHECK_FALSE(profiles.profile(0).id.isEmpty());
    CHECK(profiles.profile(0).id != profiles.profile(1).id);
    CHECK(profiles.data(profiles.index(0, ui::ConnectionProfiles::SaslMechanism)).toString() ==
          QStringLiteral("none"));
    CHECK(profiles.data(profiles.index(1, ui::ConnectionProfiles::Tls), Qt::CheckStateRole) ==
          Qt::Checked);
    // Only the offered SASL mechanisms are accepted.
    CHECK_FALSE(profiles.setData(profiles.index(0, ui::ConnectionProfiles::SaslMechanism),
                                 QStringLiteral("GSSAPI")));
    CHECK(profiles.setData(profiles.index(0, ui::ConnectionProfiles::SaslMechanism),
                           QStringLiteral("PLAIN")));

    const core::ClusterConfig cluster = profiles.profile(1).toClusterConfig(QStringLiteral("pw"));
    CHECK(cluster.security == core::SecurityProtocol::SaslSsl);
    CHECK(cluster.saslMechanism == "SCRAM-SHA-256");
    CHECK(cluster.saslPassword == "pw");
    CHECK(cluster.sslCaLocation == "/etc/ssl/prod-ca.pem");
    CHECK(cluster.validate().empty());

    profiles.setPostgresUri(QStringLiteral("host=db dbname=studio user=studio"));
    profiles.setRedisUri(QStringLiteral("redis://cache:6380/2"));
    profiles.setRedisUser(QStringLiteral("writer"));
    {
        QSettings s;
        profiles.save(s);
    }
    ui::ConnectionProfiles loaded;
    QAbstractItemModelTester loadedTester(&loaded,
                                          QAbstractItemModelTester::FailureReportingMode::Fatal);
    {
        QSettings s;
        loaded.load(s);
    }
    REQUIRE(loaded.rowCount() == 2);
    CHECK(loaded.profile(1).id == profiles.profile(1).id);
    CHECK(loaded.profile(1).bootstrap == b.bootstrap);
    CHECK(loaded.profile(1).tls);
    CHECK(loaded.profile(0).saslMechanism == QStringLiteral("PLAIN"));
    CHECK(loaded.redisUri() == QStringLiteral("redis://cache:6380/2"));
    CHECK(loaded.redisUser() == QStringLiteral("writer"));
    CHECK(loaded.postgresUri() == QStringLiteral("host=db dbname=studio user=studio"));
    CHECK_FALSE(temp.contents().contains("pw"));

    loaded.removeProfile(0);
    CHECK(loaded.rowCount() == 1);
    CHECK(loaded.profile(0).name == QStringLiteral("prod"));
}

// Regression: OK saved PostgreSQL and Redis addresses with a password inside to the plain-text
// settings file ("postgresql://u:pw@h/db", "redis://:pw@h").
TEST_CASE("The settings dialog refuses an address with a password and writes none of it",
          "[ui][settings][secrets]")
{
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/studio-test-bus");
    TempSettings settings;
    ui::SecretStore store(testService());
    ui::ConnectionProfiles profiles;
    const QString secret = QStringLiteral("Hunter2-Sekrit-%1").arg(QUuid::createUuid().toString());
    const QString pgPlain = QStringLiteral("postgresql://studio@127.0.0.1:5432/studio");
    const QString redisPlain = QStringLiteral("redis://writer@127.0.0.1:6379/0");
    struct Case
    {
        QString postgres, redis, field;
    };
    const std::vector<Case> cases = {
        {QStringLiteral("postgresql://studio:%1@127.0.0.1:5432/studio").arg(secret), redisPlain,
         QStringLiteral("PostgreSQL")},
        {QStringLiteral("postgres://studio:%1@db/studio").arg(secret), QString(),
         QStringLiteral("PostgreSQL")},
        {QStringLiteral("host=127.0.0.1 dbname=studio user=studio password=%1").arg(secret),
         QString(), QStringLiteral("PostgreSQL")},
        {QStringLiteral("postgresql://studio@db/studio?password=%1").arg(secret), QString(),
         QStringLiteral("PostgreSQL")},
        {pgPlain, QStringLiteral("redis://:%1@127.0.0.1:6379/0").arg(secret),
         QStringLiteral("Redis")},
        {QString(), QStringLiteral("redis://writer:%1@cache:6380").arg(secret),
         QStringLiteral("Redis")},
    };
    for (const Case &c : cases) {
        INFO(c.postgres.toStdString() << " | " << c.redis.toStdString());
        ui::SettingsDialog dialog(&profiles, &store);
        dialog.show();
        QLineEdit *pgUri = nullptr, *redisUri = nullptr;
        for (QLineEdit *edit : dialog.findChildren<QLineEdit *>()) {
            if (edit->placeholderText().startsWith(QStringLiteral("postgresql://")))
                pgUri = edit;
            else if (edit->placeholderText().startsWith(QStringLiteral("redis://")))
                redisUri = edit;
        }
        REQUIRE(pgUri);
        REQUIRE(redisUri);
        pgUri->setText(c.postgres);
        redisUri->setText(c.redis);
        QSignalSpy chosen(&dialog, &ui::SettingsDialog::sinkConfigurationChosen);
        QSignalSpy refused(&dialog, &ui::SettingsDialog::refused);
        dialog.accept();
        CHECK(chosen.isEmpty());
        REQUIRE(refused.count() == 1);
        const QString message = refused.takeFirst().at(1).toString();
        CHECK(message.contains(c.field + QStringLiteral(" address contains a password")));
        CHECK(message.contains(QStringLiteral("Password field")));
        CHECK(message.contains(QStringLiteral("keychain")));
        CHECK_FALSE(message.contains(secret));
        CHECK(dialog.isVisible()); // still open: the user fixes the address
        CHECK(dialog.result() != QDialog::Accepted);
        bool shown = false;
        for (const QLabel *label : dialog.findChildren<QLabel *>())
            shown = shown || (label->isVisible() && label->text() == message);
        CHECK(shown);
        // Read the settings file back: the password is nowhere in it.
        CHECK_FALSE(settings.contents().contains(secret.toUtf8()));
    }

    // Fixed as the message says (address without it, the password in its field): OK goes through.
    ui::SettingsDialog dialog(&profiles, &store);
    QLineEdit *pgUri = nullptr;
    QList<QLineEdit *> passwords;
    for (QLineEdit *edit : dialog.findChildren<QLineEdit *>()) {
        if (edit->echoMode() == QLineEdit::Password)
            passwords << edit;
        else if (edit->placeholderText().startsWith(QStringLiteral("postgresql://")))
            pgUri = edit;
    }
    REQUIRE(pgUri);
    REQUIRE(passwords.size() == 3);
    pgUri->setText(pgPlain);
    QTest::keyClicks(passwords[1], secret);
    QSignalSpy chosen(&dialog, &ui::SettingsDialog::sinkConfigurationChosen);
    dialog.accept();
    REQUIRE(chosen.count() == 1);
    CHECK(chosen.takeFirst().at(0).value<ui::SinkConfiguration>().postgresPassword == secret);
    const QByteArray file = settings.contents();
    CHECK(file.contains(pgPlain.toUtf8()));
    CHECK_FALSE(file.contains(secret.toUtf8()));
}

// Regression: export wrote the addresses as they were into the connections file, which promises
// never to hold a password.
TEST_CASE("Exporting connections never writes an address with a password",
          "[ui][settings][secrets]")
{
    TempSettings settings;
    QTemporaryDir dir;
    const QString secret = QStringLiteral("Hunter2-Sekrit-x9");
    for (const auto &[postgres, redis] :
         {std::pair{QStringLiteral("postgresql://alice:%1@db:5432/studio").arg(secret), QString()},
          std::pair{QStringLiteral("host=db user=alice password=%1").arg(secret), QString()},
          std::pair{QString(), QStringLiteral("redis://:%1@cache:6379/0").arg(secret)}}) {
        INFO(postgres.toStdString() << " | " << redis.toStdString());
        ui::ConnectionProfiles profiles; // e.g. loaded from a settings file an older version wrote
        ui::KafkaProfile kafka;
        kafka.name = QStringLiteral("local");
        kafka.bootstrap = QStringLiteral("127.0.0.1:9092");
        profiles.addProfile(kafka);
        profiles.setPostgresUri(postgres);
        profiles.setRedisUri(redis);
        const QString path = dir.filePath(QStringLiteral("connections.json"));
        QString error;
        CHECK_FALSE(profiles.exportConnections(path, &error));
        CHECK(error.contains(QStringLiteral("never hold passwords")));
        CHECK(error.contains(QStringLiteral("Password field")));
        CHECK_FALSE(error.contains(secret));
        CHECK_FALSE(QFile::exists(path));
        CHECK_FALSE(profiles.toConnectionsJson().contains(secret.toUtf8()));
        // Nor does the settings file get it.
        {
            QSettings s;
            profiles.save(s);
        }
        CHECK_FALSE(settings.contents().contains(secret.toUtf8()));
        CHECK(settings.contents().contains("127.0.0.1:9092"));
    }
    // Without a password the same export works and reads back.
    ui::ConnectionProfiles profiles;
    profiles.setPostgresUri(QStringLiteral("postgresql://alice@db:5432/studio"));
    const QString path = dir.filePath(QStringLiteral("ok.json"));
    QString error;
    REQUIRE(profiles.exportConnections(path, &error));
    ui::ConnectionProfiles back;
    QString message;
    REQUIRE(back.importConnections(path, &message));
    CHECK(back.postgresUri() == QStringLiteral("postgresql://alice@db:5432/studio"));
}

TEST_CASE("connection tests against a real PostgreSQL", "[ui][settings][servers]")
{
    std::string why;
    if (!test::PostgresServer::available(&why)) {
        WARN(why);
        return;
    }
    test::PostgresServer pg;
    std::string error;
    REQUIRE(pg.start(&error));
    const std::string conninfo = pg.connectionString();

    const core::ConnectionTestResult ok = core::testPostgres(conninfo, pg.password());
    INFO(ok.message);
    CHECK(ok.ok);
    CHECK(ok.message.find("PostgreSQL at") == 0);
    CHECK(ok.message.find("no schema yet") != std::string::npos);
    CHECK(ok.latencyMs > 0);

    const core::ConnectionTestResult wrong = core::testPostgres(conninfo, "not-the-password");
    INFO(wrong.message);
    CHECK_FALSE(wrong.ok);
    CHECK(wrong.message.find("PostgreSQL at") == 0);
    CHECK(wrong.message.find("wrong password") != std::string::npos);
    CHECK(wrong.message.find("not-the-password") == std::string::npos);

    // A database the role may not connect to.
    REQUIRE(pg.psql("CREATE DATABASE locked; REVOKE CONNECT ON DATABASE locked FROM PUBLIC;",
                    &error, "postgres"));
    const core::ConnectionTestResult denied = core::testPostgres(
        "host=127.0.0.1 port=" + std::to_string(pg.port()) + " dbname=locked user=" + pg.user(),
        pg.password());
    INFO(denied.message);
    CHECK_FALSE(denied.ok);
    CHECK(denied.message.find("no permission") != std::string::npos);

    // Nothing listens: fails fast with "unreachable".
    const int closedPort = test::serverdetail::freeLoopbackPort();
    QElapsedTimer timer;
    timer.start();
    const core::ConnectionTestResult down = core::testPostgres(
        "host=127.0.0.1 port=" + std::to_string(closedPort) + " dbname=x user=y", "pw", 3s);
    INFO(down.message);
    CHECK_FALSE(down.ok);
    CHECK(down.message.find("unreachable") != std::string::npos);
    CHECK(timer.elapsed() < 5000);

    // A server that accepts and never answers: bounded by the timeout.
    test::SilentTcpServer silent;
    timer.restart();
    const core::ConnectionTestResult hung = core::testPostgres(
        "host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=x user=y", "pw", 2s);
    INFO(hung.message);
    CHECK_FALSE(hung.ok);
    CHECK(timer.elapsed() < 6000);

    SECTION("the dialog's Test button runs it off the GUI thread and shows the answer")
    {
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/studio-test-bus");
        TempSettings settings;
        ui::ConnectionProfiles profiles;
        profiles.setPostgresUri(QString::fromStdString(conninfo));
        ui::SecretStore store(testService());
        ui::SettingsDialog dialog(&profiles, &store);
        // The PostgreSQL password field is the second password field (after Kafka's).
        QList<QLineEdit *> passwords;
        for (QLineEdit *edit : dialog.findChildren<QLineEdit *>())
            if (edit->echoMode() == QLineEdit::Password)
                passwords << edit;
        REQUIRE(passwords.size() == 3);
        passwords[1]->setText(QString::fromStdString(pg.password()));
        QSignalSpy finished(&dialog, &ui::SettingsDialog::testFinished);
        QElapsedTimer gui;
        gui.start();
        dialog.testPostgres();
        CHECK(gui.elapsed() < 200); // returned at once: the test runs on a worker
        REQUIRE(finished.wait(10'000));
        const QList<QVariant> args = finished.takeFirst();
        CHECK(args.at(0).toString() == QStringLiteral("postgresql"));
        CHECK(args.at(1).toBool());
        bool green = false;
        for (const QLabel *label : dialog.findChildren<QLabel *>())
            green = green || (label->text().contains(QStringLiteral(" ms)")) &&
                              label->styleSheet().contains(QStringLiteral("#1a7f37")));
        CHECK(green);

        passwords[1]->setText(QStringLiteral("wrong-one"));
        dialog.testPostgres();
        REQUIRE(finished.wait(10'000));
        const QList<QVariant> bad = finished.takeFirst();
        CHECK_FALSE(bad.at(1).toBool());
        CHECK(bad.at(2).toString().contains(QStringLiteral("wrong password")));
    }
}

TEST_CASE("connection tests against a real Redis", "[ui][settings][servers]")
{
    std::string why;
    if (!test::RedisServer::available(&why)) {
        WARN(why);
        return;
    }
    test::RedisServer::Options options;
    options.password = "default-secret";
    options.aclUser = "writer";
    options.aclPassword = "writer-secret";
    test::RedisServer redis(options);
    std::string error;
    REQUIRE(redis.start(&error));
    const std::string uri = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";

    const core::ConnectionTestResult ok = core::testRedis(uri, "", "default-secret");
    INFO(ok.message);
    CHECK(ok.ok);
    CHECK(ok.message.find("Redis at 127.0.0.1:") == 0);

    const core::ConnectionTestResult acl = core::testRedis(uri, "writer", "writer-secret");
    INFO(acl.message);
    CHECK(acl.ok);

    const core::ConnectionTestResult wrong = core::testRedis(uri, "writer", "nope-wrong");
    INFO(wrong.message);
    CHECK_FALSE(wrong.ok);
    CHECK(wrong.message.find("Redis at") == 0);
    CHECK(wrong.message.find("authentication failed") != std::string::npos);
    CHECK(wrong.message.find("nope-wrong") == std::string::npos);

    const core::ConnectionTestResult none = core::testRedis(uri, "", "");
    INFO(none.message);
    CHECK_FALSE(none.ok);
    CHECK(none.message.find("authentication required") != std::string::npos);

    const core::ConnectionTestResult secretInUri =
        core::testRedis("redis://writer:writer-secret@127.0.0.1:1", "", "");
    CHECK_FALSE(secretInUri.ok);
    CHECK(secretInUri.message.find("writer-secret") == std::string::npos);

    QElapsedTimer timer;
    timer.start();
    const core::ConnectionTestResult down = core::testRedis(
        "redis://127.0.0.1:" + std::to_string(test::serverdetail::freeLoopbackPort()), "", "pw",
        3s);
    INFO(down.message);
    CHECK_FALSE(down.ok);
    CHECK(down.message.find("Redis at") == 0);
    CHECK(timer.elapsed() < 5000);

    test::SilentTcpServer silent;
    timer.restart();
    const core::ConnectionTestResult hung =
        core::testRedis("127.0.0.1:" + std::to_string(silent.port()), "", "pw", 2s);
    INFO(hung.message);
    CHECK_FALSE(hung.ok);
    CHECK(timer.elapsed() < 5000);
}

TEST_CASE("Kafka connection test fails fast and names the broker", "[ui][settings]")
{
    core::ClusterConfig cluster;
    cluster.bootstrap = "127.0.0.1:" + std::to_string(test::serverdetail::freeLoopbackPort());
    QElapsedTimer timer;
    timer.start();
    const core::ConnectionTestResult r = core::testKafka(cluster, 2s);
    INFO(r.message);
    CHECK_FALSE(r.ok);
    CHECK(r.message.find("Kafka at " + cluster.bootstrap) == 0);
    CHECK(timer.elapsed() < 6000);

    cluster.security = core::SecurityProtocol::SaslSsl;
    cluster.saslMechanism = "SCRAM-SHA-256";
    const core::ConnectionTestResult invalid = core::testKafka(cluster, 2s);
    CHECK_FALSE(invalid.ok); // no username: refused before any network

    core::EmbeddedBroker broker;
    core::EmbeddedBroker::Options options;
    options.brokers = 2;
    std::string error;
    REQUIRE(broker.start(options, &error));
    const core::ConnectionTestResult up = core::testKafka(broker.clusterConfig(), 5s);
    INFO(up.message);
    CHECK(up.ok);
    CHECK(up.message.find("Kafka at " + broker.bootstrap() + ": 2 brokers (") == 0);
    CHECK(up.message.find("), 1 topic") != std::string::npos);
}

TEST_CASE("Redis URIs parse as the CLI reads them", "[ui][settings]")
{
    std::string error;
    auto t = core::parseRedisUri("redis://writer@cache.local:6380/3", &error);
    REQUIRE(t);
    CHECK(t->host == "cache.local");
    CHECK(t->port == 6380);
    CHECK(t->db == 3);
    CHECK(t->user == "writer");
    CHECK(t->password.empty());
    t = core::parseRedisUri("127.0.0.1", &error);
    REQUIRE(t);
    CHECK(t->port == 6379);
    CHECK_FALSE(core::parseRedisUri("redis://u:secret@h", &error));
    CHECK(error == core::kRedisUriHasPassword);
    CHECK_FALSE(core::parseRedisUri("redis://h:0", &error));
    CHECK(error.find("bad port") == 0);
    CHECK_FALSE(core::parseRedisUri("redis://h/-1", &error));
    CHECK(error.find("bad database number") == 0);
}

// Before: Test parsed Redis addresses strictly (core::parseRedisUri) while OK went through the
// main window to the engine's own lenient parser (std::stoi took "6379x"), and a password inside
// a PostgreSQL URI was refused by OK but sent by Test. Now Test, OK and the engine's
// configureSinks read every address with the same core functions.
TEST_CASE("the Connections dialog's Test and OK agree on which sink addresses they refuse",
          "[ui][settings]")
{
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/studio-test-bus");
    TempSettings settings;
    ui::ConnectionProfiles profiles;
    ui::SecretStore store(testService());
    ui::SettingsDialog dialog(&profiles, &store);
    QLineEdit *pgUri = nullptr, *redisUri = nullptr, *redisUser = nullptr;
    for (QLineEdit *edit : dialog.findChildren<QLineEdit *>()) {
        if (edit->placeholderText().startsWith(QStringLiteral("postgresql://")))
            pgUri = edit;
        else if (edit->placeholderText().startsWith(QStringLiteral("redis://")))
            redisUri = edit;
        else if (edit->placeholderText() == QStringLiteral("default"))
            redisUser = edit;
    }
    REQUIRE(pgUri);
    REQUIRE(redisUri);
    REQUIRE(redisUser);
    QSignalSpy tested(&dialog, &ui::SettingsDialog::testFinished);
    QSignalSpy refused(&dialog, &ui::SettingsDialog::refused);
    QSignalSpy chosen(&dialog, &ui::SettingsDialog::sinkConfigurationChosen);
    core::StudioEngine engine; // never started: configureSinks parses, then says it is not running

    // Nothing listens on this port: a well-formed address fails Test only when it connects.
    const std::string closed = std::to_string(test::serverdetail::freeLoopbackPort());
    const std::string secret = "s3cret-" + std::to_string(QUuid::createUuid().data1);
    struct Case
    {
        const char *what;
        std::string postgres; // one of the two is set
        std::string redis;
        bool wellFormed;
    };
    const std::vector<Case> cases = {
        {"a Redis port with trailing junk", "", "redis://127.0.0.1:" + closed + "x", false},
        {"a Redis database with trailing junk", "", "redis://127.0.0.1:" + closed + "/1x", false},
        {"a Redis port out of range", "", "redis://127.0.0.1:70000", false},
        {"Redis over TLS", "", "rediss://127.0.0.1:" + closed, false},
        {"an unbracketed IPv6 Redis host", "", "redis://::1:" + closed, false},
        {"a Redis password in the URI", "", "redis://u:" + secret + "@127.0.0.1:" + closed, false},
        {"a Redis password in a query", "", "redis://127.0.0.1:" + closed + "/0?password=" + secret,
         false},
        {"a Redis URI", "", "redis://127.0.0.1:" + closed + "/2", true},
        {"a Redis host and port", "", "127.0.0.1:" + closed, true},
        {"a bracketed IPv6 Redis host", "", "redis://[::1]:" + closed + "/0", true},
        {"a PostgreSQL password in the URI",
         "postgresql://studio:" + secret + "@127.0.0.1:" + closed + "/x", "", false},
        {"a percent-encoded PostgreSQL password",
         "postgresql://studio:s%40" + secret + "@127.0.0.1:" + closed + "/x", "", false},
        {"a PostgreSQL password as a query parameter",
         "postgresql://studio@127.0.0.1:" + closed + "/x?password=" + secret, "", false},
        {"a PostgreSQL password in key=value words",
         "host=127.0.0.1 port=" + closed + " password=" + secret, "", false},
        {"a PostgreSQL string libpq cannot parse", "host=127.0.0.1 port", "", false},
        {"a PostgreSQL URI", "postgresql://studio@127.0.0.1:" + closed + "/x", "", true},
        {"PostgreSQL key=value words naming 'password' only in a value",
         "host=127.0.0.1 port=" + closed + " dbname=password_reset user=y", "", true},
    };
    QString savedPostgres = profiles.postgresUri(), savedRedis = profiles.redisUri();
    for (const Case &c : cases) {
        INFO(c.what);
        const bool isRedis = !c.redis.empty();
        const std::string address = isRedis ? c.redis : c.postgres;
        INFO(address);
        pgUri->setText(QString::fromStdString(c.postgres));
        redisUri->setText(QString::fromStdString(c.redis));
        redisUser->setText(isRedis ? QStringLiteral("writer") : QString());

        // Test.
        tested.clear();
        if (isRedis)
            dialog.testRedis();
        else
            dialog.testPostgres();
        REQUIRE(tested.wait(10'000));
        const QList<QVariant> test = tested.takeFirst();
        CHECK_FALSE(test.at(1).toBool()); // nothing listens, or the address is refused
        const QString testMessage = test.at(2).toString();
        INFO("Test: " << testMessage.toStdString());
        const std::string problem =
            isRedis ? core::redisAddressProblem(address) : core::postgresAddressProblem(address);
        const bool testRefused =
            testMessage.startsWith(QString::fromStdString(problem)) && !problem.empty();
        CHECK(testRefused == !c.wellFormed);

        // OK: refuses exactly what Test refused, with the same words, and saves nothing then.
        refused.clear();
        chosen.clear();
        dialog.accept();
        CHECK((refused.count() == 1) == testRefused);
        CHECK((chosen.count() == 1) == !testRefused);
        if (refused.count() == 1) {
            CHECK(refused.first().at(0).toString() ==
                  (isRedis ? QStringLiteral("redis") : QStringLiteral("postgresql")));
            CHECK(refused.first().at(1).toString() == QString::fromStdString(problem));
        } else {
            savedPostgres = QString::fromStdString(c.postgres);
            savedRedis = QString::fromStdString(c.redis);
        }
        CHECK(profiles.postgresUri() == savedPostgres); // unchanged by a refused OK
        CHECK(profiles.redisUri() == savedRedis);
        CHECK_FALSE(testMessage.contains(QString::fromStdString(secret)));
        for (const QList<QVariant> &r : std::as_const(refused))
            CHECK_FALSE(r.at(1).toString().contains(QString::fromStdString(secret)));
        CHECK_FALSE(settings.contents().contains(QByteArray::fromStdString(secret)));

        // Apply: what the main window hands the engine (the user field in the URI) is read by
        // the same parsers, so the engine refuses the same addresses.
        std::string engineUri = c.redis, error;
        if (const auto target = core::parseRedisUri(c.redis, "writer", nullptr); isRedis && target)
            engineUri = core::redisUri(*target);
        CHECK_FALSE(engine.configureSinks(c.postgres, "", engineUri, "", &error));
        INFO("engine: " << error);
        CHECK((error == "the engine is not running") == !testRefused);
        CHECK(error.find(secret) == std::string::npos);
    }
}

// Issue 8: connection files. The real deploy/clickstream-studio-profiles.json (the
// docker-compose stack) imports; bad files and files with passwords are refused untouched.
namespace {

QByteArray readFile(const QString &path)
{
    QFile f(path);
    REQUIRE(f.open(QIODevice::ReadOnly));
    return f.readAll();
}

QString deployProfilesPath()
{
    return QStringLiteral(STUDIO_SOURCE_DIR "/deploy/clickstream-studio-profiles.json");
}

// Everything the model holds, to compare before and after a refused import.
QByteArray snapshot(const ui::ConnectionProfiles &profiles)
{
    QByteArray out = profiles.toConnectionsJson();
    for (const ui::KafkaProfile &p : profiles.profiles())
        out += p.id.toUtf8() + '\n';
    return out + profiles.redisUser().toUtf8();
}

} // namespace

TEST_CASE("The compose stack's connection file imports", "[ui][settings][deploy]")
{
    TempSettings temp;
    ui::ConnectionProfiles profiles;
    QAbstractItemModelTester tester(&profiles,
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    ui::KafkaProfile mine;
    mine.name = QStringLiteral("prod");
    mine.bootstrap = QStringLiteral("b1:9093");
    profiles.addProfile(mine);

    QString message;
    REQUIRE(profiles.importConnections(deployProfilesPath(), &message));
    INFO(message.toStdString());
    CHECK(message.startsWith(QStringLiteral("Imported: 2 Kafka profile(s) added")));
    CHECK(message.contains(QStringLiteral("File > Connections")));
    REQUIRE(profiles.rowCount() == 3);
    CHECK(profiles.profile(0).name == QStringLiteral("prod"));

    const ui::KafkaProfile &single = profiles.profile(1);
    CHECK(single.name == QStringLiteral("compose: single broker"));
    CHECK(single.bootstrap == QStringLiteral("localhost:9092"));
    CHECK(single.saslMechanism.isEmpty());
    CHECK_FALSE(single.tls);
    CHECK(single.toClusterConfig({}).security == core::SecurityProtocol::Plaintext);
    CHECK(single.toClusterConfig({}).validate().empty());

    const ui::KafkaProfile &cluster = profiles.profile(2);
    CHECK(cluster.name == QStringLiteral("compose: 3-broker SASL_SSL cluster"));
    CHECK(cluster.bootstrap == QStringLiteral("localhost:19092,localhost:29092,localhost:39092"));
    CHECK(cluster.saslMechanism == QStringLiteral("SCRAM-SHA-512"));
    CHECK(cluster.username == QStringLiteral("studio"));
    CHECK(cluster.tls); // the test cluster's SASL_SSL listener (deploy/kafka/cluster.properties)
    CHECK_FALSE(cluster.id.isEmpty());
    const core::ClusterConfig config = cluster.toClusterConfig(QStringLiteral("typed-later"));
    CHECK(config.security == core::SecurityProtocol::SaslSsl);
    CHECK(config.validate().empty());

    CHECK(profiles.postgresUri() ==
          QStringLiteral("postgresql://studio@localhost:5432/clickstream"));
    CHECK(profiles.redisUri() == QStringLiteral("redis://localhost:6379/0"));
    CHECK(profiles.redisUser().isEmpty());

    // The file matches docker-compose.yml's ports (the deploy test checks the compose side).
    const QByteArray compose = readFile(QStringLiteral(STUDIO_SOURCE_DIR "/docker-compose.yml"));
    for (const char *port : {"\"9092:9092\"", "\"19092:9094\"", "\"29092:9094\"", "\"39092:9094\"",
                             "\"5432:5432\"", "\"6379:6379\""})
        CHECK(compose.contains(port));

    // Imported again (say, a newer copy of the file): updated in place, ids (and so the
    // passwords in the keychain) kept, nothing duplicated.
    const QString clusterId = cluster.id;
    REQUIRE(profiles.importConnections(deployProfilesPath(), &message));
    CHECK(message.contains(QStringLiteral("0 Kafka profile(s) added, 2 updated")));
    REQUIRE(profiles.rowCount() == 3);
    CHECK(profiles.profile(2).id == clusterId);

    // Saved and exported, with no password anywhere.
    {
        QSettings s;
        profiles.save(s);
    }
    CHECK_FALSE(temp.contents().toLower().contains("password"));
    QTemporaryDir dir;
    const QString exported = dir.filePath(QStringLiteral("exported.json"));
    QString error;
    REQUIRE(profiles.exportConnections(exported, &error));
    const QByteArray file = readFile(exported);
    CHECK_FALSE(file.toLower().contains("password"));
    CHECK(file.contains("\"version\": 1"));

    // The export imports into an empty model as the same profiles.
    ui::ConnectionProfiles again;
    REQUIRE(again.importConnections(exported, &message));
    REQUIRE(again.rowCount() == 3);
    for (int row = 0; row < 3; ++row) {
        CHECK(again.profile(row).name == profiles.profile(row).name);
        CHECK(again.profile(row).bootstrap == profiles.profile(row).bootstrap);
        CHECK(again.profile(row).saslMechanism == profiles.profile(row).saslMechanism);
        CHECK(again.profile(row).username == profiles.profile(row).username);
        CHECK(again.profile(row).tls == profiles.profile(row).tls);
    }
    CHECK(again.postgresUri() == profiles.postgresUri());
    CHECK(again.redisUri() == profiles.redisUri());
}

TEST_CASE("A bad connection file is refused and changes nothing", "[ui][settings][deploy]")
{
    TempSettings temp;
    ui::ConnectionProfiles profiles;
    QAbstractItemModelTester tester(&profiles,
                                    QAbstractItemModelTester::FailureReportingMode::Fatal);
    REQUIRE(profiles.importConnections(deployProfilesPath(), nullptr));
    const QByteArray before = snapshot(profiles);
    QSignalSpy reset(&profiles, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&profiles, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&profiles, &QAbstractItemModel::dataChanged);

    const QByteArray good = readFile(deployProfilesPath());
    auto with = [&good](const QByteArray &from, const QByteArray &to) {
        QByteArray b = good;
        REQUIRE(b.contains(from));
        return b.replace(from, to);
    };
    const QString secret = QStringLiteral("s3cret-%1").arg(QUuid::createUuid().toString());
    const QByteArray secretUtf8 = secret.toUtf8();
    struct Case
    {
        const char *what;
        QByteArray json;
        QString expected; // part of the message
    };
    const QList<Case> cases = {
        {"not JSON", good.left(good.size() / 2), QStringLiteral("not valid JSON")},
        {"empty file", QByteArray(), QStringLiteral("not valid JSON")},
        {"a JSON list", "[]", QStringLiteral("not a JSON object")},
        {"another format", with("clickstream-studio-connections", "kafka-ui-clusters"),
         QStringLiteral("not a Clickstream Studio connections file")},
        {"a newer version", with("\"version\": 1", "\"version\": 2"),
         QStringLiteral("version 2, written by a newer Clickstream Studio")},
        {"no version", with("\"version\": 1,", ""), QStringLiteral("\"version\" is missing")},
        {"kafka not a list",
         "{\"format\": \"clickstream-studio-connections\", \"version\": 1, \"kafka\": "
         "{\"name\": \"x\", \"bootstrap\": \"h:9092\"}}",
         QStringLiteral("\"kafka\" is not a list of profiles")},
        {"an unknown SASL mechanism", with("\"SCRAM-SHA-512\"", "\"GSSAPI\""),
         QStringLiteral("SASL mechanism must be")},
        {"SASL without a user", with("\"username\": \"studio\",", ""),
         QStringLiteral("SASL needs a username")},
        {"a bad bootstrap", with("\"localhost:9092\"", "\"localhost\""),
         QStringLiteral("HOST:PORT")},
        {"tls not a boolean", with("\"tls\": false", "\"tls\": \"no\""),
         QStringLiteral("kafka[0].tls is not true or false")},
        {"a duplicate name", with("compose: 3-broker SASL_SSL cluster", "compose: single broker"),
         QStringLiteral("two Kafka profiles are named")},
        {"an unknown field", with("\"tls\": false", "\"tsl\": false"),
         QStringLiteral("unknown field \"tsl\"")},
        {"nothing in it", "{\"format\": \"clickstream-studio-connections\", \"version\": 1}",
         QStringLiteral("names no Kafka profile")},
        {"a bad Redis URI", with("redis://localhost:6379/0", "redis://localhost:0/0"),
         QStringLiteral("redis.uri: bad port")},
        // Passwords: never read, never echoed.
        {"a password field",
         with("\"username\": \"studio\",",
              "\"username\": \"studio\", \"password\": \"" + secretUtf8 + "\","),
         QStringLiteral("password field (kafka[1].password)")},
        {"a nested secret",
         with("\"user\": \"\"", "\"user\": \"\", \"auth\": {\"Secret\": \"" + secretUtf8 + "\"}"),
         QStringLiteral("password field (redis.auth.Secret)")},
        {"a password in the PostgreSQL URI",
         with("postgresql://studio@", "postgresql://studio:" + secretUtf8 + "@"),
         QStringLiteral("postgresql.uri contains a password")},
        {"a conninfo password",
         with("postgresql://studio@localhost:5432/clickstream",
              "host=db user=studio password=" + secretUtf8),
         QStringLiteral("postgresql.uri contains a password")},
        {"a password in the Redis URI",
         with("redis://localhost:6379/0", "redis://:" + secretUtf8 + "@localhost:6379/0"),
         QStringLiteral("redis.uri contains a password")},
    };
    QTemporaryDir dir;
    for (const Case &c : cases) {
        INFO(c.what);
        QString message;
        CHECK_FALSE(profiles.importConnectionsJson(c.json, &message));
        INFO(message.toStdString());
        CHECK(message.startsWith(QStringLiteral("Nothing was imported: ")));
        CHECK(message.contains(c.expected));
        CHECK_FALSE(message.contains(secret));
        // The same through a file: the message names it.
        const QString path = dir.filePath(QStringLiteral("bad.json"));
        QFile f(path);
        REQUIRE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(c.json);
        f.close();
        CHECK_FALSE(profiles.importConnections(path, &message));
        CHECK(message.startsWith(QStringLiteral("bad.json was refused. Nothing was imported: ")));
        CHECK_FALSE(message.contains(secret));
    }
    QString message;
    CHECK_FALSE(profiles.importConnections(dir.filePath(QStringLiteral("missing.json")), &message));
    CHECK(message.contains(QStringLiteral("cannot read")));

    CHECK(snapshot(profiles) == before);
    CHECK(reset.count() == 0);
    CHECK(inserted.count() == 0);
    CHECK(changed.count() == 0);
    CHECK_FALSE(temp.contents().contains(secretUtf8));
}

TEST_CASE("a saved Kafka profile resolves to its cluster, with its password from the keychain",
          "[ui][settings]")
{
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/studio-test-bus");
    qunsetenv("CLICKSTREAM_SASL_PASSWORD");
    TempSettings settings;
    ui::SecretStore store(testService());
    ui::ConnectionProfiles profiles;
    ui::KafkaProfile plain;
    plain.name = QStringLiteral("local");
    plain.bootstrap = QStringLiteral("localhost:9092");
    profiles.addProfile(plain);
    ui::KafkaProfile sasl;
    sasl.name = QStringLiteral("prod cluster");
    sasl.bootstrap = QStringLiteral("k1:9093,k2:9093");
    sasl.saslMechanism = QStringLiteral("SCRAM-SHA-512");
    sasl.username = QStringLiteral("alice");
    sasl.tls = true;
    const int saslRow = profiles.addProfile(sasl);
    {
        QSettings s;
        profiles.save(s);
    }

    core::ClusterConfig cluster;
    QString error;
    REQUIRE(ui::resolveKafkaProfile(QStringLiteral("local"), store, &cluster, &error));
    CHECK(cluster.bootstrap == "localhost:9092");
    CHECK(cluster.security == core::SecurityProtocol::Plaintext);

    // SASL without a stored password: refused, saying where the password goes.
    CHECK_FALSE(
        ui::resolveKafkaProfile(QStringLiteral("prod cluster"), store, &cluster, &error, 3000));
    CHECK(error.contains(QStringLiteral("no password")));
    CHECK(error.contains(QStringLiteral("File > Connections")));

    const QString secret = QStringLiteral("s3cret-%1").arg(QUuid::createUuid().toString());
    writeSecret(store, profiles.profile(saslRow).passwordKey(), secret);
    error.clear();
    REQUIRE(ui::resolveKafkaProfile(QStringLiteral("prod cluster"), store, &cluster, &error));
    CHECK(cluster.bootstrap == "k1:9093,k2:9093");
    CHECK(cluster.security == core::SecurityProtocol::SaslSsl);
    CHECK(cluster.saslMechanism == "SCRAM-SHA-512");
    CHECK(cluster.saslUsername == "alice");
    CHECK(cluster.saslPassword == secret.toStdString());

    // The environment wins over the keychain (a script's override).
    qputenv("CLICKSTREAM_SASL_PASSWORD", "from-env");
    REQUIRE(ui::resolveKafkaProfile(QStringLiteral("prod cluster"), store, &cluster, &error));
    CHECK(cluster.saslPassword == "from-env");
    qunsetenv("CLICKSTREAM_SASL_PASSWORD");

    // An unknown name lists the saved ones.
    CHECK_FALSE(ui::resolveKafkaProfile(QStringLiteral("nope"), store, &cluster, &error));
    CHECK(error.contains(QStringLiteral("\"local\"")));
    CHECK(error.contains(QStringLiteral("\"prod cluster\"")));
    CHECK_FALSE(error.contains(secret));
}

TEST_CASE("The settings dialog's Aggregation section: the page query and the key cap reach "
          "aggregationChosen, a bad page query is refused",
          "[ui][settings][cardinality]")
{
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/studio-test-bus");
    TempSettings settings;
    ui::SecretStore store(testService());
    ui::ConnectionProfiles profiles;
    ui::SettingsDialog dialog(&profiles, &store);
    dialog.setAggregation({QStringLiteral("drop"), 10'000});
    auto *query = dialog.findChild<QLineEdit *>(QStringLiteral("pageQuery"));
    auto *cap = dialog.findChild<QSpinBox *>(QStringLiteral("maxKeysPerWindow"));
    REQUIRE(query);
    REQUIRE(cap);
    CHECK(query->text() == QStringLiteral("drop"));
    CHECK(cap->value() == 10'000);

    QSignalSpy chosen(&dialog, &ui::SettingsDialog::aggregationChosen);
    QSignalSpy refused(&dialog, &ui::SettingsDialog::refused);
    query->setText(QStringLiteral("keep:sid,"));
    dialog.accept();
    CHECK(chosen.count() == 0);
    REQUIRE(refused.count() == 1);
    const QList<QVariant> why = refused.takeFirst();
    CHECK(why.at(0).toString() == QStringLiteral("aggregation"));
    CHECK(why.at(1).toString().contains(QStringLiteral("--page-query")));

    query->setText(QStringLiteral("keep:utm_source,utm_medium"));
    cap->setValue(500);
    dialog.accept();
    REQUIRE(chosen.count() == 1);
    const auto c = chosen.takeFirst().at(0).value<ui::AggregationConfiguration>();
    CHECK(c.pageQuery == QStringLiteral("keep:utm_source,utm_medium"));
    CHECK(c.maxKeysPerWindow == 500);

    // Unchanged: no signal (the aggregator is not restarted for nothing).
    ui::SettingsDialog again(&profiles, &store);
    again.setAggregation(c);
    QSignalSpy none(&again, &ui::SettingsDialog::aggregationChosen);
    again.accept();
    CHECK(none.count() == 0);
}
