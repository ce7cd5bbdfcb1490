// Keeps the live feed index (live_feeds.hpp) in step with the follow graph, so that a pulled
// (celebrity) post reaches exactly its subscribed followers: a user's first subscribed connection
// on this node has the follow-graph actor watch the pulled authors the user follows; a follow or
// unfollow of a pulled author by a subscribed user watches or unwatches; an author's first pulled
// post watches them for every subscribed follower. Each step registers before it reads the store
// (or reads after the write it reacts to is durable), so a change racing it is seen by one side
// or the other; a watcher is still checked against the store before each item is pushed.
// Storage is read only on the follow-graph and fan-out actors, never on a connection's thread.
#pragma once

#include "actors/feed/feed_context.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace parley::feed {

// From the connection actor `self` that received feed_subscribe: the sink stays in this node's
// table; the graph actor is told the user id only. `self` handles its next message (the
// client's next frame) once the watches are in place, so a frame answered after feed_subscribe
// confirms the subscription, as a synchronous subscribe did.
void subscribe_live(caf::event_based_actor* self, feed_context& ctx, const std::string& user,
                    const std::string& session_id, std::weak_ptr<outbound_sink> sink);
void unsubscribe_live(feed_context& ctx, const std::string& user, const std::string& session_id);

// On the follow-graph actor, after subscribe_live: watches the pulled authors `user` follows.
void watch_followed_pulled(feed_context& ctx, const std::string& user);

// After the follow-graph actor made a follow (or unfollow) durable.
void follow_changed_live(feed_context& ctx, const std::string& follower,
                         const std::string& followee, bool follow);

// After an author's first pulled post is durable (and the author is in ctx.pulled).
void author_pulled_live(feed_context& ctx, const std::string& author);

} // namespace parley::feed
