// Replication factor 2 on three parleyd processes with a real etcd (docs/replication.md): every
// partition gets a caught-up backup, and when a primary is killed its backup serves the
// partition within seconds with every acknowledged write and the next seq.
#include "actors/chat/conversation_id.hpp"
#include "support/chat_client.hpp"
#include "support/eventually.hpp"
#include "support/test_client.hpp"
#include "support/test_cluster.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

using namespace parley;
using namespace std::chrono_literals;

namespace {

using test::chat_client;

std::string send_in(const std::string& conv, const std::string& cmid, const std::string& body) {
  return R"({"request_id":")" + cmid + R"(","send":{"conversation_id":")" + conv
         + R"(","client_msg_id":")" + cmid + R"(","body":")" + body + R"("}})";
}

test::test_cluster_options replicated() {
  test::test_cluster_options o;
  o.spread = true;
  o.args = {"--set", "cluster.replication_factor=2"};
  return o;
}

// Sends until acknowledged, as a client does: `unavailable` is retried with the same
// client_msg_id. The ack's seq, or 0 when `within` passed first.
uint64_t send_until_acked(chat_client& who, const std::string& conv, const std::string& cmid,
                          std::chrono::milliseconds within) {
  auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    auto answer = who.call(send_in(conv, cmid, "body of " + cmid));
    if (answer.has_ack())
      return answer.ack().seq();
    INFO(answer.ShortDebugString());
    REQUIRE(answer.has_error());
    REQUIRE(answer.error().code() == "unavailable");
    std::this_thread::sleep_for(100ms);  // a client's retry pause
  }
  return 0;
}

} // namespace

TEST_CASE("a killed primary's partition serves again from its backup with every acknowledged message") {
  test::test_cluster c{replicated()};
  c.require_ready();
  // Every partition's backup catches up from the log: the stores started empty under
  // replication, so no backup needs a copy.
  REQUIRE(test::eventually([&] { return c.partitions_backed_up() == c.opts.partitions; }, 15s));
  for (uint32_t i = 0; i < 3; ++i)
    CHECK(c.metric(i, "parley_replication_copies_total") == 0);

  // A conversation on n2 between users on n1 and n3.
  std::string a, b, conv;
  for (int i = 0; conv.empty() || c.owner_of(conv) != "n2"; ++i) {
    a = "ann" + std::to_string(i);
    b = "ben" + std::to_string(i);
    conv = chat::direct_conversation_id(a, b);
  }
  auto [backup, ready] = c.backup_of(conv);
  REQUIRE(ready);
  REQUIRE(backup != "n2");
  auto ann = std::make_unique<chat_client>(c.host(0), c.port(0), a, "phone");
  auto ben = std::make_unique<chat_client>(c.host(2), c.port(2), b, "laptop");
  auto first = ann->call(R"({"request_id":"0","send":{"to_user":")" + b
                         + R"(","client_msg_id":"m0","body":"hello"}})");
  REQUIRE(first.has_ack());
  REQUIRE(first.ack().conversation_id() == conv);
  for (int i = 1; i < 20; ++i)
    REQUIRE(send_until_acked(*ann, conv, "m" + std::to_string(i), 5s) == uint64_t(i + 1));

  c.node(1).kill();
  auto killed = std::chrono::steady_clock::now();
  // The next send is retried until the backup serves the conversation.
  auto seq = send_until_acked(*ben, conv, "after-kill", 15s);
  auto took = std::chrono::steady_clock::now() - killed;
  INFO("the backup served after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(seq == 21);  // every acknowledged message kept its seq: none lost, none reused
  CHECK(took < 8s);  // lease (3 s) + etcd's expiry tick + the promotion; the benchmark measures
  CHECK(c.owner_of(conv) == backup);

  // History from either side: the twenty-one messages, in order, each once.
  auto page = ann->call(R"({"request_id":"h","history":{"conversation_id":")" + conv
                        + R"(","limit":50}})");
  REQUIRE(page.has_history_page());
  REQUIRE(page.history_page().messages_size() == 21);
  std::set<std::string> ids;
  for (int i = 0; i < 21; ++i) {
    auto& m = page.history_page().messages(i);
    CHECK(m.seq() == uint64_t(21 - i));  // newest first
    ids.insert(m.client_msg_id());
  }
  CHECK(ids.size() == 21);
  // A retried send from before the kill still answers its original ack.
  CHECK(send_until_acked(*ann, conv, "m5", 5s) == 6);
}

TEST_CASE("a primary stopped past its lease never acknowledges a write its backup did not take over") {
  test::test_cluster c{replicated()};
  c.require_ready();
  REQUIRE(test::eventually([&] { return c.partitions_backed_up() == c.opts.partitions; }, 15s));
  std::string a, b, conv;
  for (int i = 0; conv.empty() || c.owner_of(conv) != "n2"; ++i) {
    a = "amy" + std::to_string(i);
    b = "bo" + std::to_string(i);
    conv = chat::direct_conversation_id(a, b);
  }
  auto backup = c.backup_of(conv).first;
  // amy talks to n2 itself, the primary; bo to the node that is not its backup.
  auto amy = std::make_unique<chat_client>(c.host(1), c.port(1), a, "phone");
  auto bo_node = backup == "n1" ? 2u : 0u;
  auto bo = std::make_unique<chat_client>(c.host(bo_node), c.port(bo_node), b, "laptop");
  REQUIRE(amy->call(R"({"request_id":"0","send":{"to_user":")" + b
                    + R"(","client_msg_id":"a0","body":"hi"}})").ack().seq() == 1);
  std::map<std::string, uint64_t> acked{{"a0", 1}};

  // n2 freezes for longer than its lease: its backup takes the conversation over.
  c.node(1).process().signal(SIGSTOP);
  REQUIRE(test::eventually([&] { return c.owner_of(conv) == backup; }, 15s));
  for (int i = 1; i <= 3; ++i) {
    auto id = "b" + std::to_string(i);
    auto seq = send_until_acked(*bo, conv, id, 10s);
    REQUIRE(seq != 0);
    acked[id] = seq;
  }
  // n2 wakes up believing it is still the primary, and amy's sends reach it first.
  c.node(1).process().signal(SIGCONT);
  for (int i = 1; i <= 3; ++i) {
    auto id = "a" + std::to_string(i);
    auto seq = send_until_acked(*amy, conv, id, 15s);
    REQUIRE(seq != 0);
    acked[id] = seq;
  }

  // Every acknowledged message is stored once, under the seq its ack named, with no gap.
  auto page = bo->call(R"({"request_id":"h","history":{"conversation_id":")" + conv
                       + R"(","limit":50}})");
  REQUIRE(page.has_history_page());
  std::map<std::string, uint64_t> stored;
  std::set<uint64_t> seqs;
  for (auto& m : page.history_page().messages()) {
    CHECK(stored.emplace(m.client_msg_id(), m.seq()).second);
    CHECK(seqs.insert(m.seq()).second);
  }
  CHECK(stored == acked);
  REQUIRE_FALSE(seqs.empty());
  CHECK(*seqs.rbegin() == seqs.size());
}

namespace {

// The history of `conv` as `reader` sees it: client_msg_id -> seq, checked to hold each id and
// each seq once.
std::map<std::string, uint64_t> history_of(chat_client& reader, const std::string& conv) {
  std::map<std::string, uint64_t> out;
  std::set<uint64_t> seqs;
  uint64_t before = 0;
  for (;;) {
    auto page = reader.call(R"({"request_id":"h","history":{"conversation_id":")" + conv
                            + R"(","limit":100)"
                            + (before ? R"(,"before_seq":)" + std::to_string(before) : "")
                            + "}}");
    INFO(page.ShortDebugString());
    REQUIRE(page.has_history_page());
    for (auto& m : page.history_page().messages()) {
      CHECK(out.emplace(m.client_msg_id(), m.seq()).second);
      CHECK(seqs.insert(m.seq()).second);
      before = m.seq();
    }
    if (!page.history_page().has_more())
      return out;
  }
}

// A 1:1 conversation whose partition n1 leads, and its two users.
std::string conversation_on_n1(test::test_cluster& c, std::string& a, std::string& b) {
  std::string conv;
  for (int i = 0; conv.empty() || c.owner_of(conv) != "n1"; ++i) {
    a = "cy" + std::to_string(i);
    b = "di" + std::to_string(i);
    conv = chat::direct_conversation_id(a, b);
  }
  return conv;
}

} // namespace

TEST_CASE("a backup behind a trimmed log gets a copy, and serves every acknowledged message when promoted") {
  auto o = replicated();
  o.size = 2;
  o.args.insert(o.args.end(), {"--set", "cluster.replication_log_bytes=65536"});
  test::test_cluster c{o};
  c.require_ready();
  REQUIRE(test::eventually([&] { return c.partitions_backed_up() == c.opts.partitions; }, 15s));
  std::string a, b;
  auto conv = conversation_on_n1(c, a, b);
  auto cy = std::make_unique<chat_client>(c.host(0), c.port(0), a, "phone");
  std::map<std::string, uint64_t> acked;
  auto first = cy->call(R"({"request_id":"0","send":{"to_user":")" + b
                        + R"(","client_msg_id":"m0","body":"hello"}})");
  REQUIRE(first.has_ack());
  acked["m0"] = first.ack().seq();

  // n2, the backup, dies; n1 goes on alone and writes four times what a partition's log keeps.
  c.node(1).kill();
  std::string body(1000, 'x');
  for (int i = 1; i <= 250; ++i) {
    auto id = "m" + std::to_string(i);
    auto answer = cy->call(send_in(conv, id, body));
    INFO(answer.ShortDebugString());
    REQUIRE(answer.has_ack());
    acked[id] = answer.ack().seq();
  }
  REQUIRE(test::eventually(
    [&] { return c.metric(0, "parley_replication_log_trimmed_records_total") > 100; }, 15s));

  // n2 returns on its data: its position is older than n1's log now, so it is reset and copied.
  auto copies_before = c.metric(0, "parley_replication_copies_total");
  c.start(1);
  REQUIRE(test::eventually([&] { return c.partitions_backed_up() == c.opts.partitions; }, 20s));
  CHECK(c.metric(0, "parley_replication_copies_total") > copies_before);

  // n1 dies: n2 serves the conversation with every acknowledged message and the next seq.
  c.node(0).kill();
  auto di = std::make_unique<chat_client>(c.host(1), c.port(1), b, "laptop");
  auto next = send_until_acked(*di, conv, "after", 15s);
  CHECK(next == acked.size() + 1);
  acked["after"] = next;
  CHECK(history_of(*di, conv) == acked);
}

TEST_CASE("a cluster restarted with replication factor 2 copies what it wrote with factor 1") {
  auto o = replicated();
  o.size = 2;
  o.args = {"--set", "cluster.replication_factor=1"};
  test::test_cluster c{o};
  c.require_ready();
  std::string a, b;
  auto conv = conversation_on_n1(c, a, b);
  std::map<std::string, uint64_t> acked;
  {
    chat_client cy{c.host(0), c.port(0), a, "phone"};
    auto first = cy.call(R"({"request_id":"0","send":{"to_user":")" + b
                         + R"(","client_msg_id":"m0","body":"hello"}})");
    REQUIRE(first.has_ack());
    acked["m0"] = first.ack().seq();
    for (int i = 1; i < 20; ++i) {
      auto id = "m" + std::to_string(i);
      acked[id] = send_until_acked(cy, conv, id, 5s);
    }
  }
  // Both nodes stop and start again with factor 2: nothing written so far is in a log.
  for (uint32_t i = 0; i < 2; ++i)
    REQUIRE(c.node(i).terminate(10s) == 0);
  c.opts.args = {"--set", "cluster.replication_factor=2"};
  c.start(0);
  c.start(1);
  c.require_ready();
  REQUIRE(test::eventually([&] { return c.partitions_backed_up() == c.opts.partitions; }, 20s));
  REQUIRE(c.owner_of(conv) == "n1");

  c.node(0).kill();
  auto di = std::make_unique<chat_client>(c.host(1), c.port(1), b, "laptop");
  auto next = send_until_acked(*di, conv, "after", 15s);
  CHECK(next == 21);
  acked["after"] = next;
  CHECK(history_of(*di, conv) == acked);
}
