#pragma once

namespace studio::core {

} // namespace studio::core
