// The opaque cursors of GET /api/v1/feed (docs/feed.md, Cursors). Clients pass them back as they
// are; the format is ours to change.
//   chronological  "c<created_ms>.<post id>"            the last item served: the next page
//                                                        starts strictly after it, so posts that
//                                                        arrive meanwhile (newer) never shift it
//   ranked         "r<as_of_ms>.<offset>.<snapshot id>.<post id>"
//                                                        a position in a ranking computed at
//                                                        as_of_ms, and the last item served; the
//                                                        feed actor keeps the last 2, and
//                                                        for one it lost ranks again as of
//                                                        as_of_ms and resumes after that item
//                                                        (changed likes may still move items)
#pragma once

#include "common/errc.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::feed {

enum class feed_mode { chronological, ranked };

struct feed_cursor {
  feed_mode mode = feed_mode::chronological;
  int64_t created_ms = 0;  // chronological
  std::string post_id;     // chronological
  int64_t as_of_ms = 0;    // ranked
  size_t offset = 0;       // ranked
  std::string snapshot;    // ranked
  std::string last_post_id;  // ranked: the last item served
};

std::string encode_cursor(const feed_cursor& c);

// A fresh random snapshot id for a ranked cursor.
std::string new_snapshot_id();

// `bad_request` for anything that is not a cursor of `mode`.
fault parse_cursor(std::string_view text, feed_mode mode, feed_cursor& out);

} // namespace parley::feed
