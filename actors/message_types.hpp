// Every type that travels in the node's actor messages, announced to CAF in one place.
//
// Type-ID blocks, one per service, at fixed offsets so that services add types without
// renumbering each other (CAF allows gaps between blocks):
//   parley (atoms, runtime)  caf::first_custom_type_id (200)
//   parley_chat              400      parley_tasks   600      parley_admin    800
//   parley_feed              500      parley_links   700      parley_cluster  900
//   parley_limits           1000
//
// A type on a service's interface (actors/<service>/<service>_api.hpp) may cross nodes: it is a
// protobuf message (actors/runtime/protobuf_inspect.hpp) or a plain struct with `inspect`, and
// tests/actors/wire_types_test.cpp round-trips each through CAF's binary serializer. The few
// types that can never leave the process are listed in actors/runtime/local_only_types.hpp.
#pragma once

#include <caf/fwd.hpp>

namespace parley {

void add_message_types(caf::actor_system_config& cfg);

} // namespace parley
