// The messages of the news feed's actors. Replies to the edge are callbacks that run on the
// answering actor's thread (the HTTP session posts them onto its strand).
//
// To a post shard, through the registry (kind post_shard_kind, id = shard number):
//   (create_atom, post_create)   a new post by its author
//   (delete_atom, post_delete)   by the author (or an admin)
//   (engage_atom, post_engage)   like, unlike, comment, share
// To the follow-graph actor:
//   (follow_atom, follow_change) follow or unfollow
//   (touch_atom, std::string user) makes the user known (first authenticated request)
// To a feed actor, through the registry (kind feed_kind, id = user):
//   (read_atom, feed_query)      one page of the feed
//   (follow_atom, std::string followee, bool added) the user's followees changed
// To a fan-out worker:
//   (fanout_atom, fanout_job)    a new post: timelines of active followers and live items
#pragma once

#include "actors/feed/feed_cursor.hpp"
#include "actors/feed/post_cache.hpp"
#include "common/errc.hpp"
#include "proto/parley.pb.h"

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace parley::feed {

struct post_create {
  std::string author;
  pb::CreatePostRequest request;
  std::function<void(const fault&, const std::string& post_id, const post_ptr&)> reply;
};

struct post_delete {
  std::string post_id;
  std::string user;
  bool admin = false;
  std::function<void(const fault&)> reply;
};

enum class engagement { like, unlike, comment, share };

struct post_engage {
  engagement kind = engagement::like;
  std::string post_id;
  std::string user;
  std::string text;  // comment
  // The post after the change; for a comment, the new comment too.
  std::function<void(const fault&, const std::string& post_id, const post_ptr&,
                     const pb::Comment&)>
    reply;
};

struct follow_change {
  std::string follower;
  std::string followee;
  bool follow = true;  // false: unfollow
  std::function<void(const fault&)> reply;
};

struct feed_query {
  std::string user;
  feed_mode mode = feed_mode::ranked;
  size_t limit = 20;
  std::optional<feed_cursor> cursor;
  std::function<void(const fault&, const pb::FeedPage&)> reply;
};

struct fanout_job {
  std::string post_id;
  std::string author;
  int64_t created_ms = 0;
  bool fanned_out = true;   // false: only live items (readers pull the post)
  bool newly_pulled = false;  // the author's first pulled post: index their live followers
  post_ptr post;
  std::string after;        // followers already done, by id
  int64_t started_ns = 0;   // steady clock, for the fan-out duration
};

} // namespace parley::feed

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::feed::post_create)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::feed::post_delete)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::feed::post_engage)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::feed::follow_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::feed::feed_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::feed::fanout_job)
