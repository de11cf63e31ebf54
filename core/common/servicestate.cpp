#include "core/common/servicestate.h"

namespace studio::core {

std::string_view toString(ServiceState state)
{
    switch (state) {
    case ServiceState::Unknown:
        return "unknown";
    case ServiceState::Up:
        return "up";
    case ServiceState::Degraded:
        return "degraded";
    case ServiceState::Down:
        return "down";
    case ServiceState::NotConfigured:
        return "not configured";
    }
    return "unknown";
}

double stateValue(ServiceState state)
{
    switch (state) {
    case ServiceState::Up:
        return 1;
    case ServiceState::Degraded:
        return 0.5;
    case ServiceState::Down:
        return 0;
    case ServiceState::Unknown:
    case ServiceState::NotConfigured:
        return -1;
    }
    return -1;
}

} // namespace studio::core
