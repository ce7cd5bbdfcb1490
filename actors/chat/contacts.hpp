// Presence visibility under `presence.visibility = "contacts"`: a viewer sees a user when they
// share a conversation. Answered from the membership index, never from a cached contact list,
// so a removal takes effect on the next check (docs/chat.md, Presence).
#pragma once

#include "common/result.hpp"
#include "storage/chat_store.hpp"

#include <string>
#include <vector>

namespace parley::chat {

// Checks many targets for one viewer: the viewer's groups are read once.
class contact_checker {
public:
  contact_checker(const storage::chat_store& store, std::string viewer);

  // True when `target` is the viewer or shares a conversation with it. Cost: one point read
  // (direct conversation), then, with groups, one point read per group of the viewer (up to
  // 16) or one scan of the target's groups (bounded by chat.max_groups_per_user). A storage
  // fault is the answer when a read fails: never "no" (hidden) nor "yes" (shown) by default.
  result<bool> shares_conversation(const std::string& target);

private:
  const storage::chat_store& store_;
  std::string viewer_;
  bool groups_loaded_ = false;
  std::vector<std::string> groups_;  // sorted
};

} // namespace parley::chat
