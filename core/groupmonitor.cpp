#include "core/groupmonitor.h"

namespace studio::core {

} // namespace studio::core
