#include "actors/feed/live_subscriptions.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace parley::feed {

namespace {

// How long a connection waits for its watches before it goes on without them.
constexpr auto watch_timeout = std::chrono::seconds{10};

} // namespace

void subscribe_live(caf::event_based_actor* self, feed_context& ctx, const std::string& user,
                    const std::string& session_id, std::weak_ptr<outbound_sink> sink) {
  if (!ctx.live.subscribe(user, session_id, std::move(sink)))
    return;  // the user's other connections set up the watches already
  pb::UserRef ref;
  ref.set_user_id(user);
  self->request(ctx.graph, watch_timeout, feed_live_atom_v, std::move(ref))
    .await([] {},
           [user](caf::error& e) {
             spdlog::error("feed_subscribe of {}: celebrity items may be missing: {}", user,
                           to_fault(e).message);
           });
}

void unsubscribe_live(feed_context& ctx, const std::string& user, const std::string& session_id) {
  ctx.live.unsubscribe(user, session_id);
}

void watch_followed_pulled(feed_context& ctx, const std::string& user) {
  auto followees = ctx.store->following(user, {}, 0);
  if (!followees) {
    spdlog::error("feed_subscribe of {}: celebrity items may be missing: {}", user,
                  followees.error().message);
    return;
  }
  for (auto& e : *followees)
    if (ctx.pulled.contains(e.user_id))
      ctx.live.watch(e.user_id, user);
}

void follow_changed_live(feed_context& ctx, const std::string& follower,
                         const std::string& followee, bool follow) {
  if (!ctx.pulled.contains(followee))
    return;
  if (follow)
    ctx.live.watch(followee, follower);
  else
    ctx.live.unwatch(followee, follower);
}

void author_pulled_live(feed_context& ctx, const std::string& author) {
  for (auto& user : ctx.live.subscribed_user_ids()) {
    if (user == author)
      continue;
    auto follows = ctx.store->follows(user, author);
    if (!follows) {
      spdlog::error("feed: live followers of {} not indexed: {}", author,
                    follows.error().message);
      return;
    }
    if (*follows)
      ctx.live.watch(author, user);
  }
}

} // namespace parley::feed
