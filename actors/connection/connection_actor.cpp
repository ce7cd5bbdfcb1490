#include "actors/connection/connection_actor.hpp"

#include "actors/connection/connection_state.hpp"
#include "actors/feed/live_subscriptions.hpp"
#include "actors/runtime/atoms.hpp"
#include "common/identifiers.hpp"
#include "common/metrics.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/time_util.h>

#include <caf/all.hpp>

#include <atomic>
#include <random>

namespace parley {

inbound_frame::inbound_frame() : frame(std::make_unique<pb::ClientFrame>()) {
}

inbound_frame::~inbound_frame() = default;

namespace {

// `v` in base 36, at least `width` digits.
void append_base36(std::string& out, uint64_t v, size_t width) {
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
    v /= 36;
  } while (v > 0 && n < sizeof digits);
  out.append(width > n ? width - n : 0, '0');
  while (n > 0)
    out.push_back(digits[--n]);
}

std::string next_session_id() {
  // A per-process random prefix (fixed width) and a counter: unique without a shared lock. In
  // base 36 the id has at most 15 characters for the first two billion sessions of a process,
  // so it fits inside its std::string: no heap block per connection (docs/benchmarks.md).
  static const std::string prefix = [] {
    std::string p = "s-";
    append_base36(p, std::random_device{}(), 7);  // 36^7 > 2^32
    return p;
  }();
  static std::atomic<uint64_t> counter{0};
  auto id = prefix;
  append_base36(id, counter.fetch_add(1) + 1, 1);
  return id;
}

google::protobuf::Timestamp now_timestamp() {
  return google::protobuf::util::TimeUtil::GetCurrentTime();
}

void send_welcome(connection_actor* self, const std::string& request_id, wire_format format) {
  auto& st = self->state;
  pb::ServerFrame out;
  out.set_request_id(request_id);
  auto* w = out.mutable_welcome();
  w->set_user_id(st.info.user_id);
  w->set_session_id(st.session_id);
  w->set_node(st.info.services->node);
  *w->mutable_server_time() = now_timestamp();
  w->set_heartbeat_interval_ms(st.info.services->heartbeat_interval.count());
  w->set_device_id(st.device_id);
  st.sink->send(out, format);
}

// Runs the frame-kind rules; false after answering `rate_limited` (the connection lives).
bool admit_frame(connection_actor* self, const inbound_frame& in) {
  auto& st = self->state;
  auto& frame = *in.frame;
  if (!st.info.services->limiter || frame.kind_case() == pb::ClientFrame::KIND_NOT_SET)
    return true;
  auto* field = frame.GetDescriptor()->FindFieldByNumber(frame.kind_case());
  limits::subject who;
  who.ip = st.info.ip;
  who.user = st.info.user_id;
  who.tier = st.info.tier;
  who.connection = st.session_id;
  auto d = st.info.services->limiter->check_frame(field->name(), who);
  if (d.allowed)
    return true;
  pb::ServerFrame out;
  out.set_request_id(frame.request_id());
  auto* e = out.mutable_error();
  e->set_code("rate_limited");
  e->set_message("rate limit \"" + d.rule + "\" exceeded for " + field->name() + " frames");
  e->set_retry_after_ms(d.retry_after_ms);
  st.sink->send(out, in.format);
  return false;
}

void handle_frame(connection_actor* self, const inbound_frame& in) {
  static auto& frames = metrics::global().get_counter("ws_frames_in_total",
                                                      "WebSocket frames decoded");
  frames.inc();
  auto& frame = *in.frame;
  auto& rid = frame.request_id();
  if (!admit_frame(self, in))
    return;
  switch (frame.kind_case()) {
    case pb::ClientFrame::kHello: {
      auto& device = frame.hello().device_id();
      if (!device.empty() && !valid_identifier(device)) {
        send_error(self, rid, in.format, "bad_request",
                   "hello.device_id must match [A-Za-z0-9_.-]{1,64}");
        return;
      }
      self->state.device_id = device.empty() ? "default" : device;
      register_route(self);
      send_welcome(self, rid, in.format);
      return;
    }
    case pb::ClientFrame::kPing: {
      pb::ServerFrame out;
      out.set_request_id(rid);
      *out.mutable_pong()->mutable_server_time() = now_timestamp();
      self->state.sink->send(out, in.format);
      return;
    }
    case pb::ClientFrame::kFeedSubscribe: {
      auto& st = self->state;
      if (!st.info.services->feed) {
        send_error(self, rid, in.format, "unavailable", "the news feed is not running on this node");
        return;
      }
      // No answer (PROTOCOL.md); frames are handled in order, so anything the client sends next
      // is answered after the subscription is in place.
      feed::subscribe_live(self, *st.info.services->feed, st.info.user_id, st.session_id, st.sink);
      st.feed_subscribed = true;
      return;
    }
    default:
      if (handle_chat_frame(self, in))
        return;
      break;
  }
  send_error(self, rid, in.format, "bad_request",
             "unknown or missing frame kind: a frame holds exactly one of the client frames "
             "of PROTOCOL.md");
}

} // namespace

void send_error(connection_actor* self, const std::string& request_id, wire_format format,
                const char* code, std::string message) {
  pb::ServerFrame out;
  out.set_request_id(request_id);
  auto* e = out.mutable_error();
  e->set_code(code);
  e->set_message(std::move(message));
  // `unavailable` (a node down, a handoff) is worth a retry with the same client_msg_id.
  if (std::string_view{code} == "unavailable")
    e->set_retry_after_ms(1000);
  self->state.sink->send(out, format);
}

caf::actor spawn_connection(caf::actor_system& sys, connection_info info,
                            std::shared_ptr<outbound_sink> sink) {
  return sys.spawn([info = std::move(info), sink = std::move(sink)](
                     connection_actor* self) mutable -> caf::behavior {
    auto& st = self->state;
    st.info = std::move(info);
    st.sink = std::move(sink);
    st.session_id = next_session_id();
    // Routed before the welcome: a client that sends right after it gets everything after it.
    register_route(self);
    send_welcome(self, {}, st.sink->preferred_format());
    return {
      [self](frame_atom, const client_frame_ptr& in) { handle_frame(self, *in); },
      [self](expire_atom) { expire_chat_requests(self); },
      [self](closed_atom) {
        unregister_route(self);
        auto& st = self->state;
        if (st.feed_subscribed)
          feed::unsubscribe_live(*st.info.services->feed, st.info.user_id, st.session_id);
        self->quit();
      },
    };
  });
}

} // namespace parley
