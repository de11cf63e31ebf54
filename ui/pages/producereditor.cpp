#include "ui/pages/producereditor.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>

#include <algorithm>
#include <cmath>

namespace studio::ui {

namespace {

constexpr int kSliderSteps = 1000;
constexpr double kMaxRate = core::ProducerSettings::kMaxRate;

QDoubleSpinBox *percentBox(QWidget *parent, double max = 100)
{
    auto *box = new QDoubleSpinBox(parent);
    box->setRange(0, max);
    box->setDecimals(1);
    box->setSuffix(QStringLiteral(" %"));
    box->setKeyboardTracking(false);
    return box;
}

} // namespace

int ProducerEditor::sliderFromRate(double rate)
{
    const double clamped = std::clamp(rate, 1.0, kMaxRate);
    return static_cast<int>(std::lround(std::log10(clamped) / std::log10(kMaxRate) * kSliderSteps));
}

double ProducerEditor::rateFromSlider(int position)
{
    const double exact = std::pow(kMaxRate, static_cast<double>(position) / kSliderSteps);
    // Round to two significant digits so dragging lands on readable rates (5,000 not 5,012).
    const double scale = std::pow(10.0, std::floor(std::log10(exact)) - 1);
    return std::clamp(std::round(exact / scale) * scale, 1.0, kMaxRate);
}

ProducerEditor::ProducerEditor(QWidget *parent)
    : QWidget(parent)
{
    auto *form = new QFormLayout(this);
    m_name = new QLineEdit(this);
    m_topic = new QLineEdit(this);
    m_name->setObjectName(QStringLiteral("nameEdit"));
    m_topic->setObjectName(QStringLiteral("topicEdit"));
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Topic"), m_topic);

    m_rateSlider = new QSlider(Qt::Horizontal, this);
    m_rateSlider->setRange(0, kSliderSteps);
    m_rateSlider->setToolTip(tr("Logarithmic: 1 to 1,000,000 events/s"));
    m_rate = new QSpinBox(this);
    m_rate->setRange(1, static_cast<int>(kMaxRate));
    m_rate->setSuffix(tr(" ev/s"));
    m_rate->setGroupSeparatorShown(true);
    m_rate->setKeyboardTracking(false); // one change per typed number, not per keystroke
    auto *rateRow = new QHBoxLayout;
    rateRow->addWidget(m_rateSlider, 1);
    rateRow->addWidget(m_rate);
    form->addRow(tr("Rate"), rateRow);

    m_hotProduct = new QLineEdit(this);
    m_hotShare = percentBox(this);
    auto *hotRow = new QHBoxLayout;
    hotRow->addWidget(m_hotProduct, 1);
    hotRow->addWidget(m_hotShare);
    form->addRow(tr("Hot product, share"), hotRow);

    auto *mixRow = new QHBoxLayout;
    const QString mixNames[4] = {tr("views"), tr("clicks"), tr("cart"), tr("purchases")};
    for (int i = 0; i < 4; ++i) {
        m_mix[i] = new QDoubleSpinBox(this);
        m_mix[i]->setRange(0, 100);
        m_mix[i]->setDecimals(1);
        m_mix[i]->setToolTip(mixNames[i]);
        mixRow->addWidget(m_mix[i]);
    }
    form->addRow(tr("Mix (view/click/cart/buy)"), mixRow);

    m_users = new QSpinBox(this);
    m_users->setRange(0, 10'000'000);
    m_users->setSpecialValueText(tr("as the rate needs"));
    m_products = new QSpinBox(this);
    m_products->setRange(1, 1'000'000);
    form->addRow(tr("Users"), m_users);
    form->addRow(tr("Products"), m_products);
    m_duplicates = percentBox(this);
    m_late = percentBox(this);
    m_malformed = percentBox(this);
    form->addRow(tr("Duplicates"), m_duplicates);
    form->addRow(tr("Late events"), m_late);
    form->addRow(tr("Malformed"), m_malformed);
    m_compression = new QComboBox(this);
    for (const char *c : {"none", "gzip", "snappy", "lz4", "zstd"})
        m_compression->addItem(QLatin1String(c));
    form->addRow(tr("Compression"), m_compression);
    m_transactional = new QCheckBox(tr("Exactly once (Kafka transactions)"), this);
    m_transactional->setObjectName(QStringLiteral("transactionalBox"));
    m_transactional->setToolTip(
        tr("Send in transactions committed every 100 ms: a transaction the brokers abort (a "
           "leader moving) is sent again, and read_committed consumers never see a copy. Needs "
           "brokers with transactions; the embedded broker keeps aborted copies visible."));
    form->addRow(QString(), m_transactional);
    m_apply = new QPushButton(tr("Apply (at next start)"), this);
    m_apply->setObjectName(QStringLiteral("applyButton"));
    m_apply->setToolTip(tr("Rate and hot share apply at once; the rest when the producer starts"));
    form->addRow(m_apply);

    // Names a screen reader says, and tooltips, for the fields of composite rows too.
    const std::pair<QWidget *, QString> fields[] = {
        {m_name, tr("Producer name")},
        {m_topic, tr("Kafka topic the producer writes to")},
        {m_rateSlider, tr("Rate (logarithmic slider)")},
        {m_rate, tr("Rate in events per second")},
        {m_hotProduct, tr("Hot product: the product that draws an extra share of views")},
        {m_hotShare, tr("Share of views that go to the hot product")},
        {m_users, tr("Distinct users (0: as many as the rate needs)")},
        {m_products, tr("Distinct products")},
        {m_duplicates, tr("Share of events sent twice (same event id)")},
        {m_late, tr("Share of events with an event time behind the watermark")},
        {m_malformed, tr("Share of malformed events (invalid JSON or fields)")},
        {m_compression, tr("Kafka compression codec")},
        {m_transactional, tr("Exactly once: send in Kafka transactions")},
    };
    for (const auto &[widget, text] : fields) {
        widget->setAccessibleName(text);
        if (widget->toolTip().isEmpty())
            widget->setToolTip(text);
    }
    for (int i = 0; i < 4; ++i) {
        m_mix[i]->setAccessibleName(tr("Mix: %1 (%)").arg(mixNames[i]));
        m_mix[i]->setToolTip(tr("Share of %1 in the event mix (%)").arg(mixNames[i]));
    }

    connect(m_rateSlider, &QSlider::valueChanged, this, [this](int position) {
        if (m_rateSlider->isSliderDown()) {
            const QSignalBlocker block(m_rate); // no marker per pixel of a drag
            m_rate->setValue(static_cast<int>(rateFromSlider(position)));
        } else {
            m_rate->setValue(static_cast<int>(rateFromSlider(position)));
        }
    });
    connect(m_rateSlider, &QSlider::sliderReleased, this,
            [this] { Q_EMIT rateChanged(m_rate->value()); });
    connect(m_rate, &QSpinBox::valueChanged, this, [this](int rate) {
        const QSignalBlocker block(m_rateSlider);
        m_rateSlider->setValue(sliderFromRate(rate));
        Q_EMIT rateChanged(rate);
    });
    connect(m_hotShare, &QDoubleSpinBox::valueChanged, this,
            [this](double percent) { Q_EMIT hotShareChanged(percent / 100); });
    connect(m_apply, &QPushButton::clicked, this, &ProducerEditor::applyRequested);
    setEnabled(false);
}

void ProducerEditor::setRateQuietly(int rate)
{
    const QSignalBlocker a(m_rate), b(m_rateSlider);
    m_rate->setValue(rate);
    m_rateSlider->setValue(sliderFromRate(rate));
}

void ProducerEditor::load(const core::StudioProducerSettings &s, bool enabled)
{
    m_loaded = s;
    const QSignalBlocker hot(m_hotShare);
    m_name->setText(QString::fromStdString(s.producer.name));
    m_topic->setText(QString::fromStdString(s.producer.topic));
    setRateQuietly(static_cast<int>(std::max(1.0, s.producer.ratePerSecond)));
    m_hotProduct->setText(QString::fromStdString(s.generator.hotProduct));
    m_hotShare->setValue(s.generator.hotShare * 100);
    const double total = s.generator.mix.pageView + s.generator.mix.click +
                         s.generator.mix.addToCart + s.generator.mix.purchase;
    const double mix[4] = {s.generator.mix.pageView, s.generator.mix.click,
                           s.generator.mix.addToCart, s.generator.mix.purchase};
    for (int i = 0; i < 4; ++i)
        m_mix[i]->setValue(total > 0 ? mix[i] / total * 100 : 0);
    m_users->setValue(s.generator.users);
    m_products->setValue(s.generator.products);
    m_duplicates->setValue(s.generator.duplicateFraction * 100);
    m_late->setValue(s.generator.lateFraction * 100);
    m_malformed->setValue(s.generator.malformedFraction * 100);
    m_compression->setCurrentText(QString::fromStdString(s.producer.compression));
    m_transactional->setChecked(s.producer.transactional);
    setEnabled(enabled);
}

core::StudioProducerSettings ProducerEditor::settings() const
{
    core::StudioProducerSettings s = m_loaded; // keeps what the editor does not show
    s.producer.name = m_name->text().toStdString();
    s.producer.topic = m_topic->text().trimmed().toStdString();
    s.producer.ratePerSecond = m_rate->value();
    s.producer.compression = m_compression->currentText().toStdString();
    s.producer.transactional = m_transactional->isChecked();
    s.generator.hotProduct = m_hotProduct->text().trimmed().toStdString();
    s.generator.hotShare = m_hotShare->value() / 100;
    s.generator.mix = {m_mix[0]->value(), m_mix[1]->value(), m_mix[2]->value(), m_mix[3]->value()};
    s.generator.users = m_users->value();
    s.generator.products = m_products->value();
    s.generator.duplicateFraction = m_duplicates->value() / 100;
    s.generator.lateFraction = m_late->value() / 100;
    s.generator.malformedFraction = m_malformed->value() / 100;
    return s;
}

} // namespace studio::ui
