#include "ui/dialogs/aboutdialog.h"

#include "core/common/version.h"

#include <librdkafka/rdkafka.h>

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <QtGlobal>

namespace studio::ui {

namespace {

QLabel *label(const QString &text, const char *name, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    l->setObjectName(QLatin1String(name));
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

} // namespace

AboutDialog::AboutDialog(QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("aboutDialog"));
    setWindowTitle(tr("About Clickstream Studio"));

    auto *layout = new QVBoxLayout(this);
    auto *title = new QLabel(tr("<h2>Clickstream Studio</h2>"), this);
    title->setObjectName(QStringLiteral("aboutName"));
    layout->addWidget(title);
    layout->addWidget(label(QString::fromUtf8(kDescription), "aboutDescription", this));
    auto *versions = new QFormLayout;
    versions->addRow(tr("Version:"), label(QString::fromLatin1(kVersion), "aboutVersion", this));
    // The Qt the program runs with (qVersion) and the one it was built with can differ.
    versions->addRow(
        tr("Qt:"), label(tr("%1 (built with %2)")
                             .arg(QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR)),
                         "aboutQtVersion", this));
    versions->addRow(tr("librdkafka:"),
                     label(QString::fromLatin1(rd_kafka_version_str()), "aboutKafkaVersion", this));
    layout->addLayout(versions);
    const QString homepage = QString::fromLatin1(kHomepage);
    auto *link =
        new QLabel(QStringLiteral("<a href=\"%1\">%1</a>").arg(homepage.toHtmlEscaped()), this);
    link->setObjectName(QStringLiteral("aboutHomepage"));
    link->setOpenExternalLinks(true);
    layout->addWidget(link);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

} // namespace studio::ui
