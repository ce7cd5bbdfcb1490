#include "storage/families.hpp"

namespace parley::storage {

namespace {

constexpr family_spec specs[family_count] = {
  {family::meta, "meta", true},
  {family::messages, "messages", false},
  {family::conversations, "conversations", true},
  {family::memberships, "memberships", false},
  {family::cursors, "cursors", true},
  {family::pending, "pending", false},
  {family::dedup, "dedup", true},
  {family::presence, "presence", true},
  {family::links, "links", true},
  {family::link_reserved, "link_reserved", true},
  {family::link_expiry, "link_expiry", false},
  {family::link_stats, "link_stats", true},
  {family::tasks, "tasks", true},
  {family::task_keys, "task_keys", true},
  {family::task_index, "task_index", false},
  {family::task_runs, "task_runs", false},
  {family::posts, "posts", true},
  {family::author_posts, "author_posts", false},
  {family::follows, "follows", false},
  {family::feed_users, "feed_users", true},
  {family::affinity, "affinity", false},
  {family::likes, "likes", true},
  {family::comments, "comments", false},
  {family::replog, "replog", false},
  {family::repl_applied, "repl_applied", true},
};

} // namespace

const family_spec* family_specs() {
  return specs;
}

bool replicated_family(family fam) {
  return fam != family::replog && fam != family::repl_applied && fam != family::meta;
}

} // namespace parley::storage
