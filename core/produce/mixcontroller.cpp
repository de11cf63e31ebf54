#include "core/produce/mixcontroller.h"

namespace studio::core {

namespace {

// How far ahead of its share a class may run before draws of it are redirected (events). Small,
// so the mix holds over any stretch of a few thousand events; above zero, so the draws stay
// random rather than a fixed rota.
constexpr double kSlack = 2.0;

} // namespace

void MixController::setTargets(const std::array<double, kActionClasses> &targets)
{
    double total = 0;
    for (const double t : targets)
        total += t > 0 ? t : 0;
    if (total <= 0)
        total = 1;
    double acc = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        m_targets[i] = targets[i] > 0 ? targets[i] / total : 0;
        acc += m_targets[i];
        m_cumulative[i] = m_targets[i] > 0 ? acc : -1; // never picked
    }
    m_counted.fill(0);
    m_total = 0;
}

bool MixController::ahead(ActionClass c) const
{
    return deficit(c) < -kSlack;
}

ActionClass MixController::draw(Random &rng) const
{
    const double u = rng.unit();
    int c = -1, lastPositive = 0;
    for (int i = 0; i < kActionClasses; ++i) {
        if (m_cumulative[static_cast<std::size_t>(i)] < 0)
            continue;
        lastPositive = i;
        if (u < m_cumulative[static_cast<std::size_t>(i)]) {
            c = i;
            break;
        }
    }
    if (c < 0) // rounding at the top end
        c = lastPositive;
    if (!ahead(static_cast<ActionClass>(c)))
        return static_cast<ActionClass>(c);
    // Ahead of its share: one of the classes behind theirs, by target weight.
    double behind = 0;
    for (int i = 0; i < kActionClasses; ++i) {
        if (deficit(static_cast<ActionClass>(i)) > 0)
            behind += m_targets[static_cast<std::size_t>(i)];
    }
    if (behind <= 0)
        return static_cast<ActionClass>(c);
    double v = rng.unit() * behind;
    for (int i = 0; i < kActionClasses; ++i) {
        if (deficit(static_cast<ActionClass>(i)) <= 0)
            continue;
        c = i;
        v -= m_targets[static_cast<std::size_t>(i)];
        if (v < 0)
            break;
    }
    return static_cast<ActionClass>(c);
}

} // namespace studio::core
