#include "cluster/placement/routing_table.hpp"

#include <algorithm>

namespace parley::cluster {

routing_table::routing_table(std::string local_node, uint64_t incarnation)
  : local_node_(std::move(local_node)) {
  origins_[local_node_].incarnation = incarnation;
}

// -- local sessions ----------------------------------------------------------------------------

void routing_table::add_local(const std::string& user, const std::string& session,
                              const std::string& device) {
  remember_published(user, session);
  put(local_node_, {user, session, device});
}

void routing_table::remove_local(const std::string& user, const std::string& session) {
  remember_published(user, session);
  erase(local_node_, user, session);
}

bool routing_table::has_pending() const {
  return !published_.empty();
}

std::optional<routing_delta> routing_table::drain() {
  auto& self = origins_[local_node_];
  routing_delta delta{local_node_, self.incarnation, 0, {}};
  for (auto& [key, before] : published_) {
    auto& [user, session] = key;
    auto* now = find(user, local_node_, session);
    if (!now && !before)
      continue;
    if (now && before && now->device_id == *before)
      continue;
    if (now)
      delta.changes.push_back({route_change::kind::add, {user, session, now->device_id}});
    else
      delta.changes.push_back({route_change::kind::remove, {user, session, {}}});
  }
  published_.clear();
  if (delta.changes.empty())
    return std::nullopt;
  delta.version = ++self.version;
  return delta;
}

routing_snapshot routing_table::local_snapshot() const {
  auto& self = origins_.at(local_node_);
  routing_snapshot snap{local_node_, self.incarnation, self.version, {}};
  for (auto& user : self.users)
    for (auto& ref : users_.at(user))
      if (ref.node_id == local_node_ && published_.count({user, ref.session_id}) == 0)
        snap.entries.push_back({user, ref.session_id, ref.device_id});
  // Sessions changed since the last drain, as peers last heard of them.
  for (auto& [key, before] : published_)
    if (before)
      snap.entries.push_back({key.first, key.second, *before});
  return snap;
}

// -- peers -------------------------------------------------------------------------------------

apply_result routing_table::apply(const routing_delta& delta) {
  if (delta.origin == local_node_)
    return ignore();
  if (auto d = dropped_.find(delta.origin); d != dropped_.end() && delta.incarnation <= d->second)
    return ignore();
  auto [it, fresh] = origins_.try_emplace(delta.origin);
  auto& st = it->second;
  if (fresh) {
    st.incarnation = delta.incarnation;
  } else if (delta.incarnation < st.incarnation) {
    return ignore();
  } else if (delta.incarnation > st.incarnation) {
    // The origin restarted: the sessions of its previous process are gone with it.
    clear(delta.origin);
    st.incarnation = delta.incarnation;
    st.version = 0;
  }
  if (delta.version <= st.version)
    return ignore();
  if (delta.version != st.version + 1) {
    ++counters_.gaps;
    return apply_result::needs_snapshot;
  }
  for (auto& change : delta.changes) {
    if (change.op == route_change::kind::add)
      put(delta.origin, change.entry);
    else
      erase(delta.origin, change.entry.user_id, change.entry.session_id);
  }
  st.version = delta.version;
  ++counters_.deltas_applied;
  return apply_result::applied;
}

apply_result routing_table::apply(const routing_snapshot& snapshot) {
  if (snapshot.origin == local_node_)
    return ignore();
  if (auto d = dropped_.find(snapshot.origin);
      d != dropped_.end() && snapshot.incarnation <= d->second)
    return ignore();
  auto it = origins_.find(snapshot.origin);
  if (it != origins_.end()
      && (snapshot.incarnation < it->second.incarnation
          || (snapshot.incarnation == it->second.incarnation
              && snapshot.version < it->second.version)))
    return ignore();
  clear(snapshot.origin);
  auto& st = origins_[snapshot.origin];
  st.incarnation = snapshot.incarnation;
  st.version = snapshot.version;
  for (auto& entry : snapshot.entries)
    put(snapshot.origin, entry);
  ++counters_.snapshots;
  return apply_result::applied;
}

void routing_table::drop(const std::string& origin) {
  if (origin == local_node_)
    return;
  auto it = origins_.find(origin);
  if (it == origins_.end())
    return;
  auto& tombstone = dropped_[origin];
  tombstone = std::max(tombstone, it->second.incarnation);
  clear(origin);
  origins_.erase(origin);
}

void routing_table::readmit(const std::string& origin) {
  dropped_.erase(origin);
}

// -- lookups -----------------------------------------------------------------------------------

std::vector<session_ref> routing_table::sessions_of(const std::string& user) const {
  auto it = users_.find(user);
  return it == users_.end() ? std::vector<session_ref>{} : it->second;
}

bool routing_table::online(const std::string& user) const {
  return users_.count(user) != 0;
}

std::map<std::string, std::vector<route_entry>>
routing_table::sessions_by_node(const std::vector<std::string>& users) const {
  std::map<std::string, std::vector<route_entry>> out;
  std::unordered_set<std::string> seen;
  for (auto& user : users) {
    auto it = users_.find(user);
    if (it == users_.end() || !seen.insert(user).second)
      continue;
    for (auto& ref : it->second)
      out[ref.node_id].push_back({user, ref.session_id, ref.device_id});
  }
  return out;
}

std::vector<std::string> routing_table::users_of(const std::string& origin) const {
  auto it = origins_.find(origin);
  if (it == origins_.end())
    return {};
  return {it->second.users.begin(), it->second.users.end()};
}

std::optional<routing_table::position> routing_table::position_of(const std::string& origin) const {
  auto it = origins_.find(origin);
  if (it == origins_.end())
    return std::nullopt;
  return position{it->second.incarnation, it->second.version};
}

routing_counters routing_table::counters() const {
  return counters_;
}

// -- implementation ----------------------------------------------------------------------------

const session_ref* routing_table::find(const std::string& user, const std::string& origin,
                                       const std::string& session) const {
  auto it = users_.find(user);
  if (it == users_.end())
    return nullptr;
  for (auto& ref : it->second)
    if (ref.node_id == origin && ref.session_id == session)
      return &ref;
  return nullptr;
}

void routing_table::put(const std::string& origin, const route_entry& entry) {
  auto& refs = users_[entry.user_id];
  for (auto& ref : refs)
    if (ref.node_id == origin && ref.session_id == entry.session_id) {
      ref.device_id = entry.device_id;
      return;
    }
  refs.push_back({origin, entry.session_id, entry.device_id});
  origins_[origin].users.insert(entry.user_id);
  ++counters_.entries;
}

void routing_table::erase(const std::string& origin, const std::string& user,
                          const std::string& session) {
  if (remove_refs(user, origin, &session))
    origins_[origin].users.erase(user);
}

void routing_table::clear(const std::string& origin) {
  auto it = origins_.find(origin);
  if (it == origins_.end())
    return;
  for (auto& user : it->second.users)
    remove_refs(user, origin, nullptr);
  it->second.users.clear();
}

bool routing_table::remove_refs(const std::string& user, const std::string& origin,
                                const std::string* session) {
  auto it = users_.find(user);
  if (it == users_.end())
    return true;
  auto& refs = it->second;
  auto gone = std::remove_if(refs.begin(), refs.end(), [&](const session_ref& ref) {
    return ref.node_id == origin && (!session || ref.session_id == *session);
  });
  counters_.entries -= static_cast<uint64_t>(refs.end() - gone);
  refs.erase(gone, refs.end());
  bool origin_left = std::none_of(refs.begin(), refs.end(),
                                  [&](const session_ref& ref) { return ref.node_id == origin; });
  if (refs.empty())
    users_.erase(it);
  return origin_left;
}

void routing_table::remember_published(const std::string& user, const std::string& session) {
  std::pair<std::string, std::string> key{user, session};
  if (published_.count(key) != 0)
    return;
  auto* ref = find(user, local_node_, session);
  published_.emplace(std::move(key),
                     ref ? std::optional<std::string>{ref->device_id} : std::nullopt);
}

apply_result routing_table::ignore() {
  ++counters_.ignored;
  return apply_result::ignored;
}

} // namespace parley::cluster
