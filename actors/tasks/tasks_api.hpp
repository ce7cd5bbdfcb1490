// The task scheduler's actor interfaces: what the edge, the built-in executors, chat's push sink
// and (in a cluster) other nodes may ask of a task shard and of the lease broker. Requests and
// replies are protobuf messages (proto/task_actors.proto, proto/parley.proto), so each may
// cross nodes (tests/actors/wire_types_test.cpp); a refusal is a CAF error with the public code
// (make_error in actors/runtime/errors.hpp, read back with to_fault), which cannot be mistaken
// for an answer. What only the actors themselves send (timers, lease expiry, passivation) is in
// their `_impl` types (task_shard.hpp, lease_broker.hpp).
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/parley.pb.h"
#include "proto/task_actors.pb.h"

#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(parley_tasks, caf::first_custom_type_id + 400)
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::CreateTask))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::CreatedTask))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TaskCommand))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::StoredTask))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::GrantLeases))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::LeaseResponse))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::HeartbeatLease))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::HeartbeatResponse))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::FinishLease))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::LeaseOutcome))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::FinishLeases))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::FinishOutcomes))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::RevokeLeases))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::LeaseWait))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::WithdrawWait))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::ReadyTasks))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::WithdrawTask))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TaskShardInspection))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TakenTasks))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::BrokerPosition))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TaskRead))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TaskRunsRead))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TaskListRead))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::Task))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TaskRuns))
CAF_ADD_TYPE_ID(parley_tasks, (parley::pb::TaskList))
CAF_END_TYPE_ID_BLOCK(parley_tasks)

namespace parley::tasks {

// A task shard: the single writer of the tasks that hash to it (task_shard.hpp). Virtual: reached
// through the registry as (shard_kind, "0".."15") with runtime::request_entity / ask_entity.
// Each change is durable before it is answered.
using task_shard_api = caf::typed_actor<
  // Creates a task, or answers the caller's existing task with the same idempotency key.
  caf::replies_to<create_atom, pb::CreateTask>::with<pb::CreatedTask>,
  // cancel, pause, resume, requeue: the task as the command left it.
  caf::replies_to<command_atom, pb::TaskCommand>::with<pb::StoredTask>,
  // From the lease broker: leases the named tasks that are still SCHEDULED.
  caf::replies_to<lease_atom, pb::GrantLeases>::with<pb::LeaseResponse>,
  caf::replies_to<heartbeat_atom, pb::HeartbeatLease>::with<pb::HeartbeatResponse>,
  caf::replies_to<finish_atom, pb::FinishLease>::with<pb::LeaseOutcome>,
  // Several completions or failures in one durable write, one outcome each.
  caf::replies_to<finish_atom, pb::FinishLeases>::with<pb::FinishOutcomes>,
  // Leases whose worker went away before it heard of them go back to SCHEDULED.
  caf::replies_to<revoke_atom, pb::RevokeLeases>::with<void>,
  // From the ticker, every second: load the due index's next window (and stay active).
  caf::reacts_to<tick_atom>,
  // The admin console's `entities inspect`: what the shard holds in memory (reads nothing).
  caf::replies_to<inspect_atom>::with<pb::TaskShardInspection>,
  // Reads of what this shard's node stores (in a cluster, for an edge on another node).
  caf::replies_to<read_atom, pb::TaskRead>::with<pb::Task>,
  caf::replies_to<read_atom, pb::TaskRunsRead>::with<pb::TaskRuns>,
  caf::replies_to<read_atom, pb::TaskListRead>::with<pb::TaskList>>;

// The lease broker: one per node, matches due tasks with waiting workers (lease_broker.hpp).
// In a cluster it is also a node service (lease_broker_service): every broker hears of the
// ready tasks of every node's shards, so a worker on any node gets due tasks of every partition.
using lease_broker_api = caf::typed_actor<
  // A worker asks for leases, waiting up to its wait_ms (long poll).
  caf::replies_to<lease_atom, pb::LeaseWait>::with<pb::LeaseResponse>,
  // The worker of a wait went away: nothing is leased for it any more.
  caf::reacts_to<withdraw_atom, pb::WithdrawWait>,
  // From shards (and relayed by other nodes' brokers): tasks that became SCHEDULED, and ones
  // that no longer are.
  caf::reacts_to<ready_atom, pb::ReadyTasks>,
  caf::reacts_to<withdraw_atom, pb::WithdrawTask>,
  // From other nodes' brokers: tasks leased there.
  caf::reacts_to<withdraw_atom, pb::TakenTasks>,
  // From other nodes' brokers, once a second: where they stand in what they told this one
  // (a gap: ask them for their ready tasks again).
  caf::reacts_to<ready_atom, pb::BrokerPosition>,
  // From another node's broker that has just seen this node: the ready tasks of this node's
  // shards, which it has not heard of yet.
  caf::replies_to<ready_atom>::with<pb::ReadyTasks>>;

// The name peers reach a node's lease broker by (runtime::service_router).
constexpr const char* lease_broker_service = "lease_broker";

} // namespace parley::tasks
