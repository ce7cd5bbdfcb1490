#include "actors/chat/routing_table.hpp"

namespace parley::chat {

bool routing_table::add(const std::string& user, route r) {
  // Copied only for a listener: a single node pays nothing.
  std::string session = listener_ ? r.session_id : std::string{};
  std::string device = listener_ ? r.device_id : std::string{};
  bool first = users_.with(user, [&](auto& s) {
    auto& routes = s.map[user];
    for (auto& existing : routes)
      if (existing.session_id == r.session_id) {
        existing = std::move(r);
        return false;
      }
    routes.push_back(std::move(r));
    return routes.size() == 1;
  });
  if (listener_)
    listener_(user, session, device, true);
  return first;
}

bool routing_table::remove(const std::string& user, const std::string& session_id) {
  bool found = false;
  bool last = users_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    if (it == s.map.end())
      return false;
    auto& routes = it->second;
    for (size_t i = 0; i < routes.size(); ++i)
      if (routes[i].session_id == session_id) {
        routes.erase(routes.begin() + static_cast<std::ptrdiff_t>(i));
        found = true;
        break;
      }
    if (!routes.empty())
      return false;
    s.map.erase(it);
    return true;
  });
  if (found && listener_)
    listener_(user, session_id, {}, false);
  return last;
}

std::vector<route> routing_table::routes_of(const std::string& user) const {
  return users_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    return it == s.map.end() ? std::vector<route>{} : it->second;
  });
}

std::optional<route> routing_table::route_of(const std::string& user,
                                            const std::string& session_id) const {
  return users_.with(user, [&](auto& s) -> std::optional<route> {
    auto it = s.map.find(user);
    if (it != s.map.end())
      for (auto& r : it->second)
        if (r.session_id == session_id)
          return r;
    return std::nullopt;
  });
}

bool routing_table::online(const std::string& user) const {
  return users_.with(user, [&](auto& s) { return s.map.count(user) != 0; });
}

std::vector<std::string> routing_table::online_user_ids() const {
  std::vector<std::string> out;
  users_.for_each_shard([&](auto& s) {
    for (auto& [user, routes] : s.map)
      out.push_back(user);
  });
  return out;
}

size_t routing_table::online_users() const {
  return users_.size();
}

} // namespace parley::chat
