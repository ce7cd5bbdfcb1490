// The one outbound HTTP client against a real socket on loopback: targets under a base path,
// extra headers, cut bodies, the allow list checked on the resolved addresses, the deadline.
#include "net/client/http_client.hpp"
#include "net/http_allow.hpp"

#include <boost/asio.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace parley::net;
using namespace parley::net::client;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Accepts one connection on 127.0.0.1, reads one request (headers and a Content-Length body)
// and answers `answer` (nothing when empty: the client must time out), then closes.
class one_shot_server {
public:
  explicit one_shot_server(std::string answer)
    : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
      thread_([this, answer = std::move(answer)] { serve(answer); }) {}

  // A test that failed before connecting leaves the accept waiting: connect once to end it.
  ~one_shot_server() {
    if (!accepted_) {
      boost::system::error_code ignored;
      tcp::socket wake{ioc_};
      wake.connect(acceptor_.local_endpoint(), ignored);
    }
    if (thread_.joinable())
      thread_.join();
  }

  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

  // The request as received; waits for the server to be done.
  std::string request() {
    thread_.join();
    return request_;
  }

private:
  void serve(const std::string& answer) {
    boost::system::error_code ec;
    tcp::socket sock{ioc_};
    acceptor_.accept(sock, ec);
    accepted_ = true;
    if (ec)
      return;
    std::string in;
    char buf[4096];
    size_t want = std::string::npos;
    while (want == std::string::npos || in.size() < want) {
      auto n = sock.read_some(boost::asio::buffer(buf), ec);
      if (ec)
        break;
      in.append(buf, n);
      auto end = in.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        auto at = in.find("Content-Length: ");
        size_t length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
        want = end + 4 + length;
      }
    }
    request_ = in;
    if (answer.empty()) {
      std::this_thread::sleep_for(1500ms);
      return;
    }
    boost::asio::write(sock, boost::asio::buffer(answer), ec);
    sock.shutdown(tcp::socket::shutdown_both, ec);
  }

  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::string request_;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

std::string answer(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size())
         + "\r\nConnection: close\r\n\r\n" + body;
}

// 127.0.0.1 at `port`, asking for `path` (parse_http_url is tested in url_test.cpp).
http_url loopback(const std::string& port, const std::string& path = "") {
  return http_url{"127.0.0.1", port, true, path};
}

} // namespace

TEST_CASE("a request goes to the target under the base path, with the extra headers") {
  one_shot_server server{answer("{\"ok\":true}")};
  http_client_options opts;
  opts.token = "t0k";
  http_client client{loopback(server.port(), "/prefix/"), opts};
  http_request req;
  req.target = "/api/v1/x";
  req.body = "{}";
  req.headers = {{"X-Parley-Task-Id", "42"}};
  auto res = client.request(req);
  INFO(res.describe());
  CHECK(res.success());
  CHECK(res.body == "{\"ok\":true}");
  auto seen = server.request();
  CHECK(seen.rfind("POST /prefix/api/v1/x HTTP/1.1\r\n", 0) == 0);
  CHECK(seen.find("\r\nHost: 127.0.0.1:" + server.port() + "\r\n") != std::string::npos);
  CHECK(seen.find("\r\nAuthorization: Bearer t0k\r\n") != std::string::npos);
  CHECK(seen.find("\r\nX-Parley-Task-Id: 42\r\n") != std::string::npos);
  CHECK(seen.find("\r\nUser-Agent: parley-tools\r\n") != std::string::npos);
}

TEST_CASE("an empty target asks for the URL itself") {
  one_shot_server server{answer("")};
  http_client client{loopback(server.port(), "/hook?a=1"), {}};
  http_request req;
  CHECK(client.request(req).status == 200);
  CHECK(server.request().rfind("POST /hook?a=1 HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE("a body over the limit is an answer all the same, cut there") {
  one_shot_server server{answer(std::string(5000, 'x'))};
  http_client_options opts;
  opts.body_limit_bytes = 100;
  http_client client{loopback(server.port()), opts};
  auto res = client.get("/big");
  CHECK(res.status == 200);
  CHECK(res.body_cut);
  CHECK(res.body.size() <= 100);
}

TEST_CASE("the allow list is checked on the resolved addresses before any connection") {
  one_shot_server server{answer("")};
  std::string error;
  auto names_only = http_allow_list::parse({"localhost"}, error);
  REQUIRE(names_only);
  http_client_options opts;
  opts.allow = &*names_only;
  auto named = loopback(server.port());
  named.host = "localhost";
  http_client refused{named, opts};
  auto res = refused.get("/");
  CHECK(res.refused);
  CHECK(res.error.find("loopback") != std::string::npos);
  // The address itself admits it.
  auto address = http_allow_list::parse({"127.0.0.1"}, error);
  REQUIRE(address);
  opts.allow = &*address;
  http_client admitted{loopback(server.port()), opts};
  CHECK(admitted.get("/").status == 200);
}

TEST_CASE("a silent server runs into the request's deadline") {
  one_shot_server server{""};
  http_client client{loopback(server.port()), {}};
  auto started = std::chrono::steady_clock::now();
  auto res = client.post("/", "{}", 300ms);
  CHECK(res.timed_out);
  CHECK(res.error == "read: timed out");
  CHECK(std::chrono::steady_clock::now() - started < 1200ms);
}
