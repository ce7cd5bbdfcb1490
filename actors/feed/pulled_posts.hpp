// The pulled posts (not fanned out) among the newest feed.posts_per_author posts of pulled
// authors, which every feed read of their followers merges: kept in memory so that a read of a
// feed with 20 celebrities costs 20 hash lookups rather than 20 storage scans. The author's post
// shard invalidates a pulled author after each durable create or delete of any of their posts; a reader that missed loads from the store and keeps
// the result only if no invalidation happened meanwhile (generation check), so a racing create
// is never hidden.
#pragma once

#include "actors/feed/timeline_table.hpp"
#include "common/sharded_map.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::feed {

using post_list = std::shared_ptr<const std::vector<timeline_entry>>;

class pulled_posts {
public:
  // The cached list (null on a miss) and the generation to pass to fill().
  std::pair<post_list, uint64_t> find(const std::string& author) {
    return authors_.with(author, [&](auto& s) {
      auto& slot = s.map[author];
      return std::pair{slot.posts, slot.generation};
    });
  }
  // Keeps `posts` loaded by a reader unless the author changed since find().
  void fill(const std::string& author, uint64_t generation, post_list posts) {
    authors_.with(author, [&](auto& s) {
      auto& slot = s.map[author];
      if (slot.generation == generation)
        slot.posts = std::move(posts);
    });
  }
  // A pulled post of `author` was created or deleted.
  void invalidate(const std::string& author) {
    authors_.with(author, [&](auto& s) {
      auto& slot = s.map[author];
      slot.posts = nullptr;
      ++slot.generation;
    });
  }

private:
  struct slot {
    post_list posts;
    uint64_t generation = 0;
  };

  sharded_map<std::string, slot> authors_{16};
};

} // namespace parley::feed
