#include "actors/chat/contacts.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::storage;

namespace {

// A record from its first four fields (the group fields keep their defaults).
conversation_record make_record(bool group, std::string title, std::vector<std::string> members,
                                int64_t created_at_ms) {
  conversation_record rec;
  rec.group = group;
  rec.title = std::move(title);
  rec.members = std::move(members);
  rec.created_at_ms = created_at_ms;
  return rec;
}

struct fixture {
  test::temp_db tdb;
  chat_store store{*tdb.db};

  void conversation(const std::string& id, std::vector<std::string> members) {
    write_set ws;
    auto rec = make_record(id[0] == 'g', "", members, 1);
    store.put_conversation(ws, id, rec, members, {});
    REQUIRE_FALSE(tdb.db->write({&ws}, false));
  }

  bool visible(const std::string& viewer, const std::string& target) {
    chat::contact_checker c{store, viewer};
    auto out = c.shares_conversation(target);
    if (!out)
      FAIL(out.error().message);
    return *out;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "contacts are users sharing a direct conversation or a group") {
  conversation("d:alice:bob", {"alice", "bob"});
  conversation("g:1", {"alice", "carol"});
  CHECK(visible("alice", "alice"));
  CHECK(visible("alice", "bob"));
  CHECK(visible("bob", "alice"));
  CHECK(visible("carol", "alice"));
  CHECK_FALSE(visible("bob", "carol"));
  CHECK_FALSE(visible("eve", "alice"));
}

TEST_CASE_METHOD(fixture, "a viewer in many groups is checked by intersecting membership lists") {
  for (int i = 0; i < 40; ++i)
    conversation("g:v" + std::to_string(100 + i), {"viewer", "m" + std::to_string(i)});
  conversation("g:zz", {"other", "m5"});
  chat::contact_checker c{store, "viewer"};
  using check = std::pair<std::string, bool>;
  for (auto& [target, shares] : std::vector<check>{{"m0", true}, {"m39", true}, {"other", false},
                                                   {"nobody", false}}) {
    auto out = c.shares_conversation(target);
    REQUIRE(out);
    CHECK(*out == shares);
  }
}
