// The route replicator on CAF's deterministic coordinator: several nodes' replicators in one
// actor system, each behind a fake peer link that carries the real payload bytes (the
// envelope's) to the other node's "routes" service, and can lose them. Time moves only when a
// test advances it, so batching, heartbeats and snapshot retries are exact.
#include "cluster/routes/route_replicator.hpp"

#include "actors/runtime/errors.hpp"
#include "cluster/link/invoker.hpp"
#include "cluster/link/link_types.hpp"
#include "cluster/link/message_bytes.hpp"
#include "support/deterministic_system.hpp"
#include "support/wire_round_trip.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

using namespace parley;
using namespace std::chrono_literals;

namespace {

struct cluster_config : test::deterministic_config {
  cluster_config() { cluster::add_message_types(*this); }
};

using system_t = test::basic_deterministic_system<cluster_config>;

// What the nodes' fake links share: the replicators by node, the links that lose everything,
// and what crossed.
struct network {
  std::map<std::string, caf::actor> replicators;
  std::set<std::pair<std::string, std::string>> cut;  // (from, to)
  std::map<std::string, size_t> deltas_from;          // one-way deltas that arrived, by origin
  size_t snapshot_requests = 0;
};

// A peer link as the replicator sees it: (forward_atom, node, "routes", "", payload) one way and
// the request form with a deadline, answered with the reply's bytes.
caf::behavior fake_link(caf::event_based_actor* self, std::string from, network* net) {
  return {
    [=](forward_atom, const std::string& to, const std::string& kind, const std::string&,
        const std::string& payload) {
      auto target = net->replicators.find(to);
      if (kind != cluster::routes_service_name || target == net->replicators.end()
          || net->cut.count({from, to}) != 0)
        return;
      auto msg = cluster::message_from_bytes(self->system(), payload);
      REQUIRE(msg);
      if (msg->match_element<delta_atom>(0))
        ++net->deltas_from[from];
      self->send(target->second, std::move(*msg));
    },
    [=](forward_atom, const std::string& to, const std::string& kind, const std::string&,
        int64_t, const std::string& payload) -> caf::result<std::string> {
      auto target = net->replicators.find(to);
      if (kind != cluster::routes_service_name || target == net->replicators.end()
          || net->cut.count({from, to}) != 0 || net->cut.count({to, from}) != 0)
        return make_error(errc::unavailable, "node " + to + " is not reachable");
      ++net->snapshot_requests;
      auto msg = cluster::message_from_bytes(self->system(), payload);
      REQUIRE(msg);
      auto rp = self->make_response_promise<std::string>();
      auto invoke = cluster::invoker_for<cluster::routes_service_api>();
      bool known = invoke(self, target->second, *msg, false, caf::timespan{1s},
                          [self, rp](caf::expected<caf::message> reply) mutable {
                            auto bytes = reply ? cluster::message_to_bytes(self->system(), *reply)
                                               : caf::expected<std::string>{reply.error()};
                            if (bytes)
                              rp.deliver(std::move(*bytes));
                            else
                              rp.deliver(bytes.error());
                          });
      REQUIRE(known);
      return rp;
    },
  };
}

// What a node's presence actor was told.
struct presence_log {
  std::vector<std::string> events;  // "+user", "-user@last_seen"
};

chat::presence_api::behavior_type fake_presence(chat::presence_api::pointer, presence_log* log) {
  return {
    [](presence_atom, const pb::PresenceQuery&) {},
    [log](online_atom, const std::string& user) { log->events.push_back("+" + user); },
    [log](offline_atom, const std::string& user, int64_t last_seen) {
      log->events.push_back("-" + user + "@" + std::to_string(last_seen));
    },
    [](closed_atom, const std::string&) {},
    [](revoke_atom, const pb::PresenceRevoke&) {},
    [](count_atom) { return uint64_t{0}; },
  };
}

struct test_node {
  std::string id;
  chat::chat_context_ptr chat = std::make_shared<chat::chat_context>();
  presence_log presence;
  caf::actor link;
  cluster::route_replicator_api replicator;
};

struct fixture {
  system_t det;
  network net;
  std::map<std::string, std::unique_ptr<test_node>> nodes;

  ~fixture() {
    for (auto& [id, n] : nodes)
      n->chat->routes.listen(nullptr);
    det.stop();
  }

  // A node with its replicator, link and presence (a restart: a new incarnation, same id).
  test_node& start(const std::string& id, uint64_t incarnation = 1) {
    auto n = std::make_unique<test_node>();
    n->id = id;
    n->chat->cluster = std::make_shared<chat::cluster_view>(id);
    n->chat->presence = det.own(det.sys.spawn(fake_presence, &n->presence));
    n->link = det.own(det.sys.spawn(fake_link, id, &net));
    cluster::route_replicator_options opts;
    opts.node_id = id;
    opts.incarnation = incarnation;
    opts.link = n->link;
    opts.chat = n->chat;
    opts.clock = det.clock();
    n->replicator = det.own(cluster::spawn_route_replicator(det.sys, opts));
    // Connections change the node's chat routing table; the replicator hears of it.
    n->chat->routes.listen([r = n->replicator](const std::string& user, const std::string& session,
                                               const std::string& device, bool added) {
      caf::anon_send(r, route_atom_v, user, session, device, added);
    });
    net.replicators[id] = caf::actor_cast<caf::actor>(n->replicator);
    auto& out = *n;
    if (auto old = nodes.find(id); old != nodes.end())
      old->second->chat->routes.listen(nullptr);
    nodes[id] = std::move(n);
    det.run();
    return out;
  }

  // Every listed node is told the member list (as etcd would tell them).
  void members(const std::vector<std::string>& ids) {
    for (auto& id : ids)
      caf::anon_send(nodes.at(id)->replicator, members_changed_atom_v, ids,
                     std::vector<std::string>(ids.size(), "127.0.0.1:1"));
    det.run();
  }

  void connect(const std::string& node, const std::string& user, const std::string& session,
               const std::string& device = "phone") {
    nodes.at(node)->chat->routes.add(user, chat::route{session, device, {}});
    det.run();
  }

  void disconnect(const std::string& node, const std::string& user, const std::string& session) {
    nodes.at(node)->chat->routes.remove(user, session);
    det.run();
  }

  // `user`'s sessions on other nodes as `node`'s chat sees them: "node/session/device", sorted.
  std::vector<std::string> seen(const std::string& node, const std::string& user) {
    std::vector<std::string> out;
    for (auto& s : nodes.at(node)->chat->cluster->sessions_of(user))
      out.push_back(s.node_id + "/" + s.session_id + "/" + s.device_id);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string>& presence(const std::string& node) {
    return nodes.at(node)->presence.events;
  }

  uint64_t entries(const std::string& node) {
    auto answer = det.ask<uint64_t>(nodes.at(node)->replicator, count_atom_v);
    REQUIRE(answer->value);
    return std::get<0>(*answer->value);
  }
};

using strings = std::vector<std::string>;

} // namespace

TEST_CASE_METHOD(fixture, "a session on one node is seen on the others, and a burst of changes is one delta") {
  for (auto id : {"n1", "n2", "n3"})
    start(id);
  members({"n1", "n2", "n3"});
  // The first change after a quiet interval goes at once.
  connect("n1", "alice", "a1");
  CHECK(seen("n2", "alice") == strings{"n1/a1/phone"});
  CHECK(seen("n3", "alice") == strings{"n1/a1/phone"});
  CHECK(seen("n1", "alice").empty());  // chat reads this node's own sessions locally
  CHECK(net.deltas_from["n1"] == 2);   // one delta, to two peers

  // Twenty connections and ten of them gone again within the batch interval: one delta.
  for (int i = 0; i < 20; ++i)
    connect("n1", "user" + std::to_string(i), "s" + std::to_string(i));
  for (int i = 0; i < 10; ++i)
    disconnect("n1", "user" + std::to_string(i), "s" + std::to_string(i));
  CHECK(seen("n2", "user15").empty());
  det.advance(50ms);
  CHECK(net.deltas_from["n1"] == 4);
  CHECK(seen("n2", "user15") == strings{"n1/s15/phone"});
  CHECK(seen("n3", "user3").empty());
  CHECK(entries("n3") == 11);
  CHECK(entries("n1") == 11);
  auto view = nodes.at("n2")->chat->cluster->by_node({"alice", "user12", "user13", "user3"});
  REQUIRE(view.size() == 1);
  CHECK(view["n1"].size() == 3);  // three users of n1: one message to n1 would reach them all
}

TEST_CASE_METHOD(fixture, "a lost delta is noticed at the next delta or heartbeat and healed by a snapshot") {
  for (auto id : {"n1", "n2", "n3"})
    start(id);
  members({"n1", "n2", "n3"});
  net.cut.insert({"n1", "n2"});
  connect("n1", "bob", "b1");
  CHECK(seen("n3", "bob") == strings{"n1/b1/phone"});
  CHECK(seen("n2", "bob").empty());
  net.cut.clear();
  // Nothing changes on n1 any more: its heartbeat tells n2 that it is behind.
  det.advance(1s);
  CHECK(seen("n2", "bob") == strings{"n1/b1/phone"});

  // Lost again; this time the next delta shows the gap.
  net.cut.insert({"n1", "n2"});
  connect("n1", "carol", "c1");
  net.cut.clear();
  det.advance(100ms);
  connect("n1", "dave", "d1");
  CHECK(seen("n2", "carol") == strings{"n1/c1/phone"});
  CHECK(seen("n2", "dave") == strings{"n1/d1/phone"});
  CHECK(entries("n2") == 3);
}

TEST_CASE_METHOD(fixture, "a snapshot that cannot be had is asked for again while the origin is a member") {
  for (auto id : {"n1", "n2"})
    start(id);
  connect("n1", "alice", "a1");
  // n2 joins while it cannot reach n1: its snapshot request fails and is retried.
  net.cut.insert({"n2", "n1"});
  members({"n1", "n2"});
  CHECK(seen("n2", "alice").empty());
  det.advance(400ms);
  CHECK(seen("n2", "alice").empty());
  net.cut.clear();
  det.advance(200ms);
  CHECK(seen("n2", "alice") == strings{"n1/a1/phone"});
}

TEST_CASE_METHOD(fixture, "a member that leaves is dropped at once and its users go offline, and its restart comes back") {
  for (auto id : {"n1", "n2", "n3"})
    start(id);
  members({"n1", "n2", "n3"});
  connect("n3", "carol", "c1");
  connect("n3", "erin", "e1");
  connect("n1", "erin", "e2");  // erin is connected here too
  det.advance(50ms);
  CHECK(seen("n1", "erin") == strings{"n3/e1/phone"});
  CHECK(presence("n1") == strings{"+carol"});  // erin was online on n1 already
  presence("n1").clear();
  auto dropped_at = det.now_ms();
  members({"n1", "n2"});
  CHECK(seen("n1", "carol").empty());
  CHECK(seen("n2", "carol").empty());
  CHECK(seen("n2", "erin") == strings{"n1/e2/phone"});
  CHECK(presence("n1") == strings{"-carol@" + std::to_string(dropped_at)});
  CHECK_FALSE(static_cast<bool>(nodes.at("n1")->chat->cluster->peer("n3")));
  CHECK(static_cast<bool>(nodes.at("n1")->chat->cluster->peer("n2")));
  // Still talking to its peers (cut off from etcd only): not heard.
  connect("n3", "zoe", "z1");
  det.advance(2s);
  CHECK(seen("n1", "zoe").empty());

  // Restarted: a new incarnation with new sessions; listed again, it is asked for them.
  start("n3", 2);
  connect("n3", "carol", "c9");
  members({"n1", "n2", "n3"});
  CHECK(seen("n1", "carol") == strings{"n3/c9/phone"});
  CHECK(seen("n2", "zoe").empty());
  CHECK(static_cast<bool>(nodes.at("n1")->chat->cluster->peer("n3")));
}

TEST_CASE_METHOD(fixture, "a node restarted before its lease ran out replaces its sessions with its first delta") {
  for (auto id : {"n1", "n2"})
    start(id);
  members({"n1", "n2"});
  connect("n2", "bob", "b1");
  connect("n2", "carol", "c1");
  det.advance(50ms);
  CHECK(seen("n1", "carol") == strings{"n2/c1/phone"});
  presence("n1").clear();
  // Killed and back as a new process, still listed: its first delta is of a new incarnation.
  start("n2", 2);
  caf::anon_send(nodes.at("n2")->replicator, members_changed_atom_v, strings{"n1", "n2"},
                 strings{"x", "y"});
  det.run();
  connect("n2", "bob", "b2");
  CHECK(seen("n1", "bob") == strings{"n2/b2/phone"});
  CHECK(seen("n1", "carol").empty());
  CHECK(presence("n1") == strings{"-carol@" + std::to_string(det.now_ms())});
}

TEST_CASE_METHOD(fixture, "a member that regains its lease with the same incarnation is taken back") {
  for (auto id : {"n1", "n2"})
    start(id);
  members({"n1", "n2"});
  connect("n2", "bob", "b1");
  CHECK(seen("n1", "bob") == strings{"n2/b1/phone"});
  caf::anon_send(nodes.at("n1")->replicator, members_changed_atom_v, strings{"n1"}, strings{"x"});
  det.run();
  CHECK(seen("n1", "bob").empty());
  members({"n1", "n2"});
  CHECK(seen("n1", "bob") == strings{"n2/b1/phone"});
}

TEST_CASE_METHOD(fixture, "presence hears of users elsewhere only when not connected here, with the origin's last_seen") {
  for (auto id : {"n1", "n2"})
    start(id);
  members({"n1", "n2"});
  connect("n2", "bob", "b1");
  CHECK(presence("n1") == strings{"+bob"});
  det.advance(10s);
  auto gone_at = det.now_ms();
  disconnect("n2", "bob", "b1");
  det.advance(100ms);  // n1 hears of it later than it happened: last_seen is n2's time
  CHECK(presence("n1") == strings{"+bob", "-bob@" + std::to_string(gone_at)});
  // A second session elsewhere of a user online here changes nothing for presence.
  connect("n1", "alice", "a1");
  connect("n2", "alice", "a2");
  disconnect("n2", "alice", "a2");
  det.advance(100ms);
  CHECK(presence("n1").size() == 2);
  CHECK(presence("n2") == strings{"+alice"});  // its own connections tell n2's presence
}

TEST_CASE_METHOD(fixture, "only live members are heard, and a new one is asked for its snapshot") {
  for (auto id : {"n1", "n2"})
    start(id);
  members({"n1"});  // n1 does not know n2 yet; n2 knows n1
  caf::anon_send(nodes.at("n2")->replicator, members_changed_atom_v, strings{"n1", "n2"},
                 strings{"x", "y"});
  det.run();
  connect("n2", "bob", "b1");
  CHECK(net.deltas_from["n2"] == 1);
  CHECK(seen("n1", "bob").empty());
  members({"n1", "n2"});
  CHECK(seen("n1", "bob") == strings{"n2/b1/phone"});
}

TEST_CASE_METHOD(fixture, "the routing table's messages cross nodes") {
  test::check_interface<cluster::routes_service_api>(det.sys);
  pb::RoutingDelta d;
  d.set_origin("n1");
  d.set_incarnation(1'750'000'000'000);
  d.set_version(7);
  auto* c = d.add_changes();
  c->set_op(pb::RouteChange::ADD);
  c->mutable_entry()->set_user_id("alice");
  c->mutable_entry()->set_session_id("s-1");
  c->mutable_entry()->set_device_id("phone");
  auto* g = d.add_last_seen();
  g->set_user_id("bob");
  g->set_last_seen_ms(1'750'000'000'123);
  test::check_round_trip(det.sys, d);
  pb::RoutingSnapshot s;
  s.set_origin("n2");
  s.set_version(3);
  *s.add_entries() = c->entry();
  test::check_round_trip(det.sys, s);
}
