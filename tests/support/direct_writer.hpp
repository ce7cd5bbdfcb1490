// The storage writer's stand-in for deterministic tests: writes each write set at once, so a
// durable write completes within the test's run().
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "storage/engine.hpp"
#include "storage/write_set.hpp"

#include <caf/all.hpp>

namespace parley::test {

inline caf::behavior direct_writer(caf::event_based_actor*, storage::engine* db) {
  return {[db](write_atom, storage::write_set& ws) -> caf::result<void> {
    if (auto err = db->write({&ws}, false))
      return make_error(err);
    return caf::unit;
  }};
}

} // namespace parley::test
