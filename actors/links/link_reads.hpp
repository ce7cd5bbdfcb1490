// The read side of the URL shortener. Store reads run on the link service (links_api.hpp), never
// on an io thread: a link's description, its statistics and the record behind a redirect that
// missed the cache. The edge keeps only the cache lookup inline (resolve on a cached_link), and
// fills the cache from the service's answer. Reads never change stored state; every write goes
// through the link service or the click aggregator.
#pragma once

#include "actors/links/links_context.hpp"
#include "proto/link_actors.pb.h"
#include "proto/parley.pb.h"

namespace parley::links {

struct resolution {
  enum kind { found, not_found, expired } what = not_found;
  std::string long_url;
  int status = 302;  // 301 or 302 when found
};

// What the redirect cache keeps of a stored link.
cached_link to_cached(const pb::StoredLink& link);

// The redirect answer for `link` at `now_ms`.
resolution resolve(cached_link link, int64_t now_ms);

// The stored record of `key` in any state, or found = false for a key never used.
fault lookup(const links_context& ctx, const std::string& key, pb::LinkLookup& out);

// A live link; not_found for unknown or deleted keys, gone for expired ones.
fault describe(const links_context& ctx, const std::string& key, int64_t now_ms,
               pb::LinkRecord& out);

// Statistics of a live link, with its 10 most frequent referrer hosts.
fault link_stats(const links_context& ctx, const std::string& key, int64_t now_ms,
                 pb::LinkStats& out);

// The public view of a stored link.
pb::Link to_public(const std::string& key, const pb::StoredLink& link,
                   const std::string& short_base);

} // namespace parley::links
