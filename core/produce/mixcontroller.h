#pragma once

#include "core/common/random.h"

#include <array>
#include <cstdint>

namespace studio::core {

/// What a user does next, as the event mix counts it: the four event types, for the hot product
/// and for everything else.
enum class ActionClass : std::uint8_t {
    HotView,
    HotClick,
    HotCart,
    HotPurchase,
    View,
    Click,
    Cart,
    Purchase,
    Count
};
inline constexpr int kActionClasses = static_cast<int>(ActionClass::Count);

/// Keeps the events a generator emits at their target shares (the hot product's share and mix,
/// the mix of the other events) although a user can only do what their page allows (a purchase
/// only at the checkout, an add to cart only on a product page) and must emit the views that get
/// them there, besides the landing view of every session. draw() picks a class at random by
/// target weight, unless that class is already more than a couple of events ahead of its share of
/// everything emitted; then it picks among the classes behind their share (by target weight).
/// Counting is by emitted event: a user who drew an action their page does not allow walks to a
/// page that does and acts there only if the action is not ahead() by then. So no class ever runs
/// more than a couple of events ahead, and none stays behind while users can still reach it.
/// Not thread-safe.
class MixController
{
public:
    /// `targets` need not be normalised; non-negative with a positive sum. Starts the count over:
    /// a new mix is met from then on, not by making up for the old one.
    void setTargets(const std::array<double, kActionClasses> &targets);
    double target(ActionClass c) const { return m_targets[index(c)]; }

    /// A class for a user's next event (not yet counted).
    ActionClass draw(Random &rng) const;
    /// One event of class `c` was emitted.
    void count(ActionClass c)
    {
        ++m_counted[index(c)];
        ++m_total;
    }

    std::int64_t counted(ActionClass c) const { return m_counted[index(c)]; }
    /// target share x everything counted - counted of `c`: above 0 when `c` is behind.
    double deficit(ActionClass c) const
    {
        return m_targets[index(c)] * static_cast<double>(m_total) -
               static_cast<double>(m_counted[index(c)]);
    }
    bool behind(ActionClass c) const { return deficit(c) > 0; }
    /// More than a couple of events ahead of its share: what draw() steers away from.
    bool ahead(ActionClass c) const;

private:
    static std::size_t index(ActionClass c) { return static_cast<std::size_t>(c); }

    std::array<double, kActionClasses> m_targets{};
    std::array<double, kActionClasses> m_cumulative{};
    std::array<std::int64_t, kActionClasses> m_counted{};
    std::int64_t m_total = 0;
};

} // namespace studio::core
