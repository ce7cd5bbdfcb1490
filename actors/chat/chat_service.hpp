// The chat service of a node in a cluster: the node service "chat" that the peer link serves
// to other nodes (chat_service_api, actors/chat/chat_api.hpp). A conversation on another node
// pushes one delivery per node and batch here, and this node writes it to its own connections,
// found in its routing table by user and session: messages in seq order, each connection only
// those above what it was sent. A delivery that starts above what this node wrote to a
// connection shows that one was lost on the way (a peer link that dropped): the conversation is
// asked to sync that connection, and its deliveries wait for that. It also answers the per-user index reads that only the node
// holding a conversation can (a sync, the conversation list, presence contacts), through the
// node's chat readers, and records devices that connected on other nodes.
#pragma once

#include "actors/chat/chat_api.hpp"
#include "actors/chat/chat_context.hpp"

#include <caf/fwd.hpp>

namespace parley::chat {

chat_service_api spawn_chat_service(caf::actor_system& sys, chat_context_ptr ctx);

} // namespace parley::chat
