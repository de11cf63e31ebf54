#include "core/webhook.h"

namespace studio::core {

} // namespace studio::core
