// A fan-out worker: takes a new post from its post shard after the post is durable and
//   - for a fanned-out post (author below feed.celebrity_threshold), inserts its id into the
//     timeline of every active follower (and the author's own), followers read from the store
//     in pages of 1,000 so that one large author does not hold up the others;
//   - for any post, pushes a `feed_item` frame to followers subscribed over WebSocket. For a
//     pulled post the worker asks the live index for the author's subscribed followers
//     (live_subscriptions.hpp) instead of walking the (many) followers.
// Interface: fanout_api (feed_api.hpp).
#pragma once

#include "actors/feed/feed_context.hpp"

#include <caf/fwd.hpp>

namespace parley::feed {

fanout_api spawn_fanout_worker(caf::actor_system& sys, feed_context_ptr ctx);

} // namespace parley::feed
