#include "common/utf8.hpp"

#include <algorithm>

namespace parley {

namespace {

// The length of the valid UTF-8 sequence starting at in[i], or 0 if it is not one.
size_t sequence_length(std::string_view in, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  auto cont = [&](size_t k) { return k < in.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2))
      return 0;
    if ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) > 0x9F))
      return 0;  // overlong, or a UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
      return 0;
    if ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) > 0x8F))
      return 0;  // overlong, or beyond U+10FFFF
    return 4;
  }
  return 0;
}

} // namespace

std::string valid_utf8(std::string_view in, size_t max_bytes) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(in.size(), max_bytes));
  for (size_t i = 0; i < in.size();) {
    auto n = sequence_length(in, i);
    auto piece = n ? in.substr(i, n) : replacement;
    if (out.size() + piece.size() > max_bytes)
      break;
    out.append(piece);
    i += n ? n : 1;
  }
  return out;
}

std::string valid_utf8(std::string_view in) {
  return valid_utf8(in, 3 * in.size());
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto n = sequence_length(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

} // namespace parley
