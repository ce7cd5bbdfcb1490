#include "net/frame_codec.hpp"
#include "actors/connection/pushed_frame.hpp"
#include "proto/parley.pb.h"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::net;

TEST_CASE("text frames decode from snake_case and lowerCamelCase JSON") {
  pb::ClientFrame a, b;
  REQUIRE_FALSE(decode_client_frame(R"({"request_id":"1","hello":{"device_id":"d"}})",
                                    wire_format::json, a));
  REQUIRE_FALSE(decode_client_frame(R"({"requestId":"1","hello":{"deviceId":"d"}})",
                                    wire_format::json, b));
  CHECK(a.hello().device_id() == "d");
  CHECK(b.hello().device_id() == "d");
  CHECK(b.request_id() == "1");
}

TEST_CASE("unknown JSON fields are ignored, unknown frame kinds decode to no kind") {
  pb::ClientFrame f;
  REQUIRE_FALSE(decode_client_frame(R"({"request_id":"9","teleport":{"x":1},"extra":true})",
                                    wire_format::json, f));
  CHECK(f.kind_case() == pb::ClientFrame::KIND_NOT_SET);
  CHECK(f.request_id() == "9");
}

TEST_CASE("malformed JSON and garbage binary are bad requests") {
  pb::ClientFrame f;
  CHECK(decode_client_frame("{not json", wire_format::json, f).code == errc::bad_request);
  CHECK(decode_client_frame(R"({"ping":{}, "hello":{}})", wire_format::json, f).code
        == errc::bad_request);  // two kinds of a oneof
  CHECK(decode_client_frame(R"({"request_id":{"x":1}})", wire_format::json, f).code
        == errc::bad_request);
  CHECK(decode_client_frame("\xff\xff\xff\xff", wire_format::binary, f).code
        == errc::bad_request);
}

TEST_CASE("binary frames round-trip through protobuf") {
  pb::ClientFrame in;
  in.set_request_id("r");
  in.mutable_ping();
  pb::ClientFrame out;
  REQUIRE_FALSE(decode_client_frame(in.SerializeAsString(), wire_format::binary, out));
  CHECK(out.has_ping());
  CHECK(out.request_id() == "r");
}

TEST_CASE("server frames print snake_case names and default values") {
  pb::ServerFrame f;
  f.mutable_error()->set_code("bad_request");
  auto json = encode_server_frame(f, wire_format::json);
  CHECK(json.find("\"request_id\":\"\"") != std::string::npos);
  CHECK(json.find("\"retry_after_ms\"") != std::string::npos);
  auto err = encode_error_frame(make_fault(errc::too_large, "big"), wire_format::json);
  CHECK(err.find(R"("code":"too_large")") != std::string::npos);
}

namespace {

int encodings = 0;

std::string counting_encoder(const pb::ServerFrame& frame, wire_format format) {
  ++encodings;
  return encode_server_frame(frame, format);
}

} // namespace

TEST_CASE("a pushed frame is encoded once per format, and every recipient gets the same bytes") {
  pb::ServerFrame f;
  f.mutable_message()->set_conversation_id("d:alice:bob");
  f.mutable_message()->set_seq(3);
  f.mutable_message()->set_body("hi");
  auto pushed = std::make_shared<const pushed_frame>(f);
  encodings = 0;
  auto& json = pushed->encoded(wire_format::json, &counting_encoder);
  auto& again = pushed->encoded(wire_format::json, &counting_encoder);
  CHECK(json.get() == again.get());
  CHECK(*json == encode_server_frame(f, wire_format::json));
  auto& binary = pushed->encoded(wire_format::binary, &counting_encoder);
  pushed->encoded(wire_format::binary, &counting_encoder);
  CHECK(*binary == f.SerializeAsString());
  CHECK(encodings == 2);
}
