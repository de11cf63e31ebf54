#include "ui/dialogs/alertruleseditor.h"

#include "ui/models/alertmodels.h"
#include "ui/models/kafkamodels.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>

namespace studio::ui {

namespace {

/// Combo boxes for the columns with a fixed vocabulary (the signal one stays editable: rules
/// may name signals a later engine publishes).
class RuleChoiceDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QWidget *createEditor(QWidget *parent, const QStyleOptionViewItem &option,
                          const QModelIndex &index) const override
    {
        QStringList items;
        bool editable = false;
        switch (index.column()) {
        case AlertRuleModel::Comparison:
            items = {QStringLiteral(">"),  QStringLiteral(">="), QStringLiteral("<"),
                     QStringLiteral("<="), QStringLiteral("=="), QStringLiteral("!=")};
            break;
        case AlertRuleModel::Severity:
            items = {QStringLiteral("info"), QStringLiteral("warning"), QStringLiteral("critical")};
            break;
        case AlertRuleModel::Signal:
            items = {QString::fromLatin1(core::kSignalServiceUp),
                     QString::fromLatin1(core::kSignalLagStatusOk),
                     QString::fromLatin1(core::kSignalLagSeconds),
                     QString::fromLatin1(core::kSignalDeadLetterRate),
                     QString::fromLatin1(core::kSignalHotLowConversion),
                     QString::fromLatin1(core::kSignalKeysFoldedRate),
                     QString::fromLatin1(core::kSignalDeletedUnreadRate)};
            editable = true;
            break;
        default:
            return QStyledItemDelegate::createEditor(parent, option, index);
        }
        auto *combo = new QComboBox(parent);
        combo->addItems(items);
        combo->setEditable(editable);
        return combo;
    }

    void setEditorData(QWidget *editor, const QModelIndex &index) const override
    {
        if (auto *combo = qobject_cast<QComboBox *>(editor))
            combo->setCurrentText(index.data(Qt::EditRole).toString());
        else
            QStyledItemDelegate::setEditorData(editor, index);
    }

    void setModelData(QWidget *editor, QAbstractItemModel *model,
                      const QModelIndex &index) const override
    {
        if (auto *combo = qobject_cast<QComboBox *>(editor))
            model->setData(index, combo->currentText(), Qt::EditRole);
        else
            QStyledItemDelegate::setModelData(editor, model, index);
    }
};

struct FileOutcome
{
    bool ok = false;
    std::string message;
    std::vector<core::AlertRule> rules;
};

} // namespace

AlertRulesEditor::AlertRulesEditor(core::AlertEngine &engine, QWidget *parent)
    : QWidget(parent)
    , m_engine(engine)
{
    m_model = new AlertRuleModel(this);
    auto *proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(m_model);
    proxy->setSortRole(kSortRole);
    m_view = new QTableView(this);
    m_view->setModel(proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // the file's order until a header is clicked
    m_view->setItemDelegate(new RuleChoiceDelegate(m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(22);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setColumnWidth(AlertRuleModel::Enabled, 36);
    m_view->setColumnWidth(AlertRuleModel::Name, 170);
    m_view->setColumnWidth(AlertRuleModel::Signal, 140);
    m_view->setColumnWidth(AlertRuleModel::Matchers, 110);
    m_view->setColumnWidth(AlertRuleModel::Comparison, 44);
    m_view->setColumnWidth(AlertRuleModel::Threshold, 70);
    m_view->setColumnWidth(AlertRuleModel::For, 56);
    m_view->setColumnWidth(AlertRuleModel::Severity, 70);

    auto *add = new QPushButton(tr("Add"), this);
    auto *remove = new QPushButton(tr("Remove"), this);
    m_apply = new QPushButton(tr("Apply"), this);
    auto *revertButton = new QPushButton(tr("Revert"), this);
    auto *load = new QPushButton(tr("Load…"), this);
    m_save = new QPushButton(tr("Save…"), this);
    m_validation = new QLabel(this);
    m_validation->setWordWrap(true);
    m_validation->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_message = new QLabel(this);
    m_message->setWordWrap(true);

    auto *bar = new QHBoxLayout;
    for (QPushButton *b : {add, remove, m_apply, revertButton, load, m_save})
        bar->addWidget(b);
    bar->addWidget(m_message, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_validation);

    connect(add, &QPushButton::clicked, this, [this] { addRule(); });
    connect(remove, &QPushButton::clicked, this, &AlertRulesEditor::removeSelected);
    connect(m_apply, &QPushButton::clicked, this, [this] { apply(); });
    connect(revertButton, &QPushButton::clicked, this, &AlertRulesEditor::revert);
    connect(load, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Load alert rules"), {},
                                                          tr("JSON files (*.json)"));
        if (!path.isEmpty())
            loadFrom(path);
    });
    connect(m_save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save alert rules"),
                                                          QStringLiteral("alert-rules.json"),
                                                          tr("JSON files (*.json)"));
        if (!path.isEmpty())
            saveTo(path);
    });
    connect(m_model, &AlertRuleModel::rulesEdited, this, &AlertRulesEditor::validate);
    revert();
}

QString AlertRulesEditor::validationText() const
{
    return m_validation->text();
}

void AlertRulesEditor::validate()
{
    const QStringList problems = m_model->problems();
    m_validation->setText(problems.join(QLatin1Char('\n')));
    m_validation->setVisible(!problems.isEmpty());
    m_apply->setEnabled(problems.isEmpty());
    m_save->setEnabled(problems.isEmpty());
}

void AlertRulesEditor::setMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_message->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

int AlertRulesEditor::addRule()
{
    QSet<QString> names;
    for (const core::AlertRule &r : m_model->rules())
        names.insert(QString::fromStdString(r.name));
    QString name = QStringLiteral("NewRule");
    for (int n = 2; names.contains(name); ++n)
        name = QStringLiteral("NewRule%1").arg(n);
    core::AlertRule rule;
    rule.name = name.toStdString();
    rule.signal = core::kSignalServiceUp;
    rule.comparison = core::Comparison::Equal;
    rule.threshold = 0;
    rule.forSeconds = 60;
    rule.severity = core::Severity::Warning;
    rule.summary = "{service} is down";
    const int row = m_model->appendRule(std::move(rule));
    auto *proxy = static_cast<QSortFilterProxyModel *>(m_view->model());
    const QModelIndex at = proxy->mapFromSource(m_model->index(row, AlertRuleModel::Name));
    m_view->setCurrentIndex(at);
    m_view->scrollTo(at);
    setMessage(tr("Added %1: edit it, then Apply or Save.").arg(name), false);
    return row;
}

void AlertRulesEditor::removeSelected()
{
    auto *proxy = static_cast<QSortFilterProxyModel *>(m_view->model());
    QList<int> rows;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows())
        rows << proxy->mapToSource(i).row();
    std::sort(rows.begin(), rows.end(), std::greater<>());
    for (int row : rows)
        m_model->removeRows(row, 1);
}

bool AlertRulesEditor::apply()
{
    std::string error;
    const bool ok = m_engine.setRules(m_model->rules(), &error);
    const QString message = ok ? tr("Applied %n rule(s).", nullptr, int(m_model->rules().size()))
                               : QString::fromStdString(error);
    setMessage(message, !ok);
    Q_EMIT rulesApplied(ok, message);
    return ok;
}

void AlertRulesEditor::revert()
{
    m_model->setRules(m_engine.rules());
    validate();
}

void AlertRulesEditor::saveTo(const QString &path)
{
    if (const QStringList problems = m_model->problems(); !problems.isEmpty()) {
        const QString message = tr("Not saved: %1").arg(problems.first());
        setMessage(message, true);
        Q_EMIT rulesSaved(false, message);
        return;
    }
    const std::string file = QFile::encodeName(path).toStdString();
    auto rules = std::make_shared<const std::vector<core::AlertRule>>(m_model->rules());
    auto *watcher = new QFutureWatcher<FileOutcome>(this);
    connect(watcher, &QFutureWatcher<FileOutcome>::finished, this, [this, watcher, path] {
        const FileOutcome o = watcher->result();
        watcher->deleteLater();
        const QString message =
            o.ok ? tr("Saved to %1").arg(path) : QString::fromStdString(o.message);
        setMessage(message, !o.ok);
        Q_EMIT rulesSaved(o.ok, message);
    });
    watcher->setFuture(QtConcurrent::run([file, rules] {
        FileOutcome o;
        o.ok = core::saveAlertRules(file, *rules, &o.message);
        return o;
    }));
}

void AlertRulesEditor::loadFrom(const QString &path)
{
    const std::string file = QFile::encodeName(path).toStdString();
    auto *watcher = new QFutureWatcher<FileOutcome>(this);
    connect(watcher, &QFutureWatcher<FileOutcome>::finished, this, [this, watcher, path] {
        FileOutcome o = watcher->result();
        watcher->deleteLater();
        if (o.ok) {
            m_model->setRules(std::move(o.rules));
            validate();
        }
        const QString message = o.ok ? tr("Loaded %n rule(s) from %1; Apply to use them.", nullptr,
                                          int(m_model->rules().size()))
                                           .arg(path)
                                     : QString::fromStdString(o.message);
        setMessage(message, !o.ok);
        Q_EMIT rulesLoaded(o.ok, message);
    });
    watcher->setFuture(QtConcurrent::run([file] {
        FileOutcome o;
        if (auto rules = core::loadAlertRules(file, &o.message)) {
            o.ok = true;
            o.rules = std::move(*rules);
        }
        return o;
    }));
}

} // namespace studio::ui
