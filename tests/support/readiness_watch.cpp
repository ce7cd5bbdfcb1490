#include "support/readiness_watch.hpp"

#include "support/test_client.hpp"

#include <exception>

namespace parley::test {

readiness_watch::readiness_watch(std::vector<std::pair<std::string, uint16_t>> nodes,
                                 std::chrono::milliseconds every)
  : nodes_(std::move(nodes)), every_(every) {
  thread_ = std::thread{[this] {
    while (!stopping_) {
      for (auto& [host, port] : nodes_) {
        std::string answer;
        try {  // a refused connection is an exception of the blocking client
          auto status = http_call(host, port, "GET", "/readyz").status;
          if (status != 200)
            answer = "answered " + std::to_string(status);
        } catch (const std::exception& e) {
          answer = std::string{"failed: "} + e.what();
        }
        ++polls_;
        if (!answer.empty()) {
          std::lock_guard<std::mutex> guard{mutex_};
          not_ready_.push_back(host + ":" + std::to_string(port) + " " + answer);
        }
      }
      std::this_thread::sleep_for(every_);
    }
  }};
}

readiness_watch::~readiness_watch() {
  stop();
}

void readiness_watch::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

std::vector<std::string> readiness_watch::not_ready() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return not_ready_;
}

} // namespace parley::test
