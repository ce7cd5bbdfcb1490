// The feed actor (virtual, kind feed_kind, one per user who reads; passivated when idle like every
// virtual actor): answers GET /api/v1/feed for
// its user. It rebuilds the user's timeline from the store when the user returns after being
// inactive, merges the recent posts of followed pulled authors (celebrities), drops deleted
// posts and unfollowed authors, hydrates posts from the post cache, orders them (chronological
// or ranked, ranking.hpp) and pages with the cursors of feed_cursor.hpp. It keeps the user's
// followees and the last few rankings (so ranked pages stay stable) in memory.
// Interface: feed_api (feed_api.hpp); the follow-graph actor tells it about follow changes.
#pragma once

#include "actors/feed/feed_context.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace parley::feed {

feed_api spawn_feed_actor(caf::actor_system& sys, feed_context_ptr ctx, std::string user);

} // namespace parley::feed
