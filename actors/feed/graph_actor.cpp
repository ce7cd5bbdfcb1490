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
#include "common/time_ordered_id.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <utility>

namespace parley::feed {

namespace {

using user_pair = std::pair<std::string, std::string>;

// How long telling a feed actor about a follow may take (it reads the new followee's posts).
constexpr auto notify_timeout = std::chrono::seconds{30};

// A follow or unfollow whose followee another node holds (cluster), waiting for its turn: the
// changes of one pair go one at a time, so both sides apply them in the same order.
struct across_change {
  pb::FollowChange msg;
  caf::typed_response_promise<caf::unit_t> reply;
};

struct graph_state {
  feed_context_ptr ctx;
  write_behind<std::string, pb::StoredUser> users;  // written, maybe not yet durable
  write_behind<user_pair, bool> edges;              // (follower, followee): follower's side
  write_behind<user_pair, bool> in_edges;           // (follower, followee): followee's side alone
  std::map<user_pair, std::deque<across_change>> across;
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

// The followee's side of an edge as last written here (cluster).
result<bool> read_in_edge(graph self, const std::string& from, const std::string& to) {
  if (auto* v = self->state.in_edges.find({from, to}))
    return *v;
  return self->state.ctx->store->followed_by(to, from);
}

template <class Done>
void commit(graph self, storage::write_set ws, std::vector<std::string> users,
            std::vector<user_pair> edges, Done done, std::vector<user_pair> in_edges = {}) {
  auto finish = [self, users = std::move(users), edges = std::move(edges),
                 in_edges = std::move(in_edges), done = std::move(done)](const fault& err) mutable {
    for (auto& u : users)
      self->state.users.release(u);
    for (auto& e : edges)
      self->state.edges.release(e);
    for (auto& e : in_edges)
      self->state.in_edges.release(e);
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

// A follower or following count after a follow (one more) or an unfollow (one less, not below 0).
uint64_t counted(uint64_t n, bool follow) {
  return follow ? n + 1 : (n > 0 ? n - 1 : 0);
}

// The edge records of a follow change (`sides` of them) into `ws`.
void write_edge(const storage::feed_store& store, storage::write_set& ws,
                const pb::FollowChange& msg, int64_t now, storage::feed_store::edge_sides sides) {
  if (msg.follow())
    store.put_follow(ws, msg.follower_id(), msg.followee_id(), now, sides);
  else
    store.erase_follow(ws, msg.follower_id(), msg.followee_id(), sides);
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

// Whether a follow change names two valid, different users.
caf::error check_change(const pb::FollowChange& msg) {
  const auto& a = msg.follower_id();
  const auto& b = msg.followee_id();
  if (!valid_user_id(a))
    return make_error(invalid_user(a));
  if (!valid_user_id(b))
    return make_error(invalid_user(b));
  if (a == b)
    return make_error(errc::bad_request, "users cannot follow themselves (their own posts are "
                                         "always in their feed)");
  return {};
}

caf::error not_here(graph self, const std::string& user) {
  return make_error(errc::unavailable, "the records of " + user + " are not on node "
                                         + self->state.ctx->router->local_node() + " now; retry");
}

caf::result<void> change_across(graph self, const pb::FollowChange& msg);

// Both sides of the edge are this node's (always on a single node): one durable write.
caf::result<void> change(graph self, const pb::FollowChange& msg) {
  auto& ctx = *self->state.ctx;
  const auto& a = msg.follower_id();
  const auto& b = msg.followee_id();
  if (auto err = check_change(msg))
    return err;
  if (!ctx.user_here(a))
    return not_here(self, a);
  if (!ctx.user_here(b))
    return change_across(self, msg);
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
  from.set_following(counted(from.following(), msg.follow()));
  to.set_followers(counted(to.followers(), msg.follow()));
  write_edge(*ctx.store, ws, msg, now, storage::feed_store::edge_sides::both);
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

// -- in a cluster: the two sides of an edge on two nodes ---------------------------------------
//
// The follower's node (this graph, the user's partition owner) takes the change, asks the
// followee's node to apply the followee's side first (its follower count, and `not_found` for a
// follow of a user nobody has seen), then writes its own side (the following count, the edge
// its feed reads) and answers. Both sides are idempotent, so a retry after a failure between
// them (the followee's side written, this one not) completes the change; until then the
// followee's counts include a follower whose own side does not show it yet.

void next_across(graph self, const user_pair& pair);

void finish_across(graph self, const user_pair& pair, caf::error err) {
  auto& st = self->state;
  auto it = st.across.find(pair);
  if (it == st.across.end() || it->second.empty())
    return;
  auto reply = it->second.front().reply;
  it->second.pop_front();
  if (err)
    reply.deliver(std::move(err));
  else
    reply.deliver(caf::unit);
  if (it->second.empty())
    st.across.erase(it);
  else
    next_across(self, pair);
}

// The follower's side, once the followee's node has applied its own.
void write_follower_side(graph self, const user_pair& pair, const pb::FollowChange& msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  const auto& [a, b] = pair;
  auto exists = read_edge(self, a, b);
  if (!exists)
    return finish_across(self, pair, make_error(exists.error()));
  if (*exists == msg.follow())
    return finish_across(self, pair, {});
  auto source = read_user(self, a);
  if (!source)
    return finish_across(self, pair, make_error(source.error()));
  auto now = unix_ms();
  auto from = std::move(*source).value_or(fresh_user(now));
  storage::write_set ws;
  from.set_following(counted(from.following(), msg.follow()));
  write_edge(*ctx.store, ws, msg, now, storage::feed_store::edge_sides::follower);
  ctx.store->put_user(ws, a, from);
  st.users.set(a, from);
  st.edges.set(pair, msg.follow());
  commit(self, std::move(ws), {a}, {pair}, [self, pair, msg](const fault& err) {
    if (err)
      return finish_across(self, pair, make_error(err));
    tell_feed(self, msg);
    follow_changed_live(*self->state.ctx, msg.follower_id(), msg.followee_id(), msg.follow());
    finish_across(self, pair, {});
  });
}

void next_across(graph self, const user_pair& pair) {
  auto& st = self->state;
  auto msg = st.across.at(pair).front().msg;
  auto followee = st.ctx->graph_for(msg.followee_id());
  if (!followee)
    return finish_across(self, pair, std::move(followee.error()));
  self->request(*followee, notify_timeout, followed_atom_v, msg)
    .then([self, pair, msg]() { write_follower_side(self, pair, msg); },
          [self, pair](caf::error& e) { finish_across(self, pair, std::move(e)); });
}

caf::result<void> change_across(graph self, const pb::FollowChange& msg) {
  user_pair pair{msg.follower_id(), msg.followee_id()};
  auto rp = self->make_response_promise<caf::unit_t>();
  auto& queue = self->state.across[pair];
  queue.push_back(across_change{msg, rp});
  if (queue.size() == 1)
    next_across(self, pair);
  return rp;
}

// The followee's side, on the followee's node, asked by the follower's.
caf::result<void> followed(graph self, const pb::FollowChange& msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  if (auto err = check_change(msg))
    return err;
  const auto& a = msg.follower_id();
  const auto& b = msg.followee_id();
  if (!ctx.user_here(b))
    return not_here(self, b);
  auto target = read_user(self, b);
  if (!target)
    return make_error(target.error());
  if (!*target && msg.follow())
    return make_error(errc::not_found, "no user " + b);
  auto exists = read_in_edge(self, a, b);
  if (!exists)
    return make_error(exists.error());
  if (*exists == msg.follow() || !*target)
    return caf::unit;  // idempotent; an unfollow of a user never seen changes nothing
  auto now = unix_ms();
  auto to = std::move(**target);
  storage::write_set ws;
  to.set_followers(counted(to.followers(), msg.follow()));
  write_edge(*ctx.store, ws, msg, now, storage::feed_store::edge_sides::followee);
  ctx.store->put_user(ws, b, to);
  st.users.set(b, to);
  user_pair pair{a, b};
  st.in_edges.set(pair, msg.follow());
  auto rp = self->make_response_promise<caf::unit_t>();
  commit(
    self, std::move(ws), {b}, {},
    [rp](const fault& err) mutable {
      if (err)
        rp.deliver(make_error(err));
      else
        rp.deliver(caf::unit);
    },
    {pair});
  return rp;
}

caf::result<pb::UserProfile> counts(graph self, const pb::UserRef& q) {
  auto user = read_user(self, q.user_id());
  if (!user)
    return make_error(user.error());
  pb::UserProfile out;
  out.set_user_id(q.user_id());
  if (*user) {
    out.set_followers((*user)->followers());
    out.set_following((*user)->following());
  }
  return out;
}

caf::result<pb::UserProfile> profile(graph self, const pb::UserRef& q) {
  auto& ctx = *self->state.ctx;
  pb::UserProfile out;
  auto shard = valid_user_id(q.user_id()) ? id_shard(q.user_id(), post_shard_count) : 0;
  if (ctx.shard_here(shard) || !valid_user_id(q.user_id())) {
    if (auto err = feed::read_user(ctx, q.user_id(), out))
      return make_error(err);
    return out;
  }
  // In a cluster the post count is kept by the author's post shard, maybe on another node.
  if (auto err = feed::read_user(ctx, q.user_id(), out, false))
    return make_error(err);
  auto rp = self->make_response_promise<pb::UserProfile>();
  pb::AuthorsQuery stats;
  stats.add_authors(q.user_id());
  runtime::request_entity<post_shard_api>(
    self, ctx.post_shard(shard), notify_timeout,
    [rp, out](const pb::AuthorsPosts& found) mutable {
      if (found.authors_size() > 0)
        out.set_posts(found.authors(0).posts_count());
      rp.deliver(std::move(out));
    },
    [rp](caf::error& e) mutable { rp.deliver(std::move(e)); }, read_atom_v, std::move(stats));
  return rp;
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
  // and writes the record only if the user is new. In a cluster that is the graph of the node
  // that holds the user's records.
  auto graph = ctx.graph_for(user);
  if (!graph)
    return;  // no live owner now: not remembered, the next request tries again
  if (ctx.known.remember(user)) {
    pb::UserRef ref;
    ref.set_user_id(user);
    caf::anon_send(*graph, touch_atom_v, std::move(ref));
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
      [self](followed_atom, const pb::FollowChange& msg) { return followed(self, msg); },
      [self](count_atom, const pb::UserRef& q) { return counts(self, q); },
    };
  });
}

} // namespace parley::feed
