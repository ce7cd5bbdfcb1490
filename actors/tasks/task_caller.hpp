// Who asks the scheduler (PROTOCOL.md, Tasks: ownership) and what each caller may do. A caller
// travels in every request to the scheduler's actors as pb::TaskCaller
// (proto/task_actors.proto): a user with the role of their token, or the node itself.
#pragma once

#include "proto/parley.pb.h"
#include "proto/task_actors.pb.h"

namespace parley::tasks {

using task_caller = pb::TaskCaller;

// The node itself: built-in executors, chat pushes. Its tasks have no owner.
inline task_caller node_caller() {
  task_caller c;
  c.set_node(true);
  return c;
}

// Reads, lists and commands: the owner, admins and the node.
inline bool may_see(const task_caller& c, const pb::StoredTask& t) {
  return c.admin() || c.node() || (!c.user().empty() && t.owner() == c.user());
}

// Leases any owner's tasks (otherwise only the caller's own).
inline bool leases_any(const task_caller& c) {
  return c.admin() || c.worker() || c.node();
}

// Heartbeat, complete and fail: only under the token that took the lease.
inline bool holds(const task_caller& c, const pb::StoredTask& t) {
  return c.node() ? t.lease_by_node() : (!t.lease_by_node() && t.lease_holder() == c.user());
}

} // namespace parley::tasks
