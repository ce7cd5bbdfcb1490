#include "actors/feed/live_feeds.hpp"

#include <algorithm>
#include <functional>

namespace parley::feed {

live_feeds::shard& live_feeds::shard_of(const std::string& user) {
  return shards_[std::hash<std::string>{}(user) % shard_count];
}

void live_feeds::subscribe(const std::string& user, const std::string& session_id,
                           std::weak_ptr<outbound_sink> sink) {
  auto& s = shard_of(user);
  std::lock_guard guard{s.mtx};
  auto& subs = s.users[user];
  for (auto& sub : subs)
    if (sub.session_id == session_id) {
      sub.sink = std::move(sink);
      return;
    }
  subs.push_back(subscription{session_id, std::move(sink)});
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
  if (subs.empty())
    s.users.erase(it);
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
