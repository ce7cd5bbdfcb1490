#include "actors/feed/graph_actor.hpp"

#include "actors/feed/feed_reads.hpp"
#include "actors/feed/feed_rules.hpp"
#include "actors/feed/live_subscriptions.hpp"
#include "actors/feed/write_behind.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/entity_request.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/clock.hpp"
#include "common/identifiers.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <utility>

namespace parley::feed {

namespace {

using user_pair = std::pair<std::string, std::string>;

// How long telling a feed actor about a follow may take (it reads the new followee's posts).
constexpr auto notify_timeout = std::chrono::seconds{30};

struct graph_state {
  feed_context_ptr ctx;
  write_behind<std::string, pb::StoredUser> users;  // written, maybe not yet durable
  write_behind<user_pair, bool> edges;              // (follower, followee)
  static inline const char* name = "parley.follow_graph";
};

using graph = graph_api::stateful_pointer<graph_state>;

result<std::optional<pb::StoredUser>> read_user(graph self, const std::string& id) {
  if (auto* v = self->state.users.find(id))
    return std::optional<pb::StoredUser>{*v};
  return self->state.ctx->store->user(id);
}

result<bool> read_edge(graph self, const std::string& from, const std::string& to) {
  if (auto* v = self->state.edges.find({from, to}))
    return *v;
  return self->state.ctx->store->follows(from, to);
}

template <class Done>
void commit(graph self, storage::write_set ws, std::vector<std::string> users,
            std::vector<user_pair> edges, Done done) {
  auto finish = [self, users = std::move(users), edges = std::move(edges),
                 done = std::move(done)](const fault& err) mutable {
    for (auto& u : users)
      self->state.users.release(u);
    for (auto& e : edges)
      self->state.edges.release(e);
    done(err);
  };
  self->request(self->state.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then([finish]() mutable { finish({}); },
          [finish](caf::error& e) mutable {
            auto err = to_fault(e);
            spdlog::error("follow graph: write failed: {}", err.message);
            finish(err);
          });
}

pb::StoredUser fresh_user(int64_t now) {
  pb::StoredUser u;
  u.set_created_ms(now);
  return u;
}

void touch(graph self, const std::string& user) {
  if (!valid_user_id(user))
    return;
  auto known = read_user(self, user);
  if (!known) {
    // Not taken for a new user (that would reset its counts): the next touch tries again.
    spdlog::warn("follow graph: user {} not checked: {}", user, known.error().message);
    return;
  }
  if (*known)
    return;
  auto record = fresh_user(unix_ms());
  storage::write_set ws;
  self->state.ctx->store->put_user(ws, user, record);
  self->state.users.set(user, record);
  commit(self, std::move(ws), {user}, {}, [](const fault&) {});
}

fault invalid_user(const std::string& id) {
  return make_fault(errc::bad_request, "invalid user id \"" + id.substr(0, 64) + "\"");
}

// Only a user with a feed in memory needs telling. A rebuild opens the feed before it loads the
// followees: if this check comes first, that load sees this (durable) write; if it comes after,
// the message reaches the feed actor after the rebuild.
void tell_feed(graph self, const pb::FollowChange& msg) {
  auto& ctx = *self->state.ctx;
  if (!ctx.timelines.contains(msg.follower_id()))
    return;
  runtime::request_entity<feed_api>(
    self, ctx.feed_of(msg.follower_id()), notify_timeout, [] {},
    [follower = msg.follower_id()](caf::error& e) {
      // The timeline keeps the old followees until its next rebuild; reads filter them anyway.
      spdlog::warn("follow graph: feed of {} not told about a follow: {}", follower,
                   to_fault(e).message);
    },
    follow_atom_v, msg);
}

caf::result<void> change(graph self, const pb::FollowChange& msg) {
  auto& ctx = *self->state.ctx;
  const auto& a = msg.follower_id();
  const auto& b = msg.followee_id();
  if (!valid_user_id(a))
    return make_error(invalid_user(a));
  if (!valid_user_id(b))
    return make_error(invalid_user(b));
  if (a == b)
    return make_error(errc::bad_request, "users cannot follow themselves (their own posts are "
                                         "always in their feed)");
  auto target = read_user(self, b);
  if (!target)
    return make_error(target.error());
  auto exists = read_edge(self, a, b);
  if (!exists)
    return make_error(exists.error());
  auto source = read_user(self, a);
  if (!source)
    return make_error(source.error());
  if (!*target && msg.follow())
    return make_error(errc::not_found, "no user " + b);
  if (*exists == msg.follow())
    return caf::unit;  // idempotent: already (not) following
  auto now = unix_ms();
  auto from = std::move(*source).value_or(fresh_user(now));
  auto to = std::move(*target).value_or(fresh_user(now));
  storage::write_set ws;
  if (msg.follow()) {
    from.set_following(from.following() + 1);
    to.set_followers(to.followers() + 1);
    ctx.store->put_follow(ws, a, b, now);
  } else {
    from.set_following(from.following() > 0 ? from.following() - 1 : 0);
    to.set_followers(to.followers() > 0 ? to.followers() - 1 : 0);
    ctx.store->erase_follow(ws, a, b);
  }
  ctx.store->put_user(ws, a, from);
  ctx.store->put_user(ws, b, to);
  auto& st = self->state;
  st.users.set(a, from);
  st.users.set(b, to);
  st.edges.set({a, b}, msg.follow());
  // Answered with an empty reply, the one a void handler sends.
  auto rp = self->make_response_promise<caf::unit_t>();
  commit(self, std::move(ws), {a, b}, {{a, b}}, [self, msg, rp](const fault& err) mutable {
    if (err) {
      rp.deliver(make_error(err));
      return;
    }
    tell_feed(self, msg);
    follow_changed_live(*self->state.ctx, msg.follower_id(), msg.followee_id(), msg.follow());
    rp.deliver(caf::unit);
  });
  return rp;
}

caf::result<pb::UserProfile> profile(graph self, const pb::UserRef& q) {
  pb::UserProfile out;
  if (auto err = feed::read_user(*self->state.ctx, q.user_id(), out))
    return make_error(err);
  return out;
}

caf::result<pb::FollowList> follows(graph self, const pb::FollowsQuery& q) {
  pb::FollowList out;
  if (auto err = feed::read_follows(*self->state.ctx, q.user_id(), q.incoming(), q.cursor(),
                              page_limit(q.limit(), 50), out))
    return make_error(err);
  return out;
}

} // namespace

void make_known(feed_context& ctx, const std::string& user) {
  // No storage read here (callers run on io threads): the graph actor reads on its own thread
  // and writes the record only if the user is new.
  if (ctx.known.remember(user)) {
    pb::UserRef ref;
    ref.set_user_id(user);
    caf::anon_send(ctx.graph, touch_atom_v, std::move(ref));
  }
}

graph_api spawn_graph_actor(caf::actor_system& sys, feed_context_ptr ctx) {
  return sys.spawn([ctx](graph self) -> graph_api::behavior_type {
    self->state.ctx = ctx;
    return {
      [self](follow_atom, const pb::FollowChange& msg) { return change(self, msg); },
      [self](touch_atom, const pb::UserRef& user) { touch(self, user.user_id()); },
      [self](read_atom, const pb::UserRef& q) { return profile(self, q); },
      [self](read_atom, const pb::FollowsQuery& q) { return follows(self, q); },
      [self](feed_live_atom, const pb::UserRef& user) {
        watch_followed_pulled(*self->state.ctx, user.user_id());
      },
    };
  });
}

} // namespace parley::feed
