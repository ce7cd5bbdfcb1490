#include "actors/links/click_queue.hpp"

#include "common/metrics.hpp"

namespace parley::links {

namespace {

metrics::counter& dropped() {
  static auto& c = metrics::global().get_counter(
    "links_clicks_dropped_total", "Clicks not counted because the analytics queue was full");
  return c;
}

} // namespace

click_queue::click_queue(size_t capacity) : capacity_(capacity) {
  items_.reserve(std::min<size_t>(capacity, 4096));
}

bool click_queue::push(click c) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (items_.size() < capacity_) {
      items_.push_back(std::move(c));
      return true;
    }
  }
  dropped().inc();
  return false;
}

std::vector<click> click_queue::take() {
  std::vector<click> out;
  out.reserve(std::min<size_t>(capacity_, 4096));
  std::lock_guard<std::mutex> guard{mtx_};
  out.swap(items_);
  return out;
}

} // namespace parley::links
