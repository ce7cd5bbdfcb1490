// The task shards' handles as the registry last gave them, shared by everything on the node that
// asks the shards (the edge's handlers, the push sink, the broker, the executors): a request goes
// straight to its shard instead of through the registry each time (bench/tasks.sh: the registry
// hop cost about a quarter of the creates per second). Unlike runtime::entity_channels, which
// lives in one actor's state, this table is shared by the short-lived actors the edge asks from,
// on any thread. A handle is used until the validity the registry gave it ends; a request that
// meets a passivated shard is re-sent through the registry (runtime::request_entity), so a stale
// handle costs a hop, never a message. The ticker resolves every shard each second, which keeps
// them active.
#pragma once

#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/tasks_api.hpp"

#include <caf/actor_clock.hpp>

#include <array>
#include <mutex>
#include <optional>

namespace parley::tasks {

class shard_handles {
public:
  using time_point = caf::actor_clock::time_point;

  // The handle of `shard` while it is valid at `now`.
  std::optional<task_shard_api> get(uint32_t shard, time_point now) const {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& e = entries_.at(shard);
    if (!e.handle || now >= e.valid_until)
      return std::nullopt;
    return e.handle;
  }

  void put(uint32_t shard, task_shard_api handle, time_point valid_until) {
    std::lock_guard<std::mutex> guard{mtx_};
    entries_.at(shard) = entry{std::move(handle), valid_until};
  }

private:
  struct entry {
    task_shard_api handle;
    time_point valid_until;
  };

  mutable std::mutex mtx_;
  std::array<entry, task_shard_count> entries_;
};

} // namespace parley::tasks
