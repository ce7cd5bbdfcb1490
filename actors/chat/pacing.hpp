// How a sync paces itself against a connection's outbound bound (docs/chat.md, Backpressure):
// one rule for the conversation writing to its own node's connections and the chat service
// writing for a conversation of another node.
#pragma once

#include <cstddef>
#include <cstdint>

namespace parley::chat {

// Whether a paced sync may write one more message frame. A frame is the body plus ~200 bytes of
// fields in the worst (JSON) case; the first frame needs room for itself, later ones leave half
// of the room free.
inline bool paced_room_for(size_t body_bytes, size_t client_msg_id_bytes, uint64_t sent,
                           size_t room) {
  auto estimate = body_bytes + client_msg_id_bytes + 200;
  return sent == 0 ? estimate <= room : estimate * 2 <= room;
}

} // namespace parley::chat
