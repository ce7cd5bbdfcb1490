// The read side of the URL shortener, run inline on the edge's threads (no actor hop): the
// redirect lookup through the cache, a link's description and its statistics. Reads never
// change state; every write goes through the link service or the click aggregator.
#pragma once

#include "actors/links/links_context.hpp"
#include "proto/parley.pb.h"

namespace parley::links {

struct resolution {
  enum kind { found, not_found, expired } what = not_found;
  std::string long_url;
  int status = 302;  // 301 or 302 when found
};

// The redirect target of `key` at `now_ms`: cache first, then storage (and into the cache).
resolution resolve(links_context& ctx, const std::string& key, int64_t now_ms, fault& err);

// The public view of a live link; not_found for unknown or deleted keys, gone for expired ones.
fault describe(const links_context& ctx, const std::string& key, const std::string& short_base,
               int64_t now_ms, pb::Link& out);

// Statistics of a live link, with its 10 most frequent referrer hosts.
fault link_stats(const links_context& ctx, const std::string& key, int64_t now_ms,
                 pb::LinkStats& out);

// The public view of a stored link.
pb::Link to_public(const std::string& key, const pb::StoredLink& link,
                   const std::string& short_base);

} // namespace parley::links
