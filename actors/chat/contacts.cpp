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

result<bool> contact_checker::shares_conversation(const std::string& target) {
  if (target == viewer_)
    return true;
  auto direct = store_.is_member(viewer_, direct_conversation_id(viewer_, target));
  if (!direct || *direct)
    return direct;
  if (!groups_loaded_) {
    auto mine = store_.groups_of(viewer_);
    if (!mine)
      return std::move(mine).take_error();
    groups_ = std::move(*mine);
    groups_loaded_ = true;
  }
  if (groups_.empty())
    return false;
  if (groups_.size() <= point_read_groups) {
    for (auto& g : groups_) {
      auto member = store_.is_member(target, g);
      if (!member || *member)
        return member;
    }
    return false;
  }
  auto read = store_.groups_of(target);
  if (!read)
    return std::move(read).take_error();
  auto& theirs = *read;
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
