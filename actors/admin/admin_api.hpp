// The admin actor's interface (ARCHITECTURE.md, Admin console): one admin actor per node runs
// the operator's commands of the command registry (command_registry.hpp). Its requests and
// replies are protobuf messages (proto/admin.proto), so a peer's admin actor can ask them across
// nodes once the cluster exists.
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/admin.pb.h"

#include <caf/all.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(parley_admin, caf::first_custom_type_id + 600)

CAF_ADD_TYPE_ID(parley_admin, (parley::pb::AdminRequest))
CAF_ADD_TYPE_ID(parley_admin, (parley::pb::AdminReply))
CAF_ADD_TYPE_ID(parley_admin, (parley::pb::AdminNodeAnswer))
// A peer's admin actor asks for this node's part of a cluster-scope command.
CAF_ADD_ATOM(parley_admin, parley::atoms, part_atom, "part")
// A command handler (or the deadline) finished one node's part of a pending command.
CAF_ADD_ATOM(parley_admin, parley::atoms, answered_atom, "answered")
CAF_ADD_ATOM(parley_admin, parley::atoms, deadline_atom, "deadline")

CAF_END_TYPE_ID_BLOCK(parley_admin)

namespace parley::admin {

using namespace parley::atoms;

using admin_api = caf::typed_actor<
  // An operator's command: the caller's role, the node's admin.allow_mutations and the
  // arguments are checked against the command's spec; node-scope commands run here,
  // cluster-scope ones here and on every peer (answers merged, silent peers named).
  caf::replies_to<run_atom, pb::AdminRequest>::with<pb::AdminReply>,
  // This node's part of a cluster-scope command a peer's admin actor already checked.
  caf::replies_to<part_atom, pb::AdminRequest>::with<pb::AdminNodeAnswer>>;

} // namespace parley::admin
