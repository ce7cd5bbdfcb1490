// A small outbound HTTP/1.1 client for the built-in task executors: one POST with a deadline
// over the whole exchange (resolve, connect, write, read). The name is resolved once; with an
// allow list every resolved address is checked and the connection goes to the checked
// addresses (no second lookup, so a name cannot change its answer in between). Redirects are
// not followed: a 3xx is an answer like any other. Blocking: call it only from a thread of its
// own (the executors run detached), never from the I/O or scheduler threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace parley::net {

class http_allow_list;

struct post_result {
  int status = 0;      // 0 when no response arrived
  std::string error;   // transport failure or refused URL, empty on any HTTP response
  std::string body;    // the response body, cut to max_body bytes
  bool url_valid = true;  // false: the URL or its destination can never work (not retried)
};

struct post_options {
  std::chrono::milliseconds timeout{10000};  // the whole exchange
  size_t max_body = 4096;                    // bytes of the response body kept
  const http_allow_list* allow = nullptr;    // nullptr: any destination (operator-set URLs)
};

post_result http_post(const std::string& url, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const post_options& opts);

} // namespace parley::net
