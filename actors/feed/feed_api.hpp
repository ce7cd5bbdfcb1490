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
// graph_api: the follow-graph actor (one per node):
//   (follow_atom, FollowChange)  -> void          follow or unfollow, idempotent
//   (touch_atom, UserRef)                         makes the user known (no answer)
//   (read_atom, UserRef)         -> UserProfile
//   (read_atom, FollowsQuery)    -> FollowList
//   (feed_live_atom, UserRef)    -> void          the user's first connection on this node sent
//                                                 feed_subscribe: watch the pulled authors they
//                                                 follow (live_subscriptions.hpp; the table of
//                                                 live connections is this node's)
// feed_api: a feed actor (virtual, kind feed_kind, id = the user):
//   (read_atom, FeedQuery)       -> FeedPage      a page of the user's feed
//   (follow_atom, FollowChange)  -> void          the user followed or unfollowed someone
//   (inspect_atom)               -> FeedInspection  what it holds in memory (admin console)
// fanout_api: a fan-out worker (feed_context::fanout):
//   (fanout_atom, FanoutJob)                      a new post, durable: timelines and live items
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/feed_actors.pb.h"

#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(parley_feed, caf::first_custom_type_id + 300)
CAF_ADD_ATOM(parley_feed, parley::atoms, feed_live_atom, "feedlive")
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
CAF_END_TYPE_ID_BLOCK(parley_feed)

namespace parley::feed {

using post_shard_api = caf::typed_actor<
  caf::replies_to<create_atom, pb::NewPost>::with<pb::Post>,
  caf::replies_to<delete_atom, pb::PostDeletion>::with<void>,
  caf::replies_to<engage_atom, pb::Engagement>::with<pb::Post>,
  caf::replies_to<create_atom, pb::NewComment>::with<pb::Comment>,
  caf::replies_to<read_atom, pb::PostQuery>::with<pb::Post>,
  caf::replies_to<read_atom, pb::CommentsQuery>::with<pb::CommentList>,
  caf::replies_to<inspect_atom>::with<pb::PostShardInspection>>;

using graph_api = caf::typed_actor<
  caf::replies_to<follow_atom, pb::FollowChange>::with<void>,
  caf::reacts_to<touch_atom, pb::UserRef>,
  caf::replies_to<read_atom, pb::UserRef>::with<pb::UserProfile>,
  caf::replies_to<read_atom, pb::FollowsQuery>::with<pb::FollowList>,
  caf::replies_to<feed_live_atom, pb::UserRef>::with<void>>;

using feed_api = caf::typed_actor<
  caf::replies_to<read_atom, pb::FeedQuery>::with<pb::FeedPage>,
  caf::replies_to<follow_atom, pb::FollowChange>::with<void>,
  caf::replies_to<inspect_atom>::with<pb::FeedInspection>>;

using fanout_api = caf::typed_actor<caf::reacts_to<fanout_atom, pb::FanoutJob>>;

} // namespace parley::feed
