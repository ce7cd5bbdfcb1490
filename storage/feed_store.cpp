#include "storage/feed_store.hpp"

#include "storage/key_codec.hpp"
#include "storage/record.hpp"

#include <cstring>
#include <limits>

namespace parley::storage {

namespace {

constexpr uint8_t outgoing = 'o';  // follower -> followee
constexpr uint8_t incoming = 'i';  // followee -> follower
constexpr uint8_t user_prefix = 'u';
constexpr uint8_t author_prefix = 'a';
constexpr uint8_t pulled_prefix = 'p';

// Newest first: the index stores max - created so that a forward scan starts at the newest.
std::string author_post_key(std::string_view author, int64_t created_ms, std::string_view id) {
  auto inverted = std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(created_ms);
  return key_builder{}.str(author).u64(inverted).str(id).bytes();
}

std::string edge_key(uint8_t direction, std::string_view from, std::string_view to) {
  return key_builder{}.u8(direction).str(from).str(to).bytes();
}

std::string user_key(uint8_t prefix, std::string_view user) {
  return key_builder{}.u8(prefix).str(user).bytes();
}

std::string pair_key(std::string_view a, std::string_view b) {
  return key_builder{}.str(a).str(b).bytes();
}

std::string encode_u64(uint64_t v) {
  return key_builder{}.u64(v).bytes();
}

std::optional<uint64_t> decode_u64(std::string_view raw) {
  key_reader r{raw};
  return r.u64();
}

} // namespace

// -- posts ----------------------------------------------------------------------------------------

result<std::optional<pb::StoredPost>> feed_store::post(std::string_view id) const {
  return read_record<pb::StoredPost>(db_, family::posts, id);
}

result<std::vector<feed_store::post_ref>> feed_store::recent_posts(std::string_view author,
                                                                   size_t max,
                                                                   bool pulled_only) const {
  std::vector<post_ref> out;
  auto from = key_builder{}.str(author).bytes();
  size_t seen = 0;
  auto err = scan_records(
    db_, family::author_posts, from, prefix_successor(from),
    [&](std::string_view key, std::string_view value) {
      key_reader r{key};
      auto who = r.str();
      auto inverted = r.u64();
      auto id = r.str();
      if (!who || !inverted || !id || value.size() != 1)
        return visit::corrupt;
      bool fanned = value[0] == 1;
      if (!pulled_only || !fanned)
        out.push_back(post_ref{std::move(*id),
                               static_cast<int64_t>(
                                 std::numeric_limits<uint64_t>::max() - *inverted),
                               fanned});
      return ++seen < max ? visit::next : visit::stop;
    });
  if (err)
    return err;
  return out;
}

void feed_store::put_post(write_set& ws, std::string_view id, const pb::StoredPost& post) const {
  ws.put(family::posts, std::string{id}, post.SerializeAsString());
  ws.put(family::author_posts, author_post_key(post.author_id(), post.created_ms(), id),
         std::string(1, post.fanned_out() ? 1 : 0));
}

void feed_store::update_post(write_set& ws, std::string_view id,
                             const pb::StoredPost& post) const {
  ws.put(family::posts, std::string{id}, post.SerializeAsString());
}

fault feed_store::erase_post(write_set& ws, std::string_view id,
                             const pb::StoredPost& post) const {
  ws.del(family::posts, std::string{id});
  ws.del(family::author_posts, author_post_key(post.author_id(), post.created_ms(), id));
  auto prefix = key_builder{}.str(id).bytes();
  for (auto fam : {family::likes, family::comments}) {
    auto err = db_.scan(fam, prefix, prefix_successor(prefix), [&](std::string_view key, auto) {
      ws.del(fam, std::string{key});
      return true;
    });
    if (err)
      return err;
  }
  return {};
}

// -- users ----------------------------------------------------------------------------------------

result<std::optional<pb::StoredUser>> feed_store::user(std::string_view id) const {
  return read_record<pb::StoredUser>(db_, family::feed_users, user_key(user_prefix, id));
}

void feed_store::put_user(write_set& ws, std::string_view id, const pb::StoredUser& user) const {
  ws.put(family::feed_users, user_key(user_prefix, id), user.SerializeAsString());
}

result<std::optional<pb::AuthorStats>> feed_store::author_stats(std::string_view author) const {
  return read_record<pb::AuthorStats>(db_, family::feed_users, user_key(author_prefix, author));
}

void feed_store::put_author_stats(write_set& ws, std::string_view author,
                                  const pb::AuthorStats& stats) const {
  ws.put(family::feed_users, user_key(author_prefix, author), stats.SerializeAsString());
}

result<std::vector<std::string>> feed_store::pulled_authors() const {
  std::vector<std::string> out;
  auto from = key_builder{}.u8(pulled_prefix).bytes();
  auto err = scan_records(
    db_, family::feed_users, from, prefix_successor(from),
    [&](std::string_view key, std::string_view) {
      key_reader r{key};
      r.u8();
      auto author = r.str();
      if (!author)
        return visit::corrupt;
      out.push_back(std::move(*author));
      return visit::next;
    });
  if (err)
    return err;
  return out;
}

void feed_store::mark_pulled(write_set& ws, std::string_view author) const {
  ws.put(family::feed_users, user_key(pulled_prefix, author), {});
}

// -- follow graph ---------------------------------------------------------------------------------

result<bool> feed_store::follows(std::string_view follower, std::string_view followee) const {
  return has_record(db_, family::follows, edge_key(outgoing, follower, followee));
}

result<std::vector<feed_store::follow_entry>> feed_store::edges(uint8_t direction,
                                                                std::string_view user,
                                                                std::string_view after,
                                                                size_t max) const {
  std::vector<follow_entry> out;
  auto prefix = key_builder{}.u8(direction).str(user).bytes();
  // Keys after `after` start right behind its own key.
  auto from = after.empty() ? prefix : prefix_successor(edge_key(direction, user, after));
  auto err = scan_records(
    db_, family::follows, from, prefix_successor(prefix),
    [&](std::string_view key, std::string_view value) {
      key_reader r{key};
      r.u8();
      r.str();
      auto other = r.str();
      auto since = decode_u64(value);
      if (!other || !since)
        return visit::corrupt;
      out.push_back(follow_entry{std::move(*other), static_cast<int64_t>(*since)});
      return visit::next;
    },
    max);
  if (err)
    return err;
  return out;
}

result<std::vector<feed_store::follow_entry>> feed_store::following(std::string_view user,
                                                                    std::string_view after,
                                                                    size_t max) const {
  return edges(outgoing, user, after, max);
}

result<std::vector<feed_store::follow_entry>> feed_store::followers(std::string_view user,
                                                                    std::string_view after,
                                                                    size_t max) const {
  return edges(incoming, user, after, max);
}

result<bool> feed_store::followed_by(std::string_view followee, std::string_view follower) const {
  return has_record(db_, family::follows, edge_key(incoming, followee, follower));
}

void feed_store::put_follow(write_set& ws, std::string_view follower, std::string_view followee,
                            int64_t since_ms, edge_sides sides) const {
  auto since = encode_u64(static_cast<uint64_t>(since_ms));
  if (sides != edge_sides::followee)
    ws.put(family::follows, edge_key(outgoing, follower, followee), since);
  if (sides != edge_sides::follower)
    ws.put(family::follows, edge_key(incoming, followee, follower), since);
}

void feed_store::erase_follow(write_set& ws, std::string_view follower,
                              std::string_view followee, edge_sides sides) const {
  if (sides != edge_sides::followee)
    ws.del(family::follows, edge_key(outgoing, follower, followee));
  if (sides != edge_sides::follower)
    ws.del(family::follows, edge_key(incoming, followee, follower));
}

// -- likes, comments, affinity --------------------------------------------------------------------

result<bool> feed_store::liked(std::string_view post, std::string_view user) const {
  return has_record(db_, family::likes, pair_key(post, user));
}

void feed_store::put_like(write_set& ws, std::string_view post, std::string_view user) const {
  ws.put(family::likes, pair_key(post, user), {});
}

void feed_store::erase_like(write_set& ws, std::string_view post, std::string_view user) const {
  ws.del(family::likes, pair_key(post, user));
}

result<std::vector<std::pair<std::string, pb::StoredComment>>>
feed_store::comments(std::string_view post, std::string_view after_id, size_t max) const {
  std::vector<std::pair<std::string, pb::StoredComment>> out;
  auto prefix = key_builder{}.str(post).bytes();
  auto from = after_id.empty() ? prefix : prefix_successor(pair_key(post, after_id));
  auto err = scan_records(
    db_, family::comments, from, prefix_successor(prefix),
    [&](std::string_view key, std::string_view value) {
      key_reader r{key};
      r.str();
      auto id = r.str();
      pb::StoredComment c;
      if (!id || !c.ParseFromArray(value.data(), static_cast<int>(value.size())))
        return visit::corrupt;
      out.emplace_back(std::move(*id), std::move(c));
      return visit::next;
    },
    max);
  if (err)
    return err;
  return out;
}

void feed_store::put_comment(write_set& ws, std::string_view post, std::string_view comment_id,
                             const pb::StoredComment& comment) const {
  ws.put(family::comments, pair_key(post, comment_id), comment.SerializeAsString());
}

result<uint64_t> feed_store::affinity(std::string_view reader, std::string_view author) const {
  return read_u64(db_, family::affinity, pair_key(reader, author));
}

result<std::unordered_map<std::string, uint64_t>> feed_store::affinities(std::string_view reader,
                                                                         size_t max) const {
  std::unordered_map<std::string, uint64_t> out;
  auto prefix = key_builder{}.str(reader).bytes();
  auto err = scan_records(
    db_, family::affinity, prefix, prefix_successor(prefix),
    [&](std::string_view key, std::string_view value) {
      key_reader r{key};
      r.str();
      auto author = r.str();
      auto count = decode_u64(value);
      if (!author || !count)
        return visit::corrupt;
      out.emplace(std::move(*author), *count);
      return visit::next;
    },
    max);
  if (err)
    return err;
  return out;
}

void feed_store::put_affinity(write_set& ws, std::string_view reader, std::string_view author,
                              uint64_t count) const {
  if (count == 0)
    ws.del(family::affinity, pair_key(reader, author));
  else
    ws.put(family::affinity, pair_key(reader, author), encode_u64(count));
}

} // namespace parley::storage
