#include "core/messagebrowser.h"

namespace studio::core {

} // namespace studio::core
