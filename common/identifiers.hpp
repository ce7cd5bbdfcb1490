// The one definition of a valid identifier (user ids, device ids, tiers): PROTOCOL.md's
// `[A-Za-z0-9_.-]{1,64}`.
#pragma once

#include <cstddef>
#include <string_view>

namespace parley {

// True when `id` is 1..max_len characters of [A-Za-z0-9_.-].
bool valid_identifier(std::string_view id, std::size_t max_len = 64);

inline bool valid_user_id(std::string_view id) {
  return valid_identifier(id, 64);
}

} // namespace parley
