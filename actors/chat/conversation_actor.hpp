// The conversation actor (virtual, kind "conv"): one per active conversation. It owns the
// conversation's order: assigns seq (1, 2, 3, ... without gaps, across restarts), makes each
// batch of sends durable through the group-commit writer before acknowledging, then pushes the
// messages to every online device of every member in seq order. Membership, receipts, history,
// typing and per-device catch-up (sync) all go through it.
//
// Its messages are conversation_api (actors/chat/chat_api.hpp); callers reach it through the
// registry with runtime::request_entity.
#pragma once

#include "actors/chat/chat_api.hpp"
#include "actors/chat/chat_context.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace parley::chat {

conversation_api spawn_conversation(caf::actor_system& sys, chat_context_ptr ctx, std::string id);

} // namespace parley::chat
