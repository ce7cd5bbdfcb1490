// Authors with at least one post that was not fanned out (posted while at or above
// feed.celebrity_threshold). Readers merge the pulled posts among these authors' newest
// feed.posts_per_author posts at read time; the set only grows, so an author who drops below the
// threshold keeps their recent pulled posts in their followers' feeds.
// Read-mostly: a shared lock, written once per newly pulled author.
#pragma once

#include <shared_mutex>
#include <string>
#include <unordered_set>

namespace parley::feed {

class pulled_authors {
public:
  bool contains(const std::string& author) const {
    std::shared_lock guard{mtx_};
    return authors_.count(author) > 0;
  }
  // True when the author was not in the set yet.
  bool add(const std::string& author) {
    std::unique_lock guard{mtx_};
    return authors_.insert(author).second;
  }
  size_t size() const {
    std::shared_lock guard{mtx_};
    return authors_.size();
  }

private:
  mutable std::shared_mutex mtx_;
  std::unordered_set<std::string> authors_;
};

} // namespace parley::feed
