// Rate-limiter micro-benchmark (Google Benchmark): the cost of one check of an existing key,
// per algorithm, with 1,000,000 distinct keys, on 1 and 2 threads. Goal: under 100 ns.
//   build/bench/limiter_bench [--benchmark_min_time=1]   (PARLEY_BENCH_KEYS=10000 for cached keys)
#include "actors/limits/limiter.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

using namespace parley::limits;

namespace {

// Distinct keys: 1,000,000 (the issue's figure) unless PARLEY_BENCH_KEYS says otherwise (a
// small count shows the cost without cache misses).
const size_t key_count = [] {
  auto* env = std::getenv("PARLEY_BENCH_KEYS");
  return env ? std::strtoull(env, nullptr, 10) : size_t{1'000'000};
}();

// Key number i as text ("user-" and 8 hex digits of i * 7919), written into `buf`.
std::string_view key_text(size_t i, char (&buf)[32]) {
  static constexpr char hex[] = "0123456789abcdef";
  std::memcpy(buf, "user-", 5);
  auto v = i * 7919;
  for (int d = 7; d >= 0; --d, v >>= 4)
    buf[5 + d] = hex[v & 15];
  return {buf, 13};
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

limit_params params_for(algorithm algo) {
  limit_params p;
  p.algo = algo;
  if (algo == algorithm::token_bucket) {
    p.limit = 1'000'000;
    p.refill_per_ms = 1000.0;
    p.window_ms = 1000;
  } else {
    // High limits: every check is admitted, the common case the hot path must make cheap (a
    // sliding log at its limit would cost a ring entry per admitted request, not a lookup).
    p.limit = algo == algorithm::sliding_log ? 64 : 1'000'000;
    p.window_ms = algo == algorithm::sliding_log ? 1 : 60'000;
  }
  return p;
}

// One table per algorithm, shared by the benchmark's threads and filled with every key once
// before any timing (a function-local static: built exactly once, whichever thread asks).
limiter_table& filled_table(algorithm algo) {
  // Never destroyed: the metrics registry they report to may be gone at exit.
  static std::array<limiter_table*, 4> tables;
  static std::array<std::once_flag, 4> once;
  auto idx = static_cast<size_t>(algo);
  std::call_once(once[idx], [&] {
    auto p = params_for(algo);
    tables[idx] = new limiter_table(2 * key_count, p);
    verdict v;
    auto now = now_ms();
    char buf[32];
    for (size_t i = 0; i < key_count; ++i)
      tables[idx]->check(key_text(i, buf), p, now, 1, v);
  });
  return *tables[idx];
}

void check_existing_key(benchmark::State& state, algorithm algo) {
  auto p = params_for(algo);
  auto& table = filled_table(algo);
  // Threads walk the keys with different strides so they rarely meet on one shard.
  size_t i = static_cast<size_t>(state.thread_index()) * 104729;
  auto now = now_ms();
  verdict v;
  size_t n = 0;
  char buf[32];
  for (auto _ : state) {
    // The key is formatted in place, as a request's key sits in its (cached) request buffer;
    // reading it from a 1M-entry vector would add a cache miss the real path does not have.
    table.check(key_text(i, buf), p, now, 1, v);
    benchmark::DoNotOptimize(v);
    i += 15485863;
    if (i >= key_count)
      i %= key_count;
    if ((++n & 0xfff) == 0)
      now = now_ms();  // the clock read is amortized, as a caller's per-request clock is
  }
  state.SetItemsProcessed(state.iterations());
}

// The whole inline path of a WebSocket frame: rule set load, rule match, key, table, verdict.
rate_limiter& filled_limiter() {
  static rate_limiter* limiter = [] {
    auto* l = new rate_limiter(limiter_options{2 * key_count, {}});
    rule_set set;
    auto err = parse_rules_toml(R"([[rules]]
name = "send"
match = { frame = "send" }
key = "connection"
algorithm = "sliding_window"
limit = 1000000
window_sec = 60
)", "bench", set);
    if (err) {  // a benchmark of an empty rule set would measure nothing
      std::fprintf(stderr, "limiter_bench: bad rules: %s\n", err.message.c_str());
      std::exit(2);
    }
    l->replace(std::move(set));
    subject s;
    char buf[32];
    for (size_t i = 0; i < key_count; ++i) {
      s.connection = key_text(i, buf);
      l->check_frame("send", s);
    }
    return l;
  }();
  return *limiter;
}

void frame_check_full_path(benchmark::State& state) {
  auto& limiter = filled_limiter();
  size_t i = static_cast<size_t>(state.thread_index()) * 104729;
  subject s;
  char buf[32];
  for (auto _ : state) {
    s.connection = key_text(i, buf);
    benchmark::DoNotOptimize(limiter.check_frame("send", s));
    i += 15485863;
    if (i >= key_count)
      i %= key_count;
  }
  state.SetItemsProcessed(state.iterations());
}

// Key numbers in a Zipf(1.0) order over all keys: a few keys take most checks, as real traffic's
// users and addresses do. Built once; walked in order (4 MB, prefetch-friendly).
const std::vector<uint32_t>& zipf_order() {
  static const std::vector<uint32_t> order = [] {
    std::vector<double> cdf(key_count);
    double sum = 0;
    for (size_t k = 0; k < key_count; ++k)
      cdf[k] = (sum += 1.0 / static_cast<double>(k + 1));
    std::mt19937_64 rng{42};
    std::uniform_real_distribution<double> unit{0.0, sum};
    std::vector<uint32_t> out(key_count);
    for (auto& v : out)
      v = static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), unit(rng)) - cdf.begin());
    return out;
  }();
  return order;
}

// The same check with keys drawn from the Zipf order instead of uniformly.
void check_zipf_key(benchmark::State& state, algorithm algo) {
  auto p = params_for(algo);
  auto& table = filled_table(algo);
  auto& order = zipf_order();
  size_t i = static_cast<size_t>(state.thread_index()) * 104729 % key_count;
  auto now = now_ms();
  verdict v;
  char buf[32];
  for (auto _ : state) {
    table.check(key_text(order[i], buf), p, now, 1, v);
    benchmark::DoNotOptimize(v);
    if (++i == key_count)
      i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

} // namespace

BENCHMARK_CAPTURE(check_zipf_key, sliding_window, algorithm::sliding_window)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(check_zipf_key, token_bucket, algorithm::token_bucket)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(check_existing_key, fixed_window, algorithm::fixed_window)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(check_existing_key, sliding_log, algorithm::sliding_log)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(check_existing_key, sliding_window, algorithm::sliding_window)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(check_existing_key, token_bucket, algorithm::token_bucket)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(frame_check_full_path)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
