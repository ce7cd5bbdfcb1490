// The keyed-service router (actors/runtime/service_router.hpp) on CAF's deterministic
// coordinator: on a single node every key is this node's; in a cluster a key reaches the
// service of the node its placement names, through one stand-in per service and node, and a key
// without a live owner is `unavailable`.
#include "actors/runtime/errors.hpp"
#include "actors/runtime/service_router.hpp"
#include "support/deterministic_system.hpp"
#include "support/fake_placement.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace parley;
using runtime::entity_location;

namespace {

// A service that answers which node it stands for.
caf::behavior named(caf::event_based_actor*, std::string node) {
  return {[node](read_atom) { return node; }};
}

struct fixture : test::deterministic_system {
  std::shared_ptr<test::fake_placement> placement = std::make_shared<test::fake_placement>();
  std::vector<std::pair<std::string, std::string>> spawned;  // (service, node) stand-ins made

  std::string node_of(const caf::actor& handle) {
    auto a = ask<std::string>(handle, read_atom_v);
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }

  runtime::service_router_ptr cluster_router() {
    return std::make_shared<runtime::service_router>(
      sys, "n1", placement,
      [this](caf::actor_system& s, const std::string& service, const std::string& node) {
        spawned.emplace_back(service, node);
        return own(s.spawn(named, node + "/" + service));
      });
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "on a single node every key is this node's service") {
  runtime::service_router router{sys};
  router.add("graph", own(sys.spawn(named, std::string{"here"})));
  CHECK_FALSE(router.clustered());
  CHECK(router.here("graph", "alice"));
  auto routed = router.route("graph", "alice");
  REQUIRE(routed);
  CHECK(node_of(*routed) == "here");
  CHECK(router.others("graph").empty());
  CHECK(router.other_nodes().empty());
}

TEST_CASE_METHOD(fixture, "in a cluster a key reaches its owner's service through one stand-in per node") {
  placement->live = {"n1", "n2", "n3"};
  placement->where = [](std::string_view, std::string_view key) -> entity_location {
    if (key == "alice" || key == "carol")
      return test::remote_at("n2");
    if (key == "dave")
      return test::remote_at("n3");
    return {};
  };
  auto router = cluster_router();
  router->add("graph", own(sys.spawn(named, std::string{"n1/graph"})));
  CHECK(router->clustered());

  auto local = router->route("graph", "bob");
  REQUIRE(local);
  CHECK(node_of(*local) == "n1/graph");
  CHECK(router->here("graph", "bob"));
  CHECK_FALSE(router->here("graph", "alice"));

  auto alice = router->route("graph", "alice");
  auto carol = router->route("graph", "carol");
  auto dave = router->route("graph", "dave");
  REQUIRE(alice);
  REQUIRE(carol);
  REQUIRE(dave);
  CHECK(node_of(*alice) == "n2/graph");
  CHECK(*alice == *carol);  // the same stand-in for every key of n2
  CHECK(node_of(*dave) == "n3/graph");
  CHECK(spawned == std::vector<std::pair<std::string, std::string>>{{"graph", "n2"},
                                                                    {"graph", "n3"}});
  // Every other member, for what each node must hear; this node is not among them.
  std::map<std::string, std::string> others;
  for (auto& [node, handle] : router->others("graph"))
    others[node] = node_of(handle);
  CHECK(others == std::map<std::string, std::string>{{"n2", "n2/graph"}, {"n3", "n3/graph"}});
  CHECK(spawned.size() == 2);  // reused
}

TEST_CASE_METHOD(fixture, "a key whose partition has no live owner is unavailable, not routed") {
  placement->live = {"n1", "n3"};
  placement->where = [](std::string_view, std::string_view) -> entity_location {
    return {entity_location::where::unavailable, "n2"};
  };
  auto router = cluster_router();
  router->add("graph", own(sys.spawn(named, std::string{"n1/graph"})));
  auto routed = router->route("graph", "alice");
  REQUIRE_FALSE(routed);
  CHECK(to_fault(routed.error()).code == errc::unavailable);
  CHECK(to_fault(routed.error()).message.find("n2") != std::string::npos);
  CHECK(spawned.empty());
}

TEST_CASE_METHOD(fixture, "a service this node does not run is unavailable, and a stopped router routes nothing") {
  placement->live = {"n1", "n2"};
  placement->where = [](std::string_view, std::string_view key) -> entity_location {
    return key == "remote" ? test::remote_at("n2") : entity_location{};
  };
  auto router = cluster_router();
  auto missing = router->route("graph", "here");
  REQUIRE_FALSE(missing);
  CHECK(to_fault(missing.error()).code == errc::unavailable);
  REQUIRE(router->route("graph", "remote"));
  router->stop();
  CHECK_FALSE(router->route("graph", "remote"));
  CHECK(router->others("graph").empty());
}
