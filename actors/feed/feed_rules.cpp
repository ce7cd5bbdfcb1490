#include "actors/feed/feed_rules.hpp"

#include "common/utf8.hpp"

#include <algorithm>

namespace parley::feed {

namespace {

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

bool valid_media_url(const std::string& url) {
  std::string_view rest{url};
  if (rest.rfind("https://", 0) == 0)
    rest.remove_prefix(8);
  else if (rest.rfind("http://", 0) == 0)
    rest.remove_prefix(7);
  else
    return false;
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  auto host = authority;
  if (auto colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    auto port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos)
      return false;
    host = authority.substr(0, colon);
  }
  if (host.empty())
    return false;
  if (host.front() == '[') {  // an IPv6 literal
    if (host.size() < 3 || host.back() != ']'
        || host.substr(1, host.size() - 2).find_first_not_of("0123456789abcdefABCDEF:.")
             != std::string_view::npos)
      return false;
  } else if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-")
               != std::string_view::npos
             || host.front() == '.' || host.front() == '-') {
    return false;
  }
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7F || c >= 0x80)
      return false;
  return true;
}

} // namespace

fault check_text(const std::string& text, const char* field) {
  if (text.empty())
    return make_fault(errc::bad_request, std::string{field} + " is empty");
  // 4 bytes per character at most: longer texts fail without being scanned.
  if (text.size() > 4 * max_text_chars || !is_valid_utf8(text))
    return make_fault(errc::bad_request, std::string{field} + " is not valid UTF-8 or longer than "
                                           + std::to_string(max_text_chars) + " characters");
  if (auto n = code_points(text); n > max_text_chars)
    return make_fault(errc::bad_request, std::string{field} + " has " + std::to_string(n)
                                           + " characters (at most "
                                           + std::to_string(max_text_chars) + ")");
  return {};
}

fault check_media_urls(const std::vector<std::string>& urls) {
  if (urls.size() > max_media_urls)
    return make_fault(errc::bad_request, "media_urls has " + std::to_string(urls.size())
                                           + " entries (at most "
                                           + std::to_string(max_media_urls) + ")");
  for (size_t i = 0; i < urls.size(); ++i)
    if (urls[i].size() > max_url_bytes || !valid_media_url(urls[i]))
      return make_fault(errc::bad_request, "media_urls[" + std::to_string(i)
                                             + "] is not an http:// or https:// URL");
  return {};
}

std::vector<timeline_entry> merge_candidates(std::vector<timeline_entry> timeline,
                                             const std::vector<timeline_entry>& pulled,
                                             size_t cap) {
  timeline.insert(timeline.end(), pulled.begin(), pulled.end());
  std::sort(timeline.begin(), timeline.end(),
            [](const timeline_entry& a, const timeline_entry& b) { return a.newer_than(b); });
  timeline.erase(std::unique(timeline.begin(), timeline.end()), timeline.end());
  if (timeline.size() > cap)
    timeline.resize(cap);
  return timeline;
}

size_t chronological_start(const std::vector<timeline_entry>& newest_first,
                           const feed_cursor& after) {
  auto mark = timeline_entry::make(after.post_id, after.created_ms);
  auto it = std::partition_point(newest_first.begin(), newest_first.end(),
                                 [&](const timeline_entry& e) { return !mark.newer_than(e); });
  return static_cast<size_t>(it - newest_first.begin());
}

} // namespace parley::feed
