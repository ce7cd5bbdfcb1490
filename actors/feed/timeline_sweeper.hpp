// Drops the timelines of users who have not read their feed within feed.active_days, every ten
// minutes, so memory follows the active set (fan-out also drops one it meets). Also publishes
// the feed's gauges.
#pragma once

#include "actors/feed/feed_context.hpp"

#include <caf/fwd.hpp>

namespace parley::feed {

caf::actor spawn_timeline_sweeper(caf::actor_system& sys, feed_context_ptr ctx);

} // namespace parley::feed
