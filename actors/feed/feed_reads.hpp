// The feed's reads of single records, run on actors, never on an io thread: the edge asks the
// owner (a post and its comments: the post's shard; profiles and follow lists: the follow-graph
// actor), and the feed actor hydrates its candidates with load_post. They read what is durable;
// writes go through the same owners.
#pragma once

#include "actors/feed/feed_context.hpp"
#include "common/errc.hpp"
#include "common/result.hpp"
#include "proto/parley.pb.h"

#include <string>
#include <string_view>

namespace parley::feed {

// The post from the cache or the store; null when it does not exist (or was deleted), the
// storage fault when it cannot be read.
result<post_ptr> load_post(feed_context& ctx, std::string_view post_id);

pb::Post to_public(const std::string& post_id, const pb::StoredPost& post);
pb::Comment to_public(const std::string& comment_id, const std::string& post_id,
                      const pb::StoredComment& comment);

fault read_post(feed_context& ctx, const std::string& post_id, pb::Post& out);
// The user's profile; without `with_posts` its post count is left at 0 (in a cluster the
// author's post shard, maybe on another node, has it).
fault read_user(feed_context& ctx, const std::string& user_id, pb::UserProfile& out,
                bool with_posts = true);
// followers (incoming = true) or following of a known user; `cursor` is the last user id served.
fault read_follows(feed_context& ctx, const std::string& user_id, bool incoming,
                   const std::string& cursor, size_t limit, pb::FollowList& out);
fault read_comments(feed_context& ctx, const std::string& post_id, const std::string& cursor,
                    size_t limit, pb::CommentList& out);

} // namespace parley::feed
