#include "cluster/routes/route_wire.hpp"

namespace parley::cluster {

namespace {

void fill(pb::RouteEntry& out, const route_entry& e) {
  out.set_user_id(e.user_id);
  out.set_session_id(e.session_id);
  out.set_device_id(e.device_id);
}

route_entry entry_of(const pb::RouteEntry& e) {
  return {e.user_id(), e.session_id(), e.device_id()};
}

} // namespace

pb::RoutingDelta to_proto(const routing_delta& delta) {
  pb::RoutingDelta out;
  out.set_origin(delta.origin);
  out.set_incarnation(delta.incarnation);
  out.set_version(delta.version);
  for (auto& c : delta.changes) {
    auto* change = out.add_changes();
    change->set_op(c.op == route_change::kind::add ? pb::RouteChange::ADD
                                                   : pb::RouteChange::REMOVE);
    fill(*change->mutable_entry(), c.entry);
  }
  return out;
}

pb::RoutingSnapshot to_proto(const routing_snapshot& snapshot) {
  pb::RoutingSnapshot out;
  out.set_origin(snapshot.origin);
  out.set_incarnation(snapshot.incarnation);
  out.set_version(snapshot.version);
  for (auto& e : snapshot.entries)
    fill(*out.add_entries(), e);
  return out;
}

routing_delta from_proto(const pb::RoutingDelta& delta) {
  routing_delta out{delta.origin(), delta.incarnation(), delta.version(), {}};
  out.changes.reserve(static_cast<size_t>(delta.changes_size()));
  for (auto& c : delta.changes()) {
    if (c.op() == pb::RouteChange::ADD)
      out.changes.push_back({route_change::kind::add, entry_of(c.entry())});
    else if (c.op() == pb::RouteChange::REMOVE)
      out.changes.push_back({route_change::kind::remove, entry_of(c.entry())});
  }
  return out;
}

routing_snapshot from_proto(const pb::RoutingSnapshot& snapshot) {
  routing_snapshot out{snapshot.origin(), snapshot.incarnation(), snapshot.version(), {}};
  out.entries.reserve(static_cast<size_t>(snapshot.entries_size()));
  for (auto& e : snapshot.entries())
    out.entries.push_back(entry_of(e));
  return out;
}

} // namespace parley::cluster
