// A post shard (virtual, kind post_shard_kind, ids "0".."15"): the single writer of the posts of
// the authors that hash to it, their likes, comments, shares and post counts, and of readers'
// affinity to those authors. Every change is durable before it is answered; after a create the
// post goes to a fan-out worker. It also answers reads of its posts and their comments, so the
// edge never reads the store on an io thread. Interface: post_shard_api (feed_api.hpp).
#pragma once

#include "actors/feed/feed_context.hpp"

#include <caf/fwd.hpp>

namespace parley::feed {

post_shard_api spawn_post_shard(caf::actor_system& sys, feed_context_ptr ctx, uint32_t shard);

} // namespace parley::feed
