// The connection actor's state, shared by its frame handlers (connection_actor.cpp for the
// session protocol, chat_frames.cpp for chat). Private to actors/connection/.
#pragma once

#include "actors/chat/chat_api.hpp"
#include "actors/connection/connection_actor.hpp"
#include "actors/runtime/call_deadlines.hpp"
#include "actors/runtime/entity_request.hpp"

#include <caf/stateful_actor.hpp>

namespace parley::pb {
class ServerFrame;
}

namespace parley {

// Kept small on purpose: an idle connection's actor should cost little more than CAF's
// ~1 KB actor header (docs/benchmarks.md, memory per connection).
struct connection_state {
  connection_info info;
  std::string device_id = "default";
  std::string session_id;
  std::shared_ptr<outbound_sink> sink;
  bool syncing = false;
  bool feed_subscribed = false;
  // Conversations this connection talks to, resolved once and then sent to directly, and the
  // deadlines of the requests in flight to them (one timer per connection instead of one per
  // request in CAF's clock); made on the first chat request, so an idle connection does not pay
  // for it.
  struct conversation_calls {
    explicit conversation_calls(std::chrono::milliseconds timeout) : deadlines(timeout) {}
    runtime::entity_channels<chat::conversation_api> channels;
    runtime::call_deadlines deadlines;
  };
  std::unique_ptr<conversation_calls> conversations;

  static inline const char* name = "parley.connection";
};

using connection_actor = caf::stateful_actor<connection_state>;

// Answers `request_id` with an error frame in `format`.
void send_error(connection_actor* self, const std::string& request_id, wire_format format,
                const char* code, std::string message);

// Answers the chat requests past their deadline (expire_atom).
void expire_chat_requests(connection_actor* self);
// Handles a chat frame; false when the frame is not a chat frame.
bool handle_chat_frame(connection_actor* self, const inbound_frame& in);

// Registers the connection in the routing table (and presence); called on start and hello.
void register_route(connection_actor* self);
void unregister_route(connection_actor* self);

} // namespace parley
