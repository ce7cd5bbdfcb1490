#include "actors/chat/routing_table.hpp"

#include <functional>

namespace parley::chat {

routing_table::shard& routing_table::shard_of(const std::string& user) const {
  return shards_[std::hash<std::string>{}(user) % shard_count];
}

bool routing_table::add(const std::string& user, route r) {
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto& routes = s.users[user];
  for (auto& existing : routes)
    if (existing.session_id == r.session_id) {
      existing = std::move(r);
      return false;
    }
  routes.push_back(std::move(r));
  return routes.size() == 1;
}

bool routing_table::remove(const std::string& user, const std::string& session_id) {
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.users.find(user);
  if (it == s.users.end())
    return false;
  auto& routes = it->second;
  for (size_t i = 0; i < routes.size(); ++i)
    if (routes[i].session_id == session_id) {
      routes.erase(routes.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  if (!routes.empty())
    return false;
  s.users.erase(it);
  return true;
}

std::vector<route> routing_table::routes_of(const std::string& user) const {
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.users.find(user);
  return it == s.users.end() ? std::vector<route>{} : it->second;
}

bool routing_table::online(const std::string& user) const {
  auto& s = shard_of(user);
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.users.count(user) != 0;
}

std::vector<std::string> routing_table::online_user_ids() const {
  std::vector<std::string> out;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s.mtx};
    for (auto& [user, routes] : s.users)
      out.push_back(user);
  }
  return out;
}

size_t routing_table::online_users() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s.mtx};
    n += s.users.size();
  }
  return n;
}

} // namespace parley::chat
