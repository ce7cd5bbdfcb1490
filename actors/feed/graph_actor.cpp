#include "actors/feed/graph_actor.hpp"

#include "actors/feed/feed_messages.hpp"
#include "actors/feed/live_subscriptions.hpp"
#include "actors/feed/write_behind.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/clock.hpp"
#include "common/identifiers.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

namespace parley::feed {

namespace {

using user_pair = std::pair<std::string, std::string>;

struct graph_state {
  feed_context_ptr ctx;
  write_behind<std::string, pb::StoredUser> users;  // written, maybe not yet durable
  write_behind<user_pair, bool> edges;              // (follower, followee)
  static inline const char* name = "parley.follow_graph";
};

using graph = caf::stateful_actor<graph_state>;

std::optional<pb::StoredUser> read_user(graph* self, const std::string& id, fault& err) {
  if (auto* v = self->state.users.find(id))
    return *v;
  return self->state.ctx->store->user(id, err);
}

bool read_edge(graph* self, const std::string& from, const std::string& to, fault& err) {
  if (auto* v = self->state.edges.find({from, to}))
    return *v;
  return self->state.ctx->store->follows(from, to, err);
}

template <class Done>
void commit(graph* self, storage::write_set ws, std::vector<std::string> users,
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

void touch(graph* self, const std::string& user) {
  fault err;
  if (!valid_user_id(user) || read_user(self, user, err) || err)
    return;
  auto record = fresh_user(unix_ms());
  storage::write_set ws;
  self->state.ctx->store->put_user(ws, user, record);
  self->state.users.set(user, record);
  commit(self, std::move(ws), {user}, {}, [](const fault&) {});
}

void change(graph* self, follow_change msg) {
  auto& ctx = *self->state.ctx;
  const auto& a = msg.follower;
  const auto& b = msg.followee;
  if (!valid_user_id(b))
    return msg.reply(make_fault(errc::bad_request, "invalid user id \"" + b.substr(0, 64) + "\""));
  if (a == b)
    return msg.reply(make_fault(errc::bad_request, "users cannot follow themselves (their own "
                                                   "posts are always in their feed)"));
  fault err;
  auto target = read_user(self, b, err);
  bool exists = !err && read_edge(self, a, b, err);
  auto source = err ? std::nullopt : read_user(self, a, err);
  if (err)
    return msg.reply(err);
  if (!target && msg.follow)
    return msg.reply(make_fault(errc::not_found, "no user " + b));
  if (exists == msg.follow)
    return msg.reply({});  // idempotent: already (not) following
  auto now = unix_ms();
  auto from = source.value_or(fresh_user(now));
  auto to = target.value_or(fresh_user(now));
  storage::write_set ws;
  if (msg.follow) {
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
  st.edges.set({a, b}, msg.follow);
  commit(self, std::move(ws), {a, b}, {{a, b}}, [self, msg = std::move(msg)](const fault& err) {
    // Only a user with a feed in memory needs telling. A rebuild opens the feed before it loads
    // the followees: if this check comes first, that load sees this (durable) write; if it
    // comes after, the message reaches the feed actor after the rebuild.
    auto& ctx = *self->state.ctx;
    if (!err && ctx.timelines.contains(msg.follower))
      caf::anon_send(ctx.registry, std::string{feed_kind}, msg.follower,
                     caf::make_message(follow_atom_v, msg.followee, msg.follow));
    if (!err)
      follow_changed_live(ctx, msg.follower, msg.followee, msg.follow);
    msg.reply(err);
  });
}

} // namespace

void make_known(feed_context& ctx, const std::string& user) {
  // No storage read here (callers run on io threads): the graph actor reads on its own thread
  // and writes the record only if the user is new.
  if (ctx.known.remember(user))
    caf::anon_send(ctx.graph, touch_atom_v, user);
}

caf::actor spawn_graph_actor(caf::actor_system& sys, feed_context_ptr ctx) {
  return sys.spawn([ctx](graph* self) -> caf::behavior {
    self->state.ctx = ctx;
    return {
      [self](follow_atom, follow_change& msg) { change(self, std::move(msg)); },
      [self](touch_atom, const std::string& user) { touch(self, user); },
    };
  });
}

} // namespace parley::feed
