// The conversation actor (virtual, kind "conv"): one per active conversation. It owns the
// conversation's order: assigns seq (1, 2, 3, ... without gaps, across restarts), makes each
// batch of sends durable through the group-commit writer before acknowledging, then pushes the
// messages to every online device of every member in seq order. Membership, receipts, history,
// typing and per-device catch-up (sync) all go through it.
//
// Messages (all answered through the registry's delegation; errors are parley errors):
//   (send_atom, sender, client_msg_id, body, to_user, origin_session) -> (seq, sent_at_ms)
//       to_user non-empty opens the direct conversation if it does not exist yet; the origin
//       connection gets the ack instead of the message
//   (create_atom, creator, title, members)            -> server_frame_ptr (group)
//   (members_atom, actor, add?, users)                -> server_frame_ptr (group)
//   (receipt_atom, user, device, seq, read?)          -> unit (cursor written asynchronously)
//   (history_atom, user, before_seq, limit)           -> server_frame_ptr (history_page)
//   (summary_atom, user)                              -> server_frame_ptr (conversation_list)
//   (sync_atom, user, connection_ref)                 -> (uint64_t messages sent, complete?)
//   (typing_atom, user, active)                       -> unit
#pragma once

#include "actors/chat/chat_context.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace parley::pb {
class ServerFrame;
}

namespace parley::chat {

// A connection as the conversation sees it: who, which device, where to write.
struct connection_ref {
  std::string user_id;
  route r;
};

using server_frame_ptr = std::shared_ptr<const pb::ServerFrame>;

caf::actor spawn_conversation(caf::actor_system& sys, chat_context_ptr ctx, std::string id);

} // namespace parley::chat

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::chat::connection_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::chat::server_frame_ptr)
