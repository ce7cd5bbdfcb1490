#include "net/http_post.hpp"

#include "common/utf8.hpp"
#include "net/beast.hpp"

namespace parley::net {

namespace {

constexpr size_t max_body_kept = 4096;

struct target {
  std::string host, port, path;
};

bool parse_http_url(const std::string& url, target& out) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return false;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos)
    return false;
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  } else {
    out.host = authority;
    out.port = "80";
  }
  if (!out.host.empty() && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  return !out.host.empty() && !out.port.empty();
}

} // namespace

post_result http_post(const std::string& url, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout) {
  post_result out;
  target t;
  if (!parse_http_url(url, t)) {
    out.url_valid = false;
    out.error = "url must be http://host[:port]/path (got \"" + url + "\")";
    return out;
  }
  asio::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::verb::post, t.path, 11};
  req.set(http::field::host, t.host);
  req.set(http::field::user_agent, "parley-task-executor");
  req.set(http::field::content_type, "application/json");
  for (auto& [name, value] : headers)
    req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  beast::error_code failure;
  auto fail = [&](beast::error_code ec) { failure = ec; };
  stream.expires_after(timeout);
  resolver.async_resolve(t.host, t.port, [&](beast::error_code ec,
                                             tcp::resolver::results_type results) {
    if (ec)
      return fail(ec);
    stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec)
        return fail(ec);
      http::async_write(stream, req, [&](beast::error_code ec, size_t) {
        if (ec)
          return fail(ec);
        http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
          if (ec)
            return fail(ec);
          auto& res = parser.get();
          out.status = static_cast<int>(res.result_int());
          out.body = res.body().substr(0, max_body_kept);
        });
      });
    });
  });
  ioc.run_for(timeout + std::chrono::milliseconds{100});
  if (failure == beast::error::timeout || (out.status == 0 && !failure))
    out.error = "timed out after " + std::to_string(timeout.count()) + " ms";
  else if (failure)
    out.error = valid_utf8(failure.message(), 500);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

} // namespace parley::net
