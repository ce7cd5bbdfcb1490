// The conversation actor in a cluster, on CAF's deterministic coordinator: it lives on n2, its
// members are connected to n1 and n3 too (the cluster_view, as the route replicator would
// publish it), and fake chat services of n1 and n3 record what reaches them. A batch crosses
// once per node for all its members there, each connection starting where it stands; frames
// (typing, receipts, group changes) once per node; a device of another node syncs through its
// node's service, paced there, and live pushes continue from where that stopped.
#include "actors/chat/chat_service.hpp"
#include "actors/chat/conversation_actor.hpp"
#include "actors/connection/outbound_sink.hpp"
#include "actors/connection/pushed_frame.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "proto/parley.pb.h"
#include "storage/chat_store.hpp"
#include "support/deterministic_system.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace std::chrono_literals;

namespace {

const std::string group_id = "g:00112233445566778899aabbccddeeff";

// Records the frames written to one connection; its room shrinks by each message's body and
// 200 bytes.
class recording_sink : public outbound_sink {
public:
  void send(const pb::ServerFrame& frame, wire_format) override {
    frames.push_back(frame);
    if (frame.has_message())
      used += frame.message().body().size() + 200;
  }
  void send_shared(const std::shared_ptr<const pushed_frame>& frame, wire_format f) override {
    send(frame->frame(), f);
  }
  void close(uint16_t, std::string) override {}
  wire_format preferred_format() const override { return wire_format::json; }
  size_t outbound_room() const override { return room > used ? room - used : 0; }

  std::vector<uint64_t> seqs() const {
    std::vector<uint64_t> out;
    for (auto& f : frames)
      if (f.has_message())
        out.push_back(f.message().seq());
    return out;
  }

  std::vector<pb::ServerFrame> frames;
  size_t room = 1 << 20;
  size_t used = 0;
};

caf::behavior sync_writer(caf::event_based_actor*, storage::engine* db) {
  return {[db](write_atom, storage::write_set& ws) -> caf::result<void> {
    if (auto err = db->write({&ws}, false))
      return make_error(err);
    return caf::unit;
  }};
}

// What a fake chat service of another node received; syncs wait in `held` when holding, until
// (flush_atom) answers them.
struct service_log {
  std::vector<pb::ChatDelivery> deliveries;
  std::vector<pb::ChatDelivery> syncs;
  bool holding = false;
  std::vector<std::pair<caf::response_promise, pb::ChatDelivery>> held;
  size_t revokes = 0;
  // How a sync answers: all messages (0), or stopping after this many.
  uint64_t stop_after = 0;
};

pb::SyncResult sync_answer(const pb::ChatDelivery& d, uint64_t stop_after) {
  pb::SyncResult out;
  out.set_complete(true);
  auto& t = d.targets(0);
  out.set_last_seq(t.after_seq());
  for (auto& m : d.messages()) {
    if (stop_after != 0 && out.messages() == stop_after) {
      out.set_complete(false);
      break;
    }
    out.set_messages(out.messages() + 1);
    out.set_last_seq(m.message().seq());
  }
  return out;
}

// chat_service_api, and (flush_atom) for the test.
caf::behavior fake_service(caf::event_based_actor* self, service_log* log) {
  return {
    [log](deliver_atom, const pb::ChatDelivery& d) { log->deliveries.push_back(d); },
    [self, log](sync_atom, const pb::ChatDelivery& d) -> caf::result<pb::SyncResult> {
      log->syncs.push_back(d);
      if (!log->holding)
        return sync_answer(d, log->stop_after);
      log->held.emplace_back(self->make_response_promise(), d);
      return caf::delegated<pb::SyncResult>{};
    },
    [log](flush_atom) {
      for (auto& [rp, d] : log->held)
        rp.deliver(sync_answer(d, log->stop_after));
      log->held.clear();
      log->holding = false;
    },
    [](device_atom, const pb::ChatEndpoint&) {},
    [log](revoke_atom, const pb::PresenceRevoke&) { ++log->revokes; },
    [](conversations_atom, const pb::ChatIndexQuery&) { return pb::ChatIndexAnswer{}; },
    [](pending_atom, const pb::ChatIndexQuery&) { return pb::ChatIndexAnswer{}; },
    [](contacts_atom, const pb::ChatIndexQuery&) { return pb::ChatIndexAnswer{}; },
  };
}

struct fixture : test::deterministic_system {
  test::temp_db tdb;
  std::unique_ptr<storage::chat_store> store = std::make_unique<storage::chat_store>(*tdb.db);
  chat::chat_context_ptr ctx = std::make_shared<chat::chat_context>();
  service_log n1, n3;
  caf::actor service_n3;
  std::shared_ptr<recording_sink> alice = std::make_shared<recording_sink>();
  chat::conversation_api conv;

  fixture() {
    ctx->store = store.get();
    ctx->clock = clock();
    ctx->storage_writer =
      caf::actor_cast<runtime::storage_writer_api>(own(sys.spawn(sync_writer, tdb.db.get())));
    ctx->cluster = std::make_shared<chat::cluster_view>("n2");
    service_n3 = own(sys.spawn(fake_service, &n3));
    ctx->cluster->set_peers(
      {{"n1", caf::actor_cast<chat::chat_service_api>(own(sys.spawn(fake_service, &n1)))},
       {"n3", caf::actor_cast<chat::chat_service_api>(service_n3)}});
    // alice here on n2; bob and carol on n3; dave on n1.
    ctx->routes.add("alice", chat::route{"a1", "phone", alice});
    ctx->cluster->set_sessions("bob", {{"n3", "b1", "phone"}});
    ctx->cluster->set_sessions("carol", {{"n3", "c1", "phone"}});
    ctx->cluster->set_sessions("dave", {{"n1", "d1", "laptop"}});
    conv = own(chat::spawn_conversation(sys, ctx, group_id));
    pb::GroupCreate create;
    create.set_creator_id("alice");
    create.set_title("four");
    for (auto m : {"alice", "bob", "carol", "dave"})
      create.add_member_ids(m);
    REQUIRE(ask<pb::Group>(conv, create_atom_v, create)->value);
  }

  ~fixture() { stop(); }

  // Sends without running the system, so that sends made together form one batch.
  void send(const std::string& from, const std::string& cmid, const std::string& session) {
    pb::ConversationSend req;
    req.set_sender_id(from);
    req.set_client_msg_id(cmid);
    req.set_body("body of " + cmid);
    req.set_origin_session(session);
    caf::anon_send(conv, send_atom_v, std::move(req));
  }

  // The message deliveries (not frames) a node got: per delivery, "seqs|user:after,...".
  static std::vector<std::string> batches(const service_log& log) {
    std::vector<std::string> out;
    for (auto& d : log.deliveries) {
      if (d.messages_size() == 0)
        continue;
      std::string s;
      for (auto& m : d.messages())
        s += std::to_string(m.message().seq()) + " ";
      s += "|";
      for (auto& t : d.targets())
        s += " " + t.user_id() + ":" + std::to_string(t.after_seq());
      out.push_back(s);
    }
    return out;
  }

  static size_t frames_with(const service_log& log, bool (pb::ServerFrame::*has)() const) {
    size_t n = 0;
    for (auto& d : log.deliveries)
      if ((d.frame().*has)())
        n += static_cast<size_t>(d.targets_size());
    return n;
  }
};

using strings = std::vector<std::string>;

} // namespace

TEST_CASE_METHOD(fixture, "a batch crosses once per node for all its members there, each from where it stands") {
  // The group frame went once to each node.
  CHECK(n3.deliveries.size() == 1);
  CHECK(n1.deliveries.size() == 1);
  CHECK(frames_with(n3, &pb::ServerFrame::has_group) == 2);
  send("alice", "m1", "a1");
  send("alice", "m2", "a1");
  send("alice", "m3", "a1");
  run();
  // The first send is written alone, the two behind it as one batch.
  CHECK(batches(n3) == strings{"1 | bob:0 carol:0", "2 3 | bob:1 carol:1"});
  CHECK(batches(n1) == strings{"1 | dave:0", "2 3 | dave:1"});
  CHECK(alice->seqs().empty());  // the sender's own connection has the ack

  // Each connection starts where its device's cursor stands: bob's phone acknowledged 3 (known
  // here), carol's new tablet has nothing yet.
  pb::ReceiptUpdate delivered;
  delivered.set_user_id("bob");
  delivered.set_device_id("phone");
  delivered.set_seq(3);
  caf::anon_send(conv, receipt_atom_v, delivered);
  run();
  ctx->cluster->set_sessions("carol", {{"n3", "c1", "phone"}, {"n3", "c2", "tablet"}});
  send("dave", "m4", "d1");
  run();
  CHECK(batches(n3).back() == "1 2 3 4 | bob:3 carol:3 carol:0");
  CHECK(batches(n1).back() == "4 | dave:3");  // dave's own message: n1 skips it for d1
  CHECK(alice->seqs() == std::vector<uint64_t>{4});
}

TEST_CASE_METHOD(fixture, "typing and READ receipts cross once per node") {
  n1.deliveries.clear();
  n3.deliveries.clear();
  pb::TypingUpdate typing;
  typing.set_user_id("dave");
  typing.set_active(true);
  caf::anon_send(conv, typing_atom_v, typing);
  run();
  CHECK(n3.deliveries.size() == 1);
  CHECK(frames_with(n3, &pb::ServerFrame::has_typing) == 2);  // bob and carol
  CHECK(n1.deliveries.empty());                               // only dave is there: the typist
  REQUIRE(alice->frames.size() == 2);                         // group, typing
  CHECK(alice->frames.back().typing().user_id() == "dave");

  send("alice", "m1", "a1");
  run();
  pb::ReceiptUpdate read;
  read.set_user_id("carol");
  read.set_device_id("phone");
  read.set_seq(1);
  read.set_read(true);
  caf::anon_send(conv, receipt_atom_v, read);
  run();
  CHECK(frames_with(n3, &pb::ServerFrame::has_receipt) == 1);  // bob; carol is the reader
  CHECK(frames_with(n1, &pb::ServerFrame::has_receipt) == 1);  // dave
  CHECK(alice->frames.back().receipt().user_id() == "carol");
}

TEST_CASE_METHOD(fixture, "a member removed: every node's presence re-checks, then the group frame goes") {
  n1.deliveries.clear();
  n3.deliveries.clear();
  pb::MembersUpdate remove;
  remove.set_actor_id("alice");
  remove.add_user_ids("carol");
  REQUIRE(ask<pb::Group>(conv, members_atom_v, remove)->value);
  CHECK(n1.revokes == 1);
  CHECK(n3.revokes == 1);
  // carol (removed) and bob on n3 hear of it in one frame delivery; dave on n1 in another.
  CHECK(frames_with(n3, &pb::ServerFrame::has_group) == 2);
  CHECK(frames_with(n1, &pb::ServerFrame::has_group) == 1);
  // carol gets nothing more.
  send("alice", "m1", "a1");
  run();
  CHECK(batches(n3) == strings{"1 | bob:0"});
}

TEST_CASE_METHOD(fixture, "a device of another node syncs through its node, and live pushes go on from where it stopped") {
  for (int i = 1; i <= 3; ++i)
    send("alice", "m" + std::to_string(i), "a1");
  run();
  // bob's tablet on n3, so new that the routing table does not list it yet; its node stops the
  // paced sync after two messages.
  n3.stop_after = 2;
  pb::ChatEndpoint tablet;
  tablet.set_user_id("bob");
  tablet.set_session_id("b2");
  tablet.set_device_id("tablet");
  tablet.set_node("n3");
  auto synced = ask<pb::SyncResult>(conv, sync_atom_v, tablet);
  REQUIRE(synced->value);
  CHECK(std::get<0>(*synced->value).messages() == 2);
  CHECK_FALSE(std::get<0>(*synced->value).complete());
  REQUIRE(n3.syncs.size() == 1);
  CHECK(n3.syncs[0].messages_size() == 3);
  CHECK(n3.syncs[0].targets(0).after_seq() == 0);

  // The next message reaches it too, with the one the sync did not write before it.
  send("alice", "m4", "a1");
  run();
  CHECK(batches(n3).back() == "3 4 | bob:3 carol:3 bob:2");

  // While a sync is in flight, live pushes leave that connection alone; its answer lets the
  // next push go on from there.
  n3.holding = true;
  n3.stop_after = 0;
  auto again = ask<pb::SyncResult>(conv, sync_atom_v, tablet);
  CHECK_FALSE(again->arrived());
  send("alice", "m5", "a1");
  run();
  CHECK(batches(n3).back() == "5 | bob:4 carol:4");
  REQUIRE(n3.held.size() == 1);
  caf::anon_send(service_n3, flush_atom_v);  // it wrote 1..4
  run();
  REQUIRE(again->value);
  CHECK(std::get<0>(*again->value).complete());
  CHECK(batches(n3).back() == "5 | bob:4");  // message 5 came while it synced: sent now

  // A device of a node that is not a live member cannot sync now.
  tablet.set_node("n9");
  auto lost = ask<pb::SyncResult>(conv, sync_atom_v, tablet);
  CHECK(lost->error);
}

TEST_CASE("the chat service writes a delivery to this node's connections, each its own range") {
  test::deterministic_system det;
  auto ctx = std::make_shared<chat::chat_context>();
  auto phone = std::make_shared<recording_sink>();
  auto laptop = std::make_shared<recording_sink>();
  ctx->routes.add("bob", chat::route{"b1", "phone", phone});
  ctx->routes.add("bob", chat::route{"b2", "laptop", laptop});
  auto service = det.own(chat::spawn_chat_service(det.sys, ctx));
  pb::ChatDelivery d;
  d.set_conversation_id(group_id);
  for (uint64_t seq = 1; seq <= 4; ++seq) {
    auto* m = d.add_messages();
    m->mutable_message()->set_seq(seq);
    m->mutable_message()->set_body(std::string(100, 'x'));
    m->set_origin_session(seq == 3 ? "b2" : "elsewhere");
  }
  auto target = [&](const std::string& session, uint64_t after) {
    auto* t = d.add_targets();
    t->set_user_id("bob");
    t->set_session_id(session);
    t->set_after_seq(after);
  };
  target("b1", 2);
  target("b2", 0);
  target("gone", 0);  // closed meanwhile: nothing to write to
  caf::anon_send(service, deliver_atom_v, d);
  det.run();
  CHECK(phone->seqs() == std::vector<uint64_t>{3, 4});
  CHECK(laptop->seqs() == std::vector<uint64_t>{1, 2, 4});  // 3 came from the laptop

  // A sync is paced by the connection's room and says where it stopped.
  laptop->frames.clear();
  laptop->used = 0;
  laptop->room = 1000;  // two frames of 300 bytes fit; a third would take more than half the rest
  d.clear_targets();
  target("b2", 0);
  auto res = det.ask<pb::SyncResult>(service, sync_atom_v, d);
  REQUIRE(res->value);
  auto& r = std::get<0>(*res->value);
  CHECK(r.messages() == 2);
  CHECK(r.last_seq() == 3);  // 3 is the laptop's own: gone through, not written
  CHECK_FALSE(r.complete());
  CHECK(laptop->seqs() == std::vector<uint64_t>{1, 2});
}

namespace {

// A conversation of another node as the chat service reaches it through the registry: it
// records the syncs it is asked for and answers them.
caf::behavior fake_conversation(caf::event_based_actor*, std::vector<pb::ChatEndpoint>* syncs) {
  return {[syncs](sync_atom, const pb::ChatEndpoint& device) {
    syncs->push_back(device);
    pb::SyncResult out;
    out.set_complete(true);
    return out;
  }};
}

caf::behavior fake_registry(caf::event_based_actor*, caf::actor conv) {
  return {[conv](resolve_atom, const std::string&, const std::string&) {
    return caf::make_result(conv, caf::timespan{std::chrono::hours{1}});
  }};
}

pb::ChatDelivery delivery_of(uint64_t after, std::initializer_list<uint64_t> seqs) {
  pb::ChatDelivery d;
  d.set_conversation_id(group_id);
  for (auto seq : seqs) {
    auto* m = d.add_messages();
    m->mutable_message()->set_seq(seq);
    m->set_origin_session("elsewhere");
  }
  auto* t = d.add_targets();
  t->set_user_id("bob");
  t->set_session_id("b1");
  t->set_after_seq(after);
  return d;
}

} // namespace

TEST_CASE("a delivery lost on the way is noticed by the next one, and the conversation syncs the connection") {
  test::deterministic_system det;
  auto ctx = std::make_shared<chat::chat_context>();
  ctx->cluster = std::make_shared<chat::cluster_view>("n3");
  auto phone = std::make_shared<recording_sink>();
  ctx->routes.add("bob", chat::route{"b1", "phone", phone});
  std::vector<pb::ChatEndpoint> syncs;
  auto conv = det.own(det.sys.spawn(fake_conversation, &syncs));
  ctx->registry = det.own(det.sys.spawn(fake_registry, conv));
  auto service = det.own(chat::spawn_chat_service(det.sys, ctx));
  caf::anon_send(service, deliver_atom_v, delivery_of(0, {1, 2}));
  det.run();
  // 3 is lost; 4 shows it: nothing of 4 is written, the conversation is asked for a sync.
  caf::anon_send(service, deliver_atom_v, delivery_of(3, {4}));
  det.run();
  CHECK(phone->seqs() == std::vector<uint64_t>{1, 2});
  REQUIRE(syncs.size() == 1);
  CHECK(syncs[0].session_id() == "b1");
  CHECK(syncs[0].device_id() == "phone");
  CHECK(syncs[0].node() == "n3");
  // The sync writes from the device's cursor (its delivered cursor says 0) up to 4, in order;
  // live pushes go on from there.
  auto synced = det.ask<pb::SyncResult>(service, sync_atom_v, delivery_of(0, {1, 2, 3, 4}));
  REQUIRE(synced->value);
  caf::anon_send(service, deliver_atom_v, delivery_of(4, {5}));
  det.run();
  CHECK(phone->seqs() == std::vector<uint64_t>{1, 2, 1, 2, 3, 4, 5});
  CHECK(syncs.size() == 1);
}
