// Options of the network edge; configs/node.toml [server], [http], [ws] and [auth] mirror these.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace parley::net {

class deny_list;

struct server_options {
  // Address and port to listen on; port 0 picks a free port (tests). Default: 127.0.0.1:8080
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  // Threads running Asio (Beast sessions). Default: 1
  int io_threads = 1;
  // Seconds a SIGTERM drain waits for sockets to close before exiting anyway. Default: 4
  std::chrono::seconds drain_timeout{4};
  // Directory of the web client served at / (index.html, static/). Default: web
  std::string web_dir = "web";
  // Open connections (HTTP and WebSocket) one client address may hold; more are answered 429
  // and closed at once. 0: no limit. Default: 1000
  size_t max_connections_per_ip = 1000;
  // A REST request whose handler has not answered after this long gets 503 `unavailable` with
  // Retry-After (an actor that never replies must not hang the client). Long polls extend it by
  // their own wait. Not the I/O timeout (http.request_timeout_sec). Default: 5000 ms
  std::chrono::milliseconds answer_timeout{5000};
};

struct http_options {
  // Largest request body accepted; larger ones get 413. Default: 1 MiB
  size_t body_limit_bytes = 1 << 20;
  // Time to read one request (headers and body) or write one response. Default: 30 s
  std::chrono::seconds request_timeout{30};
  // A keep-alive connection with no new request for this long is closed. Default: 60 s
  std::chrono::seconds keep_alive_timeout{60};
};

struct ws_options {
  // Largest WebSocket message accepted; larger ones close the connection with 1009.
  // Default: 64 KiB
  size_t max_frame_bytes = 64 << 10;
  // Bytes queued for a client that does not read; past this the connection closes with 1013
  // (the client recovers with `sync`). Default: 1 MiB
  size_t max_outbound_bytes = 1 << 20;
  // Heartbeat interval announced in `welcome`; clients send `ping` (or a WebSocket ping) this
  // often. Default: 25000 ms
  std::chrono::milliseconds heartbeat_interval{25000};
  // A connection that sends nothing (frames, pings, pongs) for this long is closed. Default: 60 s
  std::chrono::seconds idle_timeout{60};
  // Offer permessage-deflate (RFC 7692) to clients that ask for it. Costs zlib state per
  // connection (docs/benchmarks.md has the numbers). Default: false
  bool permessage_deflate = false;
  // The server's LZ77 window (9..15): 2^bits bytes of history per direction. Default: 15
  int deflate_window_bits = 15;
  // zlib's memLevel (1..9): deflate state is about 2^(memLevel + 9) bytes. Default: 8
  int deflate_mem_level = 8;
};

struct auth_options {
  // HMAC-SHA256 secret for JWTs (HS256). Required; at least 16 bytes.
  std::string jwt_secret;
  // Serve POST /api/v1/dev/token (anyone may mint any identity: demos and tests only).
  // Default: false
  bool dev_tokens = false;
  // Lifetime of dev tokens. Default: 86400 s
  std::chrono::seconds dev_token_ttl{86400};
  // Tolerance for clocks that disagree when checking a token's `exp` and `nbf`. Default: 30 s
  std::chrono::seconds clock_skew{30};
  // Banned users, refused at every token check (403). Set by the node from its ban store, not
  // a config key; null: nobody is banned.
  std::shared_ptr<const deny_list> denied;
};

struct edge_options {
  server_options server;
  http_options http;
  ws_options ws;
  auth_options auth;
};

} // namespace parley::net
