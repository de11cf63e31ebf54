#include "ui/pages/aclsview.h"

#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace studio::ui {

namespace {

using Field = std::string core::AclEntry::*;

TableColumn<core::AclEntry> column(const QString &title, Field field)
{
    return {title, [field](const core::AclEntry &a) -> QVariant {
                return QString::fromStdString(a.*field);
            }};
}

} // namespace

AclsView::AclsView(core::ClusterConfig cluster, QWidget *parent)
    : QWidget(parent)
    , m_cluster(std::move(cluster))
{
    m_model = new AclModel(
        {
            column(tr("Principal"), &core::AclEntry::principal),
            column(tr("Host"), &core::AclEntry::host),
            column(tr("Operation"), &core::AclEntry::operation),
            column(tr("Permission"), &core::AclEntry::permission),
            column(tr("Resource type"), &core::AclEntry::resourceType),
            column(tr("Resource name"), &core::AclEntry::resourceName),
            column(tr("Pattern type"), &core::AclEntry::patternType),
        },
        [](const core::AclEntry &a) {
            return QString::fromStdString(a.principal + '\n' + a.host + '\n' + a.operation + '\n' +
                                          a.permission + '\n' + a.resourceType + '\n' +
                                          a.resourceName + '\n' + a.patternType);
        },
        this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterKeyColumn(-1); // any column
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setSortRole(Qt::UserRole);
    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(22);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAccessibleName(tr("ACLs"));
    m_table->setToolTip(tr("The cluster's access control lists: who may do what on which "
                           "resource"));
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter: principal, operation, resource…"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Filter ACLs"));
    m_filter->setToolTip(tr("Show only the ACLs with this text in any column"));
    m_refresh = new QPushButton(tr("Refresh"), this);
    m_refresh->setToolTip(tr("Read the ACLs from the cluster again"));
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_count = new QLabel(this);
    connect(m_refresh, &QPushButton::clicked, this, &AclsView::refresh);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterFixedString(text);
        m_count->setText(tr("%1 of %2 ACLs").arg(m_proxy->rowCount()).arg(m_model->rowCount()));
    });

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_count);
    bar->addWidget(m_refresh);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_message);
    layout->addWidget(m_table, 1);
    layout->addStretch(); // keeps the message at the top while the table is hidden
    m_table->hide();      // until there is something to show
    setMessage(tr("The ACLs are read when this tab is first shown."), false);
}

void AclsView::setFilter(const QString &text)
{
    m_filter->setText(text);
}

QString AclsView::messageText() const
{
    return m_message->text();
}

void AclsView::setMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_message->setVisible(!text.isEmpty());
    m_message->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

void AclsView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_loaded && !m_busy)
        refresh();
}

void AclsView::refresh()
{
    if (m_busy)
        return;
    struct Outcome
    {
        std::optional<core::AclListing> listing;
        bool embedded = false;
        std::string error;
    };
    m_busy = true;
    m_refresh->setEnabled(false);
    setMessage(tr("Reading the ACLs of %1…").arg(QString::fromStdString(m_cluster.describe())),
               false);
    auto *watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher] {
        const Outcome o = watcher->result();
        watcher->deleteLater();
        m_busy = false;
        present(o.listing, QString::fromStdString(o.error), o.embedded);
    });
    watcher->setFuture(QtConcurrent::run([cluster = m_cluster] {
        Outcome o;
        core::KafkaAdmin admin(cluster, kAdminTimeoutMs);
        if (!admin.connect(&o.error)) {
            o.error = "cannot connect: " + o.error;
            return o;
        }
        o.embedded = admin.isEmbeddedBroker();
        if (!o.embedded)
            o.listing = admin.describeAcls({}, &o.error);
        return o;
    }));
}

void AclsView::present(const std::optional<core::AclListing> &listing, const QString &error,
                       bool embedded)
{
    m_loaded = true;
    const bool ok = listing.has_value();
    m_refresh->setEnabled(!embedded);
    m_refresh->setToolTip(embedded ? tr("Not on the embedded broker: it cannot list ACLs")
                                   : tr("Read the ACLs from the cluster again"));
    if (embedded) {
        setMessage(tr("Not on the embedded broker: librdkafka's mock cannot list ACLs (it has no "
                      "DescribeAcls)."),
                   true);
    } else if (!ok) {
        QString text = error;
        if (!text.isEmpty())
            text[0] = text[0].toUpper();
        setMessage(tr("Cannot list the ACLs: %1").arg(text), true);
    } else if (listing->acls.empty()) {
        QString text = QString::fromStdString(listing->warning);
        if (!text.isEmpty())
            text[0] = text[0].toUpper();
        setMessage(tr("No ACLs listed. %1.").arg(text), !listing->authorizer.empty());
    } else {
        setMessage(QString(), false);
    }
    m_model->setRows(ok ? listing->acls : std::vector<core::AclEntry>{});
    // A table only when it has rows: an empty one would read as "no ACLs".
    m_table->setVisible(ok && !listing->acls.empty());
    m_filter->setEnabled(ok && !listing->acls.empty());
    m_count->setText(m_table->isVisibleTo(this)
                         ? tr("%1 of %2 ACLs").arg(m_proxy->rowCount()).arg(m_model->rowCount())
                         : QString());
    Q_EMIT loaded(ok && !embedded);
}

} // namespace studio::ui
