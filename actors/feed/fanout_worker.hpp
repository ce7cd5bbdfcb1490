// A fan-out worker: takes a new post from its post shard after the post is durable and
//   - for a fanned-out post (author below feed.celebrity_threshold), inserts its id into the
//     timeline of every active follower (and the author's own), followers read from the store
//     in pages of 1,000 so that one large author does not hold up the others;
//   - for any post, pushes a `feed_item` frame to followers subscribed over WebSocket. For a
//     pulled post the worker asks the live index for the author's subscribed followers
//     (live_subscriptions.hpp) instead of walking the (many) followers.
// In a cluster the worker runs on the author's partition owner (which holds the followers):
// followers whose partitions another node owns get the post in one FanoutDelivery per node and
// page, which that node's fan-out service hands to its worker for the author (timelines of its
// users, the post into its cache, live items of its connections). A pulled post is told to every
// node once (FanoutDelivery.pulled): each then knows the author is pulled, forgets the author's
// cached recent posts and pushes live items to its watchers.
// Live items for followers connected to other nodes go from the node that walked them, one
// FeedLiveItems per node and page, found in the replicated routing table (feed_context::sessions).
// Interface: fanout_api (feed_api.hpp).
#pragma once

#include "actors/feed/feed_context.hpp"

#include <caf/fwd.hpp>

namespace parley::feed {

fanout_api spawn_fanout_worker(caf::actor_system& sys, feed_context_ptr ctx);

// A node's fan-out service (cluster): takes jobs and deliveries from other nodes and hands each
// to this node's worker for its author, so the posts of one author stay in order.
fanout_api spawn_fanout_service(caf::actor_system& sys, feed_context_ptr ctx);

} // namespace parley::feed
