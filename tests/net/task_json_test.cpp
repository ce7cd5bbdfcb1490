// The hand-written task JSON reads back, through protobuf's own parser, as the same message.
#include "net/task_json.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

using namespace parley;
using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

namespace {

template <class Message>
Message reparse(const std::string& json) {
  Message m;
  INFO(json);
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &m).ok());
  return m;
}

google::protobuf::Value payload() {
  google::protobuf::Value v;
  REQUIRE(google::protobuf::util::JsonStringToMessage(
            R"({"s":"quote \" and \\ and \u0001 and é","n":-1.5e-7,"i":42,"b":true,)"
            R"("z":null,"l":[1,"two",[],{}],"o":{"deep":{"x":0.1}}})",
            &v)
            .ok());
  return v;
}

} // namespace

TEST_CASE("a task's JSON reads back as the same task") {
  pb::Task t;
  t.set_id("01m8gp1wrrzv4jk2hqtt");
  t.set_task_type("email");
  *t.mutable_payload() = payload();
  t.set_status(pb::Task::RETRYING);
  t.set_priority(-3);
  t.set_attempt(2);
  t.set_max_retries(5);
  t.mutable_schedule()->set_type("delayed");
  *t.mutable_schedule()->mutable_run_at() = TimeUtil::MillisecondsToTimestamp(1767225600123);
  *t.mutable_next_run_at() = TimeUtil::MillisecondsToTimestamp(1767225601000);
  t.set_last_error("line\nbreak");
  t.mutable_result()->set_null_value(google::protobuf::NULL_VALUE);
  *t.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(-1);  // before 1970
  *t.mutable_updated_at() = TimeUtil::MillisecondsToTimestamp(4102444800000);
  t.mutable_retry_policy()->set_max_retries(5);
  t.mutable_retry_policy()->set_backoff("fixed");
  t.mutable_retry_policy()->set_initial_delay_sec(0);
  t.set_timeout_sec(30);
  t.set_idempotency_key("k");
  auto back = reparse<pb::Task>(net::task_json(t));
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  CHECK(d.Compare(t, back));
  INFO(diff);
  auto json = net::task_json(t);
  CHECK(json.find(R"("status":"RETRYING")") != std::string::npos);
  CHECK(json.find(R"("next_run_at":"2026-01-01T00:00:01Z")") != std::string::npos);
  CHECK(json.find(R"("run_at":"2026-01-01T00:00:00.123Z")") != std::string::npos);
  CHECK(json.find(R"("created_at":"1969-12-31T23:59:59.999Z")") != std::string::npos);
}

TEST_CASE("a batch of leases reads back as a LeaseResponse") {
  pb::LeaseResponse leases;
  auto& first = *leases.add_leases();
  first.set_lease_id("a.b");
  first.set_task_id("a");
  first.set_attempt(1);
  first.set_task_type("t");
  *first.mutable_payload() = payload();
  *first.mutable_lease_expires_at() = TimeUtil::MillisecondsToTimestamp(1767225600000);
  *leases.add_leases() = first;
  leases.mutable_leases(1)->set_lease_id("c.d");
  auto back = reparse<pb::LeaseResponse>(net::leases_json(leases));
  REQUIRE(back.leases_size() == 2);
  CHECK(MessageDifferencer::Equals(back.leases(0), leases.leases(0)));
  CHECK(back.leases(1).lease_id() == "c.d");
  CHECK(net::leases_json(pb::LeaseResponse{}) == R"({"leases":[]})");
}

TEST_CASE("numbers print as protobuf prints them") {
  auto json_of = [](const std::string& in) {
    google::protobuf::Value v;
    REQUIRE(google::protobuf::util::JsonStringToMessage(in, &v).ok());
    std::string mine;
    net::append_value_json(mine, v);
    std::string theirs;
    REQUIRE(google::protobuf::util::MessageToJsonString(v, &theirs).ok());
    CHECK(mine == theirs);
    return mine;
  };
  CHECK(json_of("100000") == "100000");
  CHECK(json_of("3000000") == "3000000");
  CHECK(json_of("0.0001") == "0.0001");
  json_of("0.1");
  json_of("-1.5e-07");
  json_of("1e+300");
  json_of("123456789012345680");
}

TEST_CASE("times print as protobuf prints a Timestamp") {
  auto json_of = [](int64_t ms) {
    std::string mine;
    net::append_time_json(mine, ms);
    CHECK(mine == "\"" + TimeUtil::ToString(TimeUtil::MillisecondsToTimestamp(ms)) + "\"");
    return mine;
  };
  CHECK(json_of(0) == R"("1970-01-01T00:00:00Z")");
  CHECK(json_of(1764582121123) == R"("2025-12-01T09:42:01.123Z")");
  json_of(1764582121007);                   // leading zeros of the fraction
  json_of(-1);                              // the last millisecond before the epoch
  json_of(-62135596800000);                 // 0001-01-01, the first time protobuf allows
  json_of(253402300799999);                 // 9999-12-31T23:59:59.999
  json_of(951782400000);                    // 2000-02-29
}
