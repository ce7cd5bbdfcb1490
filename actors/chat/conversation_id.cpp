#include "actors/chat/conversation_id.hpp"

#include "common/identifiers.hpp"

#include <random>

namespace parley::chat {

std::string direct_conversation_id(const std::string& a, const std::string& b) {
  return a < b ? "d:" + a + ":" + b : "d:" + b + ":" + a;
}

std::string new_group_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "g:%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

bool is_group_id(const std::string& id) {
  return id.size() == 34 && id.compare(0, 2, "g:") == 0
         && id.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

bool valid_conversation_id(const std::string& id) {
  if (is_group_id(id))
    return true;
  if (id.size() < 5 || id.compare(0, 2, "d:") != 0)
    return false;
  auto sep = id.find(':', 2);
  if (sep == std::string::npos || !valid_user_id(std::string_view{id}.substr(2, sep - 2))
      || !valid_user_id(std::string_view{id}.substr(sep + 1)))
    return false;
  // Canonical order only: "d:b:a" is not an alias of "d:a:b".
  return id.compare(2, sep - 2, id, sep + 1, std::string::npos) < 0;
}

} // namespace parley::chat
