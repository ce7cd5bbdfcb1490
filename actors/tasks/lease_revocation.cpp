#include "actors/tasks/lease_revocation.hpp"

#include "actors/runtime/ask.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/tasks/task_ids.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <map>

namespace parley::tasks {

namespace {

// A revocation is one durable write on each shard.
constexpr auto revoke_timeout = std::chrono::seconds{10};

} // namespace

void revoke_leases(caf::actor_system& sys, const tasks_context& ctx, const task_caller& holder,
                   const pb::LeaseResponse& leases) {
  std::map<uint32_t, pb::RevokeLeases> by_shard;
  for (auto& lease : leases.leases()) {
    auto& msg = by_shard[shard_of(lease.task_id())];
    *msg.mutable_caller() = holder;
    msg.add_lease_ids(lease.lease_id());
  }
  for (auto& [shard, msg] : by_shard)
    runtime::ask_entity<task_shard_api>(
      sys, shard_at(ctx, shard), revoke_timeout, [] {},
      [shard = shard](caf::error& e) {
        spdlog::warn("task shard {}: leases of a worker that went away not revoked, they run "
                     "out instead: {}",
                     shard, to_fault(e).message);
      },
      revoke_atom_v, std::move(msg));
}

} // namespace parley::tasks
