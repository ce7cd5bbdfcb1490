// Task and lease validation, retry backoff and ids: the pure rules behind the scheduler.
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_rules.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/time_util.h>

#include <set>

using namespace parley;
using namespace parley::tasks;
using google::protobuf::util::TimeUtil;

namespace {

constexpr int64_t now = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

fault prepare(const std::string& type, pb::StoredTask& out,
              const std::function<void(pb::CreateTaskRequest&)>& edit = {}) {
  pb::CreateTaskRequest req;
  req.set_task_type(type);
  if (edit)
    edit(req);
  return prepare_task(req, now, 1024, out);
}

pb::LeaseRequest lease_request(const std::function<void(pb::LeaseRequest&)>& edit = {}) {
  pb::LeaseRequest r;
  r.set_worker_id("w1");
  r.add_task_types("email");
  if (edit)
    edit(r);
  return r;
}

} // namespace

TEST_CASE("a minimal request gets the documented defaults") {
  pb::StoredTask t;
  REQUIRE_FALSE(prepare("email", t));
  CHECK(t.status() == pb::Task::PENDING);
  CHECK(t.next_run_at_ms() == now);
  CHECK(t.schedule().type() == "immediate");
  CHECK(t.retry_policy().max_retries() == 3);
  CHECK(t.retry_policy().backoff() == "exponential");
  CHECK(t.retry_policy().initial_delay_sec() == 10);
  CHECK(t.timeout_sec() == 300);
  CHECK(t.priority() == 0);
  CHECK(t.payload().has_null_value());
}

TEST_CASE("zero is a value, not a missing field, for the optional numbers") {
  pb::StoredTask t;
  REQUIRE_FALSE(prepare("x", t, [](auto& r) {
    r.mutable_retry_policy()->set_max_retries(0);
    r.mutable_retry_policy()->set_initial_delay_sec(0);
    r.set_priority(0);
  }));
  CHECK(t.retry_policy().max_retries() == 0);
  CHECK(t.retry_policy().initial_delay_sec() == 0);
}

TEST_CASE("delayed and cron schedules set next_run_at") {
  pb::StoredTask t;
  REQUIRE_FALSE(prepare("x", t, [](auto& r) {
    r.mutable_schedule()->set_type("delayed");
    *r.mutable_schedule()->mutable_run_at() = TimeUtil::MillisecondsToTimestamp(now + 5000);
  }));
  CHECK(t.next_run_at_ms() == now + 5000);
  REQUIRE_FALSE(prepare("x", t, [](auto& r) {
    r.mutable_schedule()->set_type("delayed");
    *r.mutable_schedule()->mutable_run_at() = TimeUtil::MillisecondsToTimestamp(now - 5000);
  }));
  CHECK(t.next_run_at_ms() == now);  // the past means now
  REQUIRE_FALSE(prepare("x", t, [](auto& r) {
    r.mutable_schedule()->set_type("cron");
    r.mutable_schedule()->set_cron("30 6 * * *");
  }));
  CHECK(t.next_run_at_ms() == now + (6 * 60 + 30) * 60000);
  CHECK(is_recurring(t));
  CHECK(next_firing(t, t.next_run_at_ms()) == t.next_run_at_ms() + 86400000);
}

TEST_CASE("out-of-bounds fields are refused naming the field") {
  pb::StoredTask t;
  auto refused = [&](const std::function<void(pb::CreateTaskRequest&)>& edit,
                     const std::string& needle, errc code = errc::bad_request) {
    auto err = prepare("x", t, edit);
    INFO(err.message);
    CHECK(err.code == code);
    CHECK(err.message.find(needle) != std::string::npos);
  };
  refused([](auto& r) { r.mutable_retry_policy()->set_max_retries(101); }, "max_retries");
  refused([](auto& r) { r.set_timeout_sec(0); }, "timeout_sec");
  refused([](auto& r) { r.set_priority(-1001); }, "priority");
  refused([](auto& r) { r.set_idempotency_key(std::string(201, 'k')); }, "idempotency_key");
  refused([](auto& r) { r.mutable_payload()->set_string_value(std::string(2000, 'p')); },
          "max_payload_bytes", errc::too_large);
  refused([](auto& r) { r.mutable_schedule()->set_cron("* * * * *"); }, "schedule.type");
  refused([](auto& r) {
    r.mutable_schedule()->set_type("delayed");
    *r.mutable_schedule()->mutable_run_at() =
      TimeUtil::MillisecondsToTimestamp(now + 11LL * 366 * 86400000);
  }, "10 years");
  CHECK(prepare("", t).message == "task_type is required");
  CHECK(prepare(std::string(65, 'a'), t).code == errc::bad_request);
}

TEST_CASE("a lease request without numbers leases one task for 30 seconds without waiting") {
  auto r = lease_request();
  REQUIRE_FALSE(check_lease_request(r));
  CHECK(r.max_tasks() == 1);
  CHECK(r.lease_sec() == 30);
  CHECK(r.wait_ms() == 0);
}

TEST_CASE("a lease request at its bounds is accepted as asked") {
  auto r = lease_request([](auto& r) {
    r.set_worker_id(std::string(128, 'w'));
    for (int i = 1; i < 32; ++i)
      r.add_task_types(std::string(64, 't'));
    r.set_max_tasks(100);
    r.set_lease_sec(3600);
    r.set_wait_ms(60000);
  });
  REQUIRE_FALSE(check_lease_request(r));
  CHECK(r.max_tasks() == 100);
  CHECK(r.lease_sec() == 3600);
  CHECK(r.wait_ms() == 60000);
}

TEST_CASE("a lease request out of bounds is refused naming the field") {
  auto refused = [](const std::function<void(pb::LeaseRequest&)>& edit,
                    const std::string& needle) {
    auto r = lease_request(edit);
    auto err = check_lease_request(r);
    INFO(err.message);
    CHECK(err.code == errc::bad_request);
    CHECK(err.message.find(needle) != std::string::npos);
  };
  refused([](auto& r) { r.clear_worker_id(); }, "worker_id");
  refused([](auto& r) { r.set_worker_id(std::string(129, 'w')); }, "worker_id");
  refused([](auto& r) { r.clear_task_types(); }, "task_types");
  refused([](auto& r) {
    for (int i = 0; i < 32; ++i)
      r.add_task_types("t");
  }, "task_types");
  refused([](auto& r) { r.add_task_types(""); }, "task_types");
  refused([](auto& r) { r.add_task_types(std::string(65, 't')); }, "task_types");
  refused([](auto& r) { r.set_max_tasks(101); }, "max_tasks");
  refused([](auto& r) { r.set_max_tasks(-1); }, "max_tasks");
  refused([](auto& r) { r.set_lease_sec(3601); }, "lease_sec");
  refused([](auto& r) { r.set_lease_sec(-1); }, "lease_sec");
  refused([](auto& r) { r.set_wait_ms(60001); }, "wait_ms");
  refused([](auto& r) { r.set_wait_ms(-1); }, "wait_ms");
}

TEST_CASE("a heartbeat may keep its lease length or ask for up to an hour") {
  pb::HeartbeatRequest h;
  CHECK_FALSE(check_heartbeat_request(h));
  h.set_lease_sec(3600);
  CHECK_FALSE(check_heartbeat_request(h));
  h.set_lease_sec(3601);
  CHECK(check_heartbeat_request(h).code == errc::bad_request);
  h.set_lease_sec(-1);
  CHECK(check_heartbeat_request(h).code == errc::bad_request);
}

TEST_CASE("exponential backoff doubles from the initial delay with up to 25% jitter") {
  pb::RetryPolicy p;
  p.set_backoff("exponential");
  p.set_initial_delay_sec(10);
  CHECK(retry_delay_ms(p, 1, 0) == 10000);
  CHECK(retry_delay_ms(p, 2, 0) == 20000);
  CHECK(retry_delay_ms(p, 4, 0) == 80000);
  CHECK(retry_delay_ms(p, 60, 0) == 24LL * 3600 * 1000);  // capped at a day
  for (uint64_t r : {1ull, 777ull, 2500ull, ~0ull}) {
    auto d = retry_delay_ms(p, 1, r);
    CHECK(d >= 10000);
    CHECK(d <= 12500);
  }
  p.set_backoff("fixed");
  CHECK(retry_delay_ms(p, 5, 0) == 10000);
  p.set_initial_delay_sec(0);
  CHECK(retry_delay_ms(p, 3, 12345) == 0);
}

TEST_CASE("task ids are time-ordered, belong to the asked shard, and lease ids name their task") {
  std::set<std::string> ids;
  std::string previous;
  for (int i = 0; i < 200; ++i) {
    auto shard = static_cast<uint32_t>(i % task_shard_count);
    auto id = new_task_id(now + i, shard);
    CHECK(valid_task_id(id));
    CHECK(shard_of(id) == shard);
    CHECK(id > previous);
    previous = id;
    ids.insert(id);
    auto lease = new_lease_id(id);
    CHECK(task_of_lease(lease) == id);
    CHECK(new_lease_id(id) != lease);
  }
  CHECK(ids.size() == 200);
  CHECK_FALSE(task_of_lease("x"));
  CHECK_FALSE(task_of_lease(previous));
  CHECK_FALSE(task_of_lease(previous + ".UPPERCASE0000"));
  CHECK_FALSE(valid_task_id("0000000000zzzzzzzzzu"));  // u is not in the alphabet
}
