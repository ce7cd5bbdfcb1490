// The connection actor: one per WebSocket (ARCHITECTURE.md, The actors). It knows the
// authenticated user and device, answers the frames of the session protocol and, as services
// arrive, hands typed requests to them. The Beast session only decodes and writes.
//
// Messages:
//   (frame_atom, client_frame_ptr)  a decoded client frame (answers go to the sink)
//   (closed_atom)                   the socket is gone: the actor quits
//   (expire_atom)                   to itself: chat requests past their deadline are answered
//                                   `unavailable` (connection_state::conversation_calls)
#pragma once

#include "actors/chat/chat_context.hpp"
#include "actors/feed/feed_context.hpp"
#include "actors/limits/limiter.hpp"
#include "actors/connection/outbound_sink.hpp"
#include "actors/runtime/local_only_types.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace parley::pb {
class ClientFrame;
}

namespace parley {

// A decoded client frame and the format it came in (its direct answer uses the same format).
struct inbound_frame {
  std::unique_ptr<pb::ClientFrame> frame;
  wire_format format = wire_format::json;

  inbound_frame();
  ~inbound_frame();
};

// What every connection of a node shares, made once by the edge: one pointer per connection
// instead of copies in each (docs/benchmarks.md, memory per connection).
struct connection_services {
  std::string node;  // this node's id, reported in `welcome`
  std::chrono::milliseconds heartbeat_interval{25000};
  // How long a chat request waits for its answer before the client gets `unavailable`.
  std::chrono::milliseconds request_timeout{30000};
  // The node's chat services; null in tests that exercise the session protocol alone, where
  // chat frames are answered `unavailable`.
  chat::chat_context_ptr chat;
  // The node's news feed, for feed_subscribe; null: answered `unavailable`.
  feed::feed_context_ptr feed;
  // Rules on frame kinds (PROTOCOL.md, Rate limiting); null: frames are not limited.
  std::shared_ptr<limits::rate_limiter> limiter;
};

// What one connection knows of its peer.
struct connection_info {
  std::string user_id;
  std::string tier;  // rate-limit tier, empty for the default
  std::string ip;    // the peer's address, for rules keyed by ip
  std::shared_ptr<const connection_services> services;  // never null
};

caf::actor spawn_connection(caf::actor_system& sys, connection_info info,
                            std::shared_ptr<outbound_sink> sink);

} // namespace parley
