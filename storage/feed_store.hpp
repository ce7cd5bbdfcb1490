// The records of the news feed (PROTOCOL.md, News feed): posts, the follow graph stored both
// ways, per-user counts, likes, comments and affinity. Feeds themselves are not stored: they are
// a cache rebuilt from these records (docs/feed.md). Keys:
//   posts         post id                       -> StoredPost
//   author_posts  author|newest-first time|post -> 1 byte: fanned out (1) or pulled (0)
//   follows       'o'|follower|followee         -> since (ms), the users someone follows
//                 'i'|followee|follower         -> since (ms), someone's followers
//   feed_users    'u'|user                      -> StoredUser (created, follower counts)
//                 'a'|author                    -> AuthorStats (post count)
//                 'p'|author                    -> "" once the author has a pulled post
//   affinity      reader|author                 -> u64: the reader's likes + comments on them
//   likes         post|user                     -> ""
//   comments      post|comment id               -> StoredComment
// Callers serialize the writes of one record (the follow-graph actor, the post shards); this
// class only encodes them. Reads answer a result: the value, or the storage fault (unavailable,
// internal). A record or key that does not parse is a fault (internal, storage/record.hpp),
// never absent or skipped.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "proto/parley.pb.h"
#include "storage/engine.hpp"
#include "storage/write_set.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace parley::storage {

class feed_store {
public:
  // A post as the author index knows it.
  struct post_ref {
    std::string post_id;
    int64_t created_ms = 0;
    bool fanned_out = true;
  };

  struct follow_entry {
    std::string user_id;
    int64_t since_ms = 0;
  };

  explicit feed_store(engine& db) : db_(db) {}

  // -- posts ------------------------------------------------------------------------------------

  result<std::optional<pb::StoredPost>> post(std::string_view id) const;
  // The author's newest `max` posts, newest first; with `pulled_only`, only those of them that
  // were not fanned out (so an author with few pulled posts among many costs `max` keys).
  result<std::vector<post_ref>> recent_posts(std::string_view author, size_t max,
                                             bool pulled_only) const;
  // A new post: the record and its author index entry.
  void put_post(write_set& ws, std::string_view id, const pb::StoredPost& post) const;
  // A changed post (counters): the record only.
  void update_post(write_set& ws, std::string_view id, const pb::StoredPost& post) const;
  // Removes the post, its index entry, and the likes and comments stored for it; the fault when
  // the likes and comments cannot be listed (then `ws` must not be written).
  fault erase_post(write_set& ws, std::string_view id, const pb::StoredPost& post) const;

  // -- users ------------------------------------------------------------------------------------

  result<std::optional<pb::StoredUser>> user(std::string_view id) const;
  void put_user(write_set& ws, std::string_view id, const pb::StoredUser& user) const;
  result<std::optional<pb::AuthorStats>> author_stats(std::string_view author) const;
  void put_author_stats(write_set& ws, std::string_view author,
                        const pb::AuthorStats& stats) const;
  // Authors with at least one post that was not fanned out (read at start-up).
  result<std::vector<std::string>> pulled_authors() const;
  void mark_pulled(write_set& ws, std::string_view author) const;

  // -- follow graph -----------------------------------------------------------------------------

  result<bool> follows(std::string_view follower, std::string_view followee) const;
  // The users `user` follows / `user`'s followers, in user id order after `after`, at most max
  // (0: all of them).
  result<std::vector<follow_entry>> following(std::string_view user, std::string_view after,
                                              size_t max) const;
  result<std::vector<follow_entry>> followers(std::string_view user, std::string_view after,
                                              size_t max) const;
  // Which records of an edge a write touches: both on a single node; in a cluster the follower's
  // record ('o') lives on the follower's partition, the followee's ('i') on the followee's, and
  // each node writes its own side.
  enum class edge_sides { both, follower, followee };
  void put_follow(write_set& ws, std::string_view follower, std::string_view followee,
                  int64_t since_ms, edge_sides sides = edge_sides::both) const;
  void erase_follow(write_set& ws, std::string_view follower, std::string_view followee,
                    edge_sides sides = edge_sides::both) const;
  // The followee's side of an edge: whether `followee` has `follower` among its followers.
  result<bool> followed_by(std::string_view followee, std::string_view follower) const;

  // -- likes, comments, affinity ----------------------------------------------------------------

  result<bool> liked(std::string_view post, std::string_view user) const;
  void put_like(write_set& ws, std::string_view post, std::string_view user) const;
  void erase_like(write_set& ws, std::string_view post, std::string_view user) const;

  // Comments of a post in id (creation) order after `after_id`, at most max.
  result<std::vector<std::pair<std::string, pb::StoredComment>>>
  comments(std::string_view post, std::string_view after_id, size_t max) const;
  void put_comment(write_set& ws, std::string_view post, std::string_view comment_id,
                   const pb::StoredComment& comment) const;

  // 0 when the reader never engaged with the author.
  result<uint64_t> affinity(std::string_view reader, std::string_view author) const;
  // The reader's affinity per author, at most `max` authors (in author id order).
  result<std::unordered_map<std::string, uint64_t>> affinities(std::string_view reader,
                                                               size_t max) const;
  // Writes the count; zero removes the entry.
  void put_affinity(write_set& ws, std::string_view reader, std::string_view author,
                    uint64_t count) const;

private:
  result<std::vector<follow_entry>> edges(uint8_t direction, std::string_view user,
                                          std::string_view after, size_t max) const;

  engine& db_;
};

} // namespace parley::storage
