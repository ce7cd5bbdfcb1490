// The one parser of http:// URLs, for the node's outbound requests (an http task's payload.url,
// tasks.push_url) and the tools' --url (a server base URL that may carry a path prefix).
// One rule serves both: a request target is appended to the URL's path, and an empty target
// is the URL's path itself.
#pragma once

#include <string>
#include <string_view>

namespace parley::net::client {

struct http_url {
  std::string host;            // IPv6 addresses without their brackets
  std::string port = "80";
  bool explicit_port = false;  // the URL wrote a port (the Host header carries it then)
  std::string path;            // path and query as written, "" when none; no fragment
};

// Parses "http://host[:port][/path][?query][#fragment]". False with `error` set for anything
// else: another scheme (https included), user info, a bad port, or a space or control character
// anywhere (it would end up in the request line or the Host header).
bool parse_http_url(std::string_view text, http_url& out, std::string& error);

// The request target of `target` ("" or starting with '/') under `url`: the URL's path with
// its trailing slashes dropped, then `target`; for an empty `target` the URL's path ("/" when
// it has none). "http://h/prefix/" and "/api/v1/x" give "/prefix/api/v1/x".
std::string request_target(const http_url& url, std::string_view target);

// The Host header: the host as the URL wrote it, with its port if it wrote one (RFC 9110 7.2).
std::string host_header(const http_url& url);

// Percent-encodes one path segment (everything but unreserved characters).
std::string url_encode_segment(std::string_view segment);

} // namespace parley::net::client
