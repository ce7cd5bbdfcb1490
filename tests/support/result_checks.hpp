// Checks on result<T> (common/result.hpp) for tests: the value of a read that must succeed.
#pragma once

#include "common/result.hpp"

#include <catch2/catch.hpp>

#include <utility>

namespace parley::test {

// The value of a read that must succeed; fails the test with the fault otherwise.
template <class T>
T ok(result<T> r) {
  if (!r)
    FAIL(r.error().message);
  return std::move(*r);
}

} // namespace parley::test
