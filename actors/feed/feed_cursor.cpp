#include "actors/feed/feed_cursor.hpp"

#include "common/time_ordered_id.hpp"

#include <charconv>
#include <type_traits>
#include <vector>

namespace parley::feed {

namespace {

constexpr size_t snapshot_chars = 12;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    auto dot = s.find(sep, start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos)
      return parts;
    start = dot + 1;
  }
}

template <class Int>
bool parse_number(std::string_view s, Int& out) {
  if (s.empty() || s.size() > 19)
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc{} || end != s.data() + s.size())
    return false;
  if constexpr (std::is_signed_v<Int>)
    return out >= 0;
  return true;
}

fault malformed(std::string_view text) {
  return make_fault(errc::bad_request, "malformed cursor \"" + std::string{text.substr(0, 64)}
                                         + "\" (pass back next_cursor as it was given)");
}

} // namespace

std::string encode_cursor(const feed_cursor& c) {
  if (c.mode == feed_mode::chronological)
    return "c" + std::to_string(c.created_ms) + "." + c.post_id;
  return "r" + std::to_string(c.as_of_ms) + "." + std::to_string(c.offset) + "." + c.snapshot
         + "." + c.last_post_id;
}

std::string new_snapshot_id() {
  std::string id;
  append_random_id_chars(id, snapshot_chars);
  return id;
}

fault parse_cursor(std::string_view text, feed_mode mode, feed_cursor& out) {
  if (text.empty())
    return malformed(text);
  char tag = text.front();
  if ((tag == 'c' && mode == feed_mode::ranked) || (tag == 'r' && mode != feed_mode::ranked))
    return make_fault(errc::bad_request, std::string{"cursor belongs to "}
                                           + (tag == 'c' ? "chronological" : "ranked")
                                           + " mode; start again without a cursor");
  auto parts = split(text.substr(1), '.');
  out = feed_cursor{};
  out.mode = mode;
  if (tag == 'c' && parts.size() == 2) {
    if (!parse_number(parts[0], out.created_ms) || !valid_time_ordered_id(parts[1]))
      return malformed(text);
    out.post_id = std::string{parts[1]};
    return {};
  }
  if (tag == 'r' && parts.size() == 4) {
    if (!parse_number(parts[0], out.as_of_ms) || !parse_number(parts[1], out.offset)
        || parts[2].size() != snapshot_chars || !in_id_alphabet(parts[2])
        || !valid_time_ordered_id(parts[3]))
      return malformed(text);
    out.snapshot = std::string{parts[2]};
    out.last_post_id = std::string{parts[3]};
    return {};
  }
  return malformed(text);
}

} // namespace parley::feed
