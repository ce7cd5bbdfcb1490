// Messages and errors as bytes for an envelope's payload, in CAF's binary format: the elements
// are atoms and the protobuf messages of an actor interface (actors/runtime/protobuf_inspect.hpp
// writes those in their protobuf encoding), all announced on every node.
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>

#include <string>

namespace parley::cluster {

caf::expected<std::string> message_to_bytes(caf::actor_system& sys, const caf::message& msg);
caf::expected<caf::message> message_from_bytes(caf::actor_system& sys, const std::string& bytes);

// An error that does not serialize still travels, as an `internal` error naming the failure.
std::string error_to_bytes(caf::actor_system& sys, const caf::error& err);
// Bytes that do not read back as an error become an `internal` error saying so.
caf::error error_from_bytes(caf::actor_system& sys, const std::string& bytes);

} // namespace parley::cluster
