// The typed interfaces of the news feed's actors: what each one answers, with request and reply
// types from proto/feed_actors.proto and the public messages of proto/parley.proto. A wrong
// message is a compile error, and every type here can cross nodes (round-tripped in
// tests/actors/wire_types_test.cpp). Failures answer with a parley error (make_error).
//
// post_shard_api: a post shard (virtual, kind post_shard_kind, id "0".."15"), reached through the
// registry (runtime::request_entity, runtime::ask_entity); the post id names its shard.
//   (create_atom, NewPost)       -> Post          a new post, answered once durable
//   (delete_atom, PostDeletion)  -> void          by the author (or an admin)
//   (engage_atom, Engagement)    -> Post          like, unlike, share: the post after the change
//   (create_atom, NewComment)    -> Comment
//   (read_atom, PostQuery)       -> Post
//   (read_atom, CommentsQuery)   -> CommentList
//   (inspect_atom)               -> PostShardInspection  what it holds in memory (admin console)
//   (read_atom, AuthorsQuery)    -> AuthorsPosts  in a cluster: recent posts and post counts of
//   (read_atom, PostsQuery)      -> StoredPosts   authors, posts by id, a reader's affinities,
//   (read_atom, AffinityQuery)   -> Affinities    read from the store of the shard's node
// graph_api: the follow-graph actor (one per node; in a cluster the one on the user's partition
// owner holds the user's record, follows and followers):
//   (follow_atom, FollowChange)  -> void          follow or unfollow, idempotent
//   (touch_atom, UserRef)                         makes the user known (no answer)
//   (read_atom, UserRef)         -> UserProfile
//   (read_atom, FollowsQuery)    -> FollowList
//   (feed_live_atom, UserRef)    -> void          the user's first connection on this node sent
//                                                 feed_subscribe: watch the pulled authors they
//                                                 follow (live_subscriptions.hpp; the table of
//                                                 live connections is this node's)
//   (followed_atom, FollowChange) -> void         cluster: the followee's side of a change
//   (count_atom, UserRef)        -> UserProfile   follower and following counts only
// feed_api: a feed actor (virtual, kind feed_kind, id = the user):
//   (read_atom, FeedQuery)       -> FeedPage      a page of the user's feed
//   (follow_atom, FollowChange)  -> void          the user followed or unfollowed someone
//   (inspect_atom)               -> FeedInspection  what it holds in memory (admin console)
// fanout_api: a fan-out worker (feed_context::fanout), and in a cluster each node's fan-out
// service (the same interface, dispatching to its workers by author):
//   (fanout_atom, FanoutJob)                      a new post, durable: timelines and live items
//   (fanout_atom, FanoutDelivery)                 cluster: a new post for followers of this
//                                                 node's partitions, or a pulled post
//   (fanout_atom, FeedLiveItems)                  cluster: live items for this node's
//                                                 subscribed connections of the listed users
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/feed_actors.pb.h"

#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(parley_feed, caf::first_custom_type_id + 300)
CAF_ADD_ATOM(parley_feed, parley::atoms, feed_live_atom, "feedlive")
CAF_ADD_ATOM(parley_feed, parley::atoms, followed_atom, "followed")
// requests
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::NewPost))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::PostDeletion))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::Engagement))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::NewComment))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::PostQuery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::CommentsQuery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FollowChange))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::UserRef))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FollowsQuery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FeedQuery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FanoutJob))
// replies (public messages of parley.proto)
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::Post))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::Comment))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::CommentList))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::UserProfile))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FollowList))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FeedPage))
// inspection (admin console)
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FeedInspection))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::PostShardInspection))
// between nodes (cluster)
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::AuthorsQuery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::AuthorsPosts))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::PostsQuery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::StoredPosts))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::AffinityQuery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::Affinities))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FanoutDelivery))
CAF_ADD_TYPE_ID(parley_feed, (parley::pb::FeedLiveItems))
CAF_END_TYPE_ID_BLOCK(parley_feed)

namespace parley::feed {

using post_shard_api = caf::typed_actor<
  caf::replies_to<create_atom, pb::NewPost>::with<pb::Post>,
  caf::replies_to<delete_atom, pb::PostDeletion>::with<void>,
  caf::replies_to<engage_atom, pb::Engagement>::with<pb::Post>,
  caf::replies_to<create_atom, pb::NewComment>::with<pb::Comment>,
  caf::replies_to<read_atom, pb::PostQuery>::with<pb::Post>,
  caf::replies_to<read_atom, pb::CommentsQuery>::with<pb::CommentList>,
  caf::replies_to<inspect_atom>::with<pb::PostShardInspection>,
  // Reads of what this shard's node stores, for feed readers on other nodes (cluster).
  caf::replies_to<read_atom, pb::AuthorsQuery>::with<pb::AuthorsPosts>,
  caf::replies_to<read_atom, pb::PostsQuery>::with<pb::StoredPosts>,
  caf::replies_to<read_atom, pb::AffinityQuery>::with<pb::Affinities>>;

using graph_api = caf::typed_actor<
  caf::replies_to<follow_atom, pb::FollowChange>::with<void>,
  caf::reacts_to<touch_atom, pb::UserRef>,
  caf::replies_to<read_atom, pb::UserRef>::with<pb::UserProfile>,
  caf::replies_to<read_atom, pb::FollowsQuery>::with<pb::FollowList>,
  caf::replies_to<feed_live_atom, pb::UserRef>::with<void>,
  // In a cluster, from the follower's graph: the followee's side of a follow or unfollow.
  caf::replies_to<followed_atom, pb::FollowChange>::with<void>,
  // The user's follower and following counts (no post count), for a post shard deciding
  // whether a new post is fanned out.
  caf::replies_to<count_atom, pb::UserRef>::with<pb::UserProfile>>;

using feed_api = caf::typed_actor<
  caf::replies_to<read_atom, pb::FeedQuery>::with<pb::FeedPage>,
  caf::replies_to<follow_atom, pb::FollowChange>::with<void>,
  caf::replies_to<inspect_atom>::with<pb::FeedInspection>>;

using fanout_api = caf::typed_actor<caf::reacts_to<fanout_atom, pb::FanoutJob>,
                                    caf::reacts_to<fanout_atom, pb::FanoutDelivery>,
                                    caf::reacts_to<fanout_atom, pb::FeedLiveItems>>;

// The names peers reach a node's feed services by (runtime::service_router): the follow graph
// (keyed by user: the data of a user lives on the user's partition) and fan-out (keyed by
// author for a new post; by node for deliveries).
constexpr const char* graph_service = "graph";
constexpr const char* fanout_service = "fanout";

} // namespace parley::feed
