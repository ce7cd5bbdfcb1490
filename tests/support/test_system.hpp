// An actor system configured like a node's (project atoms and error category), for tests.
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"

#include <caf/all.hpp>

namespace parley::test {

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.max-threads", int64_t{2});
    set("scheduler.policy", caf::atom("sharing"));
    add_message_types<caf::id_block::parley>();
    add_error_category(error_category, caf_error_renderer::render);
  }
};

} // namespace parley::test
