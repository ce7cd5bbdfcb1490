// WebSocket frame codec: ClientFrame from text (protobuf JSON, snake_case or lowerCamelCase
// names, unknown fields ignored) or binary (protobuf) payloads; ServerFrame to either, printing
// default-valued fields so clients never guess whether a field is false or missing.
#pragma once

#include "actors/connection/outbound_sink.hpp"
#include "common/errc.hpp"

#include <string>
#include <string_view>

namespace parley::pb {
class ClientFrame;
class ServerFrame;
} // namespace parley::pb

namespace parley::net {

// Fills `out`; a malformed payload answers `bad_request` with what was wrong.
fault decode_client_frame(std::string_view payload, wire_format format, pb::ClientFrame& out);

std::string encode_server_frame(const pb::ServerFrame& frame, wire_format format);

// An `error` frame for a request that could not be decoded (no request id is known).
std::string encode_error_frame(const fault& f, wire_format format);

} // namespace parley::net
