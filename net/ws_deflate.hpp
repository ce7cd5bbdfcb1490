// permessage-deflate (RFC 7692) for WebSocket connections that negotiated it: which offer of a
// client this server accepts, and the per-connection zlib state that compresses what the server
// sends and inflates what the client sent. Off unless ws.permessage_deflate = true.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace parley::net::ws {

// What the server agreed to for one connection.
struct deflate_agreement {
  int window_bits = 15;  // the server's LZ77 window (9..15)
  int mem_level = 8;     // zlib's memLevel
  bool server_no_context_takeover = false;  // the client asked: compress each message alone
  std::string response;  // the Sec-WebSocket-Extensions value answered to the client
};

// The first permessage-deflate offer in `extensions` (a Sec-WebSocket-Extensions value; several
// header lines joined with ",") that this server can honour with at most `window_bits` and
// `mem_level`, or nullopt (the connection then uses plain frames). Offers with unknown or
// malformed parameters, or asking for a window below zlib's smallest (9), are skipped.
std::optional<deflate_agreement> negotiate_deflate(std::string_view extensions, int window_bits,
                                                   int mem_level);

// One connection's compressor and decompressor; zlib state is allocated on first use.
class deflate_codec {
public:
  explicit deflate_codec(const deflate_agreement& agreed);
  ~deflate_codec();
  deflate_codec(const deflate_codec&) = delete;
  deflate_codec& operator=(const deflate_codec&) = delete;

  // Appends `payload` compressed as one message (without the 00 00 FF FF tail, RFC 7692 7.2.1).
  void compress(std::string_view payload, std::string& out);

  enum class inflate_status { ok, too_big, corrupt };
  // Inflates one message's payload into `out`; too_big as soon as it passes `max_bytes`.
  inflate_status decompress(std::string_view in, size_t max_bytes, std::string& out);

private:
  struct streams;
  deflate_agreement agreed_;
  std::unique_ptr<streams> z_;
};

} // namespace parley::net::ws
