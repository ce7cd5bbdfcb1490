#include "common/json_text.hpp"

#include "common/utf8.hpp"

#include <cstdio>

namespace parley {

std::string json_quote(std::string_view s) {
  // JSON text is UTF-8: bytes that are not (from a client, a worker) become U+FFFD.
  if (!is_valid_utf8(s))
    return json_quote(valid_utf8(s));
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

} // namespace parley
