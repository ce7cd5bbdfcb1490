// The merge of nodes' parts of a cluster-scope admin command, with made-up answers.
#include "actors/admin/answer_merge.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::admin;

namespace {

google::protobuf::Value text(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}

std::vector<std::string> nodes_of(const pb::AdminReply& r) {
  std::vector<std::string> out;
  for (auto& a : r.answers())
    out.push_back(a.node());
  return out;
}

} // namespace

TEST_CASE("answers come in node order and silent nodes are named") {
  auto reply = merge_answers("sessions.list", "cluster", {"n3", "n1", "n2"},
                             {data_answer("n3", text("c")), data_answer("n1", text("a"))});
  CHECK(reply.command() == "sessions.list");
  CHECK(reply.scope() == "cluster");
  CHECK(nodes_of(reply) == std::vector<std::string>{"n1", "n3"});
  CHECK(reply.answers(0).data().string_value() == "a");
  REQUIRE(reply.unanswered_size() == 1);
  CHECK(reply.unanswered(0) == "n2");
  CHECK_FALSE(whole_failure(reply));
}

TEST_CASE("a second answer from one node and answers from nodes not asked are dropped") {
  auto reply = merge_answers("users.where", "cluster", {"n1", "n2"},
                             {data_answer("n1", text("first")), data_answer("n1", text("again")),
                              data_answer("n9", text("stranger")), data_answer("n2", text("b"))});
  CHECK(nodes_of(reply) == std::vector<std::string>{"n1", "n2"});
  CHECK(reply.answers(0).data().string_value() == "first");
  CHECK(reply.unanswered().empty());
}

TEST_CASE("every node failing is a failure as a whole, with the first node's error") {
  auto reply = merge_answers(
    "sessions.kick", "cluster", {"n2", "n1"},
    {error_answer("n2", make_fault(errc::not_found, "no session s-2 here")),
     error_answer("n1", make_fault(errc::not_found, "no session s-1 here"))});
  auto failure = whole_failure(reply);
  REQUIRE(failure);
  CHECK(failure->code == errc::not_found);
  CHECK(failure->message == "no session s-1 here");
}

TEST_CASE("one node's data among errors, or a silent node, is not a failure as a whole") {
  auto mixed = merge_answers("sessions.kick", "cluster", {"n1", "n2"},
                             {error_answer("n1", make_fault(errc::not_found, "none here")),
                              data_answer("n2", text("kicked"))});
  CHECK_FALSE(whole_failure(mixed));
  auto silent = merge_answers("sessions.kick", "cluster", {"n1", "n2"},
                              {error_answer("n1", make_fault(errc::not_found, "none here"))});
  CHECK_FALSE(whole_failure(silent));
  auto nobody = merge_answers("sessions.kick", "cluster", {"n1"}, {});
  CHECK_FALSE(whole_failure(nobody));
  CHECK(nobody.unanswered_size() == 1);
}

TEST_CASE("an error code this build does not know reads as internal") {
  pb::AdminNodeAnswer odd;
  odd.set_node("n1");
  odd.mutable_error()->set_code("from_the_future");
  odd.mutable_error()->set_message("?");
  auto failure = whole_failure(merge_answers("node.status", "node", {"n1"}, {odd}));
  REQUIRE(failure);
  CHECK(failure->code == errc::internal);
}
