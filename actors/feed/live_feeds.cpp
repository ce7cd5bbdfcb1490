#include "actors/feed/live_feeds.hpp"

#include <algorithm>

namespace parley::feed {

bool live_feeds::subscribe(const std::string& user, const std::string& session_id,
                           std::weak_ptr<outbound_sink> sink) {
  return users_.with(user, [&](auto& s) {
    auto& subs = s.map[user];
    for (auto& sub : subs)
      if (sub.session_id == session_id) {
        sub.sink = std::move(sink);
        return false;
      }
    subs.push_back(subscription{session_id, std::move(sink)});
    return subs.size() == 1;
  });
}

void live_feeds::watch(const std::string& author, const std::string& user) {
  users_.with(user, [&](auto& s) {
    if (s.map.count(user) == 0)
      return;
    std::lock_guard guard{watch_mtx_};
    watchers_[author].insert(user);
    watching_[user].insert(author);
  });
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
  users_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    if (it == s.map.end())
      return;
    auto& subs = it->second;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const subscription& sub) { return sub.session_id == session_id; }),
               subs.end());
    if (!subs.empty())
      return;
    s.map.erase(it);
    // Still under the shard's lock: a subscribe racing in cannot find its watches half gone.
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
  });
}

std::vector<std::shared_ptr<outbound_sink>> live_feeds::sinks_of(const std::string& user) {
  std::vector<std::shared_ptr<outbound_sink>> out;
  users_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    if (it == s.map.end())
      return;
    for (auto& sub : it->second)
      if (auto sink = sub.sink.lock())
        out.push_back(std::move(sink));
  });
  return out;
}

size_t live_feeds::subscribed_users() const {
  return users_.size();
}

std::vector<std::string> live_feeds::subscribed_user_ids() const {
  std::vector<std::string> out;
  users_.for_each_shard([&](auto& s) {
    for (auto& [user, subs] : s.map)
      out.push_back(user);
  });
  return out;
}

} // namespace parley::feed
