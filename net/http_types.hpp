// Beast-free views of an HTTP request and response, so that handlers and the router compile
// without Beast (it is expensive to compile; ../shared/TOOLCHAIN.md) and read like the domain.
#pragma once

#include "common/errc.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace parley::net {

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded target without the query
  std::map<std::string, std::string> query;
  // Lower-case names, in arrival order; a vector because requests carry a handful of headers
  // and a map would cost an allocation per node on the hot path.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_ip;
  std::map<std::string, std::string> params;  // filled by the router from {name} segments
  // For handlers that may answer much later (long polls): starts watching the connection and
  // returns a flag that turns true if the client goes away before the answer. Set by the
  // session; empty in tests that build requests by hand.
  std::function<std::shared_ptr<std::atomic<bool>>()> watch_disconnect;

  // The header value or "" when absent; `name` in lower case.
  const std::string& header(const std::string& name) const;
  const std::string& query_param(const std::string& name) const;
  // The `limit` of a listing: absent means `fallback`, any number is clamped to 1..100, anything
  // else is a bad_request naming it.
  fault limit_param(size_t fallback, size_t& out) const;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static http_response json(int status, std::string body);
  static http_response error(const fault& f);
  static http_response text(int status, std::string body, std::string content_type);
};

// Handlers answer exactly once, possibly later and from another thread (after an actor replies);
// the session posts the answer back onto its own strand.
using responder = std::function<void(http_response)>;
using http_handler = std::function<void(http_request&, responder)>;

} // namespace parley::net
