#pragma once

#include "core/common/random.h"
#include "core/produce/eventsource.h"

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

/// Every knob of the synthetic clickstream. Defaults follow seed 004 (500 users, 100 products,
/// prod_0042 hot at 20% of events with a 95/4/1 view/cart/purchase mix) and seed 003's page,
/// referrer, country, device and browser mix.
struct GeneratorConfig
{
    int users = 500;
    int products = 100;
    std::string hotProduct = "prod_0042";
    double hotShare = 0.20;                 ///< share of all events that concern hotProduct
    EventMix hotMix{0.95, 0.0, 0.04, 0.01}; ///< event types of the hot product's events
    EventMix mix;                           ///< event types of every other event
    double duplicateFraction = 0.0;         ///< re-sent copies of an earlier event (same id)
    double lateFraction = 0.0;              ///< events whose time lies lateByMs in the past
    double malformedFraction = 0.0;         ///< payloads that fail validation, by kind
    std::int64_t lateByMs = 5 * 60 * 1000;
    double meanSessionEvents = 20.0;                ///< a session ends after ~this many events...
    std::int64_t sessionTimeoutMs = 30 * 60 * 1000; ///< ...or after this much inactivity
    std::uint64_t seed = 42;

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
/// give byte-identical records. Users walk plausible paths (home, category, product, cart,
/// checkout); session ids change after a session's length or after inactivity. Each record's key
/// is the user id, its value one JSON object in the schema of design.md.
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
    };
    const std::vector<Product> &catalog() const { return m_catalog; }

private:
    enum class Stage : std::uint8_t { None, Home, Category, Product, Cart, Checkout };
    struct User
    {
        std::string id;
        std::string sessionId;
        std::uint32_t sessionNumber = 0;
        std::int64_t lastEventMs = 0;
        std::int32_t eventsLeft = 0;
        Stage stage = Stage::None;
        std::uint16_t category = 0;
        std::int32_t product = -1;     // index into m_catalog, -1 none
        std::int32_t cartProduct = -1; // index into m_catalog, -1 none
        std::uint8_t country = 0;
        std::uint8_t device = 0;
        std::uint8_t browser = 0;
        std::uint8_t referrer = 0;
    };
    struct Emit
    {
        int type = 0; // index into the event type names
        std::string_view page;
        std::int32_t product = -1;
    };

    void startSessionIfNeeded(User &user, std::int64_t timestampMs);
    Emit hotEvent(User &user);
    Emit regularEvent(User &user);
    std::int32_t randomRegularProduct(std::uint16_t category);
    void writeEvent(const User &user, const Emit &emit, std::int64_t timestampMs, RecordBatch &out,
                    MalformedKind malformed, bool isMalformed);
    static int pick(const double *cumulative, int n, double u);

    GeneratorConfig m_config;
    Random m_rng;
    std::vector<Product> m_catalog;
    std::vector<std::vector<std::int32_t>> m_byCategory; // regular products per category
    std::int32_t m_hotIndex = -1;
    std::vector<User> m_users;
    double m_mixCumulative[4] = {};
    double m_hotMixCumulative[4] = {};
    std::uint64_t m_generated = 0;
    std::uint64_t m_sessionCounter = 0;
    std::string m_idPrefix;
    std::string m_pageScratch;
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
