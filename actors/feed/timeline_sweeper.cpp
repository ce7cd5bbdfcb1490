#include "actors/feed/timeline_sweeper.hpp"

#include "actors/runtime/atoms.hpp"
#include "common/clock.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace parley::feed {

namespace {

constexpr auto sweep_interval = std::chrono::minutes{10};

} // namespace

caf::actor spawn_timeline_sweeper(caf::actor_system& sys, feed_context_ptr ctx) {
  return sys.spawn([ctx](caf::event_based_actor* self) -> caf::behavior {
    self->delayed_send(self, sweep_interval, sweep_atom_v);
    return {
      [self, ctx](sweep_atom) {
        auto evicted = ctx->timelines.evict_inactive(unix_ms() - ctx->opts.active_window_ms());
        if (evicted > 0)
          spdlog::debug("feed: dropped {} inactive timelines", evicted);
        self->delayed_send(self, sweep_interval, sweep_atom_v);
      },
    };
  });
}

} // namespace parley::feed
