// The task scheduler's HTTP surface (PROTOCOL.md, Tasks): /api/v1/tasks and /api/v1/leases.
// Handlers validate and translate; every change goes to the task's shard (through the
// registry) or to the lease broker, and reads go to storage (actors/tasks/task_reads.hpp).
#pragma once

namespace parley::net {

struct edge_context;

void add_task_routes(edge_context& ctx);

} // namespace parley::net
