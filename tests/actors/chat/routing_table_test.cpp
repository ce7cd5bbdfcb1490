#include "actors/chat/conversation_id.hpp"
#include "actors/chat/routing_table.hpp"

#include <catch2/catch.hpp>

using namespace parley::chat;

TEST_CASE("a user is online from the first route to the removal of the last") {
  routing_table t;
  CHECK(t.add("alice", route{"s1", "phone", {}}));
  CHECK_FALSE(t.add("alice", route{"s2", "laptop", {}}));
  CHECK_FALSE(t.add("alice", route{"s1", "tablet", {}}));  // same session: replaced
  CHECK(t.routes_of("alice").size() == 2);
  CHECK(t.online("alice"));
  CHECK(t.online_user_ids() == std::vector<std::string>{"alice"});
  CHECK_FALSE(t.remove("alice", "s1"));
  CHECK(t.remove("alice", "s2"));
  CHECK_FALSE(t.online("alice"));
  CHECK_FALSE(t.remove("alice", "s2"));
  CHECK(t.online_users() == 0);
}

TEST_CASE("direct conversation ids are canonical and validated") {
  CHECK(direct_conversation_id("bob", "alice") == "d:alice:bob");
  CHECK(direct_conversation_id("alice", "bob") == "d:alice:bob");
  CHECK(valid_conversation_id("d:alice:bob"));
  CHECK_FALSE(valid_conversation_id("d:bob:alice"));  // not canonical
  CHECK_FALSE(valid_conversation_id("d:alice:"));
  CHECK_FALSE(valid_conversation_id("d:al ice:bob"));
  CHECK_FALSE(valid_conversation_id("x:alice:bob"));
  auto g = new_group_id();
  CHECK(is_group_id(g));
  CHECK(valid_conversation_id(g));
  CHECK(g != new_group_id());
  CHECK_FALSE(valid_conversation_id("g:XYZ"));
}
