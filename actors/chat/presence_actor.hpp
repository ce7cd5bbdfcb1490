// Presence: who is online (from the routing table) and who wants to know. Lazy, as WhatsApp
// does it: changes go only to connections that subscribed to that user, never to all contacts.
// `last_seen` is persisted when a user's last connection goes. Under `presence.visibility =
// "contacts"` the connection decides which requested users the caller may see (it shares a
// conversation with them); the others are answered offline without last_seen and never
// subscribed. Subscriptions are capped per connection and per user (docs/chat.md, Presence).
//
// Messages:
//   (presence_atom, request_id, connection_ref subscriber, users, hidden, subscribe?)
//       sends one presence_update per user to the subscriber (echoing request_id); users in
//       `hidden` (sorted) are answered offline and not subscribed; subscribe=true keeps sending
//       changes, false stops them; over a cap: one too_large error frame and nothing changes
//   (online_atom, user)                      the user's first connection opened
//   (offline_atom, user, last_seen_ms)       the user's last connection closed
//   (closed_atom, session_id)                a subscriber's connection closed
//   (revoke_atom, removed, members)          `removed` left a group of `members`: their
//                                            subscriptions to each other are checked again
//   (count_atom)                             -> uint64_t subscriptions held (for tests)
#pragma once

#include "actors/chat/chat_context.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace parley::chat {

caf::actor spawn_presence(caf::actor_system& sys, chat_context_ptr ctx);

} // namespace parley::chat
