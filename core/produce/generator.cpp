#include "core/produce/generator.h"

#include "core/common/timeutil.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace studio::core {

namespace {

constexpr std::array<std::string_view, 4> kEventTypes = {"page_view", "click", "add_to_cart",
                                                         "purchase"};
enum EventTypeIndex { PageView = 0, Click = 1, AddToCart = 2, Purchase = 3 };

struct Weighted
{
    std::string_view value;
    double weight;
};

constexpr std::array<Weighted, 8> kCategories = {{{"Electronics", 1},
                                                  {"Books", 1},
                                                  {"Clothing", 1},
                                                  {"Home & Kitchen", 1},
                                                  {"Sports", 1},
                                                  {"Beauty", 1},
                                                  {"Toys", 1},
                                                  {"Grocery", 1}}};
constexpr std::array<std::string_view, 8> kCategorySlugs = {
    "electronics", "books", "clothing", "home-kitchen", "sports", "beauty", "toys", "grocery"};

// Seed 003's audience: a web shop with most traffic from the US and Europe, mostly mobile.
constexpr std::array<Weighted, 14> kCountries = {{{"US", 28},
                                                  {"GB", 9},
                                                  {"IN", 9},
                                                  {"DE", 8},
                                                  {"FR", 6},
                                                  {"BR", 6},
                                                  {"CA", 5},
                                                  {"JP", 5},
                                                  {"IT", 5},
                                                  {"AU", 4},
                                                  {"ES", 4},
                                                  {"MX", 4},
                                                  {"VN", 4},
                                                  {"NL", 3}}};
constexpr std::array<Weighted, 3> kDevices = {{{"mobile", 55}, {"desktop", 38}, {"tablet", 7}}};
constexpr std::array<Weighted, 6> kBrowsers = {{{"Chrome", 63},
                                                {"Safari", 19},
                                                {"Firefox", 7},
                                                {"Edge", 6},
                                                {"Samsung Internet", 3},
                                                {"Opera", 2}}};
// Seed 002's referrer types: search engine, social media, direct, other.
constexpr std::array<Weighted, 10> kReferrers = {{{"https://www.google.com/", 30},
                                                  {"https://www.bing.com/", 6},
                                                  {"https://duckduckgo.com/", 4},
                                                  {"https://www.facebook.com/", 8},
                                                  {"https://t.co/", 5},
                                                  {"https://www.instagram.com/", 5},
                                                  {"https://www.reddit.com/", 2},
                                                  {"direct", 30},
                                                  {"https://news.example.com/", 5},
                                                  {"https://partner.example.org/", 5}}};

template <std::size_t N>
std::uint8_t pickWeighted(Random &rng, const std::array<Weighted, N> &table)
{
    double total = 0;
    for (const auto &w : table)
        total += w.weight;
    double u = rng.unit() * total;
    for (std::size_t i = 0; i < N; ++i) {
        u -= table[i].weight;
        if (u < 0)
            return static_cast<std::uint8_t>(i);
    }
    return static_cast<std::uint8_t>(N - 1);
}

// Every string the generator writes is built from fixed tables and ids checked by validate()
// (letters, digits, '_', '-', '.'), so none needs JSON escaping.
void appendQuoted(std::string &out, std::string_view s)
{
    out.push_back('"');
    out.append(s);
    out.push_back('"');
}

void appendHex(std::string &out, std::uint64_t v, int digits)
{
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[16];
    for (int i = digits - 1; i >= 0; --i) {
        buf[i] = kHex[v & 0xf];
        v >>= 4;
    }
    out.append(buf, static_cast<std::size_t>(digits));
}

void appendCents(std::string &out, std::int64_t cents)
{
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, cents / 100);
    (void)ec;
    *end++ = '.';
    *end++ = static_cast<char>('0' + (cents % 100) / 10);
    *end++ = static_cast<char>('0' + cents % 10);
    out.append(buf, static_cast<std::size_t>(end - buf));
}

void cumulative(const EventMix &mix, double *out)
{
    const double w[4] = {mix.pageView, mix.click, mix.addToCart, mix.purchase};
    double total = w[0] + w[1] + w[2] + w[3];
    if (total <= 0)
        total = 1;
    double acc = 0;
    for (int i = 0; i < 4; ++i) {
        acc += w[i] / total;
        out[i] = acc;
    }
    out[3] = 1.0;
}

bool mixValid(const EventMix &m)
{
    return m.pageView >= 0 && m.click >= 0 && m.addToCart >= 0 && m.purchase >= 0 &&
           m.pageView + m.click + m.addToCart + m.purchase > 0;
}

std::uint64_t hashSeed(std::uint64_t seed)
{
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

} // namespace

std::string GeneratorConfig::validate() const
{
    auto fraction = [](double v) {
        return std::isfinite(v) && v >= 0.0 && v <= 1.0;
    };
    if (users < 1 || users > 10'000'000)
        return "users must be between 1 and 10000000";
    if (products < 1 || products > 1'000'000)
        return "products must be between 1 and 1000000";
    if (hotProduct.empty() && hotShare > 0)
        return "a hot product id is needed when its share is above 0";
    if (hotProduct.size() > 64 ||
        !std::all_of(hotProduct.begin(), hotProduct.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '_' || c == '-' || c == '.';
        }))
        return "the hot product id may use only letters, digits, '_', '-' and '.' (at most 64)";
    if (!fraction(hotShare))
        return "hot-product share must be between 0 and 1";
    if (!mixValid(mix))
        return "event mix weights must be non-negative with a positive sum";
    if (hotShare > 0 && !mixValid(hotMix))
        return "hot-product mix weights must be non-negative with a positive sum";
    if (!fraction(duplicateFraction) || !fraction(lateFraction) || !fraction(malformedFraction))
        return "duplicate, late and malformed fractions must each be between 0 and 1";
    if (duplicateFraction + lateFraction + malformedFraction > 1.0)
        return "duplicate + late + malformed fractions must not exceed 1";
    if (lateByMs < 0)
        return "late-by must not be negative";
    if (!(meanSessionEvents >= 1.0))
        return "mean session length must be at least 1 event";
    if (sessionTimeoutMs <= 0)
        return "session timeout must be positive";
    return {};
}

EventGenerator::EventGenerator(GeneratorConfig config)
    : m_config(std::move(config))
    , m_rng(0)
{
    m_rng.reseed(m_config.seed);
    cumulative(m_config.mix, m_mixCumulative);
    cumulative(m_config.hotMix, m_hotMixCumulative);

    const int nCategories = static_cast<int>(kCategories.size());
    m_byCategory.resize(kCategories.size());
    m_catalog.reserve(static_cast<std::size_t>(m_config.products) + 1);
    for (int i = 0; i < m_config.products; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "prod_%04d", i);
        const int category = i % nCategories;
        const std::int64_t cents = (5 + static_cast<std::int64_t>(m_rng.below(495))) * 100 + 99;
        m_catalog.push_back({id, std::string(kCategories[category].value), cents});
    }
    for (std::size_t i = 0; i < m_catalog.size(); ++i) {
        if (m_catalog[i].id == m_config.hotProduct)
            m_hotIndex = static_cast<std::int32_t>(i);
    }
    if (m_hotIndex < 0 && !m_config.hotProduct.empty()) {
        m_catalog.push_back({m_config.hotProduct, "Electronics", 29999});
        m_hotIndex = static_cast<std::int32_t>(m_catalog.size() - 1);
    }
    if (m_hotIndex >= 0) {
        // Seed 004's high-interest product: an expensive electronics item people look at.
        m_catalog[static_cast<std::size_t>(m_hotIndex)].category = "Electronics";
        m_catalog[static_cast<std::size_t>(m_hotIndex)].priceCents = 29999;
    }
    for (std::size_t i = 0; i < m_catalog.size(); ++i) {
        if (static_cast<std::int32_t>(i) == m_hotIndex)
            continue;
        for (int c = 0; c < nCategories; ++c) {
            if (m_catalog[i].category == kCategories[c].value)
                m_byCategory[c].push_back(static_cast<std::int32_t>(i));
        }
    }

    const std::uint64_t h = hashSeed(m_config.seed);
    m_idPrefix.clear();
    appendHex(m_idPrefix, h, 8);
    m_users.resize(static_cast<std::size_t>(m_config.users));
    for (int i = 0; i < m_config.users; ++i) {
        User &u = m_users[static_cast<std::size_t>(i)];
        char id[32];
        std::snprintf(id, sizeof id, "user_%04d", i);
        u.id = id;
        u.country = pickWeighted(m_rng, kCountries);
        u.device = pickWeighted(m_rng, kDevices);
        u.browser = pickWeighted(m_rng, kBrowsers);
        if (kDevices[u.device].value != "desktop" && kBrowsers[u.browser].value == "Edge")
            u.browser = 0; // Edge on phones is rare enough to fold into Chrome
    }
}

int EventGenerator::pick(const double *cumulativeWeights, int n, double u)
{
    for (int i = 0; i < n - 1; ++i) {
        if (u < cumulativeWeights[i])
            return i;
    }
    return n - 1;
}

void EventGenerator::startSessionIfNeeded(User &user, std::int64_t timestampMs)
{
    const bool idle =
        user.sessionNumber > 0 && timestampMs - user.lastEventMs > m_config.sessionTimeoutMs;
    if (user.sessionNumber > 0 && user.eventsLeft > 0 && !idle)
        return;
    ++user.sessionNumber;
    user.sessionId.assign("sess_");
    user.sessionId.append(m_idPrefix);
    user.sessionId.push_back('_');
    appendHex(user.sessionId, m_sessionCounter++, 10);
    // Geometric session length with the configured mean.
    const double p = 1.0 / m_config.meanSessionEvents;
    const double u = m_rng.unit();
    user.eventsLeft = p >= 1.0 ? 1 : 1 + static_cast<std::int32_t>(std::log1p(-u) / std::log1p(-p));
    user.stage = Stage::None;
    user.product = -1;
    user.cartProduct = -1;
    user.referrer = pickWeighted(m_rng, kReferrers);
}

std::int32_t EventGenerator::randomRegularProduct(std::uint16_t category)
{
    const auto &inCategory = m_byCategory[category];
    if (!inCategory.empty())
        return inCategory[m_rng.below(static_cast<std::uint32_t>(inCategory.size()))];
    for (const auto &other : m_byCategory) {
        if (!other.empty())
            return other[m_rng.below(static_cast<std::uint32_t>(other.size()))];
    }
    return -1;
}

EventGenerator::Emit EventGenerator::hotEvent(User &user)
{
    Emit e;
    e.type = pick(m_hotMixCumulative, 4, m_rng.unit());
    e.product = m_hotIndex;
    switch (e.type) {
    case PageView:
    case Click:
        e.page = "/product/";
        user.stage = Stage::Product;
        user.product = m_hotIndex;
        break;
    case AddToCart:
        e.page = "/product/";
        user.stage = Stage::Product;
        user.product = m_hotIndex;
        user.cartProduct = m_hotIndex;
        break;
    default:
        e.page = "/checkout";
        user.stage = Stage::Checkout;
        user.cartProduct = -1;
        user.eventsLeft = std::min(user.eventsLeft, 2);
        break;
    }
    return e;
}

EventGenerator::Emit EventGenerator::regularEvent(User &user)
{
    // The hot product is accounted for by hotEvent() alone, so that its share is exact.
    if (user.product == m_hotIndex)
        user.product = -1;
    if (user.cartProduct == m_hotIndex)
        user.cartProduct = -1;

    Emit e;
    e.type = pick(m_mixCumulative, 4, m_rng.unit());
    auto setProduct = [&](std::int32_t index) {
        user.product = index;
        user.stage = index < 0 ? Stage::Category : Stage::Product;
    };
    auto randomCategory = [&] {
        return static_cast<std::uint16_t>(
            m_rng.below(static_cast<std::uint32_t>(kCategories.size())));
    };

    if (e.type == PageView) {
        const double u = m_rng.unit();
        switch (user.stage) {
        case Stage::None:
            if (u < 0.5) {
                user.stage = Stage::Home;
            } else if (u < 0.75) {
                user.stage = Stage::Category;
                user.category = randomCategory();
            } else { // landed on a product from a search result
                user.category = randomCategory();
                setProduct(randomRegularProduct(user.category));
            }
            break;
        case Stage::Home:
        case Stage::Checkout:
            user.category = randomCategory();
            if (u < 0.8)
                user.stage = Stage::Category;
            else
                setProduct(randomRegularProduct(user.category));
            break;
        case Stage::Category:
            if (u < 0.75) {
                setProduct(randomRegularProduct(user.category));
            } else if (u < 0.9) {
                user.category = randomCategory();
            } else {
                user.stage = Stage::Home;
            }
            break;
        case Stage::Product:
            if (user.cartProduct >= 0 && u < 0.25)
                user.stage = Stage::Cart;
            else if (u < 0.6)
                setProduct(randomRegularProduct(user.category));
            else if (u < 0.85)
                user.stage = Stage::Category;
            else
                user.stage = Stage::Home;
            break;
        case Stage::Cart:
            if (u < 0.6)
                user.stage = Stage::Checkout;
            else
                setProduct(randomRegularProduct(user.category));
            break;
        }
    } else if (e.type == AddToCart) {
        if (user.stage != Stage::Product || user.product < 0) {
            if (user.stage == Stage::None || user.stage == Stage::Home)
                user.category = randomCategory();
            setProduct(randomRegularProduct(user.category));
        }
        user.cartProduct = user.product;
    } else if (e.type == Purchase) {
        if (user.cartProduct < 0)
            user.cartProduct =
                user.product >= 0 ? user.product : randomRegularProduct(user.category);
        e.product = user.cartProduct;
        e.page = "/checkout";
        user.stage = Stage::Checkout;
        user.cartProduct = -1;
        user.product = -1;
        user.eventsLeft = std::min(user.eventsLeft, 2);
        return e;
    } else if (user.stage == Stage::None) { // a click before any page: the landing page
        user.stage = Stage::Home;
    }

    switch (user.stage) {
    case Stage::None:
    case Stage::Home:
        e.page = user.sessionNumber % 2 ? "/" : "/home";
        break;
    case Stage::Category:
        m_pageScratch.assign("/category/");
        m_pageScratch.append(kCategorySlugs[user.category]);
        e.page = m_pageScratch;
        break;
    case Stage::Product:
        e.page = "/product/";
        e.product = user.product;
        break;
    case Stage::Cart:
        e.page = "/cart";
        break;
    case Stage::Checkout:
        e.page = "/checkout";
        break;
    }
    return e;
}

void EventGenerator::next(std::int64_t timestampMs, RecordBatch &out)
{
    ++m_generated;
    const double roll = m_rng.unit();
    const double dupEnd = m_config.duplicateFraction;
    const double lateEnd = dupEnd + m_config.lateFraction;
    const double badEnd = lateEnd + m_config.malformedFraction;

    if (roll < dupEnd && !m_lastValue.empty()) {
        out.add(m_lastKey, m_lastValue, m_lastTimestamp);
        return;
    }
    // Late only once an on-time event exists, so every injected late event is late to the
    // aggregator's watermark too (and the counts can be checked exactly).
    const bool late = roll >= dupEnd && roll < lateEnd && !m_lastValue.empty();
    const bool malformed = roll >= lateEnd && roll < badEnd;
    const std::int64_t eventTime = late ? timestampMs - m_config.lateByMs : timestampMs;

    User &user = m_users[m_rng.below(static_cast<std::uint32_t>(m_users.size()))];
    startSessionIfNeeded(user, eventTime);
    const bool hot = m_hotIndex >= 0 && m_rng.chance(m_config.hotShare);
    const Emit emit = hot ? hotEvent(user) : regularEvent(user);
    user.lastEventMs = std::max(user.lastEventMs, eventTime);
    --user.eventsLeft;

    const auto kind = malformed ? static_cast<MalformedKind>(
                                      m_rng.below(static_cast<std::uint32_t>(MalformedKind::Count)))
                                : MalformedKind::Count;
    const std::size_t recordStart = out.buffer().size();
    writeEvent(user, emit, eventTime, out, kind, malformed);
    if (!malformed && !late) { // duplicates re-send on-time events only
        m_lastKey = user.id;
        m_lastValue.assign(out.buffer(), recordStart + user.id.size(), std::string::npos);
        m_lastTimestamp = eventTime;
    }
}

void EventGenerator::writeEvent(const User &user, const Emit &emit, std::int64_t timestampMs,
                                RecordBatch &out, MalformedKind malformed, bool isMalformed)
{
    out.beginRecord(user.id);
    std::string &b = out.buffer();
    const std::size_t start = b.size();
    const auto is = [&](MalformedKind k) {
        return isMalformed && malformed == k;
    };

    b.append(R"({"event_id":"evt_)");
    b.append(m_idPrefix);
    b.push_back('_');
    appendHex(b, m_generated, 10);
    b.append(R"(","event_type":)");
    appendQuoted(b, is(MalformedKind::UnknownEventType) ? std::string_view("hover")
                                                        : kEventTypes[emit.type]);
    b.append(R"(,"ts":)");
    if (is(MalformedKind::WrongType)) {
        char num[24];
        auto [end, ec] = std::to_chars(num, num + sizeof num, timestampMs);
        (void)ec;
        b.append(num, static_cast<std::size_t>(end - num));
    } else if (is(MalformedKind::BadTimestamp)) {
        b.append(R"("2026-02-30T25:61:00.000Z")");
    } else {
        b.push_back('"');
        const std::size_t at = b.size();
        b.resize(at + kIsoMsLength);
        formatIsoMs(timestampMs, b.data() + at);
        b.push_back('"');
    }
    if (!is(MalformedKind::MissingField)) {
        b.append(R"(,"user_id":)");
        appendQuoted(b, user.id);
    }
    b.append(R"(,"session_id":)");
    appendQuoted(b, user.sessionId);
    b.append(R"(,"page":")");
    b.append(emit.page);
    const Product *product =
        emit.product >= 0 ? &m_catalog[static_cast<std::size_t>(emit.product)] : nullptr;
    if (emit.page == "/product/" && product)
        b.append(product->id);
    if (is(MalformedKind::NotUtf8))
        b.append("\xC3\x28\xFF");
    b.push_back('"');
    if (product) {
        b.append(R"(,"product_id":)");
        appendQuoted(b, product->id);
        b.append(R"(,"product_category":)");
        appendQuoted(b, product->category);
        b.append(R"(,"price":)");
        appendCents(b, product->priceCents);
    } else {
        b.append(R"(,"product_id":null,"product_category":null,"price":null)");
    }
    b.append(R"(,"referrer":)");
    appendQuoted(b, kReferrers[user.referrer].value);
    b.append(R"(,"country":")");
    b.append(kCountries[user.country].value);
    b.append(R"(","device_type":")");
    b.append(kDevices[user.device].value);
    b.append(R"(","browser":")");
    b.append(kBrowsers[user.browser].value);
    b.append("\"}");
    if (is(MalformedKind::BadJson))
        b.resize(start + (b.size() - start) * 2 / 3); // cut mid-object, as a torn write would
    out.endRecord(timestampMs);
}

void EventGenerator::setHotShare(double share)
{
    m_config.hotShare = std::clamp(share, 0.0, 1.0);
}

std::size_t GeneratorSource::fill(RecordBatch &out, std::size_t max, std::int64_t nowMs)
{
    if (const double share = m_hotShare.load(std::memory_order_relaxed);
        share != m_generator.config().hotShare)
        m_generator.setHotShare(share);
    for (std::size_t i = 0; i < max; ++i)
        m_generator.next(nowMs, out);
    return max;
}

std::string GeneratorSource::describe() const
{
    return m_description; // immutable: describe() may run on any thread
}

} // namespace studio::core
