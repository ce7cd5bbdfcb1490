// RFC 6455 framing for the server side of a WebSocket, without sockets: the reader turns the
// bytes a client sent into messages and control frames, the writer appends server frames to an
// output buffer. The session (net/websocket_session.hpp) moves bytes between these and its
// socket; keeping the protocol here lets tests feed it any byte sequence.
//
// Why our own and not Beast's websocket::stream: Beast's stream holds ~2.7 KB per connection
// for as long as it lives (a fixed 1,536-byte read buffer among it) and a pending read operation
// while the connection is idle; this reader holds nothing between messages but a few counters
// (docs/benchmarks.md, "Memory per idle WebSocket connection").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::net::ws {

class deflate_codec;

enum class opcode : uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10,
};

// The close codes this server sends (RFC 6455, 7.4.1).
namespace close_code {
constexpr uint16_t normal = 1000;
constexpr uint16_t going_away = 1001;
constexpr uint16_t protocol_error = 1002;
constexpr uint16_t none = 1005;  // a close frame without a code; never sent
constexpr uint16_t bad_payload = 1007;
constexpr uint16_t too_big = 1009;
constexpr uint16_t service_restart = 1012;
constexpr uint16_t try_again_later = 1013;
} // namespace close_code

// -- writing -----------------------------------------------------------------------------------

// Appends one whole server frame (FIN set, unmasked) carrying `payload`; `compressed` sets RSV1
// (permessage-deflate). Returns the bytes appended.
size_t append_frame(std::string& out, opcode op, std::string_view payload, bool compressed = false);

// The payload of a close frame: the code, then the reason cut to fit a control frame's 125
// bytes without splitting a UTF-8 character.
std::string close_payload(uint16_t code, std::string_view reason);

// -- reading -----------------------------------------------------------------------------------

// What the reader found, in the order the client sent it.
class reader_events {
public:
  virtual ~reader_events() = default;
  // A whole data message, unmasked, decompressed and (text) valid UTF-8. The view lives until
  // the callback returns.
  virtual void on_message(std::string_view payload, bool text) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  // The client's close frame; code is close_code::none when it carried none.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
  // The client broke the protocol or a limit: close with `code`. After a protocol error the
  // reader reads nothing more; after too_big or bad_payload it goes on skipping messages, so
  // the client's close frame is still seen.
  virtual void on_failure(uint16_t code, std::string reason) = 0;
};

class frame_reader {
public:
  // Messages longer than `max_message_bytes` (after decompression) fail with too_big.
  explicit frame_reader(size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Compressed messages (RSV1) are accepted once permessage-deflate was negotiated.
  void use_deflate(deflate_codec* codec) { deflate_ = codec; }

  // Consumes all of `data` (unmasked in place), reporting complete messages and control frames.
  void feed(char* data, size_t size, reader_events& events);

  // From now on data messages are read and dropped; control frames still count. For a closing
  // connection: what the client sends until its close frame must be read, not answered.
  void skip_messages() { skip_all_ = true; }

  // The client's close frame came, or the protocol broke: nothing after it is read.
  bool done() const { return done_; }

private:
  // Reads the next frame's header (it may be split across reads), checks it and sets up its
  // payload; false when bytes are missing or the header broke the protocol.
  bool take_header(char*& p, size_t& n, reader_events& events);
  void end_frame(reader_events& events);
  void end_message(reader_events& events);
  void deliver(std::string_view payload, bool text, reader_events& events);
  // A protocol error: reports it and stops reading. Returns false for take_header.
  bool fail(reader_events& events, uint16_t code, std::string reason);
  void drop_message();

  size_t max_message_;
  deflate_codec* deflate_ = nullptr;
  std::string message_;  // a data message arriving in pieces; empty (no heap) between messages
  std::string control_;  // a control frame's payload arriving in pieces
  uint64_t left_ = 0;    // payload bytes of the current frame still to come
  uint8_t mask_[4] = {};
  uint8_t mask_at_ = 0;   // where in the mask the next payload byte starts
  uint8_t header_[14] = {};
  uint8_t header_len_ = 0;  // bytes of a header split across reads
  opcode frame_op_ = opcode::continuation;
  opcode message_op_ = opcode::continuation;  // continuation: no message in progress
  bool in_payload_ = false;
  bool fin_ = false;
  bool compressed_ = false;    // the message in progress is compressed
  bool skip_message_ = false;  // the message in progress is dropped (too big)
  bool skip_all_ = false;
  bool done_ = false;
};

} // namespace parley::net::ws
