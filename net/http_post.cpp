#include "net/http_post.hpp"

#include "common/utf8.hpp"
#include "net/beast.hpp"
#include "net/http_allow.hpp"

namespace parley::net {

namespace {

// Responses larger than this are not read further; what was read counts, cut to max_body.
constexpr size_t max_body_read = 1 << 20;

struct target {
  std::string host, port, path;
  bool explicit_port = false;
};

bool parse_http_url(const std::string& url, target& out) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return false;
  // Spaces and control characters would end up in the request line or Host header.
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f)
      return false;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find_first_of("/?#");
  auto authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!out.path.empty() && out.path.front() != '/')
    out.path = "/" + out.path;
  if (auto hash = out.path.find('#'); hash != std::string::npos)
    out.path.resize(hash);
  if (authority.empty() || authority.find('@') != std::string::npos)
    return false;
  auto bracket = authority.find(']');
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
    out.explicit_port = true;
  } else {
    out.host = authority;
    out.port = "80";
  }
  if (out.port.empty() || out.port.size() > 5
      || out.port.find_first_not_of("0123456789") != std::string::npos
      || std::stoi(out.port) == 0 || std::stoi(out.port) > 65535)
    return false;
  if (!out.host.empty() && out.host.front() == '[') {
    if (out.host.back() != ']')
      return false;
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return !out.host.empty();
}

// The Host header: the authority as the URL wrote it, port included (RFC 9110 7.2).
std::string host_header(const target& t) {
  auto host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  return t.explicit_port ? host + ":" + t.port : host;
}

} // namespace

post_result http_post(const std::string& url, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const post_options& opts) {
  post_result out;
  target t;
  if (!parse_http_url(url, t)) {
    out.url_valid = false;
    out.error = "url must be http://host[:port]/path (got \"" + valid_utf8(url, 300) + "\")";
    return out;
  }
  if (opts.allow && opts.allow->empty()) {
    out.url_valid = false;
    out.error = "http tasks are disabled: tasks.http_allow is empty";
    return out;
  }
  auto timeout = opts.timeout;
  asio::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::verb::post, t.path, 11};
  req.set(http::field::host, host_header(t));
  req.set(http::field::user_agent, "parley-task-executor");
  req.set(http::field::content_type, "application/json");
  for (auto& [name, value] : headers)
    req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_read);
  beast::error_code failure;
  bool answered = false;
  auto fail = [&](beast::error_code ec) { failure = ec; };
  auto keep_answer = [&] {
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body().substr(0, opts.max_body);
    answered = true;
  };
  std::vector<tcp::endpoint> checked;
  stream.expires_after(timeout);
  resolver.async_resolve(t.host, t.port, [&](beast::error_code ec,
                                             tcp::resolver::results_type results) {
    if (ec)
      return fail(ec);
    // Every address the name has must pass: a name that mixes public and inner addresses is
    // refused whole, and the connection goes only to what was checked here.
    for (auto& entry : results) {
      auto ep = entry.endpoint();
      if (opts.allow) {
        auto why = opts.allow->refusal(t.host, ep.address());
        if (!why.empty()) {
          out.url_valid = false;
          out.error = std::move(why);
          return;
        }
      }
      checked.push_back(ep);
    }
    stream.async_connect(checked, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec)
        return fail(ec);
      http::async_write(stream, req, [&](beast::error_code ec, size_t) {
        if (ec)
          return fail(ec);
        http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
          if (ec == http::error::body_limit && parser.is_header_done())
            return keep_answer();  // an answer all the same; its body is cut anyway
          if (ec)
            return fail(ec);
          keep_answer();
        });
      });
    });
  });
  ioc.run_for(timeout + std::chrono::milliseconds{100});
  if (!out.url_valid)
    return out;
  if (failure == beast::error::timeout || (!answered && !failure))
    out.error = "timed out after " + std::to_string(timeout.count()) + " ms";
  else if (failure)
    out.error = valid_utf8(failure.message(), 500);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

} // namespace parley::net
