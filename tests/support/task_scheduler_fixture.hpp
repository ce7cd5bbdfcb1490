// The task scheduler's actors on CAF's deterministic coordinator, for tests: task shards behind
// a real registry, the lease broker, and storage written at once, with an injected clock.
#pragma once

#include "actors/runtime/errors.hpp"
#include "actors/runtime/registry.hpp"
#include "actors/tasks/lease_broker.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/task_shard.hpp"
#include "storage/task_store.hpp"
#include "support/deterministic_system.hpp"
#include "support/direct_writer.hpp"
#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

namespace parley::test {

struct scheduler_fixture : deterministic_system {
  temp_db tdb;
  std::unique_ptr<storage::task_store> store = std::make_unique<storage::task_store>(*tdb.db);
  tasks::tasks_context_ptr ctx = std::make_shared<tasks::tasks_context>();
  caf::actor broker;

  scheduler_fixture() {
    ctx->store = store.get();
    ctx->clock = clock();
    ctx->storage_writer =
      caf::actor_cast<runtime::storage_writer_api>(own(sys.spawn(direct_writer, tdb.db.get())));
    runtime::registry_options ropts;
    ropts.periodic_sweep = false;
    std::map<std::string, runtime::entity_factory> kinds;
    kinds[tasks::shard_kind] = [ctx = ctx](caf::actor_system& s, const std::string& id) {
      return caf::actor_cast<caf::actor>(
        tasks::spawn_task_shard(s, ctx, static_cast<uint32_t>(std::stoul(id))));
    };
    ctx->registry = own(runtime::spawn_registry(sys, ropts, std::move(kinds)));
    ctx->broker = tasks::spawn_lease_broker(sys, ctx);
    broker = own(caf::actor_cast<caf::actor>(ctx->broker));
    run();
  }

  ~scheduler_fixture() { stop(); }

  // The handle of task shard `n`, activated by the registry.
  caf::actor shard(uint32_t n) {
    auto a = ask<caf::actor, caf::timespan>(ctx->registry, resolve_atom_v,
                                            std::string{tasks::shard_kind}, std::to_string(n));
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }

  // A create of an immediate task of type `report`, as the node.
  static pb::CreateTask report_task() {
    pb::CreateTask msg;
    *msg.mutable_caller() = tasks::node_caller();
    msg.mutable_request()->set_task_type("report");
    return msg;
  }

  pb::StoredTask record(const std::string& id) {
    auto rec = ok(store->get(id));
    REQUIRE(rec);
    return *rec;
  }
};

} // namespace parley::test
