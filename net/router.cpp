#include "net/router.hpp"

#include "net/json_codec.hpp"

#include <algorithm>
#include <stdexcept>

namespace parley::net {

namespace {

const std::string empty_string;

} // namespace

const std::string& http_request::header(const std::string& name) const {
  for (auto& [n, v] : headers)
    if (n == name)
      return v;
  return empty_string;
}

const std::string& http_request::query_param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? empty_string : it->second;
}

fault http_request::limit_param(size_t fallback, size_t& out) const {
  out = fallback;
  auto& text = query_param("limit");
  if (text.empty())
    return {};
  try {
    size_t used = 0;
    auto v = std::stoll(text, &used);
    if (used != text.size())
      throw std::invalid_argument{text};
    out = static_cast<size_t>(std::clamp<long long>(v, 1, 100));
    return {};
  } catch (const std::exception&) {
    return make_fault(errc::bad_request, "limit must be a number (got \"" + text.substr(0, 32)
                                           + "\")");
  }
}

http_response http_response::json(int status, std::string body) {
  http_response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

http_response http_response::error(const fault& f) {
  auto res = json(http_status(f.code), error_body(f));
  // `unavailable` is always worth a retry (a timeout, a handoff, a node that is down or
  // draining, PROTOCOL.md): say when.
  if (f.code == errc::unavailable)
    res.headers.emplace_back("Retry-After", "1");
  return res;
}

http_response http_response::text(int status, std::string body, std::string content_type) {
  http_response res;
  res.status = status;
  res.body = std::move(body);
  res.content_type = std::move(content_type);
  return res;
}

http_response http_response::events(event_stream stream) {
  http_response res;
  res.content_type = "text/event-stream";
  res.stream = std::make_shared<event_stream>(std::move(stream));
  return res;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto next = path.find('/', pos);
    if (next == std::string::npos)
      next = path.size();
    out.push_back(path.substr(pos, next - pos));
    pos = next;
  }
  return out;
}

void router::add(std::string method, std::string pattern, http_handler handler) {
  routes_.push_back(route{std::move(method), split_path(pattern), std::move(handler)});
}

void router::set_fallback(http_handler handler) {
  fallback_ = std::move(handler);
}

void router::dispatch(http_request& req, responder respond) const {
  auto segments = split_path(req.path);
  std::vector<std::string> allowed;  // methods of the routes whose path matched
  for (auto& r : routes_) {
    if (r.segments.size() != segments.size())
      continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      auto& pat = r.segments[i];
      if (pat.size() > 2 && pat.front() == '{' && pat.back() == '}')
        params[pat.substr(1, pat.size() - 2)] = segments[i];
      else
        match = pat == segments[i];
    }
    if (!match)
      continue;
    // HEAD is served by GET routes; the session drops the body.
    if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) {
      allowed.push_back(r.method);
      if (r.method == "GET")
        allowed.push_back("HEAD");
      continue;
    }
    req.params = std::move(params);
    r.handler(req, std::move(respond));
    return;
  }
  if (!allowed.empty()) {
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (auto& m : allowed)
      allow += (allow.empty() ? "" : ", ") + m;
    auto res = http_response::error(make_fault(
      errc::method_not_allowed, "method " + req.method + " not allowed on " + req.path));
    res.headers.emplace_back("Allow", std::move(allow));
    respond(std::move(res));
    return;
  }
  if (fallback_) {
    fallback_(req, std::move(respond));
    return;
  }
  respond(http_response::error(make_fault(errc::not_found, "no route for " + req.path)));
}

std::set<std::string> router::reserved_segments() const {
  std::set<std::string> out;
  for (auto& r : routes_)
    if (!r.segments.empty())
      out.insert(r.segments.front());
  return out;
}

} // namespace parley::net
