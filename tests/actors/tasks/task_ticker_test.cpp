// The task ticker on CAF's deterministic coordinator: in a cluster it ticks (and so activates)
// only the task shards whose partitions this node owns.
#include "actors/tasks/task_ticker.hpp"
#include "support/fake_placement.hpp"
#include "support/task_scheduler_fixture.hpp"

#include <catch2/catch.hpp>

using namespace parley;

namespace {

uint64_t active_entities(test::scheduler_fixture& f) {
  auto a = f.ask<uint64_t>(f.ctx->registry, count_atom_v);
  REQUIRE(a->value);
  return std::get<0>(*a->value);
}

} // namespace

TEST_CASE_METHOD(test::scheduler_fixture, "on a single node the ticker ticks every task shard") {
  own(tasks::spawn_task_ticker(sys, ctx));
  run();
  CHECK(active_entities(*this) == tasks::task_shard_count);
}

TEST_CASE_METHOD(test::scheduler_fixture, "in a cluster each task shard is ticked by its owner alone") {
  auto view = std::make_shared<test::fake_placement>();
  view->live = {"n1", "n2"};
  view->where = [](std::string_view, std::string_view shard) -> runtime::entity_location {
    return std::stoi(std::string{shard}) % 2 == 0 ? runtime::entity_location{}
                                                  : test::remote_at("n2");
  };
  ctx->router = test::router_of(sys, "n1", view, [](auto&, auto&) { return caf::actor{}; });
  own(tasks::spawn_task_ticker(sys, ctx));
  run();
  CHECK(active_entities(*this) == tasks::task_shard_count / 2);
  advance(std::chrono::seconds{1});
  CHECK(active_entities(*this) == tasks::task_shard_count / 2);
}
