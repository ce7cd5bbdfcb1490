#include "actors/tasks/task_ticker.hpp"

#include "actors/runtime/entity_request.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_metrics.hpp"
#include "common/clock.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace parley::tasks {

namespace {

constexpr auto tick_interval = std::chrono::seconds{1};
// A shard busy loading (recovery after a restart) answers a tick late; later ticks are on their
// way meanwhile, so only one that never arrives is worth a log line.
constexpr auto tick_timeout = std::chrono::seconds{30};
constexpr int ticks_per_purge = 60;
constexpr size_t purge_batch = 1000;

struct ticker_state {
  tasks_context_ptr ctx;
  int ticks = 0;
  bool purging = false;

  static inline const char* name = "parley.task_ticker";
};

using ticker_actor = task_ticker::stateful_pointer<ticker_state>;

void purge(ticker_actor self) {
  auto& st = self->state;
  if (st.purging)
    return;
  auto horizon = unix_ms() - int64_t{st.ctx->opts.retention_days} * 24 * 3600 * 1000;
  auto ids = st.ctx->store->finished_before(horizon, purge_batch);
  if (!ids) {
    spdlog::error("task retention: {}", ids.error().message);
    return;
  }
  storage::write_set ws;
  std::vector<task_status> erased;
  for (auto& id : *ids) {
    auto rec = st.ctx->store->get(id);
    if (!rec) {
      // An unreadable record must not stop retention for everything behind it.
      spdlog::error("task retention: {}: {}", id, rec.error().message);
      continue;
    }
    if (*rec) {
      st.ctx->store->erase(ws, shard_of(id), **rec);
      erased.push_back((*rec)->status());
    }
  }
  if (ws.empty())
    return;
  st.purging = true;
  self->request(st.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, erased]() {
        self->state.purging = false;
        for (auto s : erased)
          instruments().moved(s, pb::Task::STATUS_UNSPECIFIED);
        if (erased.size() == purge_batch)
          purge(self);  // more to go
      },
      [self](caf::error& e) {
        self->state.purging = false;
        spdlog::error("task retention: {}", to_fault(e).message);
      });
}

void tick(ticker_actor self) {
  auto& st = self->state;
  for (uint32_t shard = 0; shard < task_shard_count; ++shard) {
    // In a cluster each shard is ticked by its owner only (a tick to another node's shard would
    // cross the network for nothing); a shard whose partition has no live owner yet is ticked
    // once it has one.
    if (!shard_here(*st.ctx, shard))
      continue;
    runtime::request_entity<task_shard_api>(
      self, shard_at(*st.ctx, shard), tick_timeout, [] {},
      [shard](caf::error& e) {
        // The next tick comes in a second; a shard that keeps missing them is worth a line.
        spdlog::warn("task shard {}: tick not delivered: {}", shard, to_fault(e).message);
      },
      tick_atom_v);
  }
  if (st.ticks++ % ticks_per_purge == 0)
    purge(self);
  self->delayed_send(self, tick_interval, tick_atom_v);
}

} // namespace

task_ticker spawn_task_ticker(caf::actor_system& sys, tasks_context_ptr ctx) {
  return sys.spawn([ctx](ticker_actor self) -> task_ticker::behavior_type {
    self->state.ctx = ctx;
    // Unreadable, the gauges start at 0 and follow the moves from there; the log says so.
    auto counts = ctx->store->count_by_status();
    if (!counts)
      spdlog::error("tasks: status index unreadable, task status gauges start at 0: {}",
                    counts.error().message);
    auto& m = instruments();
    for (int s = pb::Task::PENDING; s <= pb::Task::PAUSED; ++s) {
      auto n = uint64_t{0};
      if (counts)
        if (auto it = counts->find(static_cast<task_status>(s)); it != counts->end())
          n = it->second;
      m.in_status(static_cast<task_status>(s)).set(static_cast<int64_t>(n));
    }
    self->send(self, tick_atom_v);
    return {
      [self](tick_atom) { tick(self); },
    };
  });
}

} // namespace parley::tasks
