// A scripted HTTP server on 127.0.0.1 for client tests: accepts one connection, reads one
// request (headers and a Content-Length body) and writes a canned answer, possibly in parts
// with pauses between them (a streamed body), then closes.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

class one_shot_server {
public:
  // Answers `answer` whole; an empty answer sends nothing (the client must time out).
  explicit one_shot_server(std::string answer);
  // Writes `parts` in order, waiting `pause` before each part after the first.
  one_shot_server(std::vector<std::string> parts, std::chrono::milliseconds pause);
  // A test that failed before connecting leaves the accept waiting: connects once to end it.
  ~one_shot_server();
  one_shot_server(const one_shot_server&) = delete;
  one_shot_server& operator=(const one_shot_server&) = delete;

  std::string port() const;
  // "http://127.0.0.1:<port>".
  std::string url() const;

  // The request as received; waits for the server to be done.
  std::string request();

private:
  void serve();

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::string> parts_;
  std::chrono::milliseconds pause_;
  std::string request_;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

// A complete 200 answer carrying `body` (Content-Length, Connection: close).
std::string http_answer(const std::string& body, int status = 200);

// The parts of a chunked 200 answer: the header with the first chunk, one part per further
// chunk, and the last-chunk marker in the last part.
std::vector<std::string> chunked_answer(const std::vector<std::string>& chunks);

} // namespace parley::test
