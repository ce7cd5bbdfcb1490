#include "actors/chat/chat_reader.hpp"
#include "actors/connection/connection_actor.hpp"
#include "support/temp_db.hpp"
#include "support/test_system.hpp"
#include "storage/chat_store.hpp"
#include "storage/engine.hpp"
#include "proto/chat_actors.pb.h"
#include "proto/parley.pb.h"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

using namespace parley;
using namespace std::chrono_literals;

namespace {

// Records what the actor sends, as a socket would receive it.
class recording_sink : public outbound_sink {
public:
  void send(const pb::ServerFrame& frame, wire_format format) override {
    std::lock_guard<std::mutex> guard{mtx_};
    frames_.push_back(frame);
    formats_.push_back(format);
    cv_.notify_all();
  }
  void close(uint16_t code, std::string) override { closed_ = code; }
  wire_format preferred_format() const override { return wire_format::json; }
  size_t outbound_room() const override { return 1 << 20; }

  // Waits for the n-th frame (0-based).
  pb::ServerFrame frame(size_t n, wire_format* format = nullptr) {
    std::unique_lock<std::mutex> lock{mtx_};
    REQUIRE(cv_.wait_for(lock, 5s, [&] { return frames_.size() > n; }));
    if (format)
      *format = formats_[n];
    return frames_[n];
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<pb::ServerFrame> frames_;
  std::vector<wire_format> formats_;
  uint16_t closed_ = 0;
};

client_frame_ptr make_frame(const std::string& request_id, wire_format format) {
  auto in = std::make_shared<inbound_frame>();
  in->frame->set_request_id(request_id);
  in->format = format;
  return in;
}

struct fixture {
  test::test_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<recording_sink> sink = std::make_shared<recording_sink>();
  caf::actor conn;

  fixture() {
    auto services = std::make_shared<connection_services>();
    services->node = "n-test";
    services->heartbeat_interval = 1234ms;
    connection_info info;
    info.user_id = "alice";
    info.services = services;
    conn = spawn_connection(sys, info, sink);
  }
  ~fixture() { caf::anon_send(conn, closed_atom_v); }
};

} // namespace

TEST_CASE_METHOD(fixture, "a new connection is welcomed with its user, session and heartbeat") {
  auto w = sink->frame(0);
  REQUIRE(w.has_welcome());
  CHECK(w.welcome().user_id() == "alice");
  CHECK(w.welcome().node() == "n-test");
  CHECK(w.welcome().heartbeat_interval_ms() == 1234);
  CHECK(w.welcome().session_id().rfind("s-", 0) == 0);
  // Inside std::string's own 15 bytes: no heap block per connection.
  CHECK(w.welcome().session_id().size() <= 15);
  CHECK(w.welcome().device_id() == "default");
}

TEST_CASE_METHOD(fixture, "ping is answered with pong echoing the request id in its format") {
  auto in = make_frame("r1", wire_format::binary);
  in->frame->mutable_ping();
  caf::anon_send(conn, frame_atom_v, in);
  wire_format format;
  auto pong = sink->frame(1, &format);
  CHECK(pong.has_pong());
  CHECK(pong.request_id() == "r1");
  CHECK(format == wire_format::binary);
  CHECK(pong.pong().server_time().seconds() > 0);
}

TEST_CASE_METHOD(fixture, "hello names the device, and an invalid device id is a bad request") {
  auto in = make_frame("h1", wire_format::json);
  in->frame->mutable_hello()->set_device_id("phone-1");
  caf::anon_send(conn, frame_atom_v, in);
  auto w = sink->frame(1);
  REQUIRE(w.has_welcome());
  CHECK(w.request_id() == "h1");
  CHECK(w.welcome().device_id() == "phone-1");

  auto bad = make_frame("h2", wire_format::json);
  bad->frame->mutable_hello()->set_device_id("no spaces allowed");
  caf::anon_send(conn, frame_atom_v, bad);
  auto e = sink->frame(2);
  REQUIRE(e.has_error());
  CHECK(e.request_id() == "h2");
  CHECK(e.error().code() == "bad_request");
}

TEST_CASE_METHOD(fixture, "a frame without a known kind gets an error and the connection lives") {
  caf::anon_send(conn, frame_atom_v, make_frame("x", wire_format::json));
  auto e = sink->frame(1);
  REQUIRE(e.has_error());
  CHECK(e.error().code() == "bad_request");
  auto ping = make_frame("after", wire_format::json);
  ping->frame->mutable_ping();
  caf::anon_send(conn, frame_atom_v, ping);
  CHECK(sink->frame(2).has_pong());
}

namespace {

// A registry stand-in that takes requests and never answers: the first sync stays running.
caf::behavior silent_registry(caf::event_based_actor* self) {
  self->set_default_handler(caf::drop);
  return {[self](resolve_atom, const std::string&, const std::string&) {
    // kept by no one: never delivered
    return self->make_response_promise<caf::actor, caf::timespan>();
  }};
}

} // namespace

TEST_CASE("a second sync while the first runs is refused with conflict") {
  test::temp_db tdb;
  auto& db = tdb.db;
  storage::chat_store store{*db};
  storage::write_set ws;
  store.put_message(ws, "d:alice:bob", storage::chat_message{1, "bob", "m", "hi", 1});
  store.put_pending(ws, "d:alice:bob", 1, {"alice"});
  REQUIRE_FALSE(db->write({&ws}, false));

  test::test_config cfg;
  caf::actor_system sys{cfg};
  auto ctx = std::make_shared<chat::chat_context>();
  ctx->store = &store;
  ctx->registry = sys.spawn(silent_registry);
  ctx->presence = caf::actor_cast<chat::presence_api>(
    sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->set_default_handler(caf::drop);
      return {[](int) {}};
    }));
  ctx->readers.push_back(chat::spawn_chat_reader(sys, store));
  auto sink = std::make_shared<recording_sink>();
  auto services = std::make_shared<connection_services>();
  services->chat = ctx;
  connection_info info;
  info.user_id = "alice";
  info.services = services;
  auto conn = spawn_connection(sys, info, sink);
  sink->frame(0);  // welcome
  for (auto id : {"first", "second"}) {
    auto in = make_frame(id, wire_format::json);
    in->frame->mutable_sync();
    caf::anon_send(conn, frame_atom_v, in);
  }
  auto answer = sink->frame(1);
  CHECK(answer.request_id() == "second");
  CHECK(answer.error().code() == "conflict");
  caf::anon_send(conn, closed_atom_v);
  caf::anon_send_exit(ctx->registry, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ctx->presence, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ctx->readers.front(), caf::exit_reason::user_shutdown);
}

namespace {

// A conversation stand-in that keeps the promise of a send and keeps it until it is told to
// answer (an int), when it answers seq 1.
caf::behavior late_conversation(caf::event_based_actor* self) {
  auto held = std::make_shared<caf::response_promise>();
  return {
    [self, held](send_atom, pb::ConversationSend&) {
      *held = self->make_response_promise();
      return *held;
    },
    [held](int) {
      pb::ConversationAck ack;
      ack.set_seq(1);
      held->deliver(ack);
      return 0;
    },
  };
}

} // namespace

TEST_CASE("a chat request past its timeout gets one unavailable, and its late answer is dropped") {
  test::temp_db tdb;
  storage::chat_store store{*tdb.db};
  test::test_config cfg;
  caf::actor_system sys{cfg};
  auto conversation = sys.spawn(late_conversation);
  auto ctx = std::make_shared<chat::chat_context>();
  ctx->store = &store;
  ctx->registry = sys.spawn([conversation](caf::event_based_actor*) -> caf::behavior {
    return {[conversation](resolve_atom, const std::string&, const std::string&) {
      return std::make_tuple(conversation, caf::timespan{60s});
    }};
  });
  ctx->presence = caf::actor_cast<chat::presence_api>(
    sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->set_default_handler(caf::drop);
      return {[](int) {}};
    }));
  auto sink = std::make_shared<recording_sink>();
  auto services = std::make_shared<connection_services>();
  services->chat = ctx;
  services->request_timeout = 200ms;
  connection_info info;
  info.user_id = "alice";
  info.services = services;
  auto conn = spawn_connection(sys, info, sink);
  sink->frame(0);  // welcome
  auto in = make_frame("s1", wire_format::json);
  auto* send = in->frame->mutable_send();
  send->set_to_user("bob");
  send->set_client_msg_id("m1");
  send->set_body("hello");
  caf::anon_send(conn, frame_atom_v, in);
  auto answer = sink->frame(1);
  CHECK(answer.request_id() == "s1");
  REQUIRE(answer.has_error());
  CHECK(answer.error().code() == "unavailable");

  // The conversation answers now: its answer reaches the connection before the ping does.
  caf::scoped_actor self{sys};
  self->request(conversation, 5s, 1)
    .receive([](int) {}, [](caf::error& err) { FAIL(to_string(err)); });
  auto ping = make_frame("p1", wire_format::json);
  ping->frame->mutable_ping();
  caf::anon_send(conn, frame_atom_v, ping);
  auto next = sink->frame(2);
  CHECK(next.request_id() == "p1");  // no ack for s1 in between
  CHECK(next.has_pong());

  caf::anon_send(conn, closed_atom_v);
  for (auto& a : {conversation, ctx->registry, caf::actor_cast<caf::actor>(ctx->presence)})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}
