// Protobuf JSON for REST bodies and text frames, with the options PROTOCOL.md fixes: proto field
// names on output, default values printed, unknown fields ignored on input.
#pragma once

#include "common/errc.hpp"

#include <string>
#include <string_view>

namespace google::protobuf {
class Message;
}

namespace parley::net {

std::string to_json(const google::protobuf::Message& msg);

// `bad_request` naming the problem when `json` is not a valid encoding of `out`'s type.
fault from_json(std::string_view json, google::protobuf::Message& out);

// Error messages may quote what a client sent (an id, a path): they are cut to this many bytes
// and never carry invalid UTF-8, so the JSON answer stays valid.
inline constexpr size_t max_error_message_bytes = 512;
std::string safe_message(std::string_view message);

// The REST error body {"error":{"code":...,"message":...}}.
std::string error_body(const fault& f);

} // namespace parley::net
