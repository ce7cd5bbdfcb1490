#include "actors/chat/presence_actor.hpp"

#include "actors/chat/conversation_actor.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/time_util.h>
#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <unordered_map>

namespace parley::chat {

namespace {

struct subscriber {
  std::weak_ptr<outbound_sink> sink;
};

struct presence_state {
  chat_context_ptr ctx;
  // watched user -> session id -> subscriber
  std::unordered_map<std::string, std::map<std::string, subscriber>> watchers;
  // session id -> users it watches (to clean up when it closes)
  std::unordered_map<std::string, std::set<std::string>> watching;

  static inline const char* name = "parley.presence";
};

using presence_actor = caf::stateful_actor<presence_state>;

pb::ServerFrame update_frame(const std::string& user, bool online, int64_t last_seen_ms) {
  pb::ServerFrame frame;
  auto* u = frame.mutable_presence_update();
  u->set_user_id(user);
  u->set_online(online);
  if (last_seen_ms > 0)
    *u->mutable_last_seen() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(last_seen_ms);
  return frame;
}

void notify(presence_actor* self, const std::string& user, bool online, int64_t last_seen_ms) {
  auto it = self->state.watchers.find(user);
  if (it == self->state.watchers.end())
    return;
  auto frame = update_frame(user, online, last_seen_ms);
  for (auto& [session, sub] : it->second)
    if (auto sink = sub.sink.lock())
      sink->send(frame, sink->preferred_format());
}

void unwatch_all(presence_actor* self, const std::string& session) {
  auto& st = self->state;
  auto it = st.watching.find(session);
  if (it == st.watching.end())
    return;
  for (auto& user : it->second) {
    auto w = st.watchers.find(user);
    if (w == st.watchers.end())
      continue;
    w->second.erase(session);
    if (w->second.empty())
      st.watchers.erase(w);
  }
  st.watching.erase(it);
}

} // namespace

caf::actor spawn_presence(caf::actor_system& sys, chat_context_ptr ctx) {
  return sys.spawn([ctx = std::move(ctx)](presence_actor* self) mutable -> caf::behavior {
    self->state.ctx = std::move(ctx);
    return {
      [self](presence_atom, const std::string& request_id, const connection_ref& sub,
             const std::vector<std::string>& users, bool subscribe) {
        auto& st = self->state;
        auto sink = sub.r.sink.lock();
        if (!sink)
          return;
        for (auto& user : users) {
          bool online = st.ctx->routes.online(user);
          fault err;
          auto last_seen = online ? 0 : st.ctx->store->last_seen_ms(user, err);
          auto frame = update_frame(user, online, last_seen);
          frame.set_request_id(request_id);
          sink->send(frame, sink->preferred_format());
          if (subscribe) {
            st.watchers[user][sub.r.session_id] = subscriber{sub.r.sink};
            st.watching[sub.r.session_id].insert(user);
          } else {
            auto w = st.watchers.find(user);
            if (w != st.watchers.end()) {
              w->second.erase(sub.r.session_id);
              if (w->second.empty())
                st.watchers.erase(w);
            }
            auto s = st.watching.find(sub.r.session_id);
            if (s != st.watching.end())
              s->second.erase(user);
          }
        }
      },
      // Online and offline come from different connection actors and may arrive in either
      // order: the routing table, not the message, says what is true now.
      [self](online_atom, const std::string& user) {
        if (self->state.ctx->routes.online(user))
          notify(self, user, true, 0);
      },
      [self](offline_atom, const std::string& user, int64_t last_seen_ms) {
        if (self->state.ctx->routes.online(user))
          return;
        notify(self, user, false, last_seen_ms);
        storage::write_set ws;
        self->state.ctx->store->put_last_seen(ws, user, last_seen_ms);
        self->request(self->state.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
          .then([]() {},
                [user](caf::error&) { spdlog::warn("presence: last_seen of {} not stored", user); });
      },
      [self](closed_atom, const std::string& session) { unwatch_all(self, session); },
    };
  });
}

} // namespace parley::chat
