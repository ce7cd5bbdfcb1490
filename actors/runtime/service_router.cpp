#include "actors/runtime/service_router.hpp"

#include "actors/runtime/errors.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <algorithm>

namespace parley::runtime {

service_router::service_router(caf::actor_system& sys) : sys_(sys), local_node_("local") {
}

service_router::service_router(caf::actor_system& sys, std::string local_node,
                               std::shared_ptr<const placement_policy> placement,
                               remote_factory remote)
  : sys_(sys),
    local_node_(std::move(local_node)),
    placement_(std::move(placement)),
    remote_(std::move(remote)) {
}

service_router::~service_router() {
  stop();
}

void service_router::add(const std::string& service, caf::actor local) {
  std::lock_guard<std::mutex> guard{mtx_};
  locals_[service] = std::move(local);
}

void service_router::stop() {
  std::map<std::pair<std::string, std::string>, caf::actor> remotes;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    remotes.swap(remotes_);
    locals_.clear();
  }
  for (auto& [where, stand_in] : remotes)
    caf::anon_send_exit(stand_in, caf::exit_reason::user_shutdown);
}

entity_location service_router::locate(std::string_view service, std::string_view key) const {
  return placement_ ? placement_->locate(service, key) : entity_location{};
}

caf::actor service_router::local(std::string_view service) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = locals_.find(service);
  return it == locals_.end() ? caf::actor{} : it->second;
}

caf::actor service_router::at(std::string_view service, const std::string& node) {
  if (!placement_ || node == local_node_)
    return local(service);
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_ || !remote_)
    return {};
  auto key = std::make_pair(std::string{service}, node);
  auto it = remotes_.find(key);
  if (it == remotes_.end())
    it = remotes_.emplace(key, remote_(sys_, key.first, node)).first;
  return it->second;
}

caf::expected<caf::actor> service_router::route(std::string_view service, std::string_view key) {
  auto where = locate(service, key);
  switch (where.at) {
    case entity_location::where::local:
      if (auto handle = local(service))
        return handle;
      return make_error(errc::unavailable, "no " + std::string{service} + " on this node");
    case entity_location::where::remote:
      if (auto handle = at(service, where.node))
        return handle;
      return make_error(errc::unavailable, std::string{service} + " of node " + where.node
                                             + " cannot be reached from this node");
    case entity_location::where::unavailable:
      break;
  }
  return make_error(errc::unavailable,
                    std::string{service} + " for this key has no live owner"
                      + (where.node.empty() ? "" : " (was " + where.node + ")")
                      + "; retry shortly");
}

std::vector<std::string> service_router::other_nodes() const {
  if (!placement_)
    return {};
  auto members = placement_->members();
  members.erase(std::remove(members.begin(), members.end(), local_node_), members.end());
  return members;
}

std::vector<std::pair<std::string, caf::actor>> service_router::others(std::string_view service) {
  std::vector<std::pair<std::string, caf::actor>> out;
  for (auto& node : other_nodes())
    if (auto handle = at(service, node))
      out.emplace_back(node, std::move(handle));
  return out;
}

} // namespace parley::runtime
