#include "actors/feed/timeline_table.hpp"

#include <algorithm>
#include <cstring>

namespace parley::feed {

namespace {

// Inserts keeping oldest-first order; false when the id is already there. Fan-out appends in
// creation order almost always, so the search runs from the back and stops at once.
bool insert_sorted(std::deque<timeline_entry>& entries, const timeline_entry& e) {
  auto pos = entries.end();
  while (pos != entries.begin()) {
    auto prev = std::prev(pos);
    if (*prev == e)
      return false;
    if (!prev->newer_than(e))
      break;
    pos = prev;
  }
  // Equal times with other ids may sit before pos: check them for the same id as well.
  for (auto it = pos; it != entries.begin();) {
    --it;
    if (it->created_ms != e.created_ms)
      break;
    if (*it == e)
      return false;
  }
  entries.insert(pos, e);
  return true;
}

void trim(std::deque<timeline_entry>& entries, size_t cap) {
  while (entries.size() > cap)
    entries.pop_front();
}

} // namespace

timeline_entry timeline_entry::make(std::string_view post_id, int64_t created_ms) {
  timeline_entry e;
  e.created_ms = created_ms;
  std::memcpy(e.id.data(), post_id.data(), std::min(post_id.size(), e.id.size()));
  return e;
}

timeline_table::insert_result timeline_table::insert(const std::string& user,
                                                     const timeline_entry& e,
                                                     int64_t active_since_ms, size_t cap) {
  return users_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    if (it == s.map.end())
      return insert_result::inactive;
    if (it->second.last_read_ms < active_since_ms) {
      s.map.erase(it);
      return insert_result::inactive;
    }
    auto& entries = it->second.entries;
    if (!insert_sorted(entries, e))
      return insert_result::duplicate;
    trim(entries, cap);
    return insert_result::inserted;
  });
}

bool timeline_table::read(const std::string& user, int64_t now_ms, int64_t active_since_ms,
                          std::vector<timeline_entry>& out) {
  return users_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    if (it == s.map.end() || it->second.last_read_ms < active_since_ms)
      return false;
    it->second.last_read_ms = now_ms;
    auto& entries = it->second.entries;
    out.assign(entries.rbegin(), entries.rend());
    return true;
  });
}

void timeline_table::open(const std::string& user, int64_t now_ms) {
  users_.with(user, [&](auto& s) {
    auto& t = s.map[user];
    t.entries.clear();
    t.last_read_ms = now_ms;
  });
}

void timeline_table::merge(const std::string& user, const std::vector<timeline_entry>& entries,
                           size_t cap) {
  users_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    if (it == s.map.end())
      return;
    auto& t = it->second.entries;
    std::vector<timeline_entry> all(t.begin(), t.end());
    all.insert(all.end(), entries.begin(), entries.end());
    std::sort(all.begin(), all.end(),
              [](const timeline_entry& a, const timeline_entry& b) { return b.newer_than(a); });
    all.erase(std::unique(all.begin(), all.end()), all.end());
    if (all.size() > cap)
      all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(cap));
    t.assign(all.begin(), all.end());
  });
}

bool timeline_table::contains(const std::string& user) {
  return users_.with(user, [&](auto& s) { return s.map.count(user) > 0; });
}

void timeline_table::drop(const std::string& user) {
  users_.with(user, [&](auto& s) { s.map.erase(user); });
}

size_t timeline_table::evict_inactive(int64_t active_since_ms) {
  size_t evicted = 0;
  users_.for_each_shard([&](auto& s) {
    for (auto it = s.map.begin(); it != s.map.end();) {
      if (it->second.last_read_ms < active_since_ms) {
        it = s.map.erase(it);
        ++evicted;
      } else {
        ++it;
      }
    }
  });
  return evicted;
}

size_t timeline_table::size() const {
  return users_.size();
}

} // namespace parley::feed
