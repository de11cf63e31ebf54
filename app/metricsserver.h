#pragma once

namespace studio::app {

} // namespace studio::app
