// What may cross nodes does: each service interface's request and reply types round-trip
// through CAF's binary serializer (tests/support/wire_round_trip.hpp), with defaults and with
// values that fill their fields.
#include "actors/admin/admin_api.hpp"
#include "actors/admin/answer_merge.hpp"
#include "actors/chat/chat_api.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/parley.pb.h"
#include "support/test_system.hpp"
#include "support/wire_round_trip.hpp"

#include <catch2/catch.hpp>

using namespace parley;

namespace {

struct fixture {
  test::test_config cfg;
  caf::actor_system sys{cfg};
};

} // namespace

TEST_CASE_METHOD(fixture, "a protobuf message serializes with its own encoding and prints readably") {
  pb::CreateLinkRequest req;
  req.set_long_url("https://example.com/a?b=c");
  req.set_custom_alias("promo");
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(req));
  pb::CreateLinkRequest back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(source(back));
  CHECK(back.long_url() == req.long_url());
  CHECK(back.custom_alias() == "promo");
  CHECK(caf::deep_to_string(req).find("promo") != std::string::npos);
}

TEST_CASE_METHOD(fixture, "bytes that are not the message are an error, not an empty message") {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(std::string{"\xff\xff\xff", 3}));
  pb::CreateLinkRequest back;
  caf::binary_deserializer source{sys, buf};
  CHECK(source(back));
}

TEST_CASE_METHOD(fixture, "the admin interface crosses nodes") {
  test::check_interface<admin::admin_api>(sys);
  pb::AdminRequest req;
  req.set_command("sessions.kick");
  (*req.mutable_args())["user"] = "bob";
  (*req.mutable_args())["reason"] = "spam";
  req.mutable_caller()->set_user("op");
  req.mutable_caller()->set_role("admin");
  test::check_round_trip(sys, req);
  google::protobuf::Value kicked;
  kicked.mutable_struct_value()->mutable_fields()->insert({"kicked", google::protobuf::Value{}});
  (*kicked.mutable_struct_value()->mutable_fields())["kicked"].set_number_value(2);
  auto answer = admin::data_answer("n-1", kicked);
  test::check_round_trip(sys, answer);
  test::check_round_trip(sys, admin::error_answer("n-2", make_fault(errc::not_found, "none")));
  pb::AdminReply reply;
  reply.set_command("sessions.kick");
  reply.set_scope("cluster");
  *reply.add_answers() = answer;
  reply.add_unanswered("n-3");
  test::check_round_trip(sys, reply);
}

TEST_CASE_METHOD(fixture, "chat: every conversation and presence message crosses nodes") {
  test::check_interface<chat::conversation_api>(sys);
  test::check_interface<chat::presence_api>(sys);
  pb::ConversationSend send;
  send.set_sender_id("alice");
  send.set_client_msg_id("m-1");
  send.set_body("h\xc3\xa9llo, \xe2\x9c\x93");
  send.set_to_user("bob");
  send.set_origin_session("s-1");
  test::check_round_trip(sys, send);
  pb::ConversationAck ack;
  ack.set_seq(42);
  ack.set_sent_at_ms(1750000000123);
  test::check_round_trip(sys, ack);
  pb::ChatEndpoint device;
  device.set_user_id("alice");
  device.set_session_id("s-1");
  device.set_device_id("phone");
  device.set_node("n1");
  test::check_round_trip(sys, device);
  pb::PresenceQuery query;
  query.set_request_id("p1");
  *query.mutable_subscriber() = device;
  query.add_user_ids("bob");
  query.add_user_ids("carol");
  query.add_hidden("carol");
  query.set_subscribe(true);
  test::check_round_trip(sys, query);
  pb::HistoryPage page;
  page.set_conversation_id("d:alice:bob");
  auto* m = page.add_messages();
  m->set_seq(7);
  m->set_body("hi");
  m->mutable_sent_at()->set_seconds(1750000000);
  page.set_has_more(true);
  test::check_round_trip(sys, page);
  auto back = test::message_round_trip(sys, page);
  CHECK(back.messages(0).sent_at().seconds() == 1750000000);
}
