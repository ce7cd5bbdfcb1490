// Group membership rules as pure functions of the stored record (docs/chat.md, Groups): who
// may add and remove, how admins survive members leaving, and where a late member's view of
// the conversation starts. The conversation actor applies them; tests call them directly.
#pragma once

#include "common/errc.hpp"
#include "storage/chat_store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace parley::chat {

// Gives a group record written before admins existed its admin: the creator when the record
// names one who is still a member, else the oldest member. Other records are left as they are.
void ensure_admin(storage::conversation_record& rec);

// The member with the lowest join order (ties: the smallest user id); empty when none.
std::string oldest_member(const storage::conversation_record& rec);

bool is_admin(const storage::conversation_record& rec, const std::string& user);

// The outcome of a membership change: the record to store and who came and went.
struct membership_change {
  storage::conversation_record next;
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

// `actor` adds (`add`) or removes `users`; `leave` is `actor` removing itself and needs no
// admin. New members join after `last_seq` (they see later messages only); when the last admin
// goes, the oldest remaining member becomes admin. Present members added again and absent ones
// removed are ignored. Fails with `forbidden` (not an admin) or `bad_request` (over
// `max_members`).
fault change_members(const storage::conversation_record& rec, const std::string& actor, bool add,
                     const std::vector<std::string>& users, uint64_t last_seq,
                     size_t max_members, membership_change& out);

// The highest seq `user` may not see: messages up to it predate its join.
uint64_t hidden_up_to(const storage::conversation_record& rec, const std::string& user);

} // namespace parley::chat
