// The message types that never leave the node's process, each with the reason. CAF sends them
// between local actors without serializing (CAF_ALLOW_UNSAFE_MESSAGE_TYPE); they appear on no
// interface a remote caller can reach, and tests/support/wire_round_trip.hpp refuses to compile
// a check that includes one. Everything else in an actor message is serializable
// (actors/message_types.hpp). Declare no unsafe type anywhere else.
#pragma once

#include "storage/write_set.hpp"

#include <caf/allowed_unsafe_message_type.hpp>

#include <memory>

namespace parley {
struct inbound_frame;
using client_frame_ptr = std::shared_ptr<inbound_frame>;
} // namespace parley

// A durable write applies to this node's RocksDB; another node receives the data it needs in
// its own request types (replication ships encoded batches, not write sets).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::storage::write_set)

// A frame decoded by a WebSocket session, handed to that socket's own connection actor on the
// same node; the shared pointer avoids a copy of every inbound frame.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::client_frame_ptr)
