// Requests to task shards through their cached handles (actors/tasks/shard_request.hpp): a
// handle that went stale when its shard was passivated still gets every request answered.
#include "actors/tasks/shard_request.hpp"
#include "support/task_scheduler_fixture.hpp"

#include <catch2/catch.hpp>

#include <optional>

using namespace parley;

namespace {

struct fixture : test::scheduler_fixture {
  // Creates a task on shard 3 with ask_shard, as the edge does; its id.
  std::string create_through_cache() {
    auto id = std::make_shared<std::optional<std::string>>();
    tasks::ask_shard(
      sys, ctx, 3, std::chrono::seconds{5},
      [id](pb::CreatedTask& t) { *id = t.task().id(); },
      [](caf::error& err) { FAIL("create failed: " << to_fault(err).message); }, create_atom_v,
      report_task());
    run();
    REQUIRE(id->has_value());
    return **id;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a cached handle of a passivated shard is re-resolved, not a lost request") {
  auto first = create_through_cache();
  auto before = shard(3);
  // Everything idle is passivated: the cached handle now names an actor that is gone.
  auto swept = ask<uint64_t>(ctx->registry, sweep_atom_v, std::numeric_limits<int64_t>::max());
  REQUIRE(swept->value);
  REQUIRE(std::get<0>(*swept->value) > 0);
  auto second = create_through_cache();
  CHECK(second != first);
  CHECK(record(second).status() == pb::Task::SCHEDULED);
  CHECK(shard(3) != before);  // a new activation answered
}
