// Chat across nodes (../shared/CLUSTER.md, "Routing table" and "Services in a cluster"): three
// parleyd processes on 127.0.0.1-3 with a real etcd, real WebSocket clients on different nodes.
// Users connected anywhere chat in conversations owned by a third node: messages, acks,
// receipts, typing, presence, history, sync and the conversation list work from every node, a
// push crosses once per node, and a node that dies takes its users offline everywhere.
#include "actors/chat/conversation_id.hpp"
#include "support/chat_client.hpp"
#include "support/eventually.hpp"
#include "support/test_client.hpp"
#include "support/test_cluster.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace parley;
using namespace std::chrono_literals;

namespace {

using test::chat_client;

std::string send_in(const std::string& request_id, const std::string& conv,
                    const std::string& cmid, const std::string& body) {
  return R"({"request_id":")" + request_id + R"(","send":{"conversation_id":")" + conv
         + R"(","client_msg_id":")" + cmid + R"(","body":")" + body + R"("}})";
}

std::string receipt(const std::string& conv, uint64_t seq, const char* status) {
  return R"({"receipt":{"conversation_id":")" + conv + R"(","seq":)" + std::to_string(seq)
         + R"(,"status":")" + status + R"("}})";
}

std::string presence_of(const std::string& request_id, const std::string& user, bool subscribe) {
  return R"({"request_id":")" + request_id + R"(","presence":{"user_ids":[")" + user
         + R"("],"subscribe":)" + (subscribe ? "true" : "false") + "}}";
}

// The metric of sessions on other nodes that node i knows of (users with one).
const std::string remote_users = "parley_cluster_routes_remote_users";
const std::string remote_pushes = "parley_chat_remote_pushes_total";

// A user connected to node i.
// Node i on 127.0.0.(i+1), as separate machines would be.
test::test_cluster_options on_three_addresses() {
  test::test_cluster_options o;
  o.spread = true;
  return o;
}

std::unique_ptr<chat_client> connect(test::test_cluster& c, uint32_t i, const std::string& user,
                                     const std::string& device) {
  return std::make_unique<chat_client>(c.host(i), c.port(i), user, device);
}

// Waits until every node knows at least `users` users connected to other nodes.
void require_routes(test::test_cluster& c, const std::vector<int64_t>& users) {
  for (uint32_t i = 0; i < c.size(); ++i) {
    INFO(c.name(i) << " log:\n" << c.node(i).log_tail());
    REQUIRE(test::eventually([&] { return c.metric(i, remote_users) >= users[i]; }, 5s));
  }
}

} // namespace

TEST_CASE("alice on n1 and bob on n3 chat in a conversation that n2 owns") {
  test::test_cluster c{on_three_addresses()};
  c.require_ready();
  // Users whose direct conversation lives on n2, the node neither of them is connected to.
  std::string a, b, conv;
  for (int i = 0; conv.empty() || c.owner_of(conv) != "n2"; ++i) {
    a = "alice" + std::to_string(i);
    b = "bob" + std::to_string(i);
    conv = chat::direct_conversation_id(a, b);
  }
  auto alice = connect(c, 0, a, "phone");
  auto bob = connect(c, 2, b, "laptop");
  // n2 knows both (the push goes from there); n1 and n3 know each other's user.
  require_routes(c, {1, 2, 1});

  // Send on n1, owned by n2, pushed to bob on n3; and back.
  auto ack = alice->call(R"({"request_id":"1","send":{"to_user":")" + b
                         + R"(","client_msg_id":"m1","body":"hi bob"}})");
  INFO(ack.ShortDebugString());
  REQUIRE(ack.has_ack());
  CHECK(ack.ack().conversation_id() == conv);
  CHECK(ack.ack().seq() == 1);
  auto got = bob->next_message();
  CHECK(got.message().body() == "hi bob");
  CHECK(got.message().sender_id() == a);
  CHECK(got.message().seq() == 1);
  CHECK(bob->call(send_in("2", conv, "r1", "hi alice")).ack().seq() == 2);
  CHECK(alice->next_message().message().seq() == 2);
  // A retried send answers the original ack, wherever the conversation is.
  CHECK(alice->call(send_in("3", conv, "m1", "hi bob")).ack().seq() == 1);

  // Typing, and a READ receipt back to alice; DELIVERED moves bob's cursor on n2.
  alice->send(R"({"typing":{"conversation_id":")" + conv + R"(","active":true}})");
  auto typing = bob->next([](auto& f) { return f.has_typing(); });
  CHECK(typing.typing().user_id() == a);
  CHECK(typing.typing().active());
  CHECK(alice->call(send_in("4", conv, "m2", "read me")).ack().seq() == 3);
  CHECK(bob->next_message().message().seq() == 3);
  bob->send(receipt(conv, 3, "DELIVERED"));
  bob->send(receipt(conv, 3, "READ"));
  auto read = alice->next([](auto& f) { return f.has_receipt(); });
  CHECK(read.receipt().user_id() == b);
  CHECK(read.receipt().seq() == 3);
  CHECK(read.receipt().status() == pb::READ);

  // Presence: they are contacts through a conversation no node of theirs holds.
  auto first = alice->call(presence_of("p1", b, true));
  CHECK(first.presence_update().user_id() == b);
  CHECK(first.presence_update().online());
  bob.reset();
  auto offline = alice->next([](auto& f) { return f.has_presence_update(); });
  CHECK_FALSE(offline.presence_update().online());
  CHECK(offline.presence_update().last_seen().seconds() > 0);

  // While bob is away: three messages, then bob's laptop comes back on n2 and syncs them (its
  // cursor says it has 3), in order.
  for (int i = 4; i <= 6; ++i)
    CHECK(alice->call(send_in("s" + std::to_string(i), conv, "m" + std::to_string(i), "later"))
            .ack()
            .seq()
          == uint64_t(i));
  auto laptop = connect(c, 1, b, "laptop");
  auto online = alice->next([](auto& f) { return f.has_presence_update(); });
  CHECK(online.presence_update().online());
  laptop->send(R"({"request_id":"sync","sync":{}})");
  for (uint64_t seq = 4; seq <= 6; ++seq)
    CHECK(laptop->next_message().message().seq() == seq);
  auto done = laptop->next([](auto& f) { return f.has_sync_done(); });
  CHECK(done.sync_done().messages() == 3);
  CHECK_FALSE(done.sync_done().has_more());

  // A new device of bob's on n3 syncs everything through n2, paced and in order; the list and
  // history answer there too.
  auto phone = connect(c, 2, b, "phone");
  phone->send(R"({"request_id":"sync","sync":{}})");
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    auto m = phone->next_message();
    CHECK(m.message().seq() == seq);
    CHECK(m.message().conversation_id() == conv);
  }
  CHECK(phone->next([](auto& f) { return f.has_sync_done(); }).sync_done().messages() == 6);
  auto list = phone->call(R"({"request_id":"c","conversations":{}})");
  REQUIRE(list.conversation_list().items_size() == 1);
  CHECK(list.conversation_list().items(0).conversation_id() == conv);
  CHECK(list.conversation_list().items(0).last_seq() == 6);
  for (auto* who : {alice.get(), laptop.get(), phone.get()}) {
    auto page = who->call(R"({"request_id":"h","history":{"conversation_id":")" + conv
                          + R"(","limit":3}})");
    REQUIRE(page.history_page().messages_size() == 3);
    CHECK(page.history_page().messages(0).seq() == 6);
    CHECK(page.history_page().has_more());
  }

  // Live pushes go to both of bob's devices, on two nodes, still in order after the syncs.
  CHECK(alice->call(send_in("7", conv, "m7", "both")).ack().seq() == 7);
  CHECK(laptop->next_message().message().seq() == 7);
  CHECK(phone->next_message().message().seq() == 7);

  // Messages, members, cursors and dedup records were all written on n2, the owner: no node
  // holds a record of a partition it does not own.
  CHECK(c.require_no_foreign_records(1) > 7);
}

TEST_CASE("a group over three nodes: one push per node, and a dead node's users go offline") {
  test::test_cluster c{on_three_addresses()};
  c.require_ready();
  auto alice = connect(c, 0, "alice", "phone");
  auto bob = connect(c, 1, "bob", "phone");
  auto carol = connect(c, 2, "carol", "phone");
  require_routes(c, {2, 2, 2});

  auto group = alice->call(
    R"({"request_id":"g","create_group":{"title":"three nodes","member_ids":["bob","carol"]}})");
  REQUIRE(group.has_group());
  auto conv = group.group().conversation_id();
  // Every member hears of the group, on its own node.
  for (auto* other : {bob.get(), carol.get()})
    CHECK(other->next([](auto& f) { return f.has_group(); }).group().conversation_id() == conv);
  auto owner = c.owner_of(conv);
  uint32_t at = owner == "n1" ? 0 : owner == "n2" ? 1 : 2;
  auto pushes = c.metric(at, remote_pushes);

  CHECK(alice->call(send_in("1", conv, "m1", "hello all")).ack().seq() == 1);
  CHECK(bob->next_message().message().body() == "hello all");
  CHECK(carol->next_message().message().body() == "hello all");
  // One delivery to each of the two nodes other than the owner, for three members' sessions.
  CHECK(test::eventually([&] { return c.metric(at, remote_pushes) == pushes + 2; }, 2s));
  CHECK(carol->call(send_in("2", conv, "m2", "hi from n3")).ack().seq() == 2);
  CHECK(alice->next_message().message().seq() == 2);
  CHECK(bob->next_message().message().seq() == 2);

  bob->send(R"({"typing":{"conversation_id":")" + conv + R"(","active":true}})");
  CHECK(alice->next([](auto& f) { return f.has_typing(); }).typing().user_id() == "bob");
  CHECK(carol->next([](auto& f) { return f.has_typing(); }).typing().user_id() == "bob");
  CHECK(bob->call(send_in("3", conv, "m3", "and n2")).ack().seq() == 3);
  CHECK(alice->next_message().message().seq() == 3);
  CHECK(carol->next_message().message().seq() == 3);
  carol->send(receipt(conv, 3, "READ"));
  CHECK(alice->next([](auto& f) { return f.has_receipt(); }).receipt().user_id() == "carol");
  CHECK(bob->next([](auto& f) { return f.has_receipt(); }).receipt().user_id() == "carol");

  // n3 dies: once its lease is gone its sessions drop from every table at once, and alice (on
  // n1, subscribed) sees carol go offline.
  auto first = alice->call(presence_of("p", "carol", true));
  CHECK(first.presence_update().online());
  c.node(2).kill();
  auto offline = alice->next([](auto& f) { return f.has_presence_update(); });
  CHECK(offline.presence_update().user_id() == "carol");
  CHECK_FALSE(offline.presence_update().online());
  CHECK(offline.presence_update().last_seen().seconds() > 0);
  CHECK(test::eventually([&] { return c.metric(0, remote_users) == 1; }, 2s));  // bob only
  CHECK(test::eventually([&] { return c.metric(1, remote_users) == 1; }, 2s));  // alice only
}
