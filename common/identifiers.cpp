#include "common/identifiers.hpp"

namespace parley {

bool valid_identifier(std::string_view id, std::size_t max_len) {
  if (id.empty() || id.size() > max_len)
    return false;
  for (char ch : id) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

} // namespace parley
