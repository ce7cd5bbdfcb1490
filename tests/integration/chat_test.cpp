// Chat through real WebSockets on a real node: every chat frame of PROTOCOL.md and the bad
// inputs around them.
#include "storage/engine.hpp"
#include "storage/key_codec.hpp"
#include "support/running_node.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <thread>

#include <fstream>

using namespace parley;
using namespace parley::test;

namespace {

std::string send_to(const std::string& id, const std::string& to, const std::string& cmid,
                    const std::string& body) {
  return R"({"request_id":")" + id + R"(","send":{"to_user":")" + to + R"(","client_msg_id":")"
         + cmid + R"(","body":")" + body + R"("}})";
}

std::string send_in(const std::string& id, const std::string& conv, const std::string& cmid,
                    const std::string& body) {
  return R"({"request_id":")" + id + R"(","send":{"conversation_id":")" + conv
         + R"(","client_msg_id":")" + cmid + R"(","body":")" + body + R"("}})";
}

std::string members_frame(const std::string& id, const char* kind, const std::string& conv,
                          const std::string& users) {
  return R"({"request_id":")" + id + R"(",")" + kind + R"(":{"conversation_id":")" + conv
         + R"(","user_ids":[)" + users + "]}}";
}

std::string leave(const std::string& id, const std::string& conv) {
  return R"({"request_id":")" + id + R"(","leave":{"conversation_id":")" + conv + R"("}})";
}

std::string create_group(const std::string& id, const std::string& members) {
  return R"({"request_id":")" + id + R"(","create_group":{"title":"t","member_ids":[)" + members
         + "]}}";
}

std::string presence(const std::string& id, const std::string& users, bool subscribe) {
  return R"({"request_id":")" + id + R"(","presence":{"user_ids":[)" + users
         + R"(],"subscribe":)" + (subscribe ? "true" : "false") + "}}";
}

std::vector<std::string> ids(const google::protobuf::RepeatedPtrField<std::string>& xs) {
  return {xs.begin(), xs.end()};
}

// Frames already pushed to `c` arrive before the answer to a ping sent now.
void drain(chat_client& c) {
  REQUIRE(c.call(R"({"request_id":"drain","ping":{}})").has_pong());
}

// The same for presence changes: the presence actor answers this after any change it pushed.
void drain_presence(chat_client& c) {
  auto self = R"(")" + c.user() + R"(")";
  REQUIRE(c.call(R"({"request_id":"drain-presence","presence":{"user_ids":[)" + self + "]}}")
            .has_presence_update());
}

std::string receipt(const std::string& conv, uint64_t seq, const char* status) {
  return R"({"receipt":{"conversation_id":")" + conv + R"(","seq":)" + std::to_string(seq)
         + R"(,"status":")" + status + R"("}})";
}

} // namespace

TEST_CASE("a direct message is acknowledged and pushed to the peer and the sender's other devices") {
  running_node node;
  chat_client alice{node, "alice", "phone"};
  chat_client alice_laptop{node, "alice", "laptop"};
  chat_client bob{node, "bob"};
  auto ack = alice.call(send_to("1", "bob", "m1", "hi bob"));
  REQUIRE(ack.has_ack());
  CHECK(ack.ack().seq() == 1);
  CHECK(ack.ack().conversation_id() == "d:alice:bob");
  CHECK(ack.ack().client_msg_id() == "m1");
  auto got = bob.next_message();
  CHECK(got.message().body() == "hi bob");
  CHECK(got.message().sender_id() == "alice");
  CHECK(got.message().seq() == 1);
  CHECK(alice_laptop.next_message().message().body() == "hi bob");

  auto reply = bob.call(send_in("2", "d:alice:bob", "r1", "hi alice"));
  CHECK(reply.ack().seq() == 2);
  CHECK(alice.next_message().message().seq() == 2);
}

TEST_CASE("messages to an offline user arrive in order on sync, and only until acknowledged") {
  running_node node;
  {
    chat_client alice{node, "alice"};
    for (int i = 1; i <= 3; ++i)
      CHECK(alice.call(send_to("s" + std::to_string(i), "bob", "m" + std::to_string(i), "msg"))
              .ack()
              .seq()
            == uint64_t(i));
  }
  {
    chat_client bob{node, "bob"};
    bob.send(R"({"request_id":"sync1","sync":{}})");
    for (uint64_t seq = 1; seq <= 3; ++seq)
      CHECK(bob.next_message().message().seq() == seq);
    auto done = bob.next([](auto& f) { return f.has_sync_done(); });
    CHECK(done.request_id() == "sync1");
    CHECK(done.sync_done().messages() == 3);
    bob.send(receipt("d:alice:bob", 3, "DELIVERED"));
  }
  chat_client bob{node, "bob"};
  auto done = bob.call(R"({"request_id":"sync2","sync":{}})");
  CHECK(done.sync_done().messages() == 0);
}

TEST_CASE("an offline member gets a push notification but an online one does not") {
  running_node node;
  chat_client alice{node, "alice"};
  chat_client carol{node, "carol"};
  alice.call(send_to("1", "bob", "m1", "are you there?"));
  carol.call(send_to("2", "alice", "m2", "hi"));
  // Pushes are `push` tasks run by the built-in executor: the line appears shortly after.
  std::vector<std::string> lines;
  for (int i = 0; i < 250 && lines.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    std::ifstream in{node.data_dir + "/push.jsonl"};
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
  }
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(R"("user_id":"bob")") != std::string::npos);
  CHECK(lines[0].find(R"("preview":"are you there?")") != std::string::npos);
  CHECK(lines[0].find(R"("conversation_id":"d:alice:bob")") != std::string::npos);
  // Pushes belong to the node: only an admin lists them.
  auto pushes = http_call(node.port(), "GET", "/api/v1/tasks?task_type=push", {},
                          bearer(signed_token("ops", "admin")));
  CHECK(pushes.body.find(R"("status":"COMPLETED")") != std::string::npos);
}

TEST_CASE("a send repeated with the same client_msg_id answers the original ack") {
  running_node node;
  chat_client alice{node, "alice"};
  auto first = alice.call(send_to("a", "bob", "same", "once"));
  auto again = alice.call(send_to("b", "bob", "same", "once"));
  CHECK(again.ack().seq() == first.ack().seq());
  CHECK(again.ack().sent_at().seconds() == first.ack().sent_at().seconds());
  auto next = alice.call(send_to("c", "bob", "other", "twice"));
  CHECK(next.ack().seq() == 2);
  auto page = alice.call(R"({"request_id":"h","history":{"conversation_id":"d:alice:bob"}})");
  CHECK(page.history_page().messages_size() == 2);
}

TEST_CASE("seq and dedup survive a restart of the node") {
  temp_dir dir;
  uint64_t last = 0;
  {
    running_node node{dir.path(), {}};
    chat_client alice{node, "alice"};
    alice.call(send_to("1", "bob", "k1", "one"));
    last = alice.call(send_to("2", "bob", "k2", "two")).ack().seq();
  }
  running_node node{dir.path(), {}};
  chat_client alice{node, "alice"};
  CHECK(alice.call(send_to("3", "bob", "k2", "two")).ack().seq() == last);
  CHECK(alice.call(send_to("4", "bob", "k3", "three")).ack().seq() == last + 1);
}

TEST_CASE("groups: create, send to all members, change membership, leave") {
  running_node node{{"chat.max_group_members=4"}};
  chat_client alice{node, "alice"};
  chat_client bob{node, "bob"};
  chat_client carol{node, "carol"};
  auto g = alice.call(
    R"({"request_id":"g","create_group":{"title":"trip","member_ids":["bob","carol"]}})");
  REQUIRE(g.has_group());
  auto conv = g.group().conversation_id();
  CHECK(g.group().title() == "trip");
  CHECK(g.group().member_ids_size() == 3);
  bob.next([](auto& f) { return f.has_group(); });

  CHECK(alice.call(send_in("s", conv, "g1", "hello all")).ack().seq() == 1);
  CHECK(bob.next_message().message().body() == "hello all");
  CHECK(carol.next_message().message().body() == "hello all");

  chat_client dave{node, "dave"};
  auto denied = dave.call(send_in("x", conv, "d1", "let me in"));
  CHECK(denied.error().code() == "forbidden");
  auto denied_history = dave.call(R"({"request_id":"h","history":{"conversation_id":")" + conv + R"("}})");
  CHECK(denied_history.error().code() == "forbidden");

  auto added = alice.call(R"({"request_id":"add","add_members":{"conversation_id":")" + conv
                          + R"(","user_ids":["dave"]}})");
  CHECK(added.group().member_ids_size() == 4);
  auto over = alice.call(R"({"request_id":"over","add_members":{"conversation_id":")" + conv
                         + R"(","user_ids":["erin"]}})");
  CHECK(over.error().code() == "bad_request");

  auto removed = alice.call(R"({"request_id":"rm","remove_members":{"conversation_id":")" + conv
                            + R"(","user_ids":["dave"]}})");
  CHECK(removed.group().member_ids_size() == 3);
  auto left = carol.call(R"({"request_id":"bye","leave":{"conversation_id":")" + conv + R"("}})");
  CHECK(left.group().member_ids_size() == 2);
  CHECK(carol.call(send_in("late", conv, "c9", "still here?")).error().code() == "forbidden");
}

TEST_CASE("group creation rejects duplicates, bad ids and too many members") {
  running_node node{{"chat.max_group_members=3"}};
  chat_client alice{node, "alice"};
  CHECK(alice.call(R"({"request_id":"1","create_group":{"member_ids":["bob","bob"]}})")
          .error()
          .code()
        == "bad_request");
  CHECK(alice.call(R"({"request_id":"2","create_group":{"member_ids":["no spaces"]}})")
          .error()
          .code()
        == "bad_request");
  CHECK(alice.call(R"({"request_id":"3","create_group":{"member_ids":["b","c","d"]}})")
          .error()
          .code()
        == "bad_request");
  CHECK(alice.call(R"({"request_id":"4","create_group":{"member_ids":["b","c"]}})").has_group());
}

TEST_CASE("history pages newest first with has_more and before_seq") {
  running_node node;
  chat_client alice{node, "alice"};
  for (int i = 1; i <= 120; ++i)
    alice.send(send_to("s" + std::to_string(i), "bob", "m" + std::to_string(i), "n"));
  for (int i = 1; i <= 120; ++i)
    alice.next([](auto& f) { return f.has_ack(); });
  auto first = alice.call(R"({"request_id":"h1","history":{"conversation_id":"d:alice:bob"}})");
  auto& p1 = first.history_page();
  REQUIRE(p1.messages_size() == 50);
  CHECK(p1.messages(0).seq() == 120);
  CHECK(p1.messages(49).seq() == 71);
  CHECK(p1.has_more());
  auto last = alice.call(
    R"({"request_id":"h2","history":{"conversation_id":"d:alice:bob","before_seq":21,"limit":500}})");
  CHECK(last.history_page().messages_size() == 20);
  CHECK_FALSE(last.history_page().has_more());
  CHECK(last.history_page().messages(19).seq() == 1);
}

TEST_CASE("conversations list unread counts, and READ receipts reach the other members") {
  running_node node;
  chat_client alice{node, "alice"};
  chat_client bob{node, "bob"};
  for (int i = 1; i <= 3; ++i)
    alice.call(send_to(std::to_string(i), "bob", "m" + std::to_string(i), "x"));
  auto list = bob.call(R"({"request_id":"c","conversations":{}})");
  REQUIRE(list.conversation_list().items_size() == 1);
  auto& item = list.conversation_list().items(0);
  CHECK(item.conversation_id() == "d:alice:bob");
  CHECK(item.kind() == pb::DIRECT);
  CHECK(item.last_seq() == 3);
  CHECK(item.read_seq() == 0);
  CHECK(item.unread() == 3);
  // The sender has read what they sent.
  CHECK(alice.call(R"({"request_id":"c","conversations":{}})").conversation_list().items(0).unread()
        == 0);

  bob.send(receipt("d:alice:bob", 2, "READ"));
  auto r = alice.next([](auto& f) { return f.has_receipt(); });
  CHECK(r.receipt().user_id() == "bob");
  CHECK(r.receipt().seq() == 2);
  CHECK(r.receipt().status() == pb::READ);
  CHECK(bob.call(R"({"request_id":"c2","conversations":{}})").conversation_list().items(0).unread()
        == 1);

  // Beyond last_seq is clamped to it.
  bob.send(receipt("d:alice:bob", 99, "READ"));
  CHECK(alice.next([](auto& f) { return f.has_receipt(); }).receipt().seq() == 3);
}

TEST_CASE("typing is relayed to the other members and refused to non-members") {
  running_node node;
  chat_client alice{node, "alice"};
  chat_client bob{node, "bob"};
  alice.call(send_to("1", "bob", "m", "x"));
  alice.send(R"({"typing":{"conversation_id":"d:alice:bob","active":true}})");
  auto t = bob.next([](auto& f) { return f.has_typing(); });
  CHECK(t.typing().user_id() == "alice");
  CHECK(t.typing().active());
  chat_client eve{node, "eve"};
  auto denied = eve.call(R"({"request_id":"t","typing":{"conversation_id":"d:alice:bob","active":true}})");
  CHECK(denied.error().code() == "forbidden");
}

TEST_CASE("presence answers, then pushes changes to subscribers") {
  running_node node;
  chat_client alice{node, "alice"};
  alice.call(send_to("m", "bob", "m1", "hi"));  // contacts see each other (presence.visibility)
  auto first = alice.call(R"({"request_id":"p","presence":{"user_ids":["bob"],"subscribe":true}})");
  CHECK(first.presence_update().user_id() == "bob");
  CHECK_FALSE(first.presence_update().online());
  {
    chat_client bob{node, "bob"};
    auto online = alice.next([](auto& f) { return f.has_presence_update(); });
    CHECK(online.presence_update().online());
  }
  auto offline = alice.next([](auto& f) { return f.has_presence_update(); });
  CHECK_FALSE(offline.presence_update().online());
  CHECK(offline.presence_update().last_seen().seconds() > 0);
}

TEST_CASE("last_seen of users online when the node stops survives the restart") {
  test::temp_dir dir;
  {
    running_node node{dir.path(), {}};
    chat_client bob{node, "bob"};
    bob.call(send_to("m", "alice", "m1", "hi"));  // contacts see each other's last_seen
    node.n->shutdown();
  }
  running_node node{dir.path(), {}};
  chat_client alice{node, "alice"};
  auto p = alice.call(R"({"request_id":"p","presence":{"user_ids":["bob"]}})");
  CHECK_FALSE(p.presence_update().online());
  CHECK(p.presence_update().last_seen().seconds() > 0);
}

TEST_CASE("bad chat input gets clear errors and the connection lives") {
  running_node node{{"chat.max_body_bytes=10"}};
  chat_client alice{node, "alice"};
  auto code = [&](const std::string& json) { return alice.call(json).error().code(); };
  CHECK(code(send_to("1", "bob", std::string(65, 'x'), "hi")) == "bad_request");
  CHECK(code(send_to("2", "bob", "", "hi")) == "bad_request");
  CHECK(code(send_to("3", "bob", "m", "")) == "bad_request");
  CHECK(code(send_to("4", "bob", "m", "this body is too long")) == "too_large");
  CHECK(code(send_to("5", "alice", "m", "me")) == "bad_request");
  CHECK(code(send_to("6", "bad user", "m", "hi")) == "bad_request");
  CHECK(code(R"({"request_id":"7","send":{"conversation_id":"d:alice:bob","to_user":"bob","client_msg_id":"m","body":"x"}})")
        == "bad_request");
  CHECK(code(send_in("8", "g:0123456789abcdef0123456789abcdef", "m", "x")) == "not_found");
  CHECK(code(send_in("9", "nonsense", "m", "x")) == "not_found");
  CHECK(code(R"({"request_id":"10","history":{"conversation_id":"d:alice:zed"}})") == "not_found");
  CHECK(code(R"({"request_id":"11","receipt":{"conversation_id":"d:alice:bob","seq":1}})")
        == "bad_request");
  CHECK(code(R"({"request_id":"12","presence":{"user_ids":[]}})") == "bad_request");
  CHECK(alice.call(R"({"request_id":"ok","ping":{}})").has_pong());
}

TEST_CASE("a slow reader is closed with 1013 and loses nothing: sync brings everything back") {
  running_node node{{"ws.max_outbound_bytes=16384"}};
  chat_client alice{node, "alice"};
  {
    test::ws_client slow;
    REQUIRE(slow.connect(node.port(), "/ws", dev_token(node.port(), "bob"), 4096) == 101);
    // bob never reads; alice (who does) sends until bob's connection overflows.
    for (int i = 1; i <= 400; ++i)
      CHECK(alice.call(send_to("s" + std::to_string(i), "bob", "m" + std::to_string(i),
                               std::string(8000, 'x')))
              .has_ack());
    // The overflow closes it with 1013 (or drops it, when even the close frame cannot get out
    // within the close grace period).
    auto metrics = http_call(node.port(), "GET", "/metrics").body;
    CHECK(metrics.find("\nparley_ws_outbound_overflows_total 1\n") != std::string::npos);
    auto code = slow.wait_close(20000);
    CHECK((code == 1013 || code == 0));
    CHECK(slow.last_error() != "timeout");
  }
  // Sync in rounds that fit the outbound bound, acknowledging each, until nothing is left.
  chat_client bob{node, "bob"};
  uint64_t next = 1;
  for (int round = 0; round < 1000; ++round) {
    bob.send(R"({"request_id":"sync","sync":{}})");
    auto done = bob.next([](auto& f) { return f.has_sync_done(); });
    for (uint64_t i = 0; i < done.sync_done().messages(); ++i) {
      auto m = bob.next_message();
      CHECK(m.message().seq() == next);
      ++next;
    }
    bob.send(receipt("d:alice:bob", next - 1, "DELIVERED"));
    if (!done.sync_done().has_more())
      break;
  }
  CHECK(next == 401);
}

TEST_CASE("group admins: the creator is admin, only admins add and remove, any member leaves") {
  running_node node;
  chat_client alice{node, "alice"};
  chat_client bob{node, "bob"};
  chat_client carol{node, "carol"};
  auto g = alice.call(create_group("g", R"("bob","carol")"));
  REQUIRE(g.has_group());
  auto conv = g.group().conversation_id();
  CHECK(ids(g.group().admin_ids()) == std::vector<std::string>{"alice"});

  auto denied = bob.call(members_frame("a1", "add_members", conv, R"("dave")"));
  CHECK(denied.error().code() == "forbidden");
  CHECK(bob.call(members_frame("r1", "remove_members", conv, R"("carol")")).error().code()
        == "forbidden");
  chat_client eve{node, "eve"};  // not even a member
  CHECK(eve.call(members_frame("a2", "add_members", conv, R"("eve")")).error().code()
        == "forbidden");
  CHECK(eve.call(leave("l0", conv)).error().code() == "forbidden");
  // The connection lives after each refusal.
  CHECK(bob.call(R"({"request_id":"p","ping":{}})").has_pong());

  chat_client dave{node, "dave"};
  auto added = alice.call(members_frame("a3", "add_members", conv, R"("dave")"));
  CHECK(ids(added.group().member_ids()) == std::vector<std::string>{"alice", "bob", "carol", "dave"});
  dave.next([](auto& f) { return f.has_group(); });
  auto removed = alice.call(members_frame("r2", "remove_members", conv, R"("dave")"));
  CHECK(removed.group().member_ids_size() == 3);
  auto told = dave.next([](auto& f) { return f.has_group(); });
  CHECK(told.group().member_ids_size() == 3);  // the removed member learns it is out

  // A removed member gets no more messages, cannot read or sync them.
  CHECK(alice.call(send_in("s1", conv, "m1", "after dave")).has_ack());
  CHECK(alice.call(send_in("s2", conv, "m2", "again")).has_ack());
  CHECK(bob.next_message().message().seq() == 1);
  drain(dave);
  CHECK(dave.none_within(0, [](auto& f) { return f.has_message(); }));
  CHECK(dave.call(R"({"request_id":"h","history":{"conversation_id":")" + conv + R"("}})")
          .error()
          .code()
        == "forbidden");
  CHECK(dave.call(R"({"request_id":"sy","sync":{}})").sync_done().messages() == 0);

  // Any member leaves; the group goes on without it.
  auto left = carol.call(leave("l1", conv));
  CHECK(ids(left.group().member_ids()) == std::vector<std::string>{"alice", "bob"});
  CHECK(ids(left.group().admin_ids()) == std::vector<std::string>{"alice"});
  CHECK(carol.call(send_in("s3", conv, "c1", "still here?")).error().code() == "forbidden");
}

TEST_CASE("the last admin leaving promotes the oldest member") {
  running_node node;
  chat_client alice{node, "alice"};
  auto g = alice.call(create_group("g", R"("carol","dave")"));
  auto conv = g.group().conversation_id();
  // bob joins last: younger than the founding members even though his id sorts first.
  alice.call(members_frame("a", "add_members", conv, R"("bob")"));
  auto left = alice.call(leave("l", conv));
  CHECK(ids(left.group().admin_ids()) == std::vector<std::string>{"carol"});
  chat_client carol{node, "carol"};
  chat_client bob{node, "bob"};
  CHECK(bob.call(members_frame("a2", "add_members", conv, R"("erin")")).error().code()
        == "forbidden");
  auto added = carol.call(members_frame("a3", "add_members", conv, R"("erin")"));
  CHECK(added.group().member_ids_size() == 4);
  CHECK(ids(added.group().admin_ids()) == std::vector<std::string>{"carol"});
}

TEST_CASE("a member added later sees messages from its join on: push, sync, history, list") {
  running_node node;
  chat_client alice{node, "alice"};
  auto g = alice.call(create_group("g", R"("bob")"));
  auto conv = g.group().conversation_id();
  for (int i = 1; i <= 3; ++i)
    CHECK(alice.call(send_in("e" + std::to_string(i), conv, "early" + std::to_string(i), "secret"))
            .ack()
            .seq()
          == uint64_t(i));
  alice.call(members_frame("a", "add_members", conv, R"("carol")"));
  CHECK(alice.call(send_in("l4", conv, "late4", "welcome carol")).ack().seq() == 4);
  {
    // Offline when added: sync brings only what came after the join.
    chat_client carol{node, "carol"};
    carol.send(R"({"request_id":"sync","sync":{}})");
    auto first = carol.next_message();
    CHECK(first.message().seq() == 4);
    CHECK(carol.next([](auto& f) { return f.has_sync_done(); }).sync_done().messages() == 1);

    auto page = carol.call(R"({"request_id":"h","history":{"conversation_id":")" + conv + R"("}})");
    REQUIRE(page.history_page().messages_size() == 1);
    CHECK(page.history_page().messages(0).seq() == 4);
    CHECK_FALSE(page.history_page().has_more());
    auto before = carol.call(R"({"request_id":"h2","history":{"conversation_id":")" + conv
                             + R"(","before_seq":4}})");
    CHECK(before.history_page().messages_size() == 0);

    auto list = carol.call(R"({"request_id":"c","conversations":{}})");
    REQUIRE(list.conversation_list().items_size() == 1);
    auto& item = list.conversation_list().items(0);
    CHECK(item.last_seq() == 4);
    CHECK(item.read_seq() == 3);
    CHECK(item.unread() == 1);
    CHECK(ids(item.admin_ids()) == std::vector<std::string>{"alice"});
  }
  // Online with a fresh device when the next message comes: the push starts at the join too.
  chat_client carol_tablet{node, "carol", "tablet"};
  CHECK(alice.call(send_in("l5", conv, "late5", "more")).ack().seq() == 5);
  auto live = carol_tablet.next_message();
  CHECK(live.message().seq() == 4);
  CHECK(carol_tablet.next_message().message().seq() == 5);

  // Removed and added again: the view starts over at the new join.
  alice.call(members_frame("r", "remove_members", conv, R"("carol")"));
  CHECK(alice.call(send_in("l6", conv, "late6", "while away")).ack().seq() == 6);
  alice.call(members_frame("a2", "add_members", conv, R"("carol")"));
  auto page = carol_tablet.call(R"({"request_id":"h3","history":{"conversation_id":")" + conv
                                + R"("}})");
  CHECK(page.history_page().messages_size() == 0);
  CHECK(alice.call(send_in("l7", conv, "late7", "back")).ack().seq() == 7);
  CHECK(carol_tablet.next_message().message().seq() == 7);
}

TEST_CASE("group creation per hour is limited per user with retry_after_ms, and the connection lives") {
  running_node node{{"chat.max_groups_created_per_hour=3"}};
  chat_client alice{node, "alice"};
  for (int i = 0; i < 3; ++i)
    CHECK(alice.call(create_group("g" + std::to_string(i), "")).has_group());
  auto limited = alice.call(create_group("g3", ""));
  CHECK(limited.error().code() == "rate_limited");
  CHECK(limited.error().retry_after_ms() > 0);
  CHECK(limited.error().retry_after_ms() <= 2 * 3'600'000);
  CHECK(alice.call(R"({"request_id":"p","ping":{}})").has_pong());
  CHECK(metric_value(node, R"(parley_chat_limit_rejections_total{limit="max_groups_created_per_hour"})")
        >= 1);
  chat_client bob{node, "bob"};
  CHECK(bob.call(create_group("b", "")).has_group());  // per user, not per node
}

TEST_CASE("groups per user are capped: creating, being added, and room again after leaving") {
  running_node node{{"chat.max_groups_per_user=2"}};
  chat_client alice{node, "alice"};
  chat_client bob{node, "bob"};
  auto g1 = alice.call(create_group("g1", ""));
  CHECK(alice.call(create_group("g2", "")).has_group());
  auto third = alice.call(create_group("g3", ""));
  CHECK(third.error().code() == "too_large");
  CHECK(third.error().message().find("chat.max_groups_per_user") != std::string::npos);
  // Others cannot put alice into a third group either, whole requests are refused.
  CHECK(bob.call(create_group("b1", R"("alice")")).error().code() == "too_large");
  auto b2 = bob.call(create_group("b2", ""));
  CHECK(bob.call(members_frame("ba", "add_members", b2.group().conversation_id(), R"("alice")"))
          .error()
          .code()
        == "too_large");
  alice.call(leave("l", g1.group().conversation_id()));
  CHECK(bob.call(members_frame("bb", "add_members", b2.group().conversation_id(), R"("alice")"))
          .group()
          .member_ids_size()
        == 2);
  CHECK(alice.call(create_group("g4", "")).error().code() == "too_large");
}

TEST_CASE("presence: contacts see each other, others get offline without last_seen") {
  running_node node;
  chat_client alice{node, "alice"};
  chat_client eve{node, "eve"};
  std::optional<chat_client> bob{std::in_place, node, "bob"};
  alice.call(send_to("m", "bob", "m1", "hi"));  // alice and bob now share a conversation
  auto seen = alice.call(presence("p1", R"("bob")", true));
  CHECK(seen.presence_update().online());
  auto hidden = eve.call(presence("p2", R"("bob")", true));
  CHECK(hidden.presence_update().user_id() == "bob");
  CHECK_FALSE(hidden.presence_update().online());
  CHECK_FALSE(hidden.presence_update().has_last_seen());
  // Each user sees itself.
  CHECK(eve.call(presence("p3", R"("eve")", false)).presence_update().online());

  bob.reset();
  auto gone = alice.next([](auto& f) { return f.has_presence_update(); });
  CHECK_FALSE(gone.presence_update().online());
  CHECK(gone.presence_update().last_seen().seconds() > 0);
  drain_presence(eve);
  CHECK(eve.none_within(0, [](auto& f) { return f.has_presence_update(); }));
  auto still_hidden = eve.call(presence("p4", R"("bob")", false));
  CHECK_FALSE(still_hidden.presence_update().has_last_seen());
  // Group members are contacts too.
  chat_client carol{node, "carol"};
  carol.call(create_group("g", R"("eve")"));
  CHECK(eve.call(presence("p5", R"("carol")", false)).presence_update().online());
}

TEST_CASE("presence with visibility all shows everyone") {
  running_node node{{"presence.visibility=all"}};
  chat_client eve{node, "eve"};
  {
    chat_client bob{node, "bob"};
    CHECK(eve.call(presence("p", R"("bob")", true)).presence_update().online());
  }
  auto gone = eve.next([](auto& f) { return f.has_presence_update(); });
  CHECK_FALSE(gone.presence_update().online());
  CHECK(gone.presence_update().last_seen().seconds() > 0);
}

TEST_CASE("presence subscriptions are capped per connection and per user, and too_large, connection lives") {
  running_node node{{"presence.visibility=all", "presence.max_subscriptions=3",
                     "presence.max_subscriptions_per_user=4"}};
  chat_client alice{node, "alice"};
  alice.send(presence("p1", R"("u1","u2")", true));
  alice.next([](auto& f) { return f.request_id() == "p1"; });
  alice.next([](auto& f) { return f.request_id() == "p1"; });
  auto over = alice.call(presence("p2", R"("u3","u4")", true));
  CHECK(over.error().code() == "too_large");
  CHECK(over.error().message().find("presence.max_subscriptions") != std::string::npos);
  // Subscribing again to a watched user costs nothing; one more fits.
  alice.send(presence("p3", R"("u1","u3")", true));
  CHECK(alice.next([](auto& f) { return f.request_id() == "p3"; }).has_presence_update());
  CHECK(alice.next([](auto& f) { return f.request_id() == "p3"; }).has_presence_update());
  // Unsubscribing makes room.
  alice.call(presence("p4", R"("u1")", false));
  CHECK(alice.call(presence("p5", R"("u4")", true)).has_presence_update());

  // A second connection of the same user shares the per-user budget (3 held, 4 allowed).
  chat_client alice2{node, "alice", "tablet"};
  auto user_over = alice2.call(presence("q1", R"("v1","v2")", true));
  CHECK(user_over.error().code() == "too_large");
  CHECK(user_over.error().message().find("presence.max_subscriptions_per_user") != std::string::npos);
  CHECK(alice2.call(presence("q2", R"("v1")", true)).has_presence_update());
  CHECK(alice2.call(R"({"request_id":"ping","ping":{}})").has_pong());
}

TEST_CASE("a member removed from the last shared group stops seeing presence") {
  running_node node;
  chat_client alice{node, "alice"};
  chat_client bob{node, "bob"};
  std::optional<chat_client> carol{std::in_place, node, "carol"};
  auto conv = alice.call(create_group("g", R"("bob","carol")")).group().conversation_id();
  CHECK(bob.call(presence("p", R"("carol")", true)).presence_update().online());
  CHECK(alice.call(presence("q", R"("carol")", true)).presence_update().online());
  alice.call(members_frame("r", "remove_members", conv, R"("bob")"));
  bob.next([](auto& f) { return f.has_group(); });
  carol.reset();
  // alice (still a member) hears carol go, bob no longer does.
  auto gone = alice.next([](auto& f) { return f.has_presence_update(); });
  CHECK_FALSE(gone.presence_update().online());
  drain_presence(bob);
  CHECK(bob.none_within(0, [](auto& f) { return f.has_presence_update() && f.request_id().empty(); }));
  auto now = bob.call(presence("p2", R"("carol")", false));
  CHECK_FALSE(now.presence_update().has_last_seen());
}

TEST_CASE("corrupt records are reported: a retried send fails instead of being stored twice, history, presence and sync fail") {
  temp_dir dir;
  {
    running_node node{dir.path(), {}};
    chat_client alice{node, "alice"};
    for (int i = 1; i <= 3; ++i)
      REQUIRE(alice.call(send_to("s" + std::to_string(i), "bob", "m" + std::to_string(i), "msg"))
                .ack()
                .seq()
              == uint64_t(i));
  }
  {
    // Garbage under real keys, written while the node is down: m1's dedup record, message 2 and
    // bob's last_seen.
    storage::storage_options opts;
    opts.data_dir = dir.path();
    fault err;
    auto db = storage::engine::open(opts, err);
    INFO(err.message);
    REQUIRE(db);
    storage::write_set ws;
    ws.put(storage::family::dedup,
           storage::key_builder{}.str("alice").str("d:alice:bob").str("m1").bytes(),
           std::string("\xff\xff\xff", 3));
    ws.put(storage::family::messages, storage::key_builder{}.str("d:alice:bob").u64(2).bytes(),
           std::string("\xff\xff\xff", 3));
    ws.put(storage::family::presence, "bob", std::string("\xff\xff\xff", 3));
    REQUIRE_FALSE(db->write({&ws}, true));
  }
  running_node node{dir.path(), {}};
  auto dedup_line = R"(parley_storage_corrupt_records_total{family="dedup"})";
  auto counted = std::max<int64_t>(metric_value(node, dedup_line), 0);
  chat_client alice{node, "alice"};
  auto retry = alice.call(send_to("r1", "bob", "m1", "msg"));
  REQUIRE(retry.has_error());
  CHECK(retry.error().code() == "internal");
  CHECK(metric_value(node, dedup_line) == counted + 1);
  auto page = alice.call(R"({"request_id":"h","history":{"conversation_id":"d:alice:bob"}})");
  REQUIRE(page.has_error());
  CHECK(page.error().code() == "internal");
  // bob is offline with a corrupt last_seen: the answer is the error, not "never seen".
  auto presence =
    alice.call(R"({"request_id":"p","presence":{"user_ids":["bob"],"subscribe":true}})");
  REQUIRE(presence.has_error());
  CHECK(presence.error().code() == "internal");
  // Bob's sync ends with the error, not with has_more (which would send him round forever).
  chat_client bob{node, "bob"};
  auto sync = bob.call(R"({"request_id":"y","sync":{}})");
  REQUIRE(sync.has_error());
  CHECK(sync.error().code() == "internal");
  // The retry of m1 was not stored: the next message is 4.
  CHECK(alice.call(send_to("s4", "bob", "m4", "msg")).ack().seq() == 4);
}
