#include "actors/chat/group_membership.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::chat;
using storage::conversation_record;

namespace {

conversation_record group_of(std::vector<std::string> members, std::vector<std::string> admins) {
  conversation_record rec;
  rec.group = true;
  rec.members = std::move(members);
  rec.admins = std::move(admins);
  return rec;
}

} // namespace

TEST_CASE("only admins add and remove, and a member removing only itself is leaving") {
  auto rec = group_of({"alice", "bob", "carol"}, {"alice"});
  membership_change out;
  CHECK(change_members(rec, "bob", true, {"dave"}, 5, 500, out).code == errc::forbidden);
  CHECK(change_members(rec, "bob", false, {"carol"}, 5, 500, out).code == errc::forbidden);
  CHECK(change_members(rec, "bob", false, {"bob", "carol"}, 5, 500, out).code == errc::forbidden);
  REQUIRE_FALSE(change_members(rec, "bob", false, {"bob"}, 5, 500, out));
  CHECK(out.next.members == std::vector<std::string>{"alice", "carol"});
  CHECK(out.removed == std::vector<std::string>{"bob"});
  REQUIRE_FALSE(change_members(rec, "alice", true, {"dave", "bob"}, 5, 500, out));
  CHECK(out.added == std::vector<std::string>{"dave"});  // bob is already there
  CHECK(out.next.members.size() == 4);
}

TEST_CASE("a member added later joins after the current seq, and again when re-added") {
  auto rec = group_of({"alice", "bob"}, {"alice"});
  membership_change out;
  REQUIRE_FALSE(change_members(rec, "alice", true, {"carol"}, 7, 500, out));
  CHECK(hidden_up_to(out.next, "carol") == 7);
  CHECK(hidden_up_to(out.next, "bob") == 0);
  auto with_carol = out.next;
  REQUIRE_FALSE(change_members(with_carol, "alice", false, {"carol"}, 9, 500, out));
  CHECK(out.next.joins.count("carol") == 0);
  REQUIRE_FALSE(change_members(out.next, "alice", true, {"carol"}, 12, 500, out));
  CHECK(hidden_up_to(out.next, "carol") == 12);
  // Direct conversations have no join points.
  conversation_record direct;
  direct.members = {"a", "b"};
  CHECK(hidden_up_to(direct, "a") == 0);
}

TEST_CASE("the last admin leaving promotes the oldest member, ties by user id") {
  auto rec = group_of({"alice", "bob", "carol", "dave"}, {"carol"});
  rec.joins["bob"] = storage::member_join{3, 2};   // added second
  rec.joins["alice"] = storage::member_join{1, 1};  // added first
  // dave is a founding member (order 0): the oldest.
  membership_change out;
  REQUIRE_FALSE(change_members(rec, "carol", false, {"carol"}, 5, 500, out));
  CHECK(out.next.admins == std::vector<std::string>{"dave"});
  REQUIRE_FALSE(change_members(out.next, "dave", false, {"dave"}, 5, 500, out));
  CHECK(out.next.admins == std::vector<std::string>{"alice"});
  // Another admin left: no promotion.
  auto two = group_of({"a", "b", "c"}, {"a", "b"});
  REQUIRE_FALSE(change_members(two, "a", false, {"a"}, 0, 500, out));
  CHECK(out.next.admins == std::vector<std::string>{"b"});
  // The last member leaving leaves an empty group without admins.
  auto one = group_of({"a"}, {"a"});
  REQUIRE_FALSE(change_members(one, "a", false, {"a"}, 0, 500, out));
  CHECK(out.next.members.empty());
  CHECK(out.next.admins.empty());
}

TEST_CASE("an admin removing itself with others is a removal, and admins removed lose the role") {
  auto rec = group_of({"a", "b", "c"}, {"a", "b"});
  membership_change out;
  REQUIRE_FALSE(change_members(rec, "a", false, {"a", "b"}, 0, 500, out));
  CHECK(out.next.members == std::vector<std::string>{"c"});
  CHECK(out.next.admins == std::vector<std::string>{"c"});
}

TEST_CASE("adding past max members is refused whole") {
  auto rec = group_of({"a", "b"}, {"a"});
  membership_change out;
  CHECK(change_members(rec, "a", true, {"c", "d"}, 0, 3, out).code == errc::bad_request);
  CHECK_FALSE(change_members(rec, "a", true, {"c"}, 0, 3, out));
}

TEST_CASE("a record written before admins existed gets the creator, else the oldest member") {
  auto old = group_of({"bob", "carol"}, {});
  ensure_admin(old);
  CHECK(old.admins == std::vector<std::string>{"bob"});
  auto with_creator = group_of({"bob", "carol"}, {});
  with_creator.creator = "carol";
  ensure_admin(with_creator);
  CHECK(with_creator.admins == std::vector<std::string>{"carol"});
  auto creator_gone = group_of({"bob", "carol"}, {});
  creator_gone.creator = "alice";
  ensure_admin(creator_gone);
  CHECK(creator_gone.admins == std::vector<std::string>{"bob"});
  auto direct = group_of({"a", "b"}, {});
  direct.group = false;
  ensure_admin(direct);
  CHECK(direct.admins.empty());
}
