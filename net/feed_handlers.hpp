// The news feed's HTTP surface (PROTOCOL.md, News feed): posts, likes, comments, shares,
// following, user profiles and the feed itself. Handlers parse and authenticate; writes go to
// the owning actor (post shard, follow-graph actor, feed actor), reads of single records come
// from actors/feed/feed_reads.hpp.
#pragma once

namespace parley::net {

struct edge_context;

void add_feed_routes(edge_context& ctx);

} // namespace parley::net
