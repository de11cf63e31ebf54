#include "core/produce/generator.h"

#include "core/common/timeutil.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

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

namespace {

// The navigation model (README: "How the generator behaves"). A free page view moves the user by
// this Markov chain over page kinds; rows are where the user is, columns where the view goes:
// home, category, product, cart, checkout. Cart and checkout are open only with something in the
// cart (and checkout only from the cart); the weights of closed targets are left out.
enum Column { ToHome, ToCategory, ToProduct, ToCart, ToCheckout, kColumns };
constexpr double kHomeRow[kColumns] = {0.05, 0.55, 0.30, 0.10, 0.00};
constexpr double kCategoryRow[kColumns] = {0.10, 0.20, 0.65, 0.05, 0.00};
constexpr double kProductRow[kColumns] = {0.10, 0.30, 0.40, 0.20, 0.00};
constexpr double kCartRow[kColumns] = {0.10, 0.15, 0.25, 0.00, 0.50};
constexpr double kCheckoutRow[kColumns] = {0.40, 0.35, 0.25, 0.00, 0.00};

// Where a session lands, by referrer group (kReferrers order: 3 search engines, 4 social sites,
// direct, 2 others): product page, category page, else the home page.
struct Landing
{
    double product;
    double category;
};
constexpr Landing kSearchLanding{0.50, 0.30};
constexpr Landing kSocialLanding{0.60, 0.00};
constexpr Landing kDirectLanding{0.00, 0.00};
constexpr Landing kOtherLanding{0.25, 0.50};

Landing landingFor(std::uint8_t referrer)
{
    if (referrer < 3)
        return kSearchLanding;
    if (referrer < 7)
        return kSocialLanding;
    if (referrer == 7)
        return kDirectLanding;
    return kOtherLanding;
}

// A user who has just bought something is likely to leave.
constexpr double kLeaveAfterPurchase = 0.3;

// Buckets of the wheel of active users: enough that a bucket is a few ms wide by default.
constexpr std::uint32_t kWheelBuckets = 512;
constexpr std::size_t kThinkQuantiles = 1024;

std::int64_t maxThink(const GeneratorConfig &c)
{
    return std::max<std::int64_t>(1, std::min(10 * c.thinkMs, c.sessionTimeoutMs / 2));
}

std::array<double, 4> normalised(const EventMix &m, bool fallbackToViews)
{
    std::array<double, 4> w = {std::max(m.pageView, 0.0), std::max(m.click, 0.0),
                               std::max(m.addToCart, 0.0), std::max(m.purchase, 0.0)};
    const double total = w[0] + w[1] + w[2] + w[3];
    if (total <= 0)
        return {fallbackToViews ? 1.0 : 0.0, 0, 0, 0};
    for (double &v : w)
        v /= total;
    return w;
}

} // namespace

std::string GeneratorConfig::validate() const
{
    auto fraction = [](double v) {
        return std::isfinite(v) && v >= 0.0 && v <= 1.0;
    };
    if (users < 0 || users > 10'000'000)
        return "users must be 0 (as the rate needs) or between 1 and 10000000";
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
    if (sessionTimeoutMs < 1000 || sessionTimeoutMs > 24 * 3'600'000LL)
        return "session timeout must be between 1 s and 24 h";
    if (thinkMs < 1 || thinkMs > sessionTimeoutMs / 4)
        return "think time must be at least 1 ms and at most a quarter of the session timeout";
    if (!fraction(returnShare))
        return "return share must be between 0 and 1";
    return {};
}

EventGenerator::EventGenerator(GeneratorConfig config)
    : m_config(std::move(config))
    , m_rng(0)
    , m_active(maxThink(m_config) / (kWheelBuckets - 16) + 1, kWheelBuckets)
{
    m_rng.reseed(m_config.seed);

    const int nCategories = static_cast<int>(kCategories.size());
    m_byCategory.resize(kCategories.size());
    m_catalog.reserve(static_cast<std::size_t>(m_config.products) + 1);
    for (int i = 0; i < m_config.products; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "prod_%04d", i);
        const int category = i % nCategories;
        const std::int64_t cents = (5 + static_cast<std::int64_t>(m_rng.below(495))) * 100 + 99;
        m_catalog.push_back({id, std::string(kCategories[category].value), cents,
                             static_cast<std::uint8_t>(category)});
    }
    for (std::size_t i = 0; i < m_catalog.size(); ++i) {
        if (m_catalog[i].id == m_config.hotProduct)
            m_hotIndex = static_cast<std::int32_t>(i);
    }
    if (m_hotIndex < 0 && !m_config.hotProduct.empty()) {
        m_catalog.push_back({m_config.hotProduct, "Electronics", 29999, 0});
        m_hotIndex = static_cast<std::int32_t>(m_catalog.size() - 1);
    }
    if (m_hotIndex >= 0) {
        // Seed 004's high-interest product: an expensive electronics item people look at.
        Product &hot = m_catalog[static_cast<std::size_t>(m_hotIndex)];
        hot.category = "Electronics";
        hot.categoryIndex = 0;
        hot.priceCents = 29999;
    }
    for (std::size_t i = 0; i < m_catalog.size(); ++i) {
        if (static_cast<std::int32_t>(i) == m_hotIndex)
            continue;
        m_byCategory[m_catalog[i].categoryIndex].push_back(static_cast<std::int32_t>(i));
        m_regular.push_back(static_cast<std::int32_t>(i));
    }
    setHotShare(m_config.hotShare);

    const std::uint64_t h = hashSeed(m_config.seed);
    m_idPrefix.clear();
    appendHex(m_idPrefix, h, 8);
    m_userLimit = static_cast<std::uint32_t>(m_config.users > 0 ? m_config.users
                                                                : GeneratorConfig::kAutoUserLimit);
    m_maxThinkMs = maxThink(m_config);
    m_leave = 1.0 / m_config.meanSessionEvents;
    m_leaveAfterPurchase = std::max(m_leave, kLeaveAfterPurchase);
    // Think times: exponential above a floor of a tenth of the mean (nobody acts within a few
    // hundred ms of the last page), capped well below the session timeout; drawn from a table of
    // its quantiles (a log per event costs more than the rest of the model).
    m_thinkTable.resize(kThinkQuantiles);
    for (std::size_t i = 0; i < kThinkQuantiles; ++i) {
        const double e = -std::log1p(-(static_cast<double>(i) + 0.5) / kThinkQuantiles);
        const auto t =
            static_cast<std::int64_t>(static_cast<double>(m_config.thinkMs) * (0.1 + 0.9 * e));
        m_thinkTable[i] = static_cast<std::int32_t>(std::clamp<std::int64_t>(t, 1, m_maxThinkMs));
    }
}

void EventGenerator::setHotShare(double share)
{
    m_config.hotShare = std::clamp(share, 0.0, 1.0);
    const double hs = m_hotIndex >= 0 ? m_config.hotShare : 0.0;
    const auto hot = normalised(m_config.hotMix, true);
    auto regular = normalised(m_config.mix, true);
    if (m_regular.empty()) { // only the hot product: nothing else to put in a cart or buy
        regular[AddToCart] = regular[Purchase] = 0;
        const double rest = regular[PageView] + regular[Click];
        if (rest <= 0)
            regular = {1.0, 0, 0, 0};
        else
            regular = {regular[PageView] / rest, regular[Click] / rest, 0, 0};
    }
    std::array<double, kActionClasses> targets{};
    for (int i = 0; i < 4; ++i) {
        targets[static_cast<std::size_t>(i)] = hs * hot[static_cast<std::size_t>(i)];
        targets[static_cast<std::size_t>(i) + 4] = (1 - hs) * regular[static_cast<std::size_t>(i)];
    }
    m_mix.setTargets(targets);
}

std::int32_t EventGenerator::randomRegularProduct(std::uint8_t category)
{
    const auto &inCategory = m_byCategory[category];
    if (!inCategory.empty())
        return inCategory[m_rng.below(static_cast<std::uint32_t>(inCategory.size()))];
    if (m_regular.empty())
        return -1;
    return m_regular[m_rng.below(static_cast<std::uint32_t>(m_regular.size()))];
}

std::int64_t EventGenerator::thinkTime()
{
    return m_thinkTable[m_rng.below(static_cast<std::uint32_t>(m_thinkTable.size()))];
}

bool EventGenerator::startCandidate(User &user)
{
    const bool eligible =
        !m_away.empty() && m_nowMs - m_away.front().lastMs >= m_config.sessionTimeoutMs;
    const bool canGrow = m_userCount < m_userLimit;
    if (eligible && (!canGrow || m_rng.chance(m_config.returnShare))) {
        user = m_away.pop();
        ++m_returning;
        return true;
    }
    if (!canGrow)
        return false;
    user = User{};
    user.index = m_userCount++;
    user.country = pickWeighted(m_rng, kCountries);
    user.device = pickWeighted(m_rng, kDevices);
    user.browser = pickWeighted(m_rng, kBrowsers);
    if (kDevices[user.device].value != "desktop" && kBrowsers[user.browser].value == "Edge")
        user.browser = 0; // Edge on phones is rare enough to fold into Chrome
    return true;
}

bool EventGenerator::nextUser(User &user)
{
    // Whoever is due acts; a user past the timeout has left (their session is over).
    while (m_active.popDue(m_nowMs, user)) {
        if (m_nowMs - user.lastMs < m_config.sessionTimeoutMs)
            return false;
        m_away.push(user);
    }
    // Nobody is due: someone arrives, a returning user or a new one.
    if (startCandidate(user))
        return true;
    // At the user cap with everyone busy or away too briefly: the users' clock runs ahead of the
    // timestamps (they act faster than people do), to whoever is next, active or away.
    std::int64_t activeKey = 0;
    const bool haveActive = m_active.peekEarliest(activeKey);
    const std::int64_t awayKey = m_away.empty() ? std::numeric_limits<std::int64_t>::max()
                                                : m_away.front().lastMs + m_config.sessionTimeoutMs;
    if (haveActive && activeKey <= awayKey) {
        m_active.popEarliest(activeKey, user);
        m_nowMs = std::max(m_nowMs, activeKey);
        return false;
    }
    m_nowMs = std::max(m_nowMs, awayKey);
    startCandidate(user); // the longest gone is back
    return true;
}

void EventGenerator::beginSession(User &user)
{
    ++user.sessions;
    ++m_sessionsStarted;
    user.referrer = pickWeighted(m_rng, kReferrers);
    user.cart = -1;
    user.item = -1;
    user.hotInCart = false;
    user.intent = ActionClass::Count;
}

EventGenerator::Emit EventGenerator::view(User &user, Page page, std::int32_t product)
{
    // A product page shows its product; anywhere else (the checkout included: a "buy now" sets
    // it after the view) there is none.
    user.page = page;
    user.item = (page == Page::Product || page == Page::HotProduct) ? product : -1;
    if (user.item >= 0)
        user.category = m_catalog[static_cast<std::size_t>(product)].categoryIndex;
    return {page == Page::HotProduct ? ActionClass::HotView : ActionClass::View, PageView, page,
            user.item};
}

EventGenerator::Emit EventGenerator::landing(User &user)
{
    const Landing l = landingFor(user.referrer);
    const double u = m_rng.unit();
    user.category = static_cast<std::uint8_t>(m_rng.below(kCategories.size()));
    user.page = Page::Home;
    // With the hot product's views behind and the others ahead (a high hot share), visitors come
    // straight to it (a link, an ad, a bookmark).
    if (m_hotIndex >= 0 && m_mix.behind(ActionClass::HotView) && m_mix.ahead(ActionClass::View))
        return view(user, Page::HotProduct, m_hotIndex);
    if (u < l.product) {
        // A product page: the hot one as often as its share of views says.
        const double hot = m_mix.target(ActionClass::HotView);
        const double regular = m_mix.target(ActionClass::View);
        if (m_hotIndex >= 0 && hot > 0 && m_rng.unit() * (hot + regular) < hot)
            return view(user, Page::HotProduct, m_hotIndex);
        if (!m_regular.empty())
            return view(user, Page::Product, randomRegularProduct(user.category));
        return view(user, Page::Category, -1);
    }
    if (u < l.product + l.category)
        return view(user, Page::Category, -1);
    return view(user, Page::Home, -1);
}

EventGenerator::Emit EventGenerator::markovView(User &user)
{
    const double *row = kHomeRow;
    switch (user.page) {
    case Page::Home:
        row = kHomeRow;
        break;
    case Page::Category:
        row = kCategoryRow;
        break;
    case Page::Product:
    case Page::HotProduct:
        row = kProductRow;
        break;
    case Page::Cart:
        row = kCartRow;
        break;
    case Page::Checkout:
        row = kCheckoutRow;
        break;
    }
    const bool cartFull = user.cart >= 0 || user.hotInCart;
    double open[kColumns];
    double total = 0;
    for (int c = 0; c < kColumns; ++c) {
        const bool closed = (c == ToProduct && m_regular.empty()) ||
                            ((c == ToCart || c == ToCheckout) && !cartFull);
        open[c] = closed ? 0.0 : row[c];
        total += open[c];
    }
    double v = m_rng.unit() * total;
    int to = ToHome;
    for (int c = 0; c < kColumns; ++c) {
        if (open[c] <= 0)
            continue;
        to = c;
        v -= open[c];
        if (v < 0)
            break;
    }
    switch (to) {
    case ToCategory:
        if (user.page != Page::Product && user.page != Page::HotProduct) // another list
            user.category = static_cast<std::uint8_t>(m_rng.below(kCategories.size()));
        return view(user, Page::Category, -1); // from a product: back to its list
    case ToProduct:
        if (user.page == Page::Home) // a search
            user.category = static_cast<std::uint8_t>(m_rng.below(kCategories.size()));
        return view(user, Page::Product, randomRegularProduct(user.category));
    case ToCart:
        return view(user, Page::Cart, -1);
    case ToCheckout:
        return view(user, Page::Checkout, -1);
    default:
        return view(user, Page::Home, -1);
    }
}

EventGenerator::Emit EventGenerator::towardsProduct(User &user)
{
    if (user.page == Page::Home) {
        user.category = static_cast<std::uint8_t>(m_rng.below(kCategories.size()));
        return view(user, Page::Category, -1);
    }
    return view(user, Page::Product, randomRegularProduct(user.category));
}

bool EventGenerator::possible(const User &user, ActionClass action) const
{
    switch (action) {
    case ActionClass::HotClick:
    case ActionClass::HotCart:
        return user.page == Page::HotProduct;
    case ActionClass::Click:
        return user.page != Page::HotProduct;
    case ActionClass::Cart:
        return user.page == Page::Product;
    case ActionClass::HotPurchase:
        return user.page == Page::Checkout && (user.hotInCart || user.buyNow() == m_hotIndex);
    case ActionClass::Purchase:
        return user.page == Page::Checkout &&
               (user.cart >= 0 || (user.buyNow() >= 0 && user.buyNow() != m_hotIndex));
    default: // a view goes anywhere
        return true;
    }
}

EventGenerator::Emit EventGenerator::act(User &user, ActionClass action)
{
    switch (action) {
    case ActionClass::HotView:
        return view(user, Page::HotProduct, m_hotIndex);
    case ActionClass::HotClick:
        return {ActionClass::HotClick, Click, Page::HotProduct, m_hotIndex};
    case ActionClass::Click:
        return {ActionClass::Click, Click, user.page, user.page == Page::Product ? user.item : -1};
    case ActionClass::HotCart:
        user.hotInCart = true;
        return {ActionClass::HotCart, AddToCart, Page::HotProduct, m_hotIndex};
    case ActionClass::Cart:
        user.cart = user.item;
        return {ActionClass::Cart, AddToCart, Page::Product, user.item};
    case ActionClass::HotPurchase:
        if (user.buyNow() == m_hotIndex)
            user.item = -1;
        else
            user.hotInCart = false;
        return {ActionClass::HotPurchase, Purchase, Page::Checkout, m_hotIndex};
    case ActionClass::Purchase: {
        std::int32_t bought = user.cart;
        if (user.buyNow() >= 0 && user.buyNow() != m_hotIndex) {
            bought = user.item;
            user.item = -1;
        } else {
            user.cart = -1;
        }
        return {ActionClass::Purchase, Purchase, Page::Checkout, bought};
    }
    default:
        return markovView(user);
    }
}

EventGenerator::Emit EventGenerator::towards(User &user, ActionClass action)
{
    // The shortest walk to a page where `action` is possible; one view per step.
    switch (action) {
    case ActionClass::HotClick:
    case ActionClass::HotCart:
        return view(user, Page::HotProduct, m_hotIndex);
    case ActionClass::Cart:
        return towardsProduct(user);
    case ActionClass::HotPurchase:
        if (user.hotInCart) // via the cart to the checkout
            return view(user, user.page == Page::Cart ? Page::Checkout : Page::Cart, -1);
        if (user.page == Page::HotProduct) { // "buy now"
            Emit e = view(user, Page::Checkout, -1);
            user.item = m_hotIndex;
            return e;
        }
        return view(user, Page::HotProduct, m_hotIndex);
    case ActionClass::Purchase:
        if (user.cart >= 0)
            return view(user, user.page == Page::Cart ? Page::Checkout : Page::Cart, -1);
        if (user.page == Page::Product) { // "buy now"
            const std::int32_t product = user.item;
            Emit e = view(user, Page::Checkout, -1);
            user.item = product;
            return e;
        }
        return towardsProduct(user);
    default: // a click, off the hot product's page: wherever the chain goes
        return markovView(user);
    }
}

EventGenerator::Emit EventGenerator::step(User &user)
{
    ActionClass action = user.intent;
    if (action != ActionClass::Count) {
        if (!possible(user, action))
            return towards(user, action);
        user.intent = ActionClass::Count;
        if (m_mix.ahead(action)) // others got there first: no longer wanted
            action = m_mix.draw(m_rng);
    } else {
        action = m_mix.draw(m_rng);
    }
    if (!possible(user, action)) {
        user.intent = action;
        return towards(user, action);
    }
    return act(user, action);
}

void EventGenerator::next(std::int64_t timestampMs, RecordBatch &out)
{
    ++m_generated;
    const double roll = m_rng.unit();
    const double dupEnd = m_config.duplicateFraction;
    const double lateEnd = dupEnd + m_config.lateFraction;
    const double badEnd = lateEnd + m_config.malformedFraction;

    if (roll < dupEnd && m_haveOnTime) {
        out.add(m_lastKey, m_lastValue, m_lastTimestamp);
        return;
    }
    // Late only once an on-time event exists, so every injected late event is late to the
    // aggregator's watermark too (and the counts can be checked exactly).
    const bool late = roll >= dupEnd && roll < lateEnd && m_haveOnTime;
    const bool malformed = roll >= lateEnd && roll < badEnd;
    const std::int64_t eventTime = late ? timestampMs - m_config.lateByMs : timestampMs;

    if (!m_started || timestampMs > m_nowMs)
        m_nowMs = timestampMs; // the scheduler's clock never goes back
    m_started = true;
    User &user = m_user;
    Emit emit;
    if (nextUser(user)) {
        beginSession(user);
        emit = landing(user);
    } else {
        emit = step(user);
    }
    m_mix.count(emit.counted);
    user.lastMs = m_nowMs;
    if (m_rng.chance(emit.type == Purchase ? m_leaveAfterPurchase : m_leave))
        m_away.push(user);
    else
        m_active.push(user, m_nowMs + thinkTime());

    const auto kind = malformed ? static_cast<MalformedKind>(
                                      m_rng.below(static_cast<std::uint32_t>(MalformedKind::Count)))
                                : MalformedKind::Count;
    const std::size_t recordStart = out.buffer().size();
    writeEvent(user, emit, eventTime, out, kind, malformed);
    if (!malformed && !late) { // duplicates re-send on-time events only
        m_haveOnTime = true;
        if (dupEnd > 0) { // kept only to be sent again
            m_lastKey.assign(m_key, m_keyLength);
            m_lastValue.assign(out.buffer(), recordStart + m_keyLength, std::string::npos);
            m_lastTimestamp = eventTime;
        }
    }
}

namespace {

// Writes one record into a stack buffer: fixed-size copies the compiler inlines, no capacity
// check per field, one append to the batch at the end (the per-field appends cost more than the
// rest of the model).
class RecordWriter
{
public:
    explicit RecordWriter(char *at)
        : m_begin(at)
        , m_p(at)
    {
    }
    template <std::size_t N> void lit(const char (&s)[N])
    {
        std::memcpy(m_p, s, N - 1);
        m_p += N - 1;
    }
    void str(std::string_view s)
    {
        std::memcpy(m_p, s.data(), s.size());
        m_p += s.size();
    }
    void quoted(std::string_view s)
    {
        *m_p++ = '"';
        str(s);
        *m_p++ = '"';
    }
    void ch(char c) { *m_p++ = c; }
    void hex(std::uint64_t v, int digits)
    {
        static constexpr char kHex[] = "0123456789abcdef";
        for (int i = digits - 1; i >= 0; --i) {
            m_p[i] = kHex[v & 0xf];
            v >>= 4;
        }
        m_p += digits;
    }
    void integer(std::int64_t v) { m_p = std::to_chars(m_p, m_p + 24, v).ptr; }
    void cents(std::int64_t c)
    {
        integer(c / 100);
        *m_p++ = '.';
        *m_p++ = static_cast<char>('0' + (c % 100) / 10);
        *m_p++ = static_cast<char>('0' + c % 10);
    }
    void iso(std::int64_t ms)
    {
        formatIsoMs(ms, m_p);
        m_p += kIsoMsLength;
    }
    std::size_t size() const { return static_cast<std::size_t>(m_p - m_begin); }

private:
    char *m_begin;
    char *m_p;
};

// Every string the generator writes is built from fixed tables and ids checked by validate()
// (letters, digits, '_', '-', '.'), so none needs JSON escaping. The longest record: fixed text and
// tables (~300 bytes), ids of at most 64 characters (the hot product's, validate()) three times, a
// 24-digit key twice.
constexpr std::size_t kMaxRecord = 1024;

} // namespace

void EventGenerator::writeEvent(const User &user, const Emit &emit, std::int64_t timestampMs,
                                RecordBatch &out, MalformedKind malformed, bool isMalformed)
{
    const std::uint32_t u = user.index;
    // "user_0042": the index, at least four digits.
    std::memcpy(m_key, "user_", 5);
    char digits[16];
    auto [dEnd, dEc] = std::to_chars(digits, digits + sizeof digits, u);
    (void)dEc;
    const auto n = static_cast<std::size_t>(dEnd - digits);
    std::size_t at = 5;
    for (std::size_t i = n; i < 4; ++i)
        m_key[at++] = '0';
    std::memcpy(m_key + at, digits, n);
    m_keyLength = at + n;
    const std::string_view userId(m_key, m_keyLength);

    const auto is = [&](MalformedKind k) {
        return isMalformed && malformed == k;
    };
    char record[kMaxRecord];
    RecordWriter w(record);
    w.lit(R"({"event_id":"evt_)");
    w.str(m_idPrefix);
    w.ch('_');
    w.hex(m_generated, 10);
    w.lit(R"(","event_type":)");
    w.quoted(is(MalformedKind::UnknownEventType) ? std::string_view("hover")
                                                 : kEventTypes[emit.type]);
    w.lit(R"(,"ts":)");
    if (is(MalformedKind::WrongType)) {
        w.integer(timestampMs);
    } else if (is(MalformedKind::BadTimestamp)) {
        w.lit(R"("2026-02-30T25:61:00.000Z")");
    } else {
        w.ch('"');
        w.iso(timestampMs);
        w.ch('"');
    }
    if (!is(MalformedKind::MissingField)) {
        w.lit(R"(,"user_id":)");
        w.quoted(userId);
    }
    w.lit(R"(,"session_id":"sess_)");
    w.str(m_idPrefix);
    w.ch('_');
    // The user's index and their session number: unique for 1,048,576 sessions per user.
    w.hex(u, 7);
    w.hex(user.sessions, 5);
    w.lit(R"(","page":")");
    const Product *product =
        emit.product >= 0 ? &m_catalog[static_cast<std::size_t>(emit.product)] : nullptr;
    switch (emit.page) {
    case Page::Home:
        if (user.sessions % 2)
            w.ch('/');
        else
            w.lit("/home");
        break;
    case Page::Category:
        w.lit("/category/");
        w.str(kCategorySlugs[user.category]);
        break;
    case Page::Product:
    case Page::HotProduct:
        w.lit("/product/");
        if (product)
            w.str(product->id);
        break;
    case Page::Cart:
        w.lit("/cart");
        break;
    case Page::Checkout:
        w.lit("/checkout");
        break;
    }
    if (is(MalformedKind::NotUtf8))
        w.lit("\xC3\x28\xFF");
    w.ch('"');
    if (product) {
        w.lit(R"(,"product_id":)");
        w.quoted(product->id);
        w.lit(R"(,"product_category":)");
        w.quoted(product->category);
        w.lit(R"(,"price":)");
        w.cents(product->priceCents);
    } else {
        w.lit(R"(,"product_id":null,"product_category":null,"price":null)");
    }
    w.lit(R"(,"referrer":)");
    w.quoted(kReferrers[user.referrer].value);
    w.lit(R"(,"country":")");
    w.str(kCountries[user.country].value);
    w.lit(R"(","device_type":")");
    w.str(kDevices[user.device].value);
    w.lit(R"(","browser":")");
    w.str(kBrowsers[user.browser].value);
    w.lit("\"}");
    std::size_t length = w.size();
    if (is(MalformedKind::BadJson))
        length = length * 2 / 3; // cut mid-object, as a torn write would

    out.beginRecord(userId);
    out.buffer().append(record, length);
    out.endRecord(timestampMs);
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
