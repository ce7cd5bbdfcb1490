#include "actors/feed/live_feeds.hpp"

#include <algorithm>
#include <functional>

namespace parley::feed {

live_feeds::shard& live_feeds::shard_of(const std::string& user) {
  return shards_[std::hash<std::string>{}(user) % shard_count];
}

bool live_feeds::subscribe(const std::string& user, const std::string& session_id,
                           std::weak_ptr<outbound_sink> sink) {
  auto& s = shard_of(user);
  std::lock_guard guard{s.mtx};
  auto& subs = s.users[user];
  for (auto& sub : subs)
    if (sub.session_id == session_id) {
      sub.sink = std::move(sink);
      return false;
    }
  subs.push_back(subscription{session_id, std::move(sink)});
  return subs.size() == 1;
}

bool live_feeds::subscribed(const std::string& user) {
  auto& s = shard_of(user);
  std::lock_guard guard{s.mtx};
  return s.users.count(user) > 0;
}

void live_feeds::watch(const std::string& author, const std::string& user) {
  std::lock_guard guard{watch_mtx_};
  watchers_[author].insert(user);
  watching_[user].insert(author);
}

void live_feeds::unwatch(const std::string& author, const std::string& user) {
  std::lock_guard guard{watch_mtx_};
  if (auto it = watchers_.find(author); it != watchers_.end()) {
    it->second.erase(user);
    if (it->second.empty())
      watchers_.erase(it);
  }
  if (auto it = watching_.find(user); it != watching_.end()) {
    it->second.erase(author);
    if (it->second.empty())
      watching_.erase(it);
  }
}

std::vector<std::string> live_feeds::watchers_of(const std::string& author) const {
  std::lock_guard guard{watch_mtx_};
  auto it = watchers_.find(author);
  if (it == watchers_.end())
    return {};
  return {it->second.begin(), it->second.end()};
}

void live_feeds::unsubscribe(const std::string& user, const std::string& session_id) {
  auto& s = shard_of(user);
  std::lock_guard guard{s.mtx};
  auto it = s.users.find(user);
  if (it == s.users.end())
    return;
  auto& subs = it->second;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const subscription& sub) { return sub.session_id == session_id; }),
             subs.end());
  if (!subs.empty())
    return;
  s.users.erase(it);
  std::lock_guard watch_guard{watch_mtx_};
  if (auto w = watching_.find(user); w != watching_.end()) {
    for (auto& author : w->second)
      if (auto a = watchers_.find(author); a != watchers_.end()) {
        a->second.erase(user);
        if (a->second.empty())
          watchers_.erase(a);
      }
    watching_.erase(w);
  }
}

std::vector<std::shared_ptr<outbound_sink>> live_feeds::sinks_of(const std::string& user) {
  std::vector<std::shared_ptr<outbound_sink>> out;
  auto& s = shard_of(user);
  std::lock_guard guard{s.mtx};
  auto it = s.users.find(user);
  if (it == s.users.end())
    return out;
  for (auto& sub : it->second)
    if (auto sink = sub.sink.lock())
      out.push_back(std::move(sink));
  return out;
}

size_t live_feeds::subscribed_users() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard guard{s.mtx};
    n += s.users.size();
  }
  return n;
}

std::vector<std::string> live_feeds::subscribed_user_ids() const {
  std::vector<std::string> out;
  for (auto& s : shards_) {
    std::lock_guard guard{s.mtx};
    for (auto& [user, subs] : s.users)
      out.push_back(user);
  }
  return out;
}

} // namespace parley::feed
