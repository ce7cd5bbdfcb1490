#include "storage/record_owner.hpp"

#include "storage/key_codec.hpp"
#include "storage/record.hpp"

#include <optional>

namespace parley::storage {

namespace {

using kind = record_owner::kind;

// The tags the stores put first in some keys (chat_store.cpp, feed_store.cpp, task_store.cpp).
constexpr uint8_t cursor_delivered = 'd';
constexpr uint8_t cursor_read = 'r';
constexpr uint8_t cursor_device = 'v';
constexpr uint8_t feed_user = 'u';
constexpr uint8_t feed_author = 'a';
constexpr uint8_t feed_pulled = 'p';
constexpr uint8_t follow_out = 'o';
constexpr uint8_t follow_in = 'i';
constexpr uint8_t task_due = 'd';
constexpr uint8_t task_status = 's';
constexpr uint8_t task_finished = 'f';
constexpr uint8_t task_owner = 'o';

using owner = std::optional<record_owner>;

owner of(kind k, std::optional<std::string> id) {
  if (!id || id->empty())
    return std::nullopt;
  return record_owner{k, std::move(*id)};
}

owner of_raw(kind k, std::string_view key) {
  return of(k, std::string{key});
}

// str(a) str(b) ... : the part at `index` (0-based) of a key made of strings only; the key
// must hold exactly `parts` of them.
std::optional<std::string> string_part(std::string_view key, size_t index, size_t parts) {
  key_reader r{key};
  std::optional<std::string> wanted;
  for (size_t i = 0; i < parts; ++i) {
    auto part = r.str();
    if (!part)
      return std::nullopt;
    if (i == index)
      wanted = std::move(part);
  }
  return r.done() ? wanted : std::nullopt;
}

owner messages(std::string_view key) {
  key_reader r{key};
  auto conv = r.str();
  return r.u64() && r.done() ? of(kind::conversation, std::move(conv)) : std::nullopt;
}

owner cursors(std::string_view key) {
  key_reader r{key};
  auto tag = r.u8();
  auto user = r.str();
  if (!tag || !user)
    return std::nullopt;
  switch (*tag) {
    case cursor_delivered: {
      auto device = r.str();
      auto conv = r.str();
      return device && r.done() ? of(kind::conversation, std::move(conv)) : std::nullopt;
    }
    case cursor_read: {
      auto conv = r.str();
      return r.done() ? of(kind::conversation, std::move(conv)) : std::nullopt;
    }
    case cursor_device:  // every live node records a connecting device (docs/cluster.md)
      return r.str() && r.done() ? owner{record_owner{kind::node, {}}} : std::nullopt;
    default:
      return std::nullopt;
  }
}

owner feed_users(std::string_view key) {
  key_reader r{key};
  auto tag = r.u8();
  auto who = r.str();
  if (!tag || !r.done())
    return std::nullopt;
  switch (*tag) {
    case feed_user:
      return of(kind::user, std::move(who));
    case feed_author:
      return of(kind::author, std::move(who));
    case feed_pulled:  // told to every node once, stored by each
      return who ? owner{record_owner{kind::node, {}}} : std::nullopt;
    default:
      return std::nullopt;
  }
}

owner follows(std::string_view key) {
  // Each side of an edge is written by the follow graph of the user it is filed under.
  key_reader r{key};
  auto tag = r.u8();
  auto first = r.str();
  auto second = r.str();
  if (!tag || !second || !r.done() || (*tag != follow_out && *tag != follow_in))
    return std::nullopt;
  return of(kind::user, std::move(first));
}

owner task_index(std::string_view key) {
  key_reader r{key};
  auto tag = r.u8();
  if (!tag)
    return std::nullopt;
  switch (*tag) {
    case task_due: {
      auto shard = r.u32();
      return shard && r.i64() && r.str() && r.done()
               ? owner{record_owner{kind::task_shard, std::to_string(*shard)}}
               : std::nullopt;
    }
    case task_status: {
      if (!r.u8())
        return std::nullopt;
      auto id = r.str();
      return r.done() ? of(kind::task, std::move(id)) : std::nullopt;
    }
    case task_finished: {
      if (!r.i64())
        return std::nullopt;
      auto id = r.str();
      return r.done() ? of(kind::task, std::move(id)) : std::nullopt;
    }
    case task_owner: {
      if (!r.str() || !r.u8())
        return std::nullopt;
      auto id = r.str();
      return r.done() ? of(kind::task, std::move(id)) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

owner task_runs(std::string_view key) {
  key_reader r{key};
  auto id = r.str();
  return r.u32() && r.done() ? of(kind::task, std::move(id)) : std::nullopt;
}

owner link_expiry(std::string_view key) {
  key_reader r{key};
  if (!r.u64())
    return std::nullopt;
  auto link = r.str();
  return r.done() ? of(kind::link, std::move(link)) : std::nullopt;
}

owner author_posts(std::string_view key) {
  key_reader r{key};
  if (!r.str() || !r.u64())
    return std::nullopt;
  auto post = r.str();
  return r.done() ? of(kind::post, std::move(post)) : std::nullopt;
}

owner decode(family fam, std::string_view key) {
  switch (fam) {
    case family::meta:
    case family::presence:      // last_seen as this node saw it
    case family::replog:        // this node's log of what it shipped, and what it applied:
    case family::repl_applied:  // bookkeeping of replication, never itself replicated
      return record_owner{kind::node, {}};
    case family::messages:
      return messages(key);
    case family::conversations:
      return of_raw(kind::conversation, key);
    case family::memberships:
    case family::pending:
      return of(kind::conversation, string_part(key, 1, 2));
    case family::cursors:
      return cursors(key);
    case family::dedup:
      return of(kind::conversation, string_part(key, 1, 3));
    case family::links:
    case family::link_reserved:
    case family::link_stats:
      return of_raw(kind::link, key);
    case family::link_expiry:
      return link_expiry(key);
    case family::tasks:
      return of_raw(kind::task, key);
    case family::task_keys:
      return of_raw(kind::task_key, key);
    case family::task_index:
      return task_index(key);
    case family::task_runs:
      return task_runs(key);
    case family::posts:
      return of_raw(kind::post, key);
    case family::author_posts:
      return author_posts(key);
    case family::feed_users:
      return feed_users(key);
    case family::follows:
      return follows(key);
    case family::affinity:
      return of(kind::author, string_part(key, 1, 2));
    case family::likes:
    case family::comments:
      return of(kind::post, string_part(key, 0, 2));
  }
  return std::nullopt;
}

} // namespace

result<record_owner> owner_of_record(family fam, std::string_view key) {
  auto found = decode(fam, key);
  if (!found)
    return corrupt_record(fam, key);
  return std::move(*found);
}

const char* to_string(record_owner::kind k) {
  switch (k) {
    case kind::node:
      return "node";
    case kind::conversation:
      return "conversation";
    case kind::user:
      return "user";
    case kind::post:
      return "post";
    case kind::author:
      return "author";
    case kind::task:
      return "task";
    case kind::task_key:
      return "task_key";
    case kind::task_shard:
      return "task_shard";
    case kind::link:
      return "link";
  }
  return "unknown";
}

} // namespace parley::storage
