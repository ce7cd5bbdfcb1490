#include "actors/chat/contacts.hpp"

#include "actors/chat/conversation_id.hpp"

#include <algorithm>

namespace parley::chat {

namespace {

// Below this many groups of the viewer, point reads beat scanning the target's groups.
constexpr size_t point_read_groups = 16;

} // namespace

contact_checker::contact_checker(const storage::chat_store& store, std::string viewer)
  : store_(store), viewer_(std::move(viewer)) {
}

bool contact_checker::shares_conversation(const std::string& target, fault& err) {
  if (target == viewer_)
    return true;
  if (store_.is_member(viewer_, direct_conversation_id(viewer_, target), err) || err)
    return !err;
  if (!groups_loaded_) {
    groups_ = store_.groups_of(viewer_, err);
    if (err)
      return false;
    groups_loaded_ = true;
  }
  if (groups_.empty())
    return false;
  if (groups_.size() <= point_read_groups) {
    for (auto& g : groups_)
      if (store_.is_member(target, g, err) || err)
        return !err;
    return false;
  }
  auto theirs = store_.groups_of(target, err);
  if (err)
    return false;
  // Both lists are sorted by id.
  auto a = groups_.begin();
  auto b = theirs.begin();
  while (a != groups_.end() && b != theirs.end()) {
    if (*a == *b)
      return true;
    if (*a < *b)
      ++a;
    else
      ++b;
  }
  return false;
}

} // namespace parley::chat
