// An actor system configured like a node's (project atoms and error category), for tests.
#pragma once

#include "actors/message_types.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"

#include <caf/all.hpp>

namespace parley::test {

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.max-threads", int64_t{2});
    set("scheduler.policy", caf::atom("sharing"));
    parley::add_message_types(*this);
  }
};

} // namespace parley::test
