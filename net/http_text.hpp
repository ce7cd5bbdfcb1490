// Small text helpers of HTTP header parsing, shared by the lean request reader and the
// WebSocket extension negotiation: ASCII only, as header names and tokens are (RFC 9110 5.6).
#pragma once

#include <cstddef>
#include <string_view>

namespace parley::net {

// `s` without the optional whitespace (spaces and tabs) around a field value or list item.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

// Whether `a` and `b` are equal ignoring ASCII case (header names, tokens, parameters).
inline bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  return true;
}

} // namespace parley::net
