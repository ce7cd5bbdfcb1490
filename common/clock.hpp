// Wall-clock time as the project stores and compares it: unix milliseconds.
#pragma once

#include <chrono>
#include <cstdint>

namespace parley {

inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace parley
