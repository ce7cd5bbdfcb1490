// The admin actor: one per node. It checks who asks (role), whether the node allows mutations
// and the arguments, runs the command through the handler the node registered for it, asks its
// peers' admin actors for their parts of cluster-scope commands (with a deadline), merges the
// parts (answer_merge.hpp) and writes one audit line per mutation. Handlers live in the actor's
// state, never in messages; they answer from any thread through `command_done`, which turns the
// answer into a message to the actor.
#pragma once

#include "actors/admin/admin_api.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace parley::admin {

// configs/node.toml [admin] mirrors the first field; the node fills the others.
struct admin_options {
  // Refuse every mutating command (kick, ban, drain, requeue, rules, ...) when false: viewers
  // and admins can still read. Default: true (the production template turns it off)
  bool allow_mutations = true;
  // This node's id, the `node` of its answers. Default: "local"
  std::string local_node = "local";
  // How long a command waits for each node's part (this node's handler included); a node
  // that has not answered by then is listed in `unanswered`. Default: 3000 ms
  std::chrono::milliseconds part_timeout{3000};
};

// Answers one command on this node, exactly once, from any thread. The actor fills `node`.
using command_done = std::function<void(pb::AdminNodeAnswer)>;
// Runs a command whose caller and arguments were checked; must not block for long (the admin
// actor has a thread of its own, but answers one command at a time while a handler runs).
using command_handler = std::function<void(const pb::AdminRequest&, command_done)>;
// A handler for every command of the registry (command_registry.hpp), by name.
using command_table = std::map<std::string, command_handler>;

// The admin actors of this node's peers by node id, asked per command so that a membership
// change applies to the next one. Empty on a single node (the default).
using peer_directory = std::function<std::map<std::string, admin_api>()>;

admin_api spawn_admin_actor(caf::actor_system& sys, admin_options opts, command_table handlers,
                            peer_directory peers = {});

} // namespace parley::admin
