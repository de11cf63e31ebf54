#include "core/lagstatus.h"

namespace studio::core {

} // namespace studio::core
