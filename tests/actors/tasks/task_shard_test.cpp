// The task shard on CAF's deterministic coordinator with an injected clock: a delayed task
// becomes due, and a lease runs out, exactly when the test moves time past the moment.
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_metrics.hpp"
#include "actors/tasks/task_shard.hpp"
#include "storage/task_store.hpp"
#include "support/deterministic_system.hpp"
#include "support/result_checks.hpp"
#include "support/task_scheduler_fixture.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/time_util.h>

using namespace parley;
using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;
using T = pb::Task;
using parley::test::ok;

namespace {

// The lease broker's stand-in: remembers which tasks shards offered.
tasks::lease_broker_api::behavior_type offer_log(tasks::lease_broker_api::pointer,
                                                 std::vector<std::string>* offered) {
  return {
    [](lease_atom, const pb::LeaseWait&) { return pb::LeaseResponse{}; },
    [](withdraw_atom, const pb::WithdrawWait&) {},
    [offered](ready_atom, const pb::ReadyTasks& ready) {
      for (auto& r : ready.tasks())
        offered->push_back(r.id());
    },
    [](withdraw_atom, const pb::WithdrawTask&) {},
    [](withdraw_atom, const pb::TakenTasks&) {},
    [](ready_atom, const pb::BrokerPosition&) {},
    [](ready_atom) { return pb::ReadyTasks{}; },
  };
}

struct fixture : test::deterministic_system {
  test::temp_db tdb;
  std::unique_ptr<storage::task_store> store = std::make_unique<storage::task_store>(*tdb.db);
  tasks::tasks_context_ptr ctx = std::make_shared<tasks::tasks_context>();
  std::vector<std::string> offered;
  caf::actor shard;

  fixture() {
    ctx->store = store.get();
    ctx->clock = clock();
    ctx->storage_writer = caf::actor_cast<runtime::storage_writer_api>(
      own(sys.spawn(test::direct_writer, tdb.db.get())));
    auto broker = sys.spawn(offer_log, &offered);
    own(caf::actor_cast<caf::actor>(broker));
    ctx->broker = broker;
    shard = own(caf::actor_cast<caf::actor>(tasks::spawn_task_shard(sys, ctx, 0)));
    run();  // the shard loads its window
  }

  ~fixture() { stop(); }

  // Creates a task as the node; its id, once the create is durable.
  std::string create(pb::CreateTaskRequest req) {
    pb::CreateTask msg;
    *msg.mutable_caller() = tasks::node_caller();
    *msg.mutable_request() = std::move(req);
    auto a = ask<pb::CreatedTask>(shard, create_atom_v, msg);
    REQUIRE(a->value);
    auto& created = std::get<0>(*a->value);
    CHECK(created.created());
    return created.task().id();
  }

  pb::CreateTaskRequest immediate() {
    pb::CreateTaskRequest req;
    req.set_task_type("report");
    return req;
  }

  pb::CreateTaskRequest delayed(int64_t after_ms) {
    pb::CreateTaskRequest req;
    req.set_task_type("report");
    req.mutable_schedule()->set_type("delayed");
    *req.mutable_schedule()->mutable_run_at() = TimeUtil::MillisecondsToTimestamp(now_ms() + after_ms);
    return req;
  }

  T::Status status(const std::string& id) {
    auto rec = ok(store->get(id));
    REQUIRE(rec);
    return rec->status();
  }

  // Leases `id` for a node worker for `lease_ms`; the lease, once durable.
  pb::Lease lease(const std::string& id, int64_t lease_ms) {
    pb::GrantLeases g;
    *g.mutable_caller() = tasks::node_caller();
    g.add_task_ids(id);
    g.set_worker_id("w1");
    g.set_lease_ms(lease_ms);
    auto a = ask<pb::LeaseResponse>(shard, lease_atom_v, g);
    REQUIRE(a->value);
    auto& leases = std::get<0>(*a->value).leases();
    REQUIRE(leases.size() == 1);
    return leases[0];
  }

  // Heartbeats under `lease_id`; the new expiry, or 0 with the error's code in `code`.
  int64_t heartbeat(const std::string& lease_id, int64_t lease_ms, errc& code) {
    pb::HeartbeatLease call;
    *call.mutable_caller() = tasks::node_caller();
    call.set_lease_id(lease_id);
    call.set_lease_ms(lease_ms);
    auto a = ask<pb::HeartbeatResponse>(shard, heartbeat_atom_v, call);
    REQUIRE(a->arrived());
    code = to_fault(a->error).code;
    return a->value ? TimeUtil::TimestampToMilliseconds(std::get<0>(*a->value).lease_expires_at())
                    : 0;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a delayed task becomes due when the clock passes its run_at") {
  auto id = create(delayed(30'000));
  CHECK(status(id) == T::PENDING);
  advance(29'999ms);
  CHECK(offered.empty());
  CHECK(status(id) == T::PENDING);
  advance(1ms);
  CHECK(offered == std::vector<std::string>{id});
  CHECK(status(id) == T::SCHEDULED);
}

TEST_CASE_METHOD(fixture, "a task due beyond the loaded window is reached by a later tick") {
  auto id = create(delayed(5 * 60'000));  // the shard keeps the next 60 s in memory
  advance(5min);
  CHECK(offered.empty());
  CHECK(status(id) == T::PENDING);
  caf::anon_send(shard, tick_atom_v);  // the ticker's job: the window moves to now + 60 s
  run();
  CHECK(offered == std::vector<std::string>{id});
  CHECK(status(id) == T::SCHEDULED);
}

TEST_CASE_METHOD(fixture, "a lease without heartbeats runs out and the attempt is retried") {
  auto& expiries = tasks::instruments().lease_expiries;
  auto expired_before = expiries.value();
  auto id = create(immediate());
  REQUIRE(offered == std::vector<std::string>{id});
  auto l = lease(id, 30'000);
  CHECK(status(id) == T::RUNNING);
  CHECK(TimeUtil::TimestampToMilliseconds(l.lease_expires_at()) == now_ms() + 30'000);
  advance(30s);  // at its expiry, not past it
  CHECK(status(id) == T::RUNNING);
  advance(1ms);
  CHECK(status(id) == T::RETRYING);
  CHECK(expiries.value() == expired_before + 1);
  errc code = errc::internal;
  CHECK(heartbeat(l.lease_id(), 0, code) == 0);
  CHECK(code == errc::conflict);
}

TEST_CASE_METHOD(fixture, "a heartbeat extends a lease from the time it arrives") {
  auto id = create(immediate());
  auto l = lease(id, 30'000);
  advance(20s);
  errc code = errc::internal;
  CHECK(heartbeat(l.lease_id(), 30'000, code) == now_ms() + 30'000);
  CHECK(code == errc::none);
  advance(30s);  // 50 s after the lease, 30 s after the heartbeat: not past it yet
  CHECK(status(id) == T::RUNNING);
  advance(1ms);
  CHECK(status(id) == T::RETRYING);
}

TEST_CASE_METHOD(fixture, "a command on a task whose record is corrupt answers internal, not unknown") {
  auto id = tasks::new_task_id(now_ms(), 0);
  tdb.apply([&](storage::write_set& ws) {
    ws.put(storage::family::tasks, id, "\xff\xff\xff");
  });
  pb::TaskCommand cancel;
  *cancel.mutable_caller() = tasks::node_caller();
  cancel.set_task_id(id);
  cancel.set_kind(pb::TaskCommand::CANCEL);
  auto a = ask<pb::StoredTask>(shard, command_atom_v, cancel);
  REQUIRE(a->arrived());
  // Taken for absent, the caller would hear 404 for a task that exists.
  CHECK(to_fault(a->error).code == errc::internal);
}

namespace {

// Completes (or fails) `lease_id` as the node; the outcome's status.
T::Status finish(test::deterministic_system& s, caf::actor shard, const std::string& lease_id,
                 bool success) {
  pb::FinishLease msg;
  *msg.mutable_caller() = tasks::node_caller();
  msg.set_lease_id(lease_id);
  msg.set_success(success);
  if (success) {
    msg.mutable_result()->set_string_value("done");
  } else {
    msg.set_error("boom");
    msg.set_retryable(true);
  }
  auto a = s.ask<pb::LeaseOutcome>(shard, finish_atom_v, msg);
  REQUIRE(a->value);
  return std::get<0>(*a->value).status();
}

std::vector<pb::TaskRun> runs(test::deterministic_system& s, caf::actor shard,
                              const std::string& id) {
  pb::TaskRunsRead q;
  *q.mutable_caller() = tasks::node_caller();
  q.set_task_id(id);
  auto a = s.ask<pb::TaskRuns>(shard, read_atom_v, q);
  REQUIRE(a->value);
  auto& r = std::get<0>(*a->value).runs();
  return {r.begin(), r.end()};
}

} // namespace

TEST_CASE_METHOD(fixture, "a completed task's last run is read from its record, earlier ones are stored") {
  auto req = immediate();
  req.mutable_retry_policy()->set_max_retries(3);
  req.mutable_retry_policy()->set_initial_delay_sec(0);
  req.mutable_retry_policy()->set_backoff("fixed");
  auto id = create(req);
  auto first = lease(id, 30'000);
  CHECK(finish(*this, shard, first.lease_id(), false) == T::RETRYING);
  advance(1s);  // the retry is due (a fixed delay of 0 plus at most 25% jitter)
  auto second = lease(id, 30'000);
  auto started = now_ms();
  advance(2s);
  CHECK(finish(*this, shard, second.lease_id(), true) == T::COMPLETED);
  // One run stored (the failure); the completion is the record's own.
  auto rec = *ok(store->get(id));
  CHECK(rec.run_count() == 1);
  CHECK(rec.final_run_in_record());
  auto all = runs(*this, shard, id);
  REQUIRE(all.size() == 2);
  CHECK(all[0].outcome() == "failed");
  CHECK(all[0].attempt() == 1);
  CHECK(all[0].error() == "boom");
  CHECK(all[1].outcome() == "completed");
  CHECK(all[1].attempt() == 2);
  CHECK(all[1].worker_id() == "w1");
  CHECK(TimeUtil::TimestampToMilliseconds(all[1].started_at()) == started);
  CHECK(TimeUtil::TimestampToMilliseconds(all[1].finished_at()) == now_ms());
  CHECK(all[1].result().string_value() == "done");
  CHECK(all[1].error().empty());
}

TEST_CASE_METHOD(fixture, "a completed task written before records kept their last run reads its stored runs") {
  // The format before final_run_in_record: every run in task_runs, the record without the flag.
  auto id = tasks::new_task_id(now_ms(), 0);
  pb::StoredTask rec;
  rec.set_id(id);
  rec.set_task_type("report");
  rec.set_status(T::COMPLETED);
  rec.set_attempt(1);
  rec.set_finished_at_ms(now_ms());
  rec.set_run_count(1);
  pb::TaskRun run;
  run.set_attempt(1);
  run.set_outcome("completed");
  run.mutable_result()->set_string_value("old");
  tdb.apply([&](storage::write_set& ws) {
    store->put(ws, 0, nullptr, rec);
    store->put_run(ws, id, 0, run);
  });
  auto all = runs(*this, shard, id);
  REQUIRE(all.size() == 1);
  CHECK(all[0].outcome() == "completed");
  CHECK(all[0].result().string_value() == "old");
}

TEST_CASE_METHOD(fixture, "a cancelled running task's lease keeps answering its worker until it runs out") {
  auto id = create(immediate());
  auto l = lease(id, 30'000);
  pb::TaskCommand cancel;
  *cancel.mutable_caller() = tasks::node_caller();
  cancel.set_task_id(id);
  cancel.set_kind(pb::TaskCommand::CANCEL);
  REQUIRE(ask<pb::StoredTask>(shard, command_atom_v, cancel)->value);
  advance(10s);
  pb::HeartbeatLease hb;
  *hb.mutable_caller() = tasks::node_caller();
  hb.set_lease_id(l.lease_id());
  hb.set_lease_ms(30'000);
  auto a = ask<pb::HeartbeatResponse>(shard, heartbeat_atom_v, hb);
  REQUIRE(a->value);
  CHECK(std::get<0>(*a->value).cancel_requested());
  // Not extended: the lease ends when it was granted to.
  CHECK(TimeUtil::TimestampToMilliseconds(std::get<0>(*a->value).lease_expires_at())
        == TimeUtil::TimestampToMilliseconds(l.lease_expires_at()));
  advance(20s + 1ms);
  auto after = ask<pb::HeartbeatResponse>(shard, heartbeat_atom_v, hb);
  REQUIRE(after->arrived());
  CHECK(to_fault(after->error).code == errc::conflict);
  CHECK(status(id) == T::CANCELLED);
}
