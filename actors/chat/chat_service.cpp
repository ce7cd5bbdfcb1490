#include "actors/chat/chat_service.hpp"

#include "actors/chat/chat_reader.hpp"
#include "actors/chat/pacing.hpp"
#include "actors/connection/pushed_frame.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/entity_request.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace parley::chat {

namespace {

// A read of this node's indexes waits at most this long for a chat reader; the peer's own
// deadline is usually shorter.
constexpr auto read_timeout = std::chrono::seconds{10};
// How long a catch-up (a sync the conversation is asked for) may take.
constexpr auto catch_up_timeout = std::chrono::seconds{15};
// How often marks of connections that closed are forgotten.
constexpr auto sweep_interval = std::chrono::seconds{30};

struct service_metrics {
  metrics::counter& deliveries = metrics::global().get_counter(
    "chat_remote_deliveries_total", "Deliveries from conversations of other nodes written here");
  metrics::counter& frames = metrics::global().get_counter(
    "chat_remote_frames_total",
    "Frames written to connections here for other nodes' conversations");
  metrics::counter& gaps = metrics::global().get_counter(
    "chat_remote_gaps_total", "Deliveries that showed an earlier one lost on the way (the "
                              "conversation was asked to sync the connection)");
};

service_metrics& instruments() {
  static service_metrics m;
  return m;
}

// What this node wrote to one of its connections for conversations of other nodes: per
// conversation the highest seq it went through, so that a delivery starting above it shows one
// that was lost on the way (a peer link that dropped), and the conversations asked to sync it.
struct session_marks {
  std::string user;
  std::unordered_map<std::string, uint64_t> written;
  std::unordered_set<std::string> catching_up;
};

struct service_state {
  chat_context_ptr ctx;
  std::unordered_map<std::string, session_marks> sessions;  // by session id

  static inline const char* name = "parley.chat_service";
};

// The service with its sweep timer.
using service_actor_api = chat_service_api::extend<caf::reacts_to<sweep_atom>>;
using service_actor = service_actor_api::stateful_pointer<service_state>;

void caught_up(service_actor self, const std::string& session, const std::string& conv) {
  auto it = self->state.sessions.find(session);
  if (it != self->state.sessions.end())
    it->second.catching_up.erase(conv);
}

// A delivery for `t` starts above what this node wrote: asks the conversation to sync the
// connection (from its device's cursor, paced, through this service). Until that is done, its
// deliveries for the connection are left out: the sync brings them, in order.
void catch_up(service_actor self, const std::string& conv, const pb::ChatDeliveryTarget& t,
              const std::string& device, session_marks& marks) {
  auto& ctx = *self->state.ctx;
  instruments().gaps.inc();
  marks.written.erase(conv);
  marks.catching_up.insert(conv);
  pb::ChatEndpoint endpoint;
  endpoint.set_user_id(t.user_id());
  endpoint.set_session_id(t.session_id());
  endpoint.set_device_id(device);
  endpoint.set_node(ctx.cluster ? ctx.cluster->local_node() : std::string{});
  auto session = t.session_id();
  runtime::request_entity<conversation_api>(
    self, runtime::entity_address{ctx.registry, conversation_kind, conv}, catch_up_timeout,
    [self, session, conv](const pb::SyncResult&) { caught_up(self, session, conv); },
    [self, session, conv](caf::error& err) {
      spdlog::warn("chat: catching {} up on {} failed ({}); its next sync will",
                   session, conv, to_fault(err).message);
      caught_up(self, session, conv);
    },
    sync_atom_v, std::move(endpoint));
}

// Forgets the marks of connections that closed.
void sweep(service_actor self) {
  auto& st = self->state;
  for (auto it = st.sessions.begin(); it != st.sessions.end();) {
    if (st.ctx->routes.route_of(it->second.user, it->first))
      ++it;
    else
      it = st.sessions.erase(it);
  }
  self->delayed_send(self, sweep_interval, sweep_atom_v);
}

std::vector<pushed_frame_ptr> message_frames(const pb::ChatDelivery& d) {
  std::vector<pushed_frame_ptr> out;
  out.reserve(static_cast<size_t>(d.messages_size()));
  for (auto& m : d.messages()) {
    pb::ServerFrame frame;
    *frame.mutable_message() = m.message();
    out.push_back(std::make_shared<const pushed_frame>(std::move(frame)));
  }
  return out;
}

// Live pushes: every target its messages above after_seq (but its own), or the one frame.
void deliver(service_actor self, const pb::ChatDelivery& d) {
  auto& routes = self->state.ctx->routes;
  auto& m = instruments();
  m.deliveries.inc();
  if (d.messages_size() == 0) {
    if (!d.has_frame())
      return;
    auto shared = std::make_shared<const pushed_frame>(d.frame());
    for (auto& t : d.targets())
      if (auto r = routes.route_of(t.user_id(), t.session_id()))
        if (auto sink = r->sink.lock()) {
          sink->send_shared(shared, sink->preferred_format());
          m.frames.inc();
        }
    return;
  }
  auto frames = message_frames(d);
  auto& conv = d.conversation_id();
  auto up_to = d.messages(d.messages_size() - 1).message().seq();
  for (auto& t : d.targets()) {
    auto r = routes.route_of(t.user_id(), t.session_id());
    auto sink = r ? r->sink.lock() : nullptr;
    if (!sink) {
      // Closed meanwhile: the conversation forgets it once the routes say so.
      self->state.sessions.erase(t.session_id());
      continue;
    }
    auto& marks = self->state.sessions[t.session_id()];
    marks.user = t.user_id();
    if (marks.catching_up.count(conv) != 0)
      continue;
    if (auto w = marks.written.find(conv); w != marks.written.end() && t.after_seq() > w->second) {
      catch_up(self, conv, t, r->device_id, marks);
      continue;
    }
    marks.written[conv] = std::max(t.after_seq(), up_to);
    for (size_t i = 0; i < frames.size(); ++i) {
      auto& msg = d.messages(static_cast<int>(i));
      if (msg.message().seq() <= t.after_seq() || msg.origin_session() == t.session_id())
        continue;
      sink->send_shared(frames[i], sink->preferred_format());
      m.frames.inc();
    }
  }
}

// A sync's part for one connection: as deliver, but paced (it stops, in order, before the
// outbound queue passes half its bound) and answered with how far it got.
pb::SyncResult sync(service_actor self, const pb::ChatDelivery& d) {
  pb::SyncResult out;
  out.set_complete(true);
  if (d.targets_size() == 0)
    return out;
  auto& t = d.targets(0);
  auto r = self->state.ctx->routes.route_of(t.user_id(), t.session_id());
  auto sink = r ? r->sink.lock() : nullptr;
  if (!sink)
    return out;
  uint64_t sent = 0;
  uint64_t last = t.after_seq();
  pb::ServerFrame frame;
  for (auto& msg : d.messages()) {
    auto& m = msg.message();
    if (m.seq() <= t.after_seq())
      continue;
    if (msg.origin_session() != t.session_id()) {
      if (!paced_room_for(m.body().size(), m.client_msg_id().size(), sent, sink->outbound_room())) {
        out.set_complete(false);
        break;
      }
      *frame.mutable_message() = m;
      sink->send(frame, sink->preferred_format());
      ++sent;
    }
    last = m.seq();
  }
  instruments().frames.inc(sent);
  out.set_messages(sent);
  out.set_last_seq(last);
  // Live pushes go on from here; a catch-up asked for is done.
  auto& marks = self->state.sessions[t.session_id()];
  marks.user = t.user_id();
  marks.written[d.conversation_id()] = last;
  marks.catching_up.erase(d.conversation_id());
  return out;
}

pb::ChatIndexAnswer sorted_answer(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  pb::ChatIndexAnswer out;
  for (auto& id : ids)
    out.add_ids(std::move(id));
  return out;
}

// One index read through the user's chat reader, answered as a ChatIndexAnswer.
template <class... Args>
caf::result<pb::ChatIndexAnswer> read_index(service_actor self, const std::string& user,
                                            Args... args) {
  auto rp = self->make_response_promise<pb::ChatIndexAnswer>();
  self->request(reader_for(self->state.ctx->readers, user), read_timeout, std::move(args)...)
    .then(
      [rp](std::vector<std::string>& ids) mutable { rp.deliver(sorted_answer(std::move(ids))); },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

chat_service_api spawn_chat_service(caf::actor_system& sys, chat_context_ptr ctx) {
  auto service = sys.spawn([ctx = std::move(ctx)](service_actor self) mutable
                           -> service_actor_api::behavior_type {
    self->state.ctx = std::move(ctx);
    self->delayed_send(self, sweep_interval, sweep_atom_v);
    return {
      [self](deliver_atom, const pb::ChatDelivery& d) { deliver(self, d); },
      [self](sync_atom, const pb::ChatDelivery& d) { return sync(self, d); },
      [self](device_atom, const pb::ChatEndpoint& device) {
        // Pending entries of this node's conversations now wait for this device too.
        storage::write_set ws;
        self->state.ctx->store->put_device(ws, device.user_id(), device.device_id());
        // anon: the writer's empty answer must not come back here as a message.
        caf::anon_send(self->state.ctx->storage_writer, write_atom_v, std::move(ws));
      },
      [self](revoke_atom, pb::PresenceRevoke& revoke) {
        if (self->state.ctx->presence)
          self->send(self->state.ctx->presence, revoke_atom_v, std::move(revoke));
      },
      [self](conversations_atom, const pb::ChatIndexQuery& q) {
        return read_index(self, q.user_id(), conversations_atom_v, q.user_id());
      },
      [self](pending_atom, const pb::ChatIndexQuery& q) {
        return read_index(self, q.user_id(), pending_atom_v, q.user_id());
      },
      [self](contacts_atom, const pb::ChatIndexQuery& q) {
        std::vector<std::string> users(q.user_ids().begin(), q.user_ids().end());
        return read_index(self, q.user_id(), contacts_atom_v, q.user_id(), std::move(users));
      },
      [self](sweep_atom) { sweep(self); },
    };
  });
  return caf::actor_cast<chat_service_api>(service);
}

} // namespace parley::chat
