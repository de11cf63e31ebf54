#include "core/health.h"

namespace studio::core {

} // namespace studio::core
