#include "core/clustermonitor.h"

namespace studio::core {

} // namespace studio::core
