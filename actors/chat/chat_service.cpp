#include "actors/chat/chat_service.hpp"

#include "actors/chat/chat_reader.hpp"
#include "actors/chat/pacing.hpp"
#include "actors/connection/pushed_frame.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

namespace parley::chat {

namespace {

// A read of this node's indexes waits at most this long for a chat reader; the peer's own
// deadline is usually shorter.
constexpr auto read_timeout = std::chrono::seconds{10};

struct service_metrics {
  metrics::counter& deliveries = metrics::global().get_counter(
    "chat_remote_deliveries_total", "Deliveries from conversations of other nodes written here");
  metrics::counter& frames = metrics::global().get_counter(
    "chat_remote_frames_total",
    "Frames written to connections here for other nodes' conversations");
};

service_metrics& instruments() {
  static service_metrics m;
  return m;
}

struct service_state {
  chat_context_ptr ctx;

  static inline const char* name = "parley.chat_service";
};

using service_actor = chat_service_api::stateful_pointer<service_state>;

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
  for (auto& t : d.targets()) {
    auto r = routes.route_of(t.user_id(), t.session_id());
    auto sink = r ? r->sink.lock() : nullptr;
    if (!sink)
      continue;  // closed meanwhile: the conversation forgets it once the routes say so
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
  return sys.spawn([ctx = std::move(ctx)](service_actor self) mutable
                   -> chat_service_api::behavior_type {
    self->state.ctx = std::move(ctx);
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
    };
  });
}

} // namespace parley::chat
