// The feed's decisions as pure functions (unit-tested in tests/actors/feed/): what a post may
// contain, whether a post is fanned out, and how a reader's candidates are merged and paged.
#pragma once

#include "actors/feed/feed_cursor.hpp"
#include "actors/feed/timeline_table.hpp"
#include "common/errc.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::feed {

constexpr size_t max_text_chars = 5000;
constexpr size_t max_media_urls = 4;
constexpr size_t max_url_bytes = 2048;

// Post and comment text: 1..5000 characters (code points) of valid UTF-8.
fault check_text(const std::string& text, const char* field);
// At most 4 absolute http(s) URLs with a host, no whitespace or control characters.
fault check_media_urls(const std::vector<std::string>& urls);

// The page size a reader asked for: 0 (not given) is `fallback`, anything else clamped to
// 1..100 as the edge clamps `limit`.
inline size_t page_limit(uint32_t asked, size_t fallback) {
  return asked == 0 ? fallback : std::min<size_t>(asked, 100);
}

// Fan-out on write for authors below the threshold; at or above it readers pull the post.
inline bool fans_out(uint64_t author_followers, uint64_t celebrity_threshold) {
  return author_followers < celebrity_threshold;
}

// One list, newest first, without duplicates, at most `cap` long (the feed's depth): the
// reader's timeline and the recent posts of the pulled authors they follow.
std::vector<timeline_entry> merge_candidates(std::vector<timeline_entry> timeline,
                                             const std::vector<timeline_entry>& pulled,
                                             size_t cap);

// Index of the first candidate (newest first) strictly after the chronological cursor.
size_t chronological_start(const std::vector<timeline_entry>& newest_first,
                           const feed_cursor& after);

} // namespace parley::feed
