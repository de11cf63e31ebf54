#pragma once

#include "core/monitor/connectiontest.h"

#include <QDialog>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>

#include <functional>

class QCheckBox;
class QComboBox;
class QDataWidgetMapper;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QSpinBox;

namespace studio::ui {

class ConnectionProfiles;
class SecretStore;

/// Where the app writes its results: what the main window applies after the dialog.
struct SinkConfiguration
{
    QString postgresUri; ///< libpq conninfo or postgresql:// URI, no password; "" = none
    QString postgresPassword;
    QString redisUri;  ///< redis://HOST[:PORT][/DB]; "" = none
    QString redisUser; ///< ACL user; "" = the default user
    QString redisPassword;
};

/// How the aggregator treats keys (README "Bounded memory"): the engine's
/// AggregatorConfig::pageNormalization (as `--page-query` spells it) and maxKeysPerWindow.
struct AggregationConfiguration
{
    QString pageQuery = QStringLiteral("drop"); ///< drop, keep or keep:NAME,NAME,...
    int maxKeysPerWindow = 10'000;              ///< 0: no cap
    bool operator==(const AggregationConfiguration &) const = default;
};

/// Connection settings: Kafka cluster profiles (bootstrap, SASL, TLS), the PostgreSQL and Redis
/// sinks. Profiles go to QSettings (without passwords) through ConnectionProfiles; passwords go
/// through the SecretStore. Each section has a Test button that runs the core connection test
/// off the GUI thread and shows the answer in green or red with the latency.
///
/// On OK the sink addresses are checked as their Test buttons check them first (the same core
/// functions): a refused one (unparsable, or with a password inside, which would go to the
/// plain-text settings file while passwords only go to the keychain) keeps the dialog open with
/// the reason beside its Test button (refused()), saying where a password goes instead; otherwise
/// the profiles are saved, changed passwords written, and sinkConfigurationChosen() is emitted.
/// `profiles` and `secrets` must outlive the dialog (the main window owns them).
class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    SettingsDialog(ConnectionProfiles *profiles, SecretStore *secrets, QWidget *parent = nullptr);

    /// What the sink fields hold now.
    SinkConfiguration sinkConfiguration() const;
    /// The aggregation fields: shown as `current`; aggregationChosen() on OK when changed.
    void setAggregation(const AggregationConfiguration &current);
    AggregationConfiguration aggregation() const;

public Q_SLOTS:
    void accept() override;
    void testKafka();
    void testPostgres();
    void testRedis();

Q_SIGNALS:
    void sinkConfigurationChosen(const studio::ui::SinkConfiguration &configuration);
    /// On OK, when the page normalisation or the key cap changed (and the query rule parses).
    void aggregationChosen(const studio::ui::AggregationConfiguration &configuration);
    /// After a Test button's test: `target` is "kafka", "postgresql" or "redis".
    void testFinished(const QString &target, bool ok, const QString &message);
    /// OK refused the address of `target` ("postgresql" or "redis", or "aggregation": a page
    /// query that does not parse), nothing saved, the dialog
    /// stays open; `message` (also shown under the address) says why, and for a password inside
    /// where the password goes.
    void refused(const QString &target, const QString &message);

private:
    QWidget *makeKafkaSection();
    QWidget *makeSinkSection();
    QWidget *makeAggregationSection();
    void showProfile(int row);
    void onSecretRead(const QString &key, const QString &secret, bool found);
    void runTest(const QString &target, QPushButton *button, QLabel *result,
                 std::function<core::ConnectionTestResult()> test);
    void updateKeychainStatus();
    bool sinkAddressesUsable(const SinkConfiguration &c);

    ConnectionProfiles *m_profiles;
    SecretStore *m_secrets;
    QDataWidgetMapper *m_mapper = nullptr;
    QList<QWidget *> m_profileWidgets; // the form of the selected profile
    QListView *m_profileList = nullptr;
    QComboBox *m_mechanism = nullptr;
    QLineEdit *m_kafkaPassword = nullptr;
    QPushButton *m_kafkaTest = nullptr;
    QLabel *m_kafkaResult = nullptr;
    QLineEdit *m_pgUri = nullptr;
    QLineEdit *m_pgPassword = nullptr;
    QPushButton *m_pgTest = nullptr;
    QLabel *m_pgResult = nullptr;
    QLineEdit *m_redisUri = nullptr;
    QLineEdit *m_redisUser = nullptr;
    QLineEdit *m_redisPassword = nullptr;
    QPushButton *m_redisTest = nullptr;
    QLabel *m_redisResult = nullptr;
    QLabel *m_keychainStatus = nullptr;
    QLineEdit *m_pageQuery = nullptr;
    QSpinBox *m_maxKeys = nullptr;
    QLabel *m_aggregationResult = nullptr;
    AggregationConfiguration m_aggregation; // as shown first

    QHash<QString, QString> m_passwords; // secret key -> password as loaded or typed
    QSet<QString> m_edited;              // keys the user typed into (written on OK)
    QSet<QString> m_removedKeys;         // profiles deleted: their passwords go on OK
    int m_currentRow = -1;
};

} // namespace studio::ui

Q_DECLARE_METATYPE(studio::ui::SinkConfiguration)
Q_DECLARE_METATYPE(studio::ui::AggregationConfiguration)
