// The messages of the task scheduler's actors. Replies to the edge are callbacks that run on
// the answering actor's thread (the HTTP session posts them onto its strand).
//
// To a task shard, through the registry (kind shard_kind, id = shard number):
//   (create_atom, task_create)       create, or find by idempotency key
//   (command_atom, task_command)     cancel, pause, resume, requeue
//   (lease_atom, lease_grant)  -> granted_leases: take SCHEDULED tasks for a worker
//   (heartbeat_atom, lease_call)     extend a lease
//   (finish_atom, lease_finish)      complete or fail under a lease
//   (finish_atom, std::vector<lease_finish>)  several, in one durable write
//   (expire_atom, task_id, lease_id) from a lease actor whose lease ran out
//   (tick_atom)                      from the ticker: load the due index's next window
// To the lease broker:
//   (ready_atom, std::vector<ready_task>)   from shards: these tasks are due
//   (withdraw_atom, std::string task_id)    from shards: no longer SCHEDULED
//   (lease_atom, lease_wait)                from workers (edge or built-in executors)
#pragma once

#include "actors/tasks/task_state.hpp"
#include "common/errc.hpp"
#include "proto/parley.pb.h"

#include <caf/allowed_unsafe_message_type.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace parley::tasks {

// Who asks (PROTOCOL.md, Tasks: ownership): a user with the role of their token, or the node
// itself (built-in executors, chat pushes).
struct task_caller {
  std::string user;     // the token's sub; empty for the node
  bool admin = false;   // role "admin": every task
  bool worker = false;  // role "worker": a service account that leases tasks of any owner
  bool node = false;

  static task_caller the_node() {
    task_caller c;
    c.node = true;
    return c;
  }
  // Reads, lists and commands: the owner, admins and the node.
  bool may_see(const pb::StoredTask& t) const {
    return admin || node || (!user.empty() && t.owner() == user);
  }
  // Leases any owner's tasks (otherwise only the caller's own).
  bool leases_any() const { return admin || worker || node; }
  // Heartbeat, complete and fail: only under the token that took the lease.
  bool holds(const pb::StoredTask& t) const {
    return node ? t.lease_by_node() : (!t.lease_by_node() && t.lease_holder() == user);
  }
};

struct task_create {
  task_caller caller;
  pb::CreateTaskRequest request;
  // err, the task, and whether it was created (false: an existing task with the same key).
  std::function<void(const fault&, const pb::StoredTask&, bool created)> reply;
};

struct task_command {
  task_caller caller;
  task_event event;  // cancel, pause, resume or requeue
  std::string task_id;
  std::function<void(const fault&, const pb::StoredTask&)> reply;
};

struct lease_grant {
  task_caller caller;  // becomes the lease's holder
  std::vector<std::string> task_ids;
  std::string worker_id;
  int64_t lease_ms = 30000;
};

struct granted_leases {
  std::vector<pb::Lease> leases;
};

struct lease_call {
  task_caller caller;
  std::string lease_id;
  int64_t lease_ms = 0;  // 0: the lease's own length
  std::function<void(const fault&, int64_t expires_at_ms, bool cancel_requested)> reply;
};

struct lease_finish {
  task_caller caller;
  std::string lease_id;
  bool success = true;
  google::protobuf::Value result;  // success
  std::string error;               // failure
  bool retryable = true;
  std::function<void(const fault&, task_status, int64_t next_run_at_ms)> reply;
};

struct ready_task {
  std::string id;
  std::string task_type;
  std::string owner;
  int32_t priority = 0;
  int64_t due_ms = 0;
};

struct lease_wait {
  task_caller caller;  // an ordinary user leases only its own tasks
  std::vector<std::string> task_types;
  std::string worker_id;
  size_t max_tasks = 1;
  int64_t lease_ms = 30000;
  int64_t wait_ms = 0;
  // Turns true when the worker hung up while waiting: its wait is dropped, nothing is leased.
  std::shared_ptr<std::atomic<bool>> gone;
  std::function<void(const fault&, std::vector<pb::Lease>)> reply;
};

} // namespace parley::tasks

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::tasks::task_create)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::tasks::task_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::tasks::lease_grant)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::tasks::granted_leases)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::tasks::lease_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::tasks::lease_finish)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<parley::tasks::lease_finish>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<parley::tasks::ready_task>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::tasks::lease_wait)
