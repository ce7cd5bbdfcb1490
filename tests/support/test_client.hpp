// Blocking HTTP and WebSocket clients for integration tests, over real loopback sockets.
// Every read has a receive timeout so a broken server fails a test instead of hanging it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace parley::test {

struct http_result {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

http_result http_call(uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::map<std::string, std::string>& headers = {});
// The same to a node listening on another loopback address (127.0.0.x).
http_result http_call(const std::string& host, uint16_t port, const std::string& method,
                      const std::string& target, const std::string& body = {},
                      const std::map<std::string, std::string>& headers = {});

// Mints a dev token through the node's own endpoint.
std::string dev_token(uint16_t port, const std::string& user_id);
std::string dev_token(const std::string& host, uint16_t port, const std::string& user_id);

// The HTTP status a WebSocket upgrade request gets (101 when accepted).
int upgrade_status(uint16_t port, const std::string& target, const std::string& bearer = {});

// A reader of a streamed answer (Server-Sent Events): GET, then the body as it arrives.
class stream_client {
public:
  stream_client();
  ~stream_client();

  // Sends GET `target` and reads the answer's head; its status.
  int open(uint16_t port, const std::string& target,
           const std::map<std::string, std::string>& headers = {});
  const std::map<std::string, std::string>& headers() const;  // lower-case names

  // Reads until the body holds `needle` at least `count` times, the server closes, or
  // `timeout_ms` passes; true if it does.
  bool wait_for(const std::string& needle, size_t count = 1, int timeout_ms = 5000);
  // Reads until the server closes (true) or `timeout_ms` passes.
  bool wait_closed(int timeout_ms = 5000);
  // The body read so far.
  const std::string& body() const;
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// How often `needle` occurs in `text`.
size_t count_of(const std::string& text, const std::string& needle);

class ws_client {
public:
  ws_client();
  ~ws_client();

  // Connects and upgrades; returns 101 on success, -1 on refusal (see upgrade_status).
  int connect(uint16_t port, const std::string& target, const std::string& bearer = {},
              int receive_buffer = 0);
  // The same to a node listening on another loopback address (127.0.0.x).
  int connect(const std::string& host, uint16_t port, const std::string& target,
              const std::string& bearer = {}, int receive_buffer = 0);

  void send_text(const std::string& payload);
  void send_binary(const std::string& payload);
  // Sends a WebSocket ping control frame (the server's pong is consumed by read()).
  void ping();

  // Sends without waiting, for flooding; false once the connection is gone.
  bool try_send_text(const std::string& payload);

  // The next message, or nullopt when the connection closed (see close_code) or timed out.
  std::optional<std::string> read(int timeout_ms = 5000);
  bool last_was_binary() const;

  // Reads until the server closes; returns its close code (0 if none came in time).
  int wait_close(int timeout_ms = 10000);
  int close_code() const;
  std::string close_reason() const;
  // The last read error ("" if none), for failure messages.
  std::string last_error() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace parley::test
