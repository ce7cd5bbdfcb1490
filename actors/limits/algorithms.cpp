#include "actors/limits/algorithms.hpp"

#include <algorithm>
#include <cmath>

namespace parley::limits {

namespace {

constexpr std::string_view names[] = {"fixed_window", "sliding_log", "sliding_window",
                                      "token_bucket"};

int64_t window_start_of(int64_t now_ms, int64_t window_ms) {
  return now_ms - now_ms % window_ms;
}

verdict fixed_window(key_state& s, const limit_params& p, int64_t now, int64_t cost) {
  auto start = window_start_of(now, p.window_ms);
  if (start != s.window_start) {
    s.window_start = start;
    s.count = 0;
  }
  verdict v;
  v.limit = p.limit;
  v.reset_ms = start + p.window_ms;
  v.allowed = s.count + cost <= p.limit;
  if (v.allowed)
    s.count += cost;
  else
    v.retry_after_ms = v.reset_ms - now;
  v.remaining = std::max<int64_t>(0, p.limit - s.count);
  return v;
}

// The ring of the sliding log, oldest entry at `head`.
void log_pop_front(log_ring& s) {
  s.logged -= s.ring[s.head].cost;
  s.head = static_cast<uint32_t>((s.head + 1) % s.ring.size());
  --s.size;
}

void log_push(log_ring& s, int64_t at, int64_t cost) {
  if (s.size == s.ring.size()) {
    // Grow, unrolling the ring so the oldest entry is first again. Amortized: the ring only
    // grows while a key's traffic grows, up to `limit` entries.
    std::vector<log_ring::entry> grown;
    grown.reserve(std::max<size_t>(4, s.ring.size() * 2));
    for (uint32_t i = 0; i < s.size; ++i)
      grown.push_back(s.ring[(s.head + i) % s.ring.size()]);
    grown.resize(grown.capacity());
    s.ring = std::move(grown);
    s.head = 0;
  }
  s.ring[(s.head + s.size) % s.ring.size()] = {at, cost};
  ++s.size;
  s.logged += cost;
}

verdict sliding_log(key_state& st, const limit_params& p, int64_t now, int64_t cost) {
  if (!st.log)
    st.log = std::make_unique<log_ring>();
  auto& s = *st.log;
  while (s.size > 0 && s.ring[s.head].at <= now - p.window_ms)
    log_pop_front(s);
  verdict v;
  v.limit = p.limit;
  v.allowed = s.logged + cost <= p.limit;
  if (v.allowed)
    log_push(s, now, cost);
  if (!v.allowed) {
    // Wait until enough of the oldest entries leave the window.
    int64_t excess = s.logged + cost - p.limit;
    int64_t freed = 0;
    for (uint32_t i = 0; i < s.size; ++i) {
      auto& e = s.ring[(s.head + i) % s.ring.size()];
      freed += e.cost;
      if (freed >= excess) {
        v.retry_after_ms = std::max<int64_t>(1, e.at + p.window_ms - now);
        break;
      }
    }
    if (v.retry_after_ms == 0)  // cost above the limit: never, report a full window
      v.retry_after_ms = p.window_ms;
  }
  v.remaining = std::max<int64_t>(0, p.limit - s.logged);
  v.reset_ms = s.size > 0 ? s.ring[(s.head + s.size - 1) % s.ring.size()].at + p.window_ms : now;
  return v;
}

verdict sliding_window(key_state& s, const limit_params& p, int64_t now, int64_t cost) {
  auto start = window_start_of(now, p.window_ms);
  if (start != s.window_start) {
    // One window later the current count becomes the previous one; later still, both are 0.
    s.prev_count = start - s.window_start == p.window_ms ? s.count : 0;
    s.count = 0;
    s.window_start = start;
  }
  auto elapsed = now - start;
  double weight = static_cast<double>(p.window_ms - elapsed) / static_cast<double>(p.window_ms);
  double estimated = static_cast<double>(s.prev_count) * weight + static_cast<double>(s.count);
  verdict v;
  v.limit = p.limit;
  v.allowed = estimated + static_cast<double>(cost) <= static_cast<double>(p.limit);
  if (v.allowed) {
    s.count += cost;
    estimated += static_cast<double>(cost);
  } else {
    // Find the first moment the estimate leaves room for `cost`: later in this window as the
    // previous window's weight decays, or in the next one with this window's count as weight.
    double room = static_cast<double>(p.limit - s.count - cost);
    double wait;
    if (room >= 0 && s.prev_count > 0)
      wait = static_cast<double>(p.window_ms) * (1.0 - room / static_cast<double>(s.prev_count))
             - static_cast<double>(elapsed);
    else {
      double next_room = static_cast<double>(p.limit - cost);
      double into_next =
        s.count > 0 && next_room >= 0
          ? static_cast<double>(p.window_ms) * (1.0 - next_room / static_cast<double>(s.count))
          : 0.0;
      if (next_room < 0)
        into_next = static_cast<double>(p.window_ms);
      wait = static_cast<double>(p.window_ms - elapsed) + std::max(0.0, into_next);
    }
    v.retry_after_ms = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)));
  }
  v.remaining = std::max<int64_t>(0, p.limit - static_cast<int64_t>(std::ceil(estimated)));
  v.reset_ms = start + p.window_ms;
  return v;
}

verdict token_bucket(key_state& s, const limit_params& p, int64_t now, int64_t cost) {
  auto capacity = static_cast<double>(p.limit);
  if (s.last_ms == 0)
    s.tokens = capacity;
  else if (now > s.last_ms)
    s.tokens = std::min(capacity, s.tokens + static_cast<double>(now - s.last_ms) * p.refill_per_ms);
  verdict v;
  v.limit = p.limit;
  v.allowed = s.tokens >= static_cast<double>(cost);
  if (v.allowed)
    s.tokens -= static_cast<double>(cost);
  else if (static_cast<double>(cost) > capacity)
    v.retry_after_ms = static_cast<int64_t>(std::ceil(capacity / p.refill_per_ms));
  else
    v.retry_after_ms = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil((static_cast<double>(cost) - s.tokens) / p.refill_per_ms)));
  v.remaining = static_cast<int64_t>(std::floor(s.tokens));
  v.reset_ms = now + static_cast<int64_t>(std::ceil((capacity - s.tokens) / p.refill_per_ms));
  return v;
}

} // namespace

std::string_view to_string(algorithm a) {
  return names[static_cast<size_t>(a)];
}

bool parse_algorithm(std::string_view name, algorithm& out) {
  for (size_t i = 0; i < std::size(names); ++i)
    if (names[i] == name) {
      out = static_cast<algorithm>(i);
      return true;
    }
  return false;
}

verdict check(key_state& s, const limit_params& p, int64_t now_ms, int64_t cost) {
  verdict v;
  switch (p.algo) {
    case algorithm::fixed_window:
      v = fixed_window(s, p, now_ms, cost);
      break;
    case algorithm::sliding_log:
      v = sliding_log(s, p, now_ms, cost);
      break;
    case algorithm::sliding_window:
      v = sliding_window(s, p, now_ms, cost);
      break;
    case algorithm::token_bucket:
      v = token_bucket(s, p, now_ms, cost);
      break;
  }
  s.last_ms = now_ms;
  return v;
}

bool idle(const key_state& s, const limit_params& p, int64_t now_ms) {
  switch (p.algo) {
    case algorithm::fixed_window:
      return now_ms >= s.window_start + p.window_ms;
    case algorithm::sliding_window:
      return now_ms >= s.window_start + 2 * p.window_ms;
    case algorithm::sliding_log:
      return !s.log || s.log->size == 0 || now_ms >= s.last_ms + p.window_ms;
    case algorithm::token_bucket:
      return now_ms >= s.last_ms + p.window_ms;  // refilled to capacity: same as a new key
  }
  return true;
}

} // namespace parley::limits
