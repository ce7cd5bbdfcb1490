// The lease broker with real task shards behind the registry, on CAF's deterministic
// coordinator: a worker that goes away while it waits is leased nothing, also when its shards
// were already granting, and a lease that can no longer be handed to its worker is revoked.
#include "actors/tasks/lease_poll.hpp"
#include "support/fake_placement.hpp"
#include "support/task_scheduler_fixture.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <optional>

using namespace parley;
using namespace std::chrono_literals;
using T = pb::Task;
using parley::test::ok;

namespace {

struct fixture : test::scheduler_fixture {
  // Creates an immediate task of type `report` on shard 3; its id, once durable (and offered).
  std::string create() {
    auto a = ask<pb::CreatedTask>(shard(3), create_atom_v, report_task());
    REQUIRE(a->value);
    return std::get<0>(*a->value).task().id();
  }

  static pb::LeaseWait wait_for_report(int32_t wait_ms, const std::string& wait_id) {
    pb::LeaseWait w;
    *w.mutable_caller() = tasks::node_caller();
    w.mutable_request()->set_worker_id("w1");
    w.mutable_request()->add_task_types("report");
    w.mutable_request()->set_wait_ms(wait_ms);
    w.set_wait_id(wait_id);
    return w;
  }

  void withdraw(const std::string& wait_id) {
    pb::WithdrawWait msg;
    msg.set_wait_id(wait_id);
    caf::anon_send(ctx->broker, withdraw_atom_v, std::move(msg));
  }

  // Leases what is there now, without waiting.
  pb::LeaseResponse lease_now() {
    auto a = ask<pb::LeaseResponse>(broker, lease_atom_v, wait_for_report(0, ""));
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a long poll withdrawn by its worker ends empty and leases nothing") {
  auto parked = ask<pb::LeaseResponse>(broker, lease_atom_v, wait_for_report(30'000, "gone"));
  CHECK_FALSE(parked->arrived());
  withdraw("gone");
  run();
  REQUIRE(parked->value);
  CHECK(std::get<0>(*parked->value).leases().empty());
  auto id = create();  // offered to a broker that has nobody waiting
  CHECK(record(id).status() == T::SCHEDULED);
  auto leases = lease_now();
  REQUIRE(leases.leases_size() == 1);
  CHECK(leases.leases(0).task_id() == id);
  CHECK(leases.leases(0).attempt() == 1);
}

TEST_CASE_METHOD(fixture, "leases granted for a worker that withdraws meanwhile are revoked") {
  auto parked = ask<pb::LeaseResponse>(broker, lease_atom_v, wait_for_report(30'000, "gone"));
  // The task is created, offered and granted one message at a time, until its lease is durable:
  // the broker has not heard the shard's answer yet when the withdrawal reaches it.
  auto created = std::make_shared<std::optional<pb::CreatedTask>>();
  sys.spawn([created, dest = shard(3), msg = report_task()](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, create_atom_v, msg)
      .then([created](pb::CreatedTask& t) { *created = std::move(t); });
  });
  auto running = [this] { return !ok(store->ids(T::RUNNING, "", 10)).empty(); };
  while (!running() && sched.try_run_once()) {
  }
  REQUIRE(running());
  withdraw("gone");
  run();
  REQUIRE(created->has_value());
  auto id = (*created)->task().id();
  REQUIRE(parked->value);
  CHECK(std::get<0>(*parked->value).leases().empty());
  auto rec = record(id);
  CHECK(rec.status() == T::SCHEDULED);
  CHECK(rec.attempt() == 0);  // nobody ran it: the attempt is not spent
  CHECK(rec.lease_id().empty());
  auto leases = lease_now();  // offered again at once, not after a lease expiry
  REQUIRE(leases.leases_size() == 1);
  CHECK(leases.leases(0).task_id() == id);
  CHECK(leases.leases(0).attempt() == 1);
}

TEST_CASE_METHOD(fixture, "a lease poll whose caller is gone hands nothing over and revokes") {
  auto id = create();
  auto delivered = std::make_shared<std::optional<int>>();
  tasks::lease_poll_replies replies;
  replies.deliver = [delivered](const pb::LeaseResponse& r) {
    *delivered = r.leases_size();
    return true;
  };
  replies.fail = [](const caf::error& err) { FAIL("lease poll failed: " << to_fault(err).message); };
  auto poll = tasks::spawn_lease_poll(sys, ctx, wait_for_report(30'000, ""), 35s, replies);
  caf::anon_send(poll, closed_atom_v);  // the worker hung up right after asking
  run();
  REQUIRE(delivered->has_value());
  CHECK(**delivered == 0);
  auto rec = record(id);
  CHECK(rec.status() == T::SCHEDULED);
  CHECK(rec.attempt() == 0);
  CHECK(lease_now().leases_size() == 1);
}

TEST_CASE_METHOD(fixture, "leases that can no longer be handed over are revoked") {
  auto id = create();
  tasks::lease_poll_replies replies;
  replies.deliver = [](const pb::LeaseResponse&) { return false; };  // answered already (503)
  replies.fail = [](const caf::error& err) { FAIL("lease poll failed: " << to_fault(err).message); };
  tasks::spawn_lease_poll(sys, ctx, wait_for_report(0, ""), 5s, replies);
  run();
  auto rec = record(id);
  CHECK(rec.status() == T::SCHEDULED);
  CHECK(rec.attempt() == 0);
  CHECK(lease_now().leases_size() == 1);
}

TEST_CASE_METHOD(fixture, "a lease request with bad fields is refused with bad_request") {
  auto w = wait_for_report(0, "");
  w.mutable_request()->set_max_tasks(1000);
  auto a = ask<pb::LeaseResponse>(broker, lease_atom_v, w);
  REQUIRE(a->error);
  auto err = to_fault(a->error);
  CHECK(err.code == errc::bad_request);
  CHECK(err.message.find("max_tasks") != std::string::npos);
}

// -- in a cluster ---------------------------------------------------------------------------------

namespace {

// What n1's broker sends n2's passes through this link, which loses every message while it is
// down (a dropped peer link: CAF drops what is sent to a dead proxy). A message that passes keeps
// its sender and id, so a request is answered to whoever asked.
caf::behavior lossy_link(caf::event_based_actor* self, std::shared_ptr<bool> down,
                         std::function<caf::actor()> to) {
  self->set_default_handler([self, down, to](caf::scheduled_actor*, caf::message_view& x)
                              -> caf::result<caf::message> {
    auto* e = self->current_mailbox_element();
    auto id = self->take_current_message_id();  // the link itself never answers
    if (!*down)
      to()->enqueue(caf::make_mailbox_element(std::move(e->sender), id, std::move(e->stages),
                                              x.move_content_to_message()),
                    self->context());
    return caf::message{};
  });
  return {[](caf::unit_t) {}};  // everything else takes the default handler
}

// Two nodes' brokers on one actor system: n1 has the fixture's shards, n2 only a broker, which
// grants through the same registry (as its forwarders would reach n1's shards). Each node's
// router hands out the other node's actual broker as its stand-in (n1's through the lossy link).
struct two_brokers : fixture {
  std::shared_ptr<test::fake_placement> view1 = std::make_shared<test::fake_placement>();
  std::shared_ptr<test::fake_placement> view2 = std::make_shared<test::fake_placement>();
  tasks::tasks_context_ptr ctx2 = std::make_shared<tasks::tasks_context>();
  caf::actor broker1;
  caf::actor broker2;
  std::shared_ptr<bool> link_down = std::make_shared<bool>(false);
  caf::actor link12;

  explicit two_brokers(bool met = true) {
    view1->live = met ? std::vector<std::string>{"n1", "n2"} : std::vector<std::string>{"n1"};
    view2->live = met ? std::vector<std::string>{"n1", "n2"} : std::vector<std::string>{"n2"};
    link12 = own(sys.spawn(lossy_link, link_down, [this] { return broker2; }));
    ctx->router = test::router_of(sys, "n1", view1, [this](auto&, auto& node) {
      return node == "n2" ? link12 : caf::actor{};
    });
    ctx2->clock = clock();
    ctx2->registry = ctx->registry;
    ctx2->router = test::router_of(sys, "n2", view2, [this](auto&, auto& node) {
      return node == "n1" ? broker1 : caf::actor{};
    });
    ctx->broker = tasks::spawn_lease_broker(sys, ctx);
    broker1 = own(caf::actor_cast<caf::actor>(ctx->broker));
    ctx2->broker = tasks::spawn_lease_broker(sys, ctx2);
    broker2 = own(caf::actor_cast<caf::actor>(ctx2->broker));
    run();
  }

  ~two_brokers() {
    stop();
    ctx->router->stop();
    ctx2->router->stop();
  }

  pb::LeaseResponse lease_now_at(const caf::actor& b) {
    auto a = ask<pb::LeaseResponse>(b, lease_atom_v, wait_for_report(0, ""));
    REQUIRE(a->value);
    return std::get<0>(*a->value);
  }
};

struct strangers : two_brokers {
  strangers() : two_brokers(false) {}
};

} // namespace

TEST_CASE_METHOD(two_brokers, "a worker waiting at one node's broker leases a task due on another node's shard") {
  auto parked = ask<pb::LeaseResponse>(broker2, lease_atom_v, wait_for_report(30'000, "w2"));
  CHECK_FALSE(parked->arrived());
  auto id = create();  // shard 3 is n1's: offered to n1's broker, which tells n2's
  run();
  REQUIRE(parked->value);
  auto& leases = std::get<0>(*parked->value);
  REQUIRE(leases.leases_size() == 1);
  CHECK(leases.leases(0).task_id() == id);
  auto rec = record(id);
  CHECK(rec.status() == T::RUNNING);
  CHECK(rec.attempt() == 1);
  // n1's broker heard that it was taken: a worker there finds nothing and the task is not
  // granted twice.
  CHECK(lease_now_at(broker1).leases().empty());
  CHECK(record(id).attempt() == 1);
}

TEST_CASE_METHOD(two_brokers, "a task is leased once when workers wait at both nodes") {
  auto at1 = ask<pb::LeaseResponse>(broker1, lease_atom_v, wait_for_report(30'000, "w1"));
  auto at2 = ask<pb::LeaseResponse>(broker2, lease_atom_v, wait_for_report(30'000, "w2"));
  auto id = create();
  run();
  int granted = 0;
  for (auto& a : {at1, at2})
    if (a->value)
      granted += std::get<0>(*a->value).leases_size();
  CHECK(granted == 1);  // the other keeps waiting
  CHECK(record(id).attempt() == 1);
  auto second = create();
  run();
  REQUIRE(at1->value);
  REQUIRE(at2->value);
  granted = std::get<0>(*at1->value).leases_size() + std::get<0>(*at2->value).leases_size();
  CHECK(granted == 2);
  CHECK(record(second).status() == T::RUNNING);
}

TEST_CASE_METHOD(strangers, "a broker learns the ready tasks of a node it sees for the first time") {
  auto id = create();  // n2 is not a member yet: nobody is told
  CHECK(lease_now_at(broker2).leases().empty());
  view1->live = {"n1", "n2"};
  view2->live = {"n1", "n2"};
  advance(std::chrono::seconds{1});  // each broker looks for members it has not heard from
  auto leases = lease_now_at(broker2);
  REQUIRE(leases.leases_size() == 1);
  CHECK(leases.leases(0).task_id() == id);
}

TEST_CASE_METHOD(two_brokers, "an offer lost with a dropped peer link is learned again when the "
                              "link is back, without a member change") {
  auto before = create();
  run();
  CHECK(lease_now_at(broker2).leases_size() == 1);  // told at once while the link is up
  CHECK(record(before).status() == T::RUNNING);
  *link_down = true;
  auto lost = create();  // n1's broker tells n2's, and the message is lost
  run();
  CHECK(lease_now_at(broker2).leases().empty());
  *link_down = false;
  // The next position n1's broker sends shows n2's broker a message it missed: it asks n1 for
  // its ready tasks again. The member list never changed.
  advance(std::chrono::seconds{1});
  auto leases = lease_now_at(broker2);
  REQUIRE(leases.leases_size() == 1);
  CHECK(leases.leases(0).task_id() == lost);
  CHECK(record(lost).status() == T::RUNNING);
}

TEST_CASE_METHOD(two_brokers, "a task taken while the peer link was down leaves the peer's "
                              "ready tasks once the link is back") {
  auto id = create();
  run();
  *link_down = true;
  // n1's worker leases the task; the TakenTasks for n2 is lost, and n2 still holds it as ready.
  CHECK(lease_now_at(broker1).leases_size() == 1);
  *link_down = false;
  auto second = create();  // numbered after the lost message: n2 sees the gap at once
  run();
  // n2's fresh copy of n1's ready tasks replaced what it had from n1: the leased task is gone,
  // the new one is there, and n2's worker gets it at the first try.
  auto leases = lease_now_at(broker2);
  REQUIRE(leases.leases_size() == 1);
  CHECK(leases.leases(0).task_id() == second);
  CHECK(record(id).attempt() == 1);
  CHECK(lease_now_at(broker2).leases().empty());
}
