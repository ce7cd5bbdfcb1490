// Presence: who is online (from the routing table) and who wants to know. Lazy, as WhatsApp
// does it: changes go only to connections that subscribed to that user, never to all contacts.
// `last_seen` is persisted when a user's last connection goes. Under `presence.visibility =
// "contacts"` the connection decides which requested users the caller may see (it shares a
// conversation with them); the others are answered offline without last_seen and never
// subscribed. Subscriptions are capped per connection and per user (docs/chat.md, Presence).
//
// Its messages are presence_api (actors/chat/chat_api.hpp). Subscribers are named by their
// endpoint (user and session id) and written to through the routing table. In a cluster a user
// is online while connected to any node (chat_context::online), the route replicator reports
// changes on other nodes as online/offline, and every node records the last_seen it sees.
#pragma once

#include "actors/chat/chat_api.hpp"
#include "actors/chat/chat_context.hpp"

#include <caf/fwd.hpp>

namespace parley::chat {

presence_api spawn_presence(caf::actor_system& sys, chat_context_ptr ctx);

} // namespace parley::chat
