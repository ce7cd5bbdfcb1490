// Presence: who is online (from the routing table) and who wants to know. Lazy, as WhatsApp
// does it: changes go only to connections that subscribed to that user, never to all contacts.
// `last_seen` is persisted when a user's last connection goes.
//
// Messages:
//   (presence_atom, request_id, connection_ref subscriber, users, subscribe?)
//       sends one presence_update per user to the subscriber (echoing request_id);
//       subscribe=true keeps sending changes, false stops them
//   (online_atom, user)                      the user's first connection opened
//   (offline_atom, user, last_seen_ms)       the user's last connection closed
//   (closed_atom, session_id)                a subscriber's connection closed
#pragma once

#include "actors/chat/chat_context.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace parley::chat {

caf::actor spawn_presence(caf::actor_system& sys, chat_context_ptr ctx);

} // namespace parley::chat
