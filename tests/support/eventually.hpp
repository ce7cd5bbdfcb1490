// Waiting on what a running node shows (a status, a metric) instead of sleeping a guessed time.
#pragma once

#include <chrono>
#include <thread>

namespace parley::test {

// Polls `condition` until it holds (true) or `within` has passed (false); the caller asserts.
template <class Condition>
bool eventually(Condition condition,
                std::chrono::milliseconds within = std::chrono::milliseconds{10000}) {
  auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

} // namespace parley::test
