#include "support/one_shot_server.hpp"

#include <sstream>

namespace parley::test {

using boost::asio::ip::tcp;

one_shot_server::one_shot_server(std::string answer)
  : one_shot_server(std::vector<std::string>{std::move(answer)}, std::chrono::milliseconds{0}) {}

one_shot_server::one_shot_server(std::vector<std::string> parts, std::chrono::milliseconds pause)
  : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
    parts_(std::move(parts)),
    pause_(pause),
    thread_([this] { serve(); }) {}

one_shot_server::~one_shot_server() {
  if (!accepted_) {
    boost::system::error_code ignored;
    tcp::socket wake{ioc_};
    wake.connect(acceptor_.local_endpoint(), ignored);
  }
  if (thread_.joinable())
    thread_.join();
}

std::string one_shot_server::port() const {
  return std::to_string(acceptor_.local_endpoint().port());
}

std::string one_shot_server::url() const {
  return "http://127.0.0.1:" + port();
}

std::string one_shot_server::request() {
  if (thread_.joinable())
    thread_.join();
  return request_;
}

void one_shot_server::serve() {
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
  if (parts_.size() == 1 && parts_[0].empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds{1500});
    return;
  }
  for (size_t i = 0; i < parts_.size(); ++i) {
    if (i > 0)
      std::this_thread::sleep_for(pause_);
    boost::asio::write(sock, boost::asio::buffer(parts_[i]), ec);
    if (ec)
      return;
  }
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

std::string http_answer(const std::string& body, int status) {
  return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error")
         + "\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

std::vector<std::string> chunked_answer(const std::vector<std::string>& chunks) {
  auto chunk = [](const std::string& data) {
    std::ostringstream out;
    out << std::hex << data.size() << "\r\n" << data << "\r\n";
    return out.str();
  };
  std::vector<std::string> parts;
  std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  for (auto& c : chunks)
    parts.push_back((parts.empty() ? head : std::string{}) + chunk(c));
  if (parts.empty())
    parts.push_back(head);
  parts.back() += "0\r\n\r\n";
  return parts;
}

} // namespace parley::test
