// A lean reader of HTTP/1.1 requests for the two hot paths, short-link redirects
// (`GET|HEAD /{key}`) and the rate-limit check (`POST /api/v1/ratelimit/check`): for these small
// requests Beast's parser and header map cost more than the answer (docs/benchmarks.md, Links).
// It takes only requests in the plain form (HTTP/1.0 or 1.1, CRLF lines, a Content-Length body
// or none) and leaves everything else to Beast untouched: it consumes nothing until a request is
// complete, so the session can hand the same bytes to Beast's parser (chunked bodies, Expect,
// WebSocket upgrades, every other route). Beast-free, so it compiles and tests cheaply.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::net {

// A complete request the reader took; the views point into the bytes given to read().
struct lean_request {
  std::string_view method;
  std::string_view target;  // origin form, as sent (not decoded)
  int version = 11;         // 10 or 11
  // HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
  bool keep_alive = true;
  // Lower-case names, in arrival order (http_request keeps them so).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
  size_t size = 0;  // bytes of the request, head and body: what the session consumes
  std::string_view problem;  // after bad_request: what is wrong, for the 400's message
};

class http_reader {
public:
  // -- member types --------------------------------------------------------------------------

  struct limits {
    // Request line and header fields together, the blank line included. Beast's default for
    // requests, so both paths refuse the same heads. Default: 8 KiB
    size_t head_bytes = 8 << 10;
    // Largest Content-Length taken (http.body_limit_bytes). Default: 1 MiB
    size_t body_bytes = 1 << 20;
  };

  enum class outcome {
    need_more,       // a request of ours, incomplete: read more and call again
    done,            // a complete request in `out`
    fallback,        // not ours: give the bytes to Beast
    bad_request,     // ours and malformed (400)
    head_too_large,  // the head passes limits::head_bytes (400, as Beast answers)
    body_too_large,  // Content-Length passes limits::body_bytes (413)
  };

  // -- constructors --------------------------------------------------------------------------

  explicit http_reader(limits lim) : limits_(lim) {}

  // -- observers -----------------------------------------------------------------------------

  // Reads the request at the start of `data` (the bytes received and not yet consumed). Stateless:
  // after need_more, call again with the same bytes and more.
  outcome read(std::string_view data, lean_request& out) const;

  // Whether a request line's method and target are one of the lean paths.
  static bool takes(std::string_view method, std::string_view target);

private:
  limits limits_;
};

} // namespace parley::net
