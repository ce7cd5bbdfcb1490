// The task scheduler's HTTP surface (PROTOCOL.md, Tasks): /api/v1/tasks and /api/v1/leases.
// Handlers validate and translate; every change is a request of the task shard's interface
// (actors/tasks/tasks_api.hpp, asked with runtime::ask_entity, answered through the responder)
// or a lease poll of the broker (actors/tasks/lease_poll.hpp); reads go to storage
// (actors/tasks/task_reads.hpp).
#pragma once

namespace parley::net {

struct edge_context;

void add_task_routes(edge_context& ctx);

} // namespace parley::net
