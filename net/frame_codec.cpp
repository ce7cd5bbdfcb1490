#include "net/frame_codec.hpp"

#include "common/utf8.hpp"
#include "net/json_codec.hpp"
#include "proto/parley.pb.h"

namespace parley::net {

fault decode_client_frame(std::string_view payload, wire_format format, pb::ClientFrame& out) {
  if (format == wire_format::json)
    return from_json(payload, out);
  if (!out.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
    return make_fault(errc::bad_request, "binary frame is not a valid protobuf ClientFrame");
  return {};
}

std::string encode_server_frame(const pb::ServerFrame& frame, wire_format format) {
  // Error messages may quote client bytes; protobuf would refuse to print invalid UTF-8.
  if (frame.has_error() && !is_valid_utf8(frame.error().message())) {
    auto safe = frame;
    safe.mutable_error()->set_message(safe_message(frame.error().message()));
    return encode_server_frame(safe, format);
  }
  if (format == wire_format::json)
    return to_json(frame);
  return frame.SerializeAsString();
}

std::string encode_error_frame(const fault& f, wire_format format) {
  pb::ServerFrame frame;
  frame.mutable_error()->set_code(std::string{to_string(f.code)});
  frame.mutable_error()->set_message(safe_message(f.message));
  return encode_server_frame(frame, format);
}

} // namespace parley::net
