#include "app/metricsserver.h"

namespace studio::app {

} // namespace studio::app
