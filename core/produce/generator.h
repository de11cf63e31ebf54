#pragma once

#include "core/common/random.h"
#include "core/produce/eventsource.h"
#include "core/produce/mixcontroller.h"
#include "core/produce/timingwheel.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace studio::core {

/// Relative weights of the four event types (they need not sum to 1).
struct EventMix
{
    double pageView = 0.70;
    double click = 0.18;
    double addToCart = 0.08;
    double purchase = 0.04;
};

/// Every knob of the synthetic clickstream. Defaults follow seed 004 (100 products, prod_0042 hot
/// at 20% of events with a 95/4/1 view/cart/purchase mix) and seed 003's page, referrer, country,
/// device and browser mix; the number of users follows the rate (README: "How the generator
/// behaves").
struct GeneratorConfig
{
    /// Users that exist at most. 0: as many as the rate needs (one event per thinkMs per active
    /// user, Little's law), up to kAutoUserLimit; N: never more than N (a cap: if N users cannot
    /// supply the rate at human pace, they act faster).
    int users = 0;
    int products = 100;
    std::string hotProduct = "prod_0042";
    double hotShare = 0.20;                 ///< share of all events that concern hotProduct
    EventMix hotMix{0.95, 0.0, 0.04, 0.01}; ///< event types of the hot product's events
    EventMix mix;                           ///< event types of every other event
    double duplicateFraction = 0.0;         ///< re-sent copies of an earlier event (same id)
    double lateFraction = 0.0;              ///< events whose time lies lateByMs in the past
    double malformedFraction = 0.0;         ///< payloads that fail validation, by kind
    std::int64_t lateByMs = 5 * 60 * 1000;
    double meanSessionEvents = 20.0; ///< a user leaves after each event with 1/this chance
    std::int64_t thinkMs = 3000;     ///< mean pause between two events of a user
    /// Inactivity that ends a session: a pause inside a session is always shorter, and a user who
    /// left comes back no sooner. Equal to the aggregator's default session gap
    /// (AggregatorConfig::sessionGapMs), so both see the same sessions.
    std::int64_t sessionTimeoutMs = 2 * 60 * 1000;
    double returnShare = 0.5; ///< of new sessions, the share by a user who was here before
    std::uint64_t seed = 42;

    static constexpr int kAutoUserLimit = 2'000'000;

    /// Empty when every knob is in range, else a message naming the first bad knob.
    std::string validate() const;
};

/// The kinds of malformed payload the generator injects (each fails a different validation).
enum class MalformedKind : std::uint8_t {
    BadJson,
    MissingField,
    WrongType,
    BadTimestamp,
    UnknownEventType,
    NotUtf8,
    Count
};

/// Deterministic synthetic clickstream: the same config (seed included) and the same timestamps
/// give byte-identical records. Each record's key is the user id, its value one JSON object in the
/// schema of design.md. Users arrive, land on a page chosen by their referrer, walk the shop
/// (home, category, product, cart, checkout) with think times of seconds between events, and
/// leave; some come back later. A session always starts with a page view and every click, add to
/// cart or purchase happens on a page viewed earlier in the session. The README's "How the
/// generator behaves" gives the model and its numbers.
/// Time: the timestamps passed to next() are the generator's clock (the wall clock for a live
/// producer, the --rps pacing for `generate`); they are the events' `ts`.
/// Not thread-safe: one instance per producer thread.
class EventGenerator
{
public:
    explicit EventGenerator(GeneratorConfig config = {});

    /// Appends one record with event time `timestampMs` (ms since the epoch, UTC).
    void next(std::int64_t timestampMs, RecordBatch &out);

    const GeneratorConfig &config() const { return m_config; }
    std::uint64_t generated() const { return m_generated; }
    /// Changes the hot product's share of events from the next event on (clamped to 0..1). It
    /// has no effect when the config named no hot product.
    void setHotShare(double share);

    struct Product
    {
        std::string id;
        std::string category;
        std::int64_t priceCents = 0;
        std::uint8_t categoryIndex = 0;
    };
    const std::vector<Product> &catalog() const { return m_catalog; }

    /// Users who exist (active or away) and who are in a session now.
    std::size_t users() const { return m_userCount; }
    std::size_t activeUsers() const { return m_active.size(); }
    /// Sessions started, and of those by a user who had a session before.
    std::uint64_t sessionsStarted() const { return m_sessionsStarted; }
    std::uint64_t returningSessions() const { return m_returning; }

private:
    enum class Page : std::uint8_t { Home, Category, Product, HotProduct, Cart, Checkout };
    // A user, 32 bytes, kept by value in the scheduler (TimingWheel, RingQueue): with millions of
    // users, records that move through a few sequential arrays stay cheap where an index into one
    // big array would miss the cache on nearly every event.
    struct User
    {
        std::int64_t lastMs = 0;    // scheduler time of the user's last event
        std::uint32_t index = 0;    // the user id's number
        std::uint32_t sessions = 0; // sessions started; the current one's number
        // The product page's product (Product, HotProduct), or the product bought straight
        // from its page at the checkout ("buy now"); -1 none.
        std::int32_t item = -1;
        std::int32_t cart = -1; // a regular product added to the cart, -1 none
        Page page = Page::Home;
        std::uint8_t category = 0;
        ActionClass intent = ActionClass::Count; // drawn, walking to a page that allows it
        bool hotInCart = false;
        std::uint8_t referrer = 0;
        std::uint8_t country = 0;
        std::uint8_t device = 0;
        std::uint8_t browser = 0;

        std::int32_t product() const
        {
            return page == Page::Product || page == Page::HotProduct ? item : -1;
        }
        std::int32_t buyNow() const { return page == Page::Checkout ? item : -1; }
    };
    static_assert(sizeof(User) == 32);
    struct Emit
    {
        ActionClass counted = ActionClass::View; // what the mix counts it as
        int type = 0;                            // index into the event type names
        Page page = Page::Home;
        std::int32_t product = -1; // the event's product fields, -1 none
    };

    bool nextUser(User &user); // true: a new session
    bool startCandidate(User &user);
    void beginSession(User &user);
    Emit landing(User &user);
    Emit step(User &user);
    bool possible(const User &user, ActionClass action) const;
    Emit act(User &user, ActionClass action);
    Emit towards(User &user, ActionClass action);
    Emit view(User &user, Page page, std::int32_t product);
    Emit markovView(User &user);
    Emit towardsProduct(User &user);
    std::int32_t randomRegularProduct(std::uint8_t category);
    std::int64_t thinkTime();
    void writeEvent(const User &user, const Emit &emit, std::int64_t timestampMs, RecordBatch &out,
                    MalformedKind malformed, bool isMalformed);

    GeneratorConfig m_config;
    Random m_rng;
    MixController m_mix;
    std::vector<Product> m_catalog;
    std::vector<std::vector<std::int32_t>> m_byCategory; // regular products per category
    std::vector<std::int32_t> m_regular;                 // every regular product
    std::int32_t m_hotIndex = -1;
    std::uint32_t m_userLimit = 0;
    std::int64_t m_maxThinkMs = 0;
    double m_leave = 0;                     // chance to leave after an event
    double m_leaveAfterPurchase = 0;        // the same after a purchase
    std::vector<std::int32_t> m_thinkTable; // quantiles of the think time (ms)
    std::uint32_t m_userCount = 0;
    TimingWheel<User> m_active; // users in a session, by when they act next
    RingQueue<User> m_away;     // users who left, oldest first
    User m_user;                // the one acting now
    std::int64_t m_nowMs = 0;   // the scheduler's clock: max of the timestamps seen, or ahead
    bool m_started = false;
    std::uint64_t m_generated = 0;
    std::uint64_t m_sessionsStarted = 0;
    std::uint64_t m_returning = 0;
    std::string m_idPrefix;
    char m_key[24] = {};
    std::size_t m_keyLength = 0;
    bool m_haveOnTime = false; // an on-time event was written (late and duplicates need one)
    std::string m_lastKey;
    std::string m_lastValue;
    std::int64_t m_lastTimestamp = 0;
};

/// EventSource over an EventGenerator, stamping records with the producer's wall clock.
/// setHotShare() may be called from any thread while the producer thread fills (the skew of a
/// running producer is a live knob); everything else follows EventSource's contract.
class GeneratorSource final : public EventSource
{
public:
    explicit GeneratorSource(GeneratorConfig config)
        : m_hotShare(config.hotShare)
        , m_generator(std::move(config))
    {
    }
    std::size_t fill(RecordBatch &out, std::size_t max, std::int64_t nowMs) override;
    std::string describe() const override;
    /// Thread-safe; applied from the next fill() on.
    void setHotShare(double share)
    {
        m_hotShare.store(std::clamp(share, 0.0, 1.0), std::memory_order_relaxed);
    }
    double hotShare() const { return m_hotShare.load(std::memory_order_relaxed); }

private:
    std::atomic<double> m_hotShare;
    EventGenerator m_generator;
    std::string m_description =
        "generator (seed " + std::to_string(m_generator.config().seed) + ")";
};

} // namespace studio::core
