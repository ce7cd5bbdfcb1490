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
};

} // namespace

const family_spec* family_specs() {
  return specs;
}

} // namespace parley::storage
