// Task validation, retry backoff and ids: the pure rules behind the scheduler.
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
