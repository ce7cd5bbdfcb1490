// A small outbound HTTP/1.1 client for the built-in task executors: one POST with a deadline
// over the whole exchange (resolve, connect, write, read). Blocking: call it only from a thread
// of its own (the executors run detached), never from the I/O or scheduler threads.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace parley::net {

struct post_result {
  int status = 0;      // 0 when no response arrived
  std::string error;   // transport failure or refused URL, empty on any HTTP response
  std::string body;    // the response body, cut to 4 KiB
  bool url_valid = true;
};

post_result http_post(const std::string& url, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout);

} // namespace parley::net
