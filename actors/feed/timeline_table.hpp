// The materialized feeds of active users: per user, the newest post ids of followed authors that
// were fanned out (at most feed.max_items) and when the user last read. A user with no timeline,
// or whose last read is older than the active window, is inactive: fan-out skips them and their
// feed actor rebuilds the timeline from the store before answering (docs/feed.md).
//
// Fan-out workers insert here directly under a shard lock instead of sending one actor message
// per follower: an insert is a few dozen nanoseconds, a message several hundred. The user's feed
// actor is the only reader and the only one that creates or rebuilds a timeline.
#pragma once

#include "common/sharded_map.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace parley::feed {

// One feed entry: a post id (20 characters, common/time_ordered_id.hpp) and its creation time.
struct timeline_entry {
  int64_t created_ms = 0;
  std::array<char, 20> id{};

  static timeline_entry make(std::string_view post_id, int64_t created_ms);
  std::string post_id() const { return std::string{id.data(), id.size()}; }
  // Newest first: later creation, then the larger id.
  bool newer_than(const timeline_entry& other) const {
    return created_ms != other.created_ms ? created_ms > other.created_ms : id > other.id;
  }
  bool operator==(const timeline_entry& other) const { return id == other.id; }
};

class timeline_table {
public:
  enum class insert_result { inserted, inactive, duplicate };

  // Fan-out: adds `e` to the user's timeline if the user is active (read at or after
  // `active_since_ms`), keeping the newest `cap` entries. An expired timeline is dropped.
  insert_result insert(const std::string& user, const timeline_entry& e, int64_t active_since_ms,
                       size_t cap);

  // The reader's entries, newest first, and marks the user active at `now_ms`; false (and
  // nothing copied) when the user has no timeline or it expired.
  bool read(const std::string& user, int64_t now_ms, int64_t active_since_ms,
            std::vector<timeline_entry>& out);

  // Starts a rebuild: an empty timeline, active from `now_ms`, that fan-out fills while the
  // feed actor reads the store; merge() then adds what the store had.
  void open(const std::string& user, int64_t now_ms);

  // Adds entries (any order, duplicates ignored), keeping the newest `cap`.
  void merge(const std::string& user, const std::vector<timeline_entry>& entries, size_t cap);

  bool contains(const std::string& user);
  // Forgets the user's timeline: their next read rebuilds it (after an unfollow, so that the
  // author's entries stop taking slots).
  void drop(const std::string& user);

  // Drops timelines not read since `active_since_ms`; answers how many.
  size_t evict_inactive(int64_t active_since_ms);

  size_t size() const;

private:
  struct timeline {
    std::deque<timeline_entry> entries;  // oldest first
    int64_t last_read_ms = 0;
  };
  sharded_map<std::string, timeline> users_{64};
};

} // namespace parley::feed
