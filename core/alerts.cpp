#include "core/alerts.h"

namespace studio::core {

} // namespace studio::core
