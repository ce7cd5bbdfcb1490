#include "net/json_codec.hpp"

#include "common/json_depth.hpp"
#include "common/utf8.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/json_util.h>

namespace parley::net {

std::string to_json(const google::protobuf::Message& msg) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  std::string out;
  // Printing a well-formed message cannot fail; an empty object is the safe fallback.
  if (!google::protobuf::util::MessageToJsonString(msg, &out, opts).ok())
    out = "{}";
  return out;
}

fault from_json(std::string_view json, google::protobuf::Message& out) {
  if (!json_depth_within(json))
    return make_fault(errc::bad_request, "JSON nested deeper than "
                                           + std::to_string(max_json_depth) + " levels");
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(
    google::protobuf::StringPiece{json.data(), json.size()}, &out, opts);
  if (st.ok())
    return {};
  return make_fault(errc::bad_request, "malformed JSON: " + std::string{st.message()});
}

std::string safe_message(std::string_view message) {
  return valid_utf8(message, max_error_message_bytes);
}

std::string error_body(const fault& f) {
  pb::ErrorBody body;
  body.mutable_error()->set_code(std::string{to_string(f.code)});
  body.mutable_error()->set_message(safe_message(f.message));
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(body, &out, opts).ok())
    out = R"({"error":{"code":"internal","message":""}})";
  return out;
}

} // namespace parley::net
