#include "actors/chat/cluster_view.hpp"

#include <unordered_set>

namespace parley::chat {

void cluster_view::set_sessions(const std::string& user, std::vector<remote_session> sessions) {
  sessions_.with(user, [&](auto& s) {
    if (sessions.empty())
      s.map.erase(user);
    else
      s.map[user] = std::move(sessions);
  });
}

std::vector<remote_session> cluster_view::sessions_of(const std::string& user) const {
  return sessions_.with(user, [&](auto& s) {
    auto it = s.map.find(user);
    return it == s.map.end() ? std::vector<remote_session>{} : it->second;
  });
}

bool cluster_view::online(const std::string& user) const {
  return sessions_.with(user, [&](auto& s) { return s.map.count(user) != 0; });
}

std::map<std::string, std::vector<node_session>>
cluster_view::by_node(const std::vector<std::string>& users, const std::string& except_user) const {
  std::map<std::string, std::vector<node_session>> out;
  std::unordered_set<std::string> seen;
  for (auto& user : users) {
    if (user == except_user || !seen.insert(user).second)
      continue;
    sessions_.with(user, [&](auto& s) {
      auto it = s.map.find(user);
      if (it == s.map.end())
        return;
      for (auto& r : it->second)
        out[r.node_id].push_back({user, r.session_id, r.device_id});
    });
  }
  return out;
}

void cluster_view::set_peers(peer_map peers) {
  auto fresh = std::make_shared<const peer_map>(std::move(peers));
  std::lock_guard<std::mutex> guard{peers_mtx_};
  peers_ = std::move(fresh);
}

chat_service_api cluster_view::peer(const std::string& node) const {
  auto all = peers();
  auto it = all->find(node);
  return it == all->end() ? chat_service_api{} : it->second;
}

std::shared_ptr<const peer_map> cluster_view::peers() const {
  std::lock_guard<std::mutex> guard{peers_mtx_};
  return peers_;
}

} // namespace parley::chat
