#include "actors/feed/feed_reads.hpp"

#include "common/identifiers.hpp"
#include "common/time_ordered_id.hpp"

#include <google/protobuf/util/time_util.h>

namespace parley::feed {

namespace {

using google::protobuf::util::TimeUtil;

fault no_post(const std::string& id) {
  return make_fault(errc::not_found, "no post " + id);
}

fault no_user(const std::string& id) {
  return make_fault(errc::not_found, "no user " + id);
}

} // namespace

result<post_ptr> load_post(feed_context& ctx, std::string_view post_id) {
  if (auto hit = ctx.posts.find(post_id))
    return *hit;
  if (!valid_time_ordered_id(post_id))
    return post_ptr{};
  auto stored = ctx.store->post(post_id);
  if (!stored)
    return std::move(stored).take_error();
  post_ptr post;
  if (*stored)
    post = std::make_shared<const pb::StoredPost>(std::move(**stored));
  ctx.posts.put_if_absent(post_id, post);
  return post;
}

pb::Post to_public(const std::string& post_id, const pb::StoredPost& post) {
  pb::Post out;
  out.set_post_id(post_id);
  out.set_author_id(post.author_id());
  out.set_text(post.text());
  *out.mutable_media_urls() = post.media_urls();
  *out.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(post.created_ms());
  out.set_likes(post.likes());
  out.set_comments(post.comments());
  out.set_shares(post.shares());
  return out;
}

pb::Comment to_public(const std::string& comment_id, const std::string& post_id,
                      const pb::StoredComment& comment) {
  pb::Comment out;
  out.set_comment_id(comment_id);
  out.set_post_id(post_id);
  out.set_author_id(comment.author_id());
  out.set_text(comment.text());
  *out.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(comment.created_ms());
  return out;
}

fault read_post(feed_context& ctx, const std::string& post_id, pb::Post& out) {
  auto post = load_post(ctx, post_id);
  if (!post)
    return post.error();
  if (!*post)
    return no_post(post_id);
  out = to_public(post_id, **post);
  return {};
}

fault read_user(feed_context& ctx, const std::string& user_id, pb::UserProfile& out,
                bool with_posts) {
  if (!valid_user_id(user_id))
    return make_fault(errc::bad_request, "invalid user id \"" + user_id.substr(0, 64) + "\"");
  auto user = ctx.store->user(user_id);
  if (!user)
    return user.error();
  if (!*user)
    return no_user(user_id);
  if (!with_posts) {
    out.set_user_id(user_id);
    out.set_followers((*user)->followers());
    out.set_following((*user)->following());
    return {};
  }
  auto stats = ctx.store->author_stats(user_id);
  if (!stats)
    return stats.error();
  out.set_user_id(user_id);
  out.set_followers((*user)->followers());
  out.set_following((*user)->following());
  out.set_posts(*stats ? (*stats)->posts() : 0);  // none stored: no post yet
  return {};
}

fault read_follows(feed_context& ctx, const std::string& user_id, bool incoming,
                   const std::string& cursor, size_t limit, pb::FollowList& out) {
  if (!valid_user_id(user_id))
    return make_fault(errc::bad_request, "invalid user id \"" + user_id.substr(0, 64) + "\"");
  if (!cursor.empty() && !valid_user_id(cursor))
    return make_fault(errc::bad_request, "malformed cursor \"" + cursor.substr(0, 64) + "\"");
  auto user = ctx.store->user(user_id);
  if (!user)
    return user.error();
  if (!*user)
    return no_user(user_id);
  // One more than asked: whether there is a next page.
  auto read = incoming ? ctx.store->followers(user_id, cursor, limit + 1)
                       : ctx.store->following(user_id, cursor, limit + 1);
  if (!read)
    return read.error();
  auto& page = *read;
  bool more = page.size() > limit;
  if (more)
    page.pop_back();
  for (auto& e : page) {
    auto* entry = out.add_users();
    entry->set_user_id(e.user_id);
    *entry->mutable_since() = TimeUtil::MillisecondsToTimestamp(e.since_ms);
  }
  if (more)
    out.set_next_cursor(page.back().user_id);
  return {};
}

fault read_comments(feed_context& ctx, const std::string& post_id, const std::string& cursor,
                    size_t limit, pb::CommentList& out) {
  if (!cursor.empty() && !valid_time_ordered_id(cursor))
    return make_fault(errc::bad_request, "malformed cursor \"" + cursor.substr(0, 64) + "\"");
  auto post = load_post(ctx, post_id);
  if (!post)
    return post.error();
  if (!*post)
    return no_post(post_id);
  auto read = ctx.store->comments(post_id, cursor, limit + 1);
  if (!read)
    return read.error();
  auto& page = *read;
  bool more = page.size() > limit;
  if (more)
    page.pop_back();
  for (auto& [id, c] : page)
    *out.add_comments() = to_public(id, post_id, c);
  if (more)
    out.set_next_cursor(page.back().first);
  return {};
}

} // namespace parley::feed
