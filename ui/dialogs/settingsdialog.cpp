#include "ui/dialogs/settingsdialog.h"

#include "ui/common/secretstore.h"
#include "ui/dialogs/connectionprofiles.h"

#include "core/aggregate/pagenormalizer.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDataWidgetMapper>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <tuple>

namespace studio::ui {

namespace {

QLineEdit *passwordEdit(QWidget *parent)
{
    auto *edit = new QLineEdit(parent);
    edit->setEchoMode(QLineEdit::Password);
    edit->setPlaceholderText(QObject::tr("from the keychain"));
    return edit;
}

QLabel *resultLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

SettingsDialog::SettingsDialog(ConnectionProfiles *profiles, SecretStore *secrets, QWidget *parent)
    : QDialog(parent)
    , m_profiles(profiles)
    , m_secrets(secrets)
{
    setWindowTitle(tr("Connections"));
    auto *layout = new QVBoxLayout(this);
    m_keychainStatus = new QLabel(this);
    m_keychainStatus->setWordWrap(true);
    m_keychainStatus->setStyleSheet(QStringLiteral("color: #a15c00;"));
    layout->addWidget(m_keychainStatus);
    layout->addWidget(makeKafkaSection());
    layout->addWidget(makeSinkSection());
    layout->addWidget(makeAggregationSection());
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
    layout->addWidget(buttons);

    connect(m_secrets, &SecretStore::readDone, this,
            [this](const QString &key, const QString &secret, bool found, const QString &) {
                onSecretRead(key, secret, found);
            });
    connect(m_secrets, &SecretStore::persistenceChanged, this,
            &SettingsDialog::updateKeychainStatus);
    updateKeychainStatus();
    // Passwords arrive asynchronously; a field the user typed into first keeps what was typed.
    m_secrets->read(kPostgresPasswordKey);
    m_secrets->read(kRedisPasswordKey);
    for (const KafkaProfile &p : m_profiles->profiles())
        m_secrets->read(p.passwordKey());
    if (m_profiles->rowCount() > 0)
        m_profileList->setCurrentIndex(m_profiles->index(0, ConnectionProfiles::Name));
    else
        showProfile(-1);
}

QWidget *SettingsDialog::makeKafkaSection()
{
    auto *box = new QGroupBox(tr("Kafka clusters"), this);
    auto *row = new QHBoxLayout(box);

    auto *left = new QVBoxLayout;
    m_profileList = new QListView(box);
    m_profileList->setModel(m_profiles);
    m_profileList->setModelColumn(ConnectionProfiles::Name);
    m_profileList->setEditTriggers(QAbstractItemView::NoEditTriggers);
    left->addWidget(m_profileList);
    auto *add = new QPushButton(tr("Add"), box);
    auto *remove = new QPushButton(tr("Remove"), box);
    auto *addRemove = new QHBoxLayout;
    addRemove->addWidget(add);
    addRemove->addWidget(remove);
    left->addLayout(addRemove);
    row->addLayout(left, 1);

    auto *form = new QFormLayout;
    auto *name = new QLineEdit(box);
    auto *bootstrap = new QLineEdit(box);
    bootstrap->setPlaceholderText(QStringLiteral("broker1:9092,broker2:9092"));
    m_mechanism = new QComboBox(box);
    for (const QString &m : saslMechanisms())
        m_mechanism->addItem(m.isEmpty() ? tr("none") : m, m);
    auto *username = new QLineEdit(box);
    m_kafkaPassword = passwordEdit(box);
    auto *tls = new QCheckBox(tr("TLS"), box);
    auto *caFile = new QLineEdit(box);
    caFile->setPlaceholderText(tr("system CAs"));
    auto *browse = new QPushButton(tr("Browse…"), box);
    auto *caRow = new QHBoxLayout;
    caRow->addWidget(caFile);
    caRow->addWidget(browse);
    m_kafkaTest = new QPushButton(tr("Test"), box);
    m_kafkaResult = resultLabel(box);
    form->addRow(tr("Name"), name);
    form->addRow(tr("Bootstrap"), bootstrap);
    form->addRow(tr("SASL"), m_mechanism);
    form->addRow(tr("User"), username);
    form->addRow(tr("Password"), m_kafkaPassword);
    form->addRow(QString(), tls);
    form->addRow(tr("CA file"), caRow);
    form->addRow(m_kafkaTest, m_kafkaResult);
    row->addLayout(form, 2);

    m_profileWidgets = {name, bootstrap, m_mechanism, username,    m_kafkaPassword,
                        tls,  caFile,    browse,      m_kafkaTest, remove};
    m_mapper = new QDataWidgetMapper(this);
    m_mapper->setModel(m_profiles);
    m_mapper->setSubmitPolicy(QDataWidgetMapper::AutoSubmit);
    m_mapper->addMapping(name, ConnectionProfiles::Name);
    m_mapper->addMapping(bootstrap, ConnectionProfiles::Bootstrap);
    m_mapper->addMapping(username, ConnectionProfiles::Username);
    m_mapper->addMapping(tls, ConnectionProfiles::Tls);
    m_mapper->addMapping(caFile, ConnectionProfiles::CaFile);
    connect(tls, &QCheckBox::toggled, m_mapper, &QDataWidgetMapper::submit);
    // The combo shows "none" for "": kept out of the mapper, which would write the label back.
    connect(m_mechanism, &QComboBox::activated, this, [this](int i) {
        if (m_currentRow >= 0)
            m_profiles->setData(m_profiles->index(m_currentRow, ConnectionProfiles::SaslMechanism),
                                m_mechanism->itemData(i));
    });
    connect(m_kafkaPassword, &QLineEdit::textEdited, this, [this](const QString &text) {
        if (m_currentRow < 0)
            return;
        const QString key = m_profiles->profile(m_currentRow).passwordKey();
        m_passwords.insert(key, text);
        m_edited.insert(key);
    });
    connect(m_profileList->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                showProfile(current.isValid() ? current.row() : -1);
            });
    connect(add, &QPushButton::clicked, this, [this] {
        KafkaProfile p;
        p.name = tr("cluster %1").arg(m_profiles->rowCount() + 1);
        p.bootstrap = QStringLiteral("localhost:9092");
        const int row = m_profiles->addProfile(p);
        m_profileList->setCurrentIndex(m_profiles->index(row, ConnectionProfiles::Name));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        const int row = m_currentRow;
        if (row < 0)
            return;
        const QString key = m_profiles->profile(row).passwordKey();
        m_removedKeys.insert(key);
        m_edited.remove(key);
        m_passwords.remove(key);
        m_profiles->removeProfile(row);
        const int next = std::min(row, m_profiles->rowCount() - 1);
        if (next >= 0)
            m_profileList->setCurrentIndex(m_profiles->index(next, ConnectionProfiles::Name));
        else
            showProfile(-1);
    });
    connect(browse, &QPushButton::clicked, this, [this, caFile] {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("CA certificate"), caFile->text(),
                                         tr("PEM files (*.pem *.crt);;All files (*)"));
        if (!path.isEmpty()) {
            caFile->setText(path);
            m_mapper->submit();
        }
    });
    connect(m_kafkaTest, &QPushButton::clicked, this, &SettingsDialog::testKafka);
    return box;
}

QWidget *SettingsDialog::makeSinkSection()
{
    auto *box = new QGroupBox(tr("Sinks"), this);
    auto *form = new QFormLayout(box);
    m_pgUri = new QLineEdit(m_profiles->postgresUri(), box);
    m_pgUri->setPlaceholderText(QStringLiteral("postgresql://user@host:5432/db"));
    m_pgPassword = passwordEdit(box);
    m_pgTest = new QPushButton(tr("Test"), box);
    m_pgResult = resultLabel(box);
    form->addRow(tr("PostgreSQL URI"), m_pgUri);
    form->addRow(tr("Password"), m_pgPassword);
    form->addRow(m_pgTest, m_pgResult);
    m_redisUri = new QLineEdit(m_profiles->redisUri(), box);
    m_redisUri->setPlaceholderText(QStringLiteral("redis://host:6379/0"));
    m_redisUser = new QLineEdit(m_profiles->redisUser(), box);
    m_redisUser->setPlaceholderText(tr("default"));
    m_redisPassword = passwordEdit(box);
    m_redisTest = new QPushButton(tr("Test"), box);
    m_redisResult = resultLabel(box);
    form->addRow(tr("Redis URI"), m_redisUri);
    form->addRow(tr("Redis ACL user"), m_redisUser);
    form->addRow(tr("Password"), m_redisPassword);
    form->addRow(m_redisTest, m_redisResult);
    for (auto [edit, key] : {std::pair{m_pgPassword, kPostgresPasswordKey},
                             std::pair{m_redisPassword, kRedisPasswordKey}}) {
        connect(edit, &QLineEdit::textEdited, this, [this, key](const QString &text) {
            m_passwords.insert(key, text);
            m_edited.insert(key);
        });
    }
    connect(m_pgTest, &QPushButton::clicked, this, &SettingsDialog::testPostgres);
    connect(m_redisTest, &QPushButton::clicked, this, &SettingsDialog::testRedis);
    return box;
}

void SettingsDialog::showProfile(int row)
{
    m_currentRow = row;
    const bool valid = row >= 0;
    m_mapper->setCurrentIndex(row);
    for (QWidget *w : std::as_const(m_profileWidgets))
        w->setEnabled(valid);
    m_kafkaResult->clear();
    if (!valid) {
        m_kafkaPassword->clear();
        return;
    }
    const KafkaProfile &p = m_profiles->profile(row);
    m_mechanism->setCurrentIndex(
        std::max(0, static_cast<int>(saslMechanisms().indexOf(p.saslMechanism))));
    m_kafkaPassword->setText(m_passwords.value(p.passwordKey()));
}

void SettingsDialog::onSecretRead(const QString &key, const QString &secret, bool found)
{
    if (!found || m_edited.contains(key) || m_removedKeys.contains(key))
        return;
    m_passwords.insert(key, secret);
    if (key == kPostgresPasswordKey)
        m_pgPassword->setText(secret);
    else if (key == kRedisPasswordKey)
        m_redisPassword->setText(secret);
    else if (m_currentRow >= 0 && m_profiles->profile(m_currentRow).passwordKey() == key)
        m_kafkaPassword->setText(secret);
}

void SettingsDialog::updateKeychainStatus()
{
    m_keychainStatus->setText(m_secrets->statusMessage());
    m_keychainStatus->setVisible(!m_secrets->persistent());
}

SinkConfiguration SettingsDialog::sinkConfiguration() const
{
    SinkConfiguration c;
    c.postgresUri = m_pgUri->text().trimmed();
    c.postgresPassword = m_pgPassword->text();
    c.redisUri = m_redisUri->text().trimmed();
    c.redisUser = m_redisUser->text().trimmed();
    c.redisPassword = m_redisPassword->text();
    return c;
}

QWidget *SettingsDialog::makeAggregationSection()
{
    auto *box = new QGroupBox(tr("Aggregation"), this);
    auto *form = new QFormLayout(box);
    m_pageQuery = new QLineEdit(m_aggregation.pageQuery, box);
    m_pageQuery->setObjectName(QStringLiteral("pageQuery"));
    m_pageQuery->setToolTip(
        tr("The query string of page: drop, keep, or keep:utm_source,utm_medium (only those "
           "parameters). The fragment is always dropped and full URLs are reduced to their path."));
    form->addRow(tr("Page query string"), m_pageQuery);
    m_maxKeys = new QSpinBox(box);
    m_maxKeys->setObjectName(QStringLiteral("maxKeysPerWindow"));
    m_maxKeys->setRange(0, 100'000'000);
    m_maxKeys->setGroupSeparatorShown(true);
    m_maxKeys->setSpecialValueText(tr("no cap"));
    m_maxKeys->setValue(m_aggregation.maxKeysPerWindow);
    m_maxKeys->setToolTip(tr("Distinct pages, geo combinations and products a window holds at "
                             "most; the others are counted into its (other) row."));
    form->addRow(tr("Keys per window"), m_maxKeys);
    m_aggregationResult = resultLabel(box);
    form->addRow(m_aggregationResult);
    return box;
}

void SettingsDialog::setAggregation(const AggregationConfiguration &current)
{
    m_aggregation = current;
    m_pageQuery->setText(current.pageQuery);
    m_maxKeys->setValue(current.maxKeysPerWindow);
}

AggregationConfiguration SettingsDialog::aggregation() const
{
    return {m_pageQuery->text().trimmed(), m_maxKeys->value()};
}

// The checks the Test buttons run before any network (core::postgresAddressProblem and
// core::redisAddressProblem), so that OK never accepts an address that Test refuses, nor the
// other way round; the engine's configureSinks reads the addresses with the same parsers.
bool SettingsDialog::sinkAddressesUsable(const SinkConfiguration &c)
{
    bool usable = true;
    const std::pair<QString, std::string> problems[] = {
        {QStringLiteral("postgresql"),
         c.postgresUri.isEmpty() ? std::string()
                                 : core::postgresAddressProblem(c.postgresUri.toStdString())},
        {QStringLiteral("redis"), c.redisUri.isEmpty()
                                      ? std::string()
                                      : core::redisAddressProblem(c.redisUri.toStdString())}};
    for (const auto &[target, problem] : problems) {
        if (problem.empty())
            continue;
        const bool redis = target == QStringLiteral("redis");
        QLabel *result = redis ? m_redisResult : m_pgResult;
        const QString message = QString::fromStdString(problem);
        result->setStyleSheet(QStringLiteral("color: #c62828;"));
        result->setText(message);
        if (usable) // the first refused address gets the focus, to be fixed
            (redis ? m_redisUri : m_pgUri)->setFocus();
        usable = false;
        Q_EMIT refused(target, message);
    }
    return usable;
}

void SettingsDialog::accept()
{
    m_mapper->submit();
    const AggregationConfiguration a = aggregation();
    {
        core::PageNormalization parsed;
        std::string error;
        if (!core::PageNormalization::parse(a.pageQuery.toStdString(), parsed, error)) {
            const QString problem = QString::fromStdString(error);
            m_aggregationResult->setStyleSheet(QStringLiteral("color: #c62828;"));
            m_aggregationResult->setText(problem);
            m_pageQuery->setFocus();
            Q_EMIT refused(QStringLiteral("aggregation"), problem);
            return;
        }
    }
    const SinkConfiguration c = sinkConfiguration();
    if (!sinkAddressesUsable(c))
        return;
    m_profiles->setPostgresUri(c.postgresUri);
    m_profiles->setRedisUri(c.redisUri);
    m_profiles->setRedisUser(c.redisUser);
    {
        QSettings settings;
        m_profiles->save(settings);
    }
    for (const QString &key : std::as_const(m_removedKeys))
        m_secrets->remove(key);
    for (const QString &key : std::as_const(m_edited)) {
        const QString secret = m_passwords.value(key);
        if (secret.isEmpty())
            m_secrets->remove(key);
        else
            m_secrets->write(key, secret);
    }
    m_edited.clear();
    m_removedKeys.clear();
    Q_EMIT sinkConfigurationChosen(c);
    if (!(a == m_aggregation)) {
        m_aggregation = a;
        Q_EMIT aggregationChosen(a);
    }
    QDialog::accept();
}

void SettingsDialog::runTest(const QString &target, QPushButton *button, QLabel *result,
                             std::function<core::ConnectionTestResult()> test)
{
    button->setEnabled(false);
    result->setStyleSheet(QString());
    result->setText(tr("Testing…"));
    // Parented to the dialog: a dialog closed mid-test never gets the late answer.
    auto *watcher = new QFutureWatcher<core::ConnectionTestResult>(this);
    connect(watcher, &QFutureWatcher<core::ConnectionTestResult>::finished, this,
            [this, watcher, target, button, result] {
                const core::ConnectionTestResult r = watcher->result();
                watcher->deleteLater();
                button->setEnabled(true);
                const QString message = QString::fromStdString(r.message);
                result->setStyleSheet(r.ok ? QStringLiteral("color: #1a7f37;")
                                           : QStringLiteral("color: #c62828;"));
                result->setText(tr("%1 (%2 ms)").arg(message).arg(qRound(r.latencyMs)));
                Q_EMIT testFinished(target, r.ok, message);
            });
    watcher->setFuture(QtConcurrent::run(std::move(test)));
}

void SettingsDialog::testKafka()
{
    if (m_currentRow < 0)
        return;
    m_mapper->submit();
    const KafkaProfile &p = m_profiles->profile(m_currentRow);
    const core::ClusterConfig cluster = p.toClusterConfig(m_passwords.value(p.passwordKey()));
    runTest(QStringLiteral("kafka"), m_kafkaTest, m_kafkaResult,
            [cluster] { return core::testKafka(cluster); });
}

void SettingsDialog::testPostgres()
{
    const SinkConfiguration c = sinkConfiguration();
    runTest(QStringLiteral("postgresql"), m_pgTest, m_pgResult,
            [uri = c.postgresUri.toStdString(), password = c.postgresPassword.toStdString()] {
                return core::testPostgres(uri, password);
            });
}

void SettingsDialog::testRedis()
{
    const SinkConfiguration c = sinkConfiguration();
    runTest(QStringLiteral("redis"), m_redisTest, m_redisResult,
            [uri = c.redisUri.toStdString(), user = c.redisUser.toStdString(),
             password = c.redisPassword.toStdString()] {
                return core::testRedis(uri, user, password);
            });
}

} // namespace studio::ui
