// Clicks on their way from the redirect path to the aggregator. Bounded: when full a click is
// dropped and counted (links_clicks_dropped_total), so a stalled aggregator never slows a
// redirect. The redirect holds the mutex for one push_back; the aggregator swaps the whole
// buffer out in O(1) and works on it outside the lock.
#pragma once

#include "actors/links/link_rules.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace parley::links {

struct click {
  std::string key;
  std::string referrer;    // host, "" for a direct visit
  int64_t at_ms = 0;
  std::string user_agent;  // classified by the aggregator (device_class)
};

class click_queue {
public:
  explicit click_queue(size_t capacity);

  // False (and the click counted as dropped) when the queue is full.
  bool push(click c);
  // Everything queued so far, oldest first.
  std::vector<click> take();

private:
  size_t capacity_;
  std::mutex mtx_;
  std::vector<click> items_;
};

} // namespace parley::links
