#include "core/prometheus.h"

namespace studio::core {

} // namespace studio::core
