// The one outbound HTTP/1.1 client: the node's built-in task executors, parley-worker and the
// load generators in bench/. Blocking, over keep-alive connections: one request at a time on
// one connection (http_client), or a batch spread over several connections from one thread
// (http_batch), or one response read piece by piece as it streams in (http_client::stream).
// Plain http only. The name is resolved once, within the request's deadline;
// with an allow list every resolved address is checked and connections go only to the checked
// addresses (no second lookup, so a name cannot change its answer in between). Redirects are
// not followed: a 3xx is an answer like any other. Both classes share one connection type,
// hence one header; Beast stays in the .cpp.
#pragma once

#include "net/client/url.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::net {
class http_allow_list;
} // namespace parley::net

namespace parley::net::client {

// -- requests and responses ---------------------------------------------------------------------

struct http_request {
  std::string method = "POST";
  // Path and query under the URL's path (request_target in url.hpp); "" asks for the URL itself.
  std::string target;
  // JSON body; empty sends none (Content-Length 0).
  std::string body;
  // More header fields, set after the client's own (a name given here replaces its value).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct http_response {
  // HTTP status; 0 when no response came (see `error`).
  int status = 0;
  std::string body;
  // Transport failure (resolve, connect, timeout, reset, abort) or refused destination; empty
  // when a response came.
  std::string error;
  // The failure was the deadline (`error` says at which stage).
  bool timed_out = false;
  // The allow list refused the destination (`error` says why): asking again cannot work.
  bool refused = false;
  // The body was longer than body_limit_bytes and is cut there.
  bool body_cut = false;
  // From the start of the request (including a reconnect) to the complete response.
  std::chrono::microseconds elapsed{0};

  bool ok() const { return error.empty(); }
  bool success() const { return error.empty() && status >= 200 && status < 300; }
  // "status 409: {body}" or the transport error, for log lines.
  std::string describe() const;
};

// Given each piece of a streamed response body as it arrives. Pieces split the body anywhere,
// not at the sender's message boundaries. Returns false to read no more of it.
using body_piece_handler = std::function<bool(std::string_view piece)>;

struct http_client_options {
  // Sent as `Authorization: Bearer <token>`; empty: no header.
  std::string token;
  // Time to connect one socket. Default: 5000 ms
  std::chrono::milliseconds connect_timeout{5000};
  // Time for one request and its whole response, unless the call gives its own (long polls
  // must). Default: 30000 ms
  std::chrono::milliseconds request_timeout{30000};
  // Response bodies are read up to this; a longer one is an answer all the same, its body cut
  // (`body_cut`) and its connection closed. Default: 64 MiB
  size_t body_limit_bytes = size_t{64} << 20;
  // Sent as User-Agent. Default: parley-tools
  std::string user_agent = "parley-tools";
  // Destinations refused unless this list admits every address the host resolves to; nullptr
  // admits any (operator-set and tool URLs). Must outlive the client.
  const http_allow_list* allow = nullptr;
};

// -- one connection -----------------------------------------------------------------------------

// Requests go out one at a time on one keep-alive connection, opened on first use and reopened
// after the server closes it. A request that fails because a reused connection had been closed
// by the server (nothing of the response read) is sent once more on a new connection.
// Not thread-safe: one client per thread.
class http_client {
public:
  // -- constructors --

  http_client(http_url url, http_client_options opts);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // -- modifiers --

  // `timeout` 0 uses the options' request_timeout.
  http_response request(const http_request& req,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{0});
  http_response post(std::string target, std::string body,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds{0});
  http_response get(std::string target);

  // Sends `req` and hands the body of a 2xx response to `on_piece` as it arrives (a long poll
  // or a server's event stream), until the body ends, `on_piece` returns false (the connection
  // is closed then: the rest is never read), `timeout` passes (timed_out) or the abort flag is
  // set ("aborted"). Once the header came, `status` is set even when the stream then fails;
  // `body` stays empty and body_limit_bytes does not apply. A response that is not 2xx is read
  // whole into `body` as request() does, and `on_piece` never sees it. `timeout` bounds the
  // whole stream, not each piece; 0 uses the options' request_timeout.
  http_response stream(const http_request& req, const body_piece_handler& on_piece,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

  void set_token(std::string token);

  // While `flag` (may be null) is true, a request in flight fails with error "aborted" within
  // about 50 ms, closing its connection, and new requests fail at once: how another thread ends
  // a long poll. The flag must outlive its use here.
  void set_abort_flag(const std::atomic<bool>* flag);

  void close();

private:
  // request() and stream(): `on_piece` null reads the body whole.
  http_response run(const http_request& req, std::chrono::milliseconds timeout,
                    const body_piece_handler* on_piece);

  struct impl;
  std::unique_ptr<impl> impl_;
};

// -- several connections, one thread ------------------------------------------------------------

// Sends a batch of independent requests over up to `connections` keep-alive connections at once
// (one request in flight per connection), driven by the calling thread. Not thread-safe.
class http_batch {
public:
  // -- constructors --

  http_batch(http_url url, http_client_options opts, size_t connections);
  ~http_batch();
  http_batch(const http_batch&) = delete;
  http_batch& operator=(const http_batch&) = delete;

  // -- modifiers --

  // Sends every request and returns the responses in the order of `reqs`.
  std::vector<http_response> run(const std::vector<http_request>& reqs,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace parley::net::client
