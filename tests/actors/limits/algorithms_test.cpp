// Each algorithm against its definition, with a fake clock (unix ms passed explicitly).
#include "actors/limits/algorithms.hpp"

#include <catch2/catch.hpp>

using namespace parley::limits;

namespace {

constexpr int64_t t0 = 1'700'000'000'000;  // aligned to a 1 s and a 10 s window

limit_params windowed(algorithm a, int64_t limit, int64_t window_ms) {
  limit_params p;
  p.algo = a;
  p.limit = limit;
  p.window_ms = window_ms;
  return p;
}

limit_params bucket(int64_t capacity, double per_sec) {
  limit_params p;
  p.algo = algorithm::token_bucket;
  p.limit = capacity;
  p.refill_per_ms = per_sec / 1000.0;
  p.window_ms = static_cast<int64_t>(capacity / p.refill_per_ms);
  return p;
}

int admitted(key_state& s, const limit_params& p, int64_t at, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i)
    ok += check(s, p, at, 1).allowed ? 1 : 0;
  return ok;
}

} // namespace

TEST_CASE("fixed window admits limit per aligned window and resets at its end") {
  auto p = windowed(algorithm::fixed_window, 5, 1000);
  key_state s;
  CHECK(admitted(s, p, t0 + 100, 7) == 5);
  auto v = check(s, p, t0 + 400, 1);
  CHECK_FALSE(v.allowed);
  CHECK(v.remaining == 0);
  CHECK(v.reset_ms == t0 + 1000);
  CHECK(v.retry_after_ms == 600);
  // The edge burst the algorithm is known for: 5 at the end of one window, 5 at the start of
  // the next.
  CHECK(admitted(s, p, t0 + 1000, 5) == 5);
  auto fresh = check(s, p, t0 + 2500, 2);
  CHECK(fresh.allowed);
  CHECK(fresh.remaining == 3);
}

TEST_CASE("sliding log is exact: a request leaves the window exactly window_ms later") {
  auto p = windowed(algorithm::sliding_log, 3, 1000);
  key_state s;
  CHECK(check(s, p, t0 + 0, 1).allowed);
  CHECK(check(s, p, t0 + 300, 1).allowed);
  CHECK(check(s, p, t0 + 600, 1).allowed);
  auto denied = check(s, p, t0 + 900, 1);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.retry_after_ms == 100);  // the request of t0 leaves at t0 + 1000
  CHECK_FALSE(check(s, p, t0 + 999, 1).allowed);
  CHECK(check(s, p, t0 + 1000, 1).allowed);
  CHECK_FALSE(check(s, p, t0 + 1299, 1).allowed);
  CHECK(check(s, p, t0 + 1300, 1).allowed);
}

TEST_CASE("sliding log counts costs and grows its ring as traffic grows") {
  auto p = windowed(algorithm::sliding_log, 100, 1000);
  key_state s;
  CHECK(admitted(s, p, t0, 60) == 60);
  auto heavy = check(s, p, t0 + 10, 40);
  CHECK(heavy.allowed);
  CHECK(heavy.remaining == 0);
  auto v = check(s, p, t0 + 20, 5);
  CHECK_FALSE(v.allowed);
  CHECK(v.retry_after_ms == 980);
  CHECK(check(s, p, t0 + 1000, 50).allowed);  // the 60 single requests left together
}

TEST_CASE("sliding window weights the previous window by its overlap") {
  auto p = windowed(algorithm::sliding_window, 10, 1000);
  key_state s;
  CHECK(admitted(s, p, t0 + 500, 10) == 10);
  // 250 ms into the next window: estimate = 10 * 0.75 + 0 = 7.5, so 2 more fit (9.5), not 3.
  CHECK(admitted(s, p, t0 + 1250, 3) == 2);
  // At 600 ms the previous weighs 4 and the current holds 2: 4 more fit.
  CHECK(admitted(s, p, t0 + 1600, 5) == 4);
  // Two windows later everything has decayed.
  CHECK(admitted(s, p, t0 + 3000, 10) == 10);
}

TEST_CASE("sliding window tells when the decaying previous window leaves room") {
  auto p = windowed(algorithm::sliding_window, 10, 1000);
  key_state s;
  CHECK(admitted(s, p, t0 + 900, 10) == 10);
  auto v = check(s, p, t0 + 1000, 1);  // estimate 10: full
  CHECK_FALSE(v.allowed);
  // Room for one when 10 * (1 - e/1000) <= 9, at e = 100 ms.
  CHECK(v.retry_after_ms == 100);
  CHECK_FALSE(check(s, p, t0 + 1099, 1).allowed);
  CHECK(check(s, p, t0 + 1100, 1).allowed);
}

TEST_CASE("token bucket starts full, refills continuously and never exceeds capacity") {
  auto p = bucket(10, 5.0);  // 5 tokens per second
  key_state s;
  CHECK(admitted(s, p, t0, 12) == 10);
  auto v = check(s, p, t0, 1);
  CHECK_FALSE(v.allowed);
  CHECK(v.retry_after_ms == 200);
  CHECK(admitted(s, p, t0 + 200, 2) == 1);
  CHECK(admitted(s, p, t0 + 1200, 10) == 5);
  // A long pause refills to capacity, not beyond.
  CHECK(admitted(s, p, t0 + 60'000, 20) == 10);
  auto big = check(s, p, t0 + 60'000, 11);
  CHECK_FALSE(big.allowed);
}

TEST_CASE("idle states are the ones a fresh key would equal") {
  auto fw = windowed(algorithm::fixed_window, 5, 1000);
  key_state s;
  check(s, fw, t0 + 10, 1);
  CHECK_FALSE(idle(s, fw, t0 + 999));
  CHECK(idle(s, fw, t0 + 1000));
  auto tb = bucket(10, 10.0);
  key_state b;
  check(b, tb, t0, 10);
  CHECK_FALSE(idle(b, tb, t0 + 500));
  CHECK(idle(b, tb, t0 + 1000));
}

TEST_CASE("algorithm names parse and print") {
  for (auto name : {"fixed_window", "sliding_log", "sliding_window", "token_bucket"}) {
    algorithm a;
    REQUIRE(parse_algorithm(name, a));
    CHECK(to_string(a) == name);
  }
  algorithm a;
  CHECK_FALSE(parse_algorithm("leaky_bucket", a));
}
