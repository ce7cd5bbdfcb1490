// The HTTP route table: method + path pattern -> handler. Patterns are literal segments and
// `{name}` captures (`/api/v1/tasks/{id}`); a path that matches no pattern is 404, one that
// matches with another method 405. Reserved first segments are exposed for the link service.
#pragma once

#include "net/http_types.hpp"

#include <set>
#include <string>
#include <vector>

namespace parley::net {

class router {
public:
  void add(std::string method, std::string pattern, http_handler handler);

  // A fallback for paths no route matches (e.g. static files, short links).
  void set_fallback(http_handler handler);

  // Finds the handler, fills req.params and calls it; answers 404/405 itself.
  void dispatch(http_request& req, responder respond) const;

  // First path segments used by routes ("api", "healthz", ...): a short link may not take one.
  std::set<std::string> reserved_segments() const;

private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    http_handler handler;
  };

  std::vector<route> routes_;
  http_handler fallback_;
};

std::vector<std::string> split_path(const std::string& path);

} // namespace parley::net
