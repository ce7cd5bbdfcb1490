// The follow-graph actor: the single writer of follow edges (stored both ways) and of user
// records with their follower and following counts, so that counts stay exact under concurrent
// follows. One per node (follow writes are small and group-committed). After a change it tells
// the follower's feed actor if the follower has a feed in memory, which then back-fills the new
// author or drops the feed for a rebuild. It also answers reads of user profiles and follow
// lists (the edge never reads the store on an io thread) and indexes the pulled authors a live
// subscriber follows (live_subscriptions.hpp).
// In a cluster it is a keyed node service (graph_service): a user's record, the users they
// follow and their followers live on the user's partition owner, whose graph is the only writer
// of them (feed_context::graph_for routes there). A follow between users of two nodes is taken
// by the follower's graph, which has the followee's graph apply its side first (followed_atom),
// then writes its own; a profile's post count comes from the author's post shard.
// Interface: graph_api (feed_api.hpp).
#pragma once

#include "actors/feed/feed_context.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace parley::feed {

graph_api spawn_graph_actor(caf::actor_system& sys, feed_context_ptr ctx);

// Makes `user` known to the follow graph: a user exists from their first authenticated request
// (or minted dev token). A set lookup when this node has seen them, a message to the graph actor
// (which reads and, for a new user, writes) when not; the graph actor handles messages in order,
// so a follow sent afterwards finds them. Never touches storage on the caller's thread.
void make_known(feed_context& ctx, const std::string& user);

} // namespace parley::feed
