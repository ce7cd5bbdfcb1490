// The WebSocket frame reader and writer on bytes alone: what clients may send (split anywhere,
// fragmented, interleaved with control frames, compressed) and what they may not (RFC 6455
// violations, oversized and invalid UTF-8 messages), and the frames the server writes.
#include "net/ws_deflate.hpp"
#include "net/ws_frame.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <string>
#include <vector>

using namespace parley::net::ws;

namespace {

// A client frame: masked, with the given first byte's flags.
std::string client_frame(opcode op, std::string_view payload, bool fin = true, bool rsv1 = false,
                         bool masked = true) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<int>(op)));
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xffff) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size()));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 0; i < 8; ++i)
      out.push_back(static_cast<char>(static_cast<uint64_t>(payload.size()) >> (56 - 8 * i)));
  }
  const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked)
    out.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ (masked ? mask[i & 3] : 0)));
  return out;
}

std::string raw_deflate(std::string_view in) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(in.size() + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out - 4);  // without 00 00 FF FF
  deflateEnd(&z);
  return out;
}

struct recorder : reader_events {
  std::vector<std::string> messages;
  std::vector<bool> text;
  std::vector<std::string> pings;
  std::vector<std::pair<uint16_t, std::string>> closes;
  std::vector<std::pair<uint16_t, std::string>> failures;

  void on_message(std::string_view payload, bool is_text) override {
    messages.emplace_back(payload);
    text.push_back(is_text);
  }
  void on_ping(std::string_view payload) override { pings.emplace_back(payload); }
  void on_close(uint16_t code, std::string_view reason) override {
    closes.emplace_back(code, std::string{reason});
  }
  void on_failure(uint16_t code, std::string reason) override {
    failures.emplace_back(code, std::move(reason));
  }
};

void feed(frame_reader& reader, std::string bytes, recorder& r, size_t step = 0) {
  if (step == 0)
    return reader.feed(bytes.data(), bytes.size(), r);
  for (size_t at = 0; at < bytes.size(); at += step)
    reader.feed(bytes.data() + at, std::min(step, bytes.size() - at), r);
}

// Parses one server frame: unmasked, FIN set. Returns {opcode, payload}; `rsv1` out.
std::pair<int, std::string> parse_server_frame(std::string_view f, bool* rsv1 = nullptr) {
  REQUIRE(f.size() >= 2);
  auto b0 = static_cast<uint8_t>(f[0]), b1 = static_cast<uint8_t>(f[1]);
  CHECK((b0 & 0x80) != 0);
  CHECK((b1 & 0x80) == 0);
  if (rsv1)
    *rsv1 = (b0 & 0x40) != 0;
  uint64_t len = b1 & 0x7f;
  size_t at = 2;
  if (len == 126) {
    len = (uint64_t{static_cast<uint8_t>(f[2])} << 8) | static_cast<uint8_t>(f[3]);
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | static_cast<uint8_t>(f[2 + i]);
    at = 10;
  }
  REQUIRE(f.size() == at + len);
  return {b0 & 0x0f, std::string{f.substr(at)}};
}

} // namespace

TEST_CASE("whole frames become messages, however the bytes are split") {
  auto step = GENERATE(0, 1, 3, 7);
  frame_reader reader{1 << 20};
  recorder r;
  std::string big(70000, 'x');
  std::string medium(300, 'y');
  feed(reader,
       client_frame(opcode::text, "{\"ping\":{}}") + client_frame(opcode::binary, medium)
         + client_frame(opcode::text, big) + client_frame(opcode::text, ""),
       r, static_cast<size_t>(step));
  REQUIRE(r.messages == std::vector<std::string>{"{\"ping\":{}}", medium, big, ""});
  CHECK(r.text == std::vector<bool>{true, false, true, true});
  CHECK(r.failures.empty());
  CHECK_FALSE(reader.done());
}

TEST_CASE("a fragmented message arrives whole, with control frames between its pieces") {
  frame_reader reader{1 << 20};
  recorder r;
  feed(reader,
       client_frame(opcode::text, "hel", false) + client_frame(opcode::ping, "p1")
         + client_frame(opcode::continuation, "lo ", false) + client_frame(opcode::pong, "")
         + client_frame(opcode::continuation, "world"),
       r, 5);
  CHECK(r.messages == std::vector<std::string>{"hello world"});
  CHECK(r.pings == std::vector<std::string>{"p1"});
  CHECK(r.failures.empty());
}

TEST_CASE("frames that break RFC 6455 fail with 1002 and end reading") {
  std::string bad;
  SECTION("unmasked") { bad = client_frame(opcode::text, "hi", true, false, false); }
  SECTION("RSV2 set") {
    bad = client_frame(opcode::text, "hi");
    bad[0] = static_cast<char>(bad[0] | 0x20);
  }
  SECTION("RSV1 without permessage-deflate") { bad = client_frame(opcode::text, "hi", true, true); }
  SECTION("unknown opcode") { bad = client_frame(static_cast<opcode>(3), "hi"); }
  SECTION("a control frame over 125 bytes") { bad = client_frame(opcode::ping, std::string(126, 'p')); }
  SECTION("a fragmented control frame") { bad = client_frame(opcode::ping, "p", false); }
  SECTION("a continuation without a message") { bad = client_frame(opcode::continuation, "x"); }
  SECTION("a new message inside a fragmented one") {
    bad = client_frame(opcode::text, "a", false) + client_frame(opcode::binary, "b");
  }
  SECTION("a length not in its shortest form") {
    bad = std::string{"\x81\xfe\x00\x05" "mask" "hello", 13};  // 5 in the 16-bit form
  }
  SECTION("a close frame with a one-byte payload") { bad = client_frame(opcode::close, "x"); }
  SECTION("a close frame with a code no endpoint may send") {
    bad = client_frame(opcode::close, std::string{"\x03\xed", 2});  // 1005
  }
  frame_reader reader{1 << 20};
  recorder r;
  feed(reader, bad + client_frame(opcode::text, "after"), r);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].first == close_code::protocol_error);
  CHECK(r.messages.empty());
  CHECK(reader.done());
}

TEST_CASE("a message over the limit fails with 1009 and is skipped, yet the close frame still counts") {
  frame_reader reader{100};
  recorder r;
  SECTION("in one frame") { feed(reader, client_frame(opcode::binary, std::string(101, 'b')), r, 13); }
  SECTION("over several frames") {
    feed(reader,
         client_frame(opcode::binary, std::string(60, 'b'), false)
           + client_frame(opcode::continuation, std::string(60, 'b')),
         r);
  }
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].first == close_code::too_big);
  CHECK(r.failures[0].second == "message larger than 100 bytes");
  CHECK_FALSE(reader.done());
  feed(reader, client_frame(opcode::text, "delivered: not closing yet") , r);
  reader.skip_messages();
  feed(reader, client_frame(opcode::text, "also dropped") + client_frame(opcode::close, std::string{"\x03\xe8" "bye", 5}), r);
  CHECK(r.messages == std::vector<std::string>{"delivered: not closing yet"});
  REQUIRE(r.closes.size() == 1);
  CHECK(r.closes[0] == std::pair<uint16_t, std::string>{1000, "bye"});
  CHECK(reader.done());
}

TEST_CASE("text that is not UTF-8 fails with 1007 while the same bytes in binary are a message") {
  frame_reader reader{1 << 10};
  recorder r;
  std::string invalid{"\xc3\x28 not utf-8", 13};
  feed(reader, client_frame(opcode::binary, invalid) + client_frame(opcode::text, invalid), r);
  CHECK(r.messages == std::vector<std::string>{invalid});
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].first == close_code::bad_payload);
}

TEST_CASE("close frames report their code and reason, or none") {
  frame_reader reader{1 << 10};
  recorder r;
  SECTION("with a code") {
    feed(reader, client_frame(opcode::close, std::string{"\x0f\xa0" "app", 5}), r);  // 4000
    CHECK(r.closes == std::vector<std::pair<uint16_t, std::string>>{{4000, "app"}});
  }
  SECTION("empty") {
    feed(reader, client_frame(opcode::close, ""), r);
    CHECK(r.closes == std::vector<std::pair<uint16_t, std::string>>{{close_code::none, ""}});
  }
  CHECK(reader.done());
}

TEST_CASE("compressed messages are inflated once permessage-deflate is on") {
  deflate_agreement agreed;
  deflate_codec codec{agreed};
  frame_reader reader{1 << 16};
  reader.use_deflate(&codec);
  recorder r;
  std::string text(2000, 'a');
  auto z = raw_deflate(text);
  CHECK(z.size() < 100);
  // Fragmented: RSV1 on the first frame only.
  feed(reader,
       client_frame(opcode::text, z.substr(0, 5), false, true)
         + client_frame(opcode::continuation, z.substr(5)) + client_frame(opcode::text, "plain"),
       r, 4);
  CHECK(r.messages == std::vector<std::string>{text, "plain"});
  CHECK(r.failures.empty());

  SECTION("a message that inflates past the limit fails with 1009") {
    auto bomb = raw_deflate(std::string(1 << 20, '\0'));
    feed(reader, client_frame(opcode::binary, bomb, true, true), r);
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].first == close_code::too_big);
  }
  SECTION("bytes that are not deflate data fail") {
    feed(reader, client_frame(opcode::binary, std::string(40, '\xff'), true, true), r);
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].first == close_code::bad_payload);
  }
}

TEST_CASE("server frames: lengths in all three forms, FIN set, unmasked") {
  for (size_t size : {0, 125, 126, 65535, 65536}) {
    std::string out;
    std::string payload(size, 'q');
    auto n = append_frame(out, opcode::binary, payload);
    CHECK(n == out.size());
    auto [op, body] = parse_server_frame(out);
    CHECK(op == 2);
    CHECK(body == payload);
  }
}

TEST_CASE("the server's compressed frames inflate back, with and without context takeover") {
  auto reset = GENERATE(false, true);
  deflate_agreement agreed;
  agreed.window_bits = 9;
  agreed.mem_level = 1;
  agreed.server_no_context_takeover = reset;
  deflate_codec server{agreed};
  deflate_codec client{deflate_agreement{}};
  for (int i = 0; i < 3; ++i) {
    std::string message = "{\"message\":{\"body\":\"hello " + std::to_string(i) + "\"}}";
    std::string z;
    server.compress(message, z);
    std::string out;
    bool rsv1 = false;
    std::string frame;
    append_frame(frame, opcode::text, z, true);
    auto [op, body] = parse_server_frame(frame, &rsv1);
    CHECK(rsv1);
    REQUIRE(client.decompress(body, 1 << 10, out) == deflate_codec::inflate_status::ok);
    CHECK(out == message);
  }
}

TEST_CASE("a close payload keeps within 125 bytes without splitting a character") {
  std::string reason;
  for (int i = 0; i < 100; ++i)
    reason += "\xc3\xa9";  // é, two bytes
  auto payload = close_payload(1008, reason);
  CHECK(payload.size() <= 125);
  CHECK(static_cast<uint8_t>(payload[0]) == 0x03);
  CHECK(static_cast<uint8_t>(payload[1]) == 0xf0);
  CHECK((payload.size() - 2) % 2 == 0);
  CHECK(close_payload(1000, "ok") == std::string{"\x03\xe8ok", 4});
}
