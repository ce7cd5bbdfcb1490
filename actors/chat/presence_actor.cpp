#include "actors/chat/presence_actor.hpp"

#include "actors/chat/contacts.hpp"
#include "actors/chat/chat_api.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/time_util.h>
#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace parley::chat {

namespace {

struct subscriber {
  std::string user;  // who subscribed
  std::weak_ptr<outbound_sink> sink;
};

// What one connection watches.
struct session_subscriptions {
  std::string user;
  std::set<std::string> watched;
};

struct presence_state {
  chat_context_ptr ctx;
  // watched user -> session id -> subscriber
  std::unordered_map<std::string, std::map<std::string, subscriber>> watchers;
  // session id -> what it watches (to clean up when it closes)
  std::unordered_map<std::string, session_subscriptions> watching;
  // subscriber user -> subscriptions over all its connections
  std::unordered_map<std::string, size_t> per_user;
  size_t total = 0;

  static inline const char* name = "parley.presence";
};

using presence_actor = presence_api::stateful_pointer<presence_state>;

metrics::gauge& subscriptions_gauge() {
  static auto& g = metrics::global().get_gauge("presence_subscriptions",
                                               "Presence subscriptions held on this node");
  return g;
}

pb::ServerFrame update_frame(const std::string& user, bool online, int64_t last_seen_ms) {
  pb::ServerFrame frame;
  auto* u = frame.mutable_presence_update();
  u->set_user_id(user);
  u->set_online(online);
  if (last_seen_ms > 0)
    *u->mutable_last_seen() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(last_seen_ms);
  return frame;
}

void notify(presence_actor self, const std::string& user, bool online, int64_t last_seen_ms) {
  auto it = self->state.watchers.find(user);
  if (it == self->state.watchers.end())
    return;
  auto frame = update_frame(user, online, last_seen_ms);
  for (auto& [session, sub] : it->second)
    if (auto sink = sub.sink.lock())
      sink->send(frame, sink->preferred_format());
}

void count(presence_state& st, const std::string& subscriber_user, int delta) {
  auto& n = st.per_user[subscriber_user];
  n = delta > 0 ? n + 1 : n - 1;
  st.total = delta > 0 ? st.total + 1 : st.total - 1;
  if (n == 0)
    st.per_user.erase(subscriber_user);
  subscriptions_gauge().set(static_cast<int64_t>(st.total));
}

void watch(presence_state& st, const route& sub, const std::string& subscriber_user,
           const std::string& user) {
  auto& mine = st.watching[sub.session_id];
  mine.user = subscriber_user;
  if (!mine.watched.insert(user).second)
    return;
  st.watchers[user][sub.session_id] = subscriber{subscriber_user, sub.sink};
  count(st, subscriber_user, +1);
}

void unwatch(presence_state& st, const std::string& session, const std::string& user) {
  auto s = st.watching.find(session);
  if (s == st.watching.end() || s->second.watched.erase(user) == 0)
    return;
  count(st, s->second.user, -1);
  auto w = st.watchers.find(user);
  if (w != st.watchers.end()) {
    w->second.erase(session);
    if (w->second.empty())
      st.watchers.erase(w);
  }
  if (s->second.watched.empty())
    st.watching.erase(s);
}

void unwatch_all(presence_actor self, const std::string& session) {
  auto& st = self->state;
  auto it = st.watching.find(session);
  if (it == st.watching.end())
    return;
  auto watched = it->second.watched;
  for (auto& user : watched)
    unwatch(st, session, user);
}

void send_too_large(const std::shared_ptr<outbound_sink>& sink, const std::string& request_id,
                    std::string message) {
  static auto& rejected = metrics::global().get_counter(
    "chat_limit_rejections_total", "Requests refused by a built-in per-user chat limit",
    "limit=\"presence_subscriptions\"");
  rejected.inc();
  pb::ServerFrame frame;
  frame.set_request_id(request_id);
  auto* e = frame.mutable_error();
  e->set_code("too_large");
  e->set_message(std::move(message));
  sink->send(frame, sink->preferred_format());
}

// Answers the request with `f` (its public code and message).
void send_fault(const std::shared_ptr<outbound_sink>& sink, const std::string& request_id,
                const fault& f) {
  pb::ServerFrame frame;
  frame.set_request_id(request_id);
  auto* e = frame.mutable_error();
  e->set_code(std::string{to_string(f.code)});
  e->set_message(f.message);
  sink->send(frame, sink->preferred_format());
}

void on_presence(presence_actor self, const pb::PresenceQuery& query) {
  auto& st = self->state;
  auto& request_id = query.request_id();
  auto& subscriber_user = query.subscriber().user_id();
  bool subscribe = query.subscribe();
  std::vector<std::string> users(query.user_ids().begin(), query.user_ids().end());
  std::vector<std::string> hidden(query.hidden().begin(), query.hidden().end());
  // The subscriber's connection on this node; gone: nobody is left to answer.
  auto sub = st.ctx->routes.route_of(subscriber_user, query.subscriber().session_id());
  if (!sub)
    return;
  auto sink = sub->sink.lock();
  if (!sink)
    return;
  auto is_hidden = [&](const std::string& u) {
    return std::binary_search(hidden.begin(), hidden.end(), u);
  };
  if (subscribe) {
    // All or nothing: a request over a cap changes nothing, so the client knows where it is.
    auto mine = st.watching.find(sub->session_id);
    size_t have = mine != st.watching.end() ? mine->second.watched.size() : 0;
    size_t fresh = 0;
    for (auto& u : users)
      if (!is_hidden(u) && (mine == st.watching.end() || mine->second.watched.count(u) == 0))
        ++fresh;
    auto& opts = st.ctx->presence_opts;
    if (have + fresh > opts.max_subscriptions)
      return send_too_large(sink, request_id,
                            "a connection may subscribe to at most "
                              + std::to_string(opts.max_subscriptions)
                              + " users (presence.max_subscriptions); this one has "
                              + std::to_string(have));
    auto pu = st.per_user.find(subscriber_user);
    size_t user_has = pu != st.per_user.end() ? pu->second : 0;
    if (user_has + fresh > opts.max_subscriptions_per_user)
      return send_too_large(sink, request_id,
                            "a user may hold at most "
                              + std::to_string(opts.max_subscriptions_per_user)
                              + " presence subscriptions over all connections "
                                "(presence.max_subscriptions_per_user); you have "
                              + std::to_string(user_has));
  }
  // Every last_seen is read before anything is answered or watched: a storage fault answers the
  // request (all or nothing, as the caps), never "online: false" without a last_seen.
  std::vector<bool> online(users.size(), false);
  std::vector<int64_t> last_seen(users.size(), 0);
  for (size_t i = 0; i < users.size(); ++i) {
    auto& user = users[i];
    if (is_hidden(user))
      continue;
    online[i] = st.ctx->online(user);
    if (online[i])
      continue;
    auto seen = st.ctx->store->last_seen_ms(user);
    if (!seen)
      return send_fault(sink, request_id, seen.error());
    last_seen[i] = *seen;
  }
  for (size_t i = 0; i < users.size(); ++i) {
    auto& user = users[i];
    bool visible = !is_hidden(user);
    auto frame = update_frame(user, online[i], last_seen[i]);
    frame.set_request_id(request_id);
    sink->send(frame, sink->preferred_format());
    if (subscribe && visible)
      watch(st, *sub, subscriber_user, user);
    else
      unwatch(st, sub->session_id, user);
  }
}

// `removed` left a group of `members`: drops subscriptions between them that no conversation
// justifies any more. Only pairs with a subscription are checked.
void on_revoke(presence_actor self, const pb::PresenceRevoke& revoke) {
  auto& st = self->state;
  auto& removed = revoke.removed();
  auto& members = revoke.members();
  if (st.ctx->presence_opts.visibility == presence_visibility::all)
    return;
  std::set<std::string> gone(removed.begin(), removed.end());
  std::set<std::string> stay(members.begin(), members.end());
  // (session, watched user, viewer) to check.
  struct pair_to_check {
    std::string session;
    std::string watched;
    std::string viewer;
  };
  std::vector<pair_to_check> pairs;
  auto collect = [&](const std::set<std::string>& watched_side,
                     const std::set<std::string>& viewer_side) {
    for (auto& w : watched_side) {
      auto it = st.watchers.find(w);
      if (it == st.watchers.end())
        continue;
      for (auto& [session, sub] : it->second)
        if (viewer_side.count(sub.user))
          pairs.push_back({session, w, sub.user});
    }
  };
  collect(stay, gone);  // removed users watching the remaining members
  collect(gone, stay);  // remaining members watching the removed users
  for (auto& p : pairs) {
    contact_checker contacts{*st.ctx->store, p.viewer};
    auto still = contacts.shares_conversation(p.watched);
    // On a storage error the subscription goes: privacy errs on the side of hiding. The
    // subscriber can subscribe again, and is told then if storage still fails.
    if (!still)
      spdlog::error("presence: dropping {}'s subscription to {}: {}", p.viewer, p.watched,
                    still.error().message);
    if (!still || !*still)
      unwatch(st, p.session, p.watched);
  }
}

} // namespace

presence_api spawn_presence(caf::actor_system& sys, chat_context_ptr ctx) {
  return sys.spawn([ctx = std::move(ctx)](presence_actor self) mutable -> presence_api::behavior_type {
    self->state.ctx = std::move(ctx);
    return {
      [self](presence_atom, const pb::PresenceQuery& query) { on_presence(self, query); },
      // Online and offline come from different connection actors (and, in a cluster, from the
      // route replicator as users' sessions on other nodes come and go) and may arrive in any
      // order: the routing tables, not the message, say what is true now.
      [self](online_atom, const std::string& user) {
        if (self->state.ctx->online(user))
          notify(self, user, true, 0);
      },
      [self](offline_atom, const std::string& user, int64_t last_seen_ms) {
        if (self->state.ctx->online(user))
          return;
        notify(self, user, false, last_seen_ms);
        storage::write_set ws;
        self->state.ctx->store->put_last_seen(ws, user, last_seen_ms);
        self->request(self->state.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
          .then([]() {},
                [user](caf::error&) { spdlog::warn("presence: last_seen of {} not stored", user); });
      },
      [self](closed_atom, const std::string& session) { unwatch_all(self, session); },
      [self](revoke_atom, const pb::PresenceRevoke& revoke) { on_revoke(self, revoke); },
      [self](count_atom) { return static_cast<uint64_t>(self->state.total); },
    };
  });
}

} // namespace parley::chat
