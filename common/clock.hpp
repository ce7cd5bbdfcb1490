// Wall-clock time as the project stores and compares it: unix milliseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace parley {

inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Where an actor takes "now" (unix ms) from: unix_ms on a node; tests inject a manual clock
// and advance it, so TTLs and windows pass without waiting.
using clock_fn = std::function<int64_t()>;

} // namespace parley
