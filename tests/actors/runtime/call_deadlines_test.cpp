#include "actors/runtime/call_deadlines.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace parley::runtime;
using namespace std::chrono_literals;

namespace {

using time_point = call_deadlines::time_point;

const time_point t0{};

} // namespace

TEST_CASE("a call answered in time counts once, and its deadline never fires") {
  call_deadlines deadlines{30s};
  std::vector<std::string> expired;
  auto ticket = deadlines.open(t0, [&] { expired.push_back("a"); });
  CHECK(deadlines.next_deadline() == t0 + 30s);
  CHECK(deadlines.close(ticket));
  CHECK_FALSE(deadlines.close(ticket));  // a second answer does not count
  CHECK_FALSE(deadlines.expire(t0 + 60s));
  CHECK(expired.empty());
  CHECK(deadlines.open_calls() == 0);
}

TEST_CASE("calls past their deadline expire oldest first, and their late answers do not count") {
  call_deadlines deadlines{30s};
  std::vector<std::string> expired;
  auto a = deadlines.open(t0, [&] { expired.push_back("a"); });
  auto b = deadlines.open(t0 + 10s, [&] { expired.push_back("b"); });
  auto c = deadlines.open(t0 + 20s, [&] { expired.push_back("c"); });
  CHECK(deadlines.expire(t0 + 29s) == t0 + 30s);  // nothing due yet
  CHECK(expired.empty());
  CHECK(deadlines.close(b));
  CHECK(deadlines.expire(t0 + 50s) == std::nullopt);
  CHECK(expired == std::vector<std::string>{"a", "c"});
  CHECK_FALSE(deadlines.close(a));
  CHECK_FALSE(deadlines.close(c));
}

TEST_CASE("a call opened by an expiry is due a whole timeout later") {
  call_deadlines deadlines{30s};
  int retries = 0;
  std::function<void()> retry = [&] {
    ++retries;
    deadlines.open(t0 + 30s, retry);
  };
  deadlines.open(t0, retry);
  CHECK(deadlines.expire(t0 + 30s) == t0 + 60s);
  CHECK(retries == 1);
  CHECK(deadlines.open_calls() == 1);
}

TEST_CASE("gated calls its function with the same arguments only while the gate says yes") {
  bool open = true;
  int sum = 0;
  auto f = gated([&] { return open; },
                 [&](const int& x, std::string& s) { sum += x + static_cast<int>(s.size()); });
  std::string two = "ab";
  f(1, two);
  open = false;
  f(100, two);
  CHECK(sum == 3);
}
