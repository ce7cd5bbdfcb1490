// Conversation ids: "d:<a>:<b>" for the one direct conversation of users a < b (stable, so
// `send {to_user}` finds it without a lookup), "g:<32 hex>" for groups (random).
#pragma once

#include <string>

namespace parley::chat {

std::string direct_conversation_id(const std::string& a, const std::string& b);
std::string new_group_id();

// True for ids of either shape whose user ids are valid.
bool valid_conversation_id(const std::string& id);
bool is_group_id(const std::string& id);

} // namespace parley::chat
