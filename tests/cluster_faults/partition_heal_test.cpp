// The replicated routing table across a network partition and its heal (../shared/CLUSTER.md,
// "Routing table"): three parleyd processes in network namespaces of their own, users connected
// to all of them over their client links. One node is cut off for 10 s, long enough for its
// lease to expire and the others to drop its sessions; sessions come and go on both sides
// meanwhile. Once healed, every node must again show every user as the real sessions say,
// within 5 s.
#include "cluster_faults/lab_cluster.hpp"
#include "support/chat_client.hpp"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace parley;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;
using test::chat_client;

constexpr uint32_t isolated = 2;
const std::string routes_entries = "parley_cluster_routes_entries";

long long ms_since(clock_type::time_point from) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - from).count();
}

// The users connected now, each with the node it is connected to; what every node's routing
// table must come to say.
struct sessions {
  test::test_cluster& c;
  std::map<std::string, std::pair<uint32_t, std::unique_ptr<chat_client>>> by_user;
  std::set<std::string> ever;  // every user connected at some point: all are asked about

  void connect(const std::string& user, uint32_t node) {
    by_user[user] = {node, std::make_unique<chat_client>(c.host(node), c.port(node), user)};
    ever.insert(user);
  }
  void disconnect(const std::string& user) { by_user.erase(user); }

  // A user connected to node i (asks presence there).
  chat_client& observer(uint32_t i) {
    auto it = by_user.begin();
    while (it != by_user.end() && it->second.first != i)
      ++it;
    REQUIRE(it != by_user.end());
    return *it->second.second;
  }
};

// What node i shows (through a user connected to it) of who is online, and how many sessions its
// routing table holds.
struct node_view {
  std::map<std::string, bool> online;
  int64_t entries = -1;
};

node_view view_of(sessions& s, uint32_t i, int& request) {
  node_view v;
  auto& who = s.observer(i);
  auto id = "p" + std::to_string(++request);
  std::string users;
  for (auto& u : s.ever)
    users += (users.empty() ? "\"" : ",\"") + u + "\"";
  // One presence_update per user, each with the request id (docs/chat.md).
  who.send(R"({"request_id":")" + id + R"(","presence":{"user_ids":[)" + users
           + R"(],"subscribe":false}})");
  for (size_t n = 0; n < s.ever.size(); ++n) {
    auto u = who.next([&](auto& f) { return f.request_id() == id && f.has_presence_update(); });
    v.online[u.presence_update().user_id()] = u.presence_update().online();
  }
  v.entries = s.c.metric(i, routes_entries);
  return v;
}

// Whether node i shows exactly the sessions of `expected` (users -> node).
bool agrees(sessions& s, uint32_t i, const std::map<std::string, uint32_t>& expected,
            int& request, std::string& why) {
  auto v = view_of(s, i, request);
  why = s.c.name(i) + ": " + std::to_string(v.entries) + " entries for "
        + std::to_string(expected.size()) + " sessions;";
  bool ok = v.entries == static_cast<int64_t>(expected.size());
  for (auto& u : s.ever) {
    bool want = expected.count(u) != 0;
    if (v.online[u] != want) {
      why += " " + u + (v.online[u] ? " online" : " offline");
      ok = false;
    }
  }
  return ok;
}

std::map<std::string, uint32_t> real(const sessions& s, const std::set<uint32_t>& nodes) {
  std::map<std::string, uint32_t> out;
  for (auto& [user, at] : s.by_user)
    if (nodes.count(at.first) != 0)
      out[user] = at.first;
  return out;
}

} // namespace

TEST_CASE("after a 10 s partition and its heal, every node's routing table agrees with the "
          "real sessions within 5 s") {
  // Presence shows everyone: the test reads routing tables through it, not contacts.
  test::lab_cluster lc{3, {"--set", "presence.visibility=all"}};
  auto& c = lc.cluster;
  c.require_ready();
  sessions s{c, {}, {}};
  s.connect("amy", 0);
  s.connect("bea", 1);
  s.connect("bob", 1);
  s.connect("cat", 2);
  s.connect("cid", 2);
  int request = 0;
  std::string why;
  auto everyone = std::set<uint32_t>{0, 1, 2};
  auto converged = [&](const std::set<uint32_t>& nodes, const std::set<uint32_t>& sessions_of) {
    for (auto i : nodes)
      if (!agrees(s, i, real(s, sessions_of), request, why))
        return false;
    return true;
  };
  {
    INFO(why);
    REQUIRE(test::eventually([&] { return converged(everyone, everyone); }, 5s));
  }

  auto cut_at = clock_type::now();
  lc.lab.cut(isolated);
  // The majority drops the cut node's sessions once its lease is gone.
  std::set<uint32_t> majority{0, 1};
  {
    INFO(why);
    REQUIRE(test::eventually([&] { return converged(majority, majority); },
                             c.opts.lease_ttl * 3));
  }
  auto dropped_after = ms_since(cut_at);
  // Sessions change on both sides while the partition lasts.
  s.connect("ann", 0);
  s.disconnect("bob");
  s.disconnect("cid");
  s.connect("cy", 2);
  {
    INFO(why);
    REQUIRE(test::eventually([&] { return converged(majority, majority); }, 5s));
  }

  // The partition itself lasts 10 s, deliberately.
  std::this_thread::sleep_until(cut_at + 10s);
  lc.lab.heal(isolated);
  auto healed = clock_type::now();
  INFO(c.name(isolated) << " log:\n" << c.node(isolated).log_tail(40));
  INFO(c.name(0) << " log:\n" << c.node(0).log_tail(20));
  {
    INFO(why);
    REQUIRE(test::eventually([&] { return converged(everyone, everyone); }, 5s));
  }
  WARN("partition: the majority dropped " << c.name(isolated) << "'s sessions "
       << dropped_after << " ms after the cut; every routing table agreed "
       << ms_since(healed) << " ms after the heal");
  // And the cut node is whole again: ready, and chat crosses the healed links both ways
  // (whichever node owns the conversation) to users who connected during the partition.
  REQUIRE(test::eventually([&] { return c.ready(isolated); }, 10s));
  auto& ann = *s.by_user["ann"].second;
  auto& cy = *s.by_user["cy"].second;
  auto ack = ann.call(R"({"request_id":"x1","send":{"to_user":"cy","client_msg_id":"x1",)"
                      R"("body":"healed"}})");
  INFO(ack.ShortDebugString());
  REQUIRE(ack.has_ack());
  CHECK(cy.next_message().message().body() == "healed");
  auto back = cy.call(R"({"request_id":"x2","send":{"conversation_id":")"
                      + ack.ack().conversation_id()
                      + R"(","client_msg_id":"x2","body":"back"}})");
  REQUIRE(back.has_ack());
  CHECK(ann.next_message().message().body() == "back");
}
