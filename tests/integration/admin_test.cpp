// The admin console through its HTTP API on a real node: roles, refusals, kick, ban, drain,
// entity lookup, dead tasks, rules, log level, reload, and the admin API's own listener.
#include "support/eventually.hpp"
#include "support/running_node.hpp"

#include "proto/admin.pb.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace parley;
using namespace parley::test;

namespace {

// Tokens are made when a test runs: test_secret is another file's static.
struct tokens {
  std::string admin = signed_token("op", "admin");
  std::string viewer = signed_token("watcher", "viewer");
  std::string user = signed_token("carol");
};

const tokens& token() {
  static const tokens t;
  return t;
}

http_result command(running_node& node, const std::string& name, const std::string& body = {},
                    const std::string& token = ::token().admin) {
  return http_call(node.n->admin_port(), "POST", "/admin/v1/" + name, body, bearer(token));
}

// This node's part of a successful command's answer.
google::protobuf::Struct answer_of(const http_result& res) {
  INFO(res.body);
  REQUIRE(res.status == 200);
  auto reply = parse_json<pb::AdminReply>(res.body);
  REQUIRE(reply.answers_size() == 1);
  REQUIRE(reply.answers(0).has_data());
  return reply.answers(0).data().struct_value();
}

double number(const google::protobuf::Struct& s, const std::string& field) {
  return s.fields().at(field).number_value();
}

std::string text(const google::protobuf::Struct& s, const std::string& field) {
  return s.fields().at(field).string_value();
}

std::string error_code(const http_result& res) {
  return parse_json<pb::ErrorBody>(res.body).error().code();
}

// Active conversation actors: the gauge is absent until the registry first reports the kind
// (which a sampler may do at any moment), and absent means none.
double active_conversations(running_node& node) {
  return std::max(0.0, static_cast<double>(metric_value(node, "parley_actors_active{kind=\"conv\"}")));
}

// A WebSocket of `user` and its session id from `welcome`.
struct session {
  std::unique_ptr<ws_client> ws;
  std::string id;
};

session open_session(running_node& node, const std::string& user) {
  session s;
  s.ws = std::make_unique<ws_client>();
  REQUIRE(s.ws->connect(node.port(), "/ws", signed_token(user)) == 101);
  auto welcome = read_frame(*s.ws);
  REQUIRE(welcome.has_welcome());
  s.id = welcome.welcome().session_id();
  return s;
}

// Waits until the routing table lists `n` sessions of `user` (the connection actor registers
// its route right after the welcome).
void wait_for_sessions(running_node& node, const std::string& user, size_t n) {
  CHECK(eventually([&] {
    auto res = command(node, "sessions.list", R"({"user":")" + user + R"("})", token().viewer);
    if (res.status != 200)
      return false;
    auto rows = answer_of(res).fields().at("sessions").list_value().values();
    if (static_cast<size_t>(rows.size()) != n)
      return false;
    for (auto& row : rows)
      if (row.struct_value().fields().at("session_id").string_value().empty())
        return false;
    return true;
  }));
}

} // namespace

TEST_CASE("the admin API answers viewers and admins and refuses everyone else") {
  running_node node;
  auto port = node.port();
  CHECK(http_call(port, "GET", "/admin/v1/commands").status == 401);
  CHECK(http_call(port, "GET", "/admin/v1/commands", {}, bearer(token().user)).status == 403);
  auto listed = http_call(port, "GET", "/admin/v1/commands", {}, bearer(token().viewer));
  REQUIRE(listed.status == 200);
  auto registry = parse_json<pb::AdminCommandList>(listed.body);
  bool has_kick = false;
  for (auto& c : registry.commands())
    if (c.name() == "sessions.kick")
      has_kick = c.mutates() && c.destructive() && c.scope() == "cluster";
  CHECK(has_kick);

  CHECK(command(node, "node.status", {}, token().viewer).status == 200);
  auto refused = command(node, "node.drain", {}, token().viewer);
  CHECK(refused.status == 403);
  CHECK(error_code(refused) == "forbidden");
  CHECK(command(node, "node.status", {}, token().user).status == 403);
  CHECK(command(node, "node.status", {}, signed_token("w", "worker")).status == 403);
  CHECK(http_call(port, "POST", "/admin/v1/node.status").status == 401);
}

TEST_CASE("unknown commands are 404 and bad arguments 400") {
  running_node node;
  auto unknown = command(node, "node.explode");
  CHECK(unknown.status == 404);
  CHECK(error_code(unknown) == "not_found");
  CHECK(command(node, "users.where").status == 400);
  CHECK(command(node, "node.top", R"({"limit":"ten"})").status == 400);
  CHECK(command(node, "node.top", R"({"limit":2.5})").status == 400);
  CHECK(command(node, "node.status", R"({"verbose":true})").status == 400);
  CHECK(command(node, "node.drain", R"({"duration":"a while"})").status == 400);
  CHECK(command(node, "users.ban", R"({"user":{"id":"bob"}})").status == 400);
  CHECK(command(node, "users.ban", "not json").status == 400);
  CHECK(command(node, "sessions.kick", "{}").status == 400);  // needs id or user
  CHECK(command(node, "log.level", R"({"level":"loud"})").status == 400);
  CHECK(http_call(node.port(), "GET", "/admin/v1/node.status", {}, bearer(token().admin)).status
        == 405);
}

TEST_CASE("node status, top and cluster members describe the node") {
  running_node node;
  auto alice = open_session(node, "alice");
  wait_for_sessions(node, "alice", 1);
  auto status = answer_of(command(node, "node.status", {}, token().viewer));
  CHECK(text(status, "node") == node.n->id());
  CHECK(number(status, "websockets") == 1);
  CHECK(number(status, "resident_bytes") > 0);
  CHECK(number(status, "open_fds") > 0);
  CHECK(status.fields().at("actors").struct_value().fields().count("task_shard") == 1);
  CHECK(text(status.fields().at("drain").struct_value(), "state") == "serving");
  auto top = answer_of(command(node, "node.top", R"({"limit":3})", token().viewer));
  bool shards = false;
  for (auto& kind : top.fields().at("kinds").list_value().values()) {
    auto& k = kind.struct_value();
    if (text(k, "kind") == "task_shard") {
      shards = true;
      CHECK(number(k, "active") == 16);
      CHECK(number(k, "probed") == 16);
      CHECK(number(k, "max_wait_ms") >= 0);
    }
  }
  CHECK(shards);
  size_t shard_rows = 0;
  for (auto& row : top.fields().at("actors").list_value().values())
    shard_rows += text(row.struct_value(), "kind") == "task_shard";
  CHECK(shard_rows == 3);
  // The sampler: one sample a second, and the mailbox metric per kind.
  CHECK(eventually([&] {
    auto samples = answer_of(command(node, "node.samples", R"({"seconds":5})", token().viewer));
    auto& rows = samples.fields().at("samples").list_value();
    return rows.values_size() >= 1
           && number(rows.values(0).struct_value(), "websockets") >= 0;
  }));
  CHECK(metric_value(node, "parley_mailbox_wait_seconds{kind=\"task_shard\"}") >= 0);
  auto members = answer_of(command(node, "cluster.members", {}, token().viewer));
  auto& list = members.fields().at("members").list_value();
  REQUIRE(list.values_size() == 1);
  CHECK(text(list.values(0).struct_value(), "node") == node.n->id());
}

TEST_CASE("an admin kicks one session by id, or all of a user's, with close code 4000") {
  running_node node;
  auto first = open_session(node, "alice");
  auto second = open_session(node, "alice");
  auto bob = open_session(node, "bob");
  wait_for_sessions(node, "alice", 2);
  wait_for_sessions(node, "bob", 1);

  auto where = answer_of(command(node, "users.where", R"({"user":"alice"})", token().viewer));
  CHECK(where.fields().at("online").bool_value());
  CHECK(where.fields().at("sessions").list_value().values_size() == 2);

  auto kicked = answer_of(command(node, "sessions.kick", R"({"id":")" + first.id + R"("})"));
  CHECK(number(kicked, "kicked") == 1);
  CHECK(first.ws->wait_close() == 4000);
  CHECK(first.ws->close_reason() == "kicked by an operator");
  wait_for_sessions(node, "alice", 1);

  auto all = answer_of(command(node, "sessions.kick", R"({"user":"bob","reason":"spam"})"));
  CHECK(number(all, "kicked") == 1);
  CHECK(bob.ws->wait_close() == 4000);
  CHECK(bob.ws->close_reason() == "spam");

  CHECK(command(node, "sessions.kick", R"({"id":"no-such-session"})").status == 404);
  // The other session of alice never noticed.
  second.ws->send_text(R"({"request_id":"p","ping":{}})");
  auto pong = read_frame(*second.ws);
  CHECK(pong.request_id() == "p");
}

TEST_CASE("a ban closes sessions with 1008, refuses the user's tokens and survives a restart") {
  temp_dir dir;
  {
    running_node node{dir.path(), {}};
    auto bob = open_session(node, "bob");
    wait_for_sessions(node, "bob", 1);
    auto banned = answer_of(command(node, "users.ban", R"({"user":"bob","reason":"abuse"})"));
    CHECK(number(banned, "kicked") == 1);
    CHECK(bob.ws->wait_close() == 1008);
    auto bob_token = signed_token("bob");
    CHECK(upgrade_status(node.port(), "/ws", bob_token) == 403);
    auto rest = http_call(node.port(), "GET", "/api/v1/tasks", {}, bearer(bob_token));
    CHECK(rest.status == 403);
    CHECK(error_code(rest) == "forbidden");
    CHECK(upgrade_status(node.port(), "/ws", signed_token("alice")) == 101);
    auto list = answer_of(command(node, "users.banned", {}, token().viewer));
    REQUIRE(list.fields().at("bans").list_value().values_size() == 1);
    auto& ban = list.fields().at("bans").list_value().values(0).struct_value();
    CHECK(text(ban, "user") == "bob");
    CHECK(text(ban, "reason") == "abuse");
    CHECK(text(ban, "by") == "op");
  }
  running_node node{dir.path(), {}};
  auto bob_token = signed_token("bob");
  CHECK(upgrade_status(node.port(), "/ws", bob_token) == 403);
  CHECK(answer_of(command(node, "users.where", R"({"user":"bob"})")).fields().at("banned")
          .bool_value());
  CHECK(command(node, "users.unban", R"({"user":"bob"})").status == 200);
  CHECK(upgrade_status(node.port(), "/ws", bob_token) == 101);
  CHECK(command(node, "users.unban", R"({"user":"bob"})").status == 404);
  CHECK(command(node, "users.ban", R"({"user":"bob","until":"2000-01-01T00:00:00Z"})").status
        == 400);
}

TEST_CASE("a drain answers readyz 503, refuses new WebSockets and closes open ones with 1012") {
  running_node node;
  std::vector<session> open;
  for (int i = 0; i < 3; ++i)
    open.push_back(open_session(node, "user" + std::to_string(i)));
  for (int i = 0; i < 3; ++i)
    wait_for_sessions(node, "user" + std::to_string(i), 1);
  CHECK(http_call(node.port(), "GET", "/readyz").status == 200);
  auto started = answer_of(command(node, "node.drain", R"({"duration":"300ms"})"));
  CHECK(number(started, "sessions_at_start") == 3);
  CHECK(http_call(node.port(), "GET", "/readyz").status == 503);
  CHECK(http_call(node.port(), "GET", "/healthz").status == 200);
  for (auto& s : open)
    CHECK(s.ws->wait_close() == 1012);
  CHECK(upgrade_status(node.port(), "/ws", signed_token("late")) == 503);
  CHECK(eventually([&] {
    auto status = answer_of(command(node, "node.status", {}, token().viewer));
    auto& drain = status.fields().at("drain").struct_value();
    return text(drain, "state") == "drained" && number(drain, "closed") == 3
           && number(drain, "open") == 0;
  }));
  CHECK(command(node, "node.undrain").status == 200);
  CHECK(http_call(node.port(), "GET", "/readyz").status == 200);
  CHECK(upgrade_status(node.port(), "/ws", signed_token("late")) == 101);
}

TEST_CASE("entities where names the owner and never activates the entity") {
  running_node node;
  auto before = active_conversations(node);
  auto where = answer_of(command(node, "entities.where", R"({"kind":"conv","id":"c-123"})",
                                 token().viewer));
  CHECK(text(where, "owner") == node.n->id());
  CHECK(where.fields().at("here").bool_value());
  CHECK_FALSE(where.fields().at("active").bool_value());
  CHECK(active_conversations(node) == before);
  auto shard = answer_of(command(node, "entities.where", R"({"kind":"task_shard","id":"3"})"));
  CHECK(shard.fields().at("active").bool_value());  // task shards stay active
  CHECK(command(node, "entities.where", R"({"kind":"planet","id":"x"})").status == 400);
}

TEST_CASE("dead tasks are listed, requeued and discarded through the console") {
  running_node node;
  auto port = node.port();
  auto owner = bearer(signed_token("dana"));
  auto make_dead = [&](const std::string& type) {
    auto created = http_call(port, "POST", "/api/v1/tasks",
                             R"({"task_type":")" + type + R"(","retry_policy":{"max_retries":0}})",
                             owner);
    REQUIRE(created.status == 201);
    auto task = parse_json<pb::Task>(created.body);
    auto leased = http_call(port, "POST", "/api/v1/leases",
                            R"({"worker_id":"w","task_types":[")" + type + R"("],"max_tasks":1,)"
                            R"("wait_ms":3000,"lease_sec":30})",
                            owner);
    REQUIRE(leased.status == 200);
    auto lease = parse_json<pb::LeaseResponse>(leased.body);
    REQUIRE(lease.leases_size() == 1);
    auto failed = http_call(port, "POST", "/api/v1/leases/" + lease.leases(0).lease_id() + "/fail",
                            R"({"error":"boom","retryable":false})", owner);
    REQUIRE(failed.status == 200);
    return task.id();
  };
  auto id = make_dead("report");
  auto listed = answer_of(command(node, "tasks.dead.list", {}, token().viewer));
  auto& tasks = listed.fields().at("tasks").list_value();
  REQUIRE(tasks.values_size() == 1);
  CHECK(text(tasks.values(0).struct_value(), "id") == id);

  CHECK(command(node, "tasks.dead.requeue", R"({"id":")" + id + R"("})", token().viewer).status
        == 403);
  auto requeued = answer_of(command(node, "tasks.dead.requeue", R"({"id":")" + id + R"("})"));
  CHECK(text(requeued, "status") != "DEAD");
  auto discard_live = command(node, "tasks.dead.discard", R"({"id":")" + id + R"("})");
  CHECK(discard_live.status == 409);

  auto dead = make_dead("digest");
  auto discarded = answer_of(command(node, "tasks.dead.discard", R"({"id":")" + dead + R"("})"));
  CHECK(text(discarded, "status") == "CANCELLED");
  CHECK(command(node, "tasks.dead.requeue", R"({"id":"t-nope"})").status == 404);
}

TEST_CASE("rate-limit rules, the log level and a reload through the console") {
  running_node node;
  auto rules = R"({"rules":[{"name":"per-ip","match":{"path_prefix":"/api"},"key":"ip",)"
               R"("algorithm":"fixed_window","limit":100,"window_sec":60}]})";
  auto set = command(node, "ratelimits.set", std::string{R"({"rules":")"} + [&] {
    std::string escaped;
    for (char c : std::string{rules}) {
      if (c == '"')
        escaped += '\\';
      escaped += c;
    }
    return escaped;
  }() + R"("})");
  INFO(set.body);
  CHECK(set.status == 200);
  auto got = command(node, "ratelimits.get", {}, token().viewer);
  CHECK(got.status == 200);
  CHECK(got.body.find("per-ip") != std::string::npos);
  CHECK(command(node, "ratelimits.set", R"({"rules":"{\"rules\":[{\"name\":\"\"}]}"})").status
        == 400);

  auto level = answer_of(command(node, "log.level", R"({"level":"error"})"));
  CHECK(text(level, "level") == "error");
  CHECK(text(level, "previous") == "warn");
  CHECK(text(answer_of(command(node, "log.level", R"({"level":"warn"})")), "previous") == "error");

  auto reloaded = answer_of(command(node, "config.reload"));
  CHECK(reloaded.fields().at("reloaded").list_value().values_size() >= 1);
}

TEST_CASE("with admin.allow_mutations off, reads work and every mutation is 403") {
  running_node node{{"admin.allow_mutations=false"}};
  CHECK(command(node, "sessions.list", {}, token().viewer).status == 200);
  auto refused = command(node, "users.ban", R"({"user":"bob"})");
  CHECK(refused.status == 403);
  CHECK(refused.body.find("admin.allow_mutations") != std::string::npos);
  CHECK(command(node, "node.drain").status == 403);
  CHECK(http_call(node.port(), "GET", "/readyz").status == 200);
}

TEST_CASE("the admin API on its own listener serves no WebSockets and leaves the public one") {
  running_node node{{"admin.listen=127.0.0.1:0"}};
  auto admin_port = node.n->admin_port();
  REQUIRE(admin_port != node.port());
  CHECK(command(node, "node.status", {}, token().viewer).status == 200);
  CHECK(http_call(admin_port, "GET", "/readyz").status == 200);
  CHECK(upgrade_status(admin_port, "/ws", signed_token("alice")) == 404);
  CHECK(http_call(node.port(), "POST", "/admin/v1/node.status", {}, bearer(token().viewer)).status
        == 404);
  CHECK(upgrade_status(node.port(), "/ws", signed_token("alice")) == 101);
}

// -- entities inspect, node top's singletons, the sample stream --------------------------------

TEST_CASE("entities inspect answers an active entity's own summary and never activates one") {
  running_node node;
  auto ask = [&](const std::string& kind, const std::string& id, const std::string& token) {
    return command(node, "entities.inspect", R"({"kind":")" + kind + R"(","id":")" + id + "\"}",
                   token);
  };
  auto before = active_conversations(node);
  auto idle = answer_of(ask("conv", "d:alice:bob", token().viewer));
  CHECK_FALSE(idle.fields().at("active").bool_value());
  CHECK(idle.fields().at("summary").has_null_value());
  CHECK(text(idle, "owner") == node.n->id());
  CHECK(active_conversations(node) == before);

  // A message makes the conversation active; it then describes itself.
  auto alice = open_session(node, "alice");
  alice.ws->send_text(R"({"request_id":"1","send":{"to_user":"bob","client_msg_id":"m1","body":"hi"}})");
  auto ack = read_frame(*alice.ws);
  REQUIRE(ack.has_ack());
  auto conv = answer_of(ask("conv", ack.ack().conversation_id(), token().admin));
  REQUIRE(conv.fields().at("active").bool_value());
  auto& summary = conv.fields().at("summary").struct_value();
  CHECK(text(summary, "conversation_id") == ack.ack().conversation_id());
  CHECK(summary.fields().at("exists").bool_value());
  CHECK(number(summary, "members") == 2);
  CHECK(text(summary, "last_seq") == "1");  // 64-bit integers are JSON strings

  auto shard = answer_of(ask("task_shard", "3", token().viewer));
  REQUIRE(shard.fields().at("active").bool_value());
  CHECK(number(shard.fields().at("summary").struct_value(), "shard") == 3);

  // Only console roles: a second user's ordinary token is refused, an unknown kind is 400.
  auto refused = ask("conv", ack.ack().conversation_id(), signed_token("bob"));
  CHECK(refused.status == 403);
  CHECK(error_code(refused) == "forbidden");
  CHECK(ask("planet", "x", token().viewer).status == 400);
  CHECK(command(node, "entities.inspect", R"({"kind":"conv"})", token().viewer).status == 400);
}

TEST_CASE("node top probes every singleton actor of the node") {
  running_node node;
  auto top = answer_of(command(node, "node.top", R"({"limit":100})", token().viewer));
  std::map<std::string, double> probed;
  for (auto& kind : top.fields().at("kinds").list_value().values())
    probed[text(kind.struct_value(), "kind")] = number(kind.struct_value(), "probed");
  for (auto kind : {"registry", "storage_writer", "presence", "chat_reader", "task_ticker",
                    "lease_broker", "graph", "fanout_worker", "timeline_sweeper",
                    "link_service", "click_aggregator"}) {
    INFO(kind);
    CHECK(probed[kind] >= 1);
  }
  for (auto& row : top.fields().at("actors").list_value().values()) {
    INFO(text(row.struct_value(), "kind"));
    CHECK(row.struct_value().fields().at("answered").bool_value());
  }
}

namespace {

std::map<std::string, std::string> stream_headers(const std::string& token,
                                                  const std::string& last_id = {}) {
  auto h = bearer(token);
  if (!last_id.empty())
    h["Last-Event-ID"] = last_id;
  return h;
}

// The ids of the sample events in `body`, in order.
std::vector<int64_t> event_ids(const std::string& body) {
  std::vector<int64_t> ids;
  for (auto pos = body.find("id: "); pos != std::string::npos; pos = body.find("id: ", pos + 1))
    if (pos == 0 || body[pos - 1] == '\n')
      ids.push_back(std::stoll(body.substr(pos + 4)));
  return ids;
}

} // namespace

TEST_CASE("the sample stream sends one sample a second as Server-Sent Events to console roles") {
  running_node node;
  auto port = node.n->admin_port();
  CHECK(http_call(port, "GET", "/admin/v1/samples?seconds=0").status == 401);
  CHECK(http_call(port, "GET", "/admin/v1/samples?seconds=0", {}, bearer(signed_token("bob")))
          .status
        == 403);
  CHECK(http_call(port, "GET", "/admin/v1/samples?seconds=lots", {}, bearer(token().viewer))
          .status
        == 400);

  stream_client viewer;
  REQUIRE(viewer.open(port, "/admin/v1/samples?seconds=0", stream_headers(token().viewer)) == 200);
  CHECK(viewer.headers().at("content-type") == "text/event-stream");
  REQUIRE(viewer.wait_for("event: sample", 2, 5000));
  auto ids = event_ids(viewer.body());
  REQUIRE(ids.size() >= 2);
  CHECK(ids[1] > ids[0]);
  CHECK(viewer.body().find(R"("frames_per_sec":)") != std::string::npos);

  // EventSource cannot set headers: ?token= works too; a reconnect resumes after Last-Event-ID.
  stream_client resumed;
  REQUIRE(resumed.open(port, "/admin/v1/samples?token=" + token().admin,
                       {{"Last-Event-ID", std::to_string(ids[1])}}) == 200);
  REQUIRE(resumed.wait_for("event: sample", 1, 5000));
  for (auto id : event_ids(resumed.body()))
    CHECK(id > ids[1]);
}

TEST_CASE("sample streams are bounded per node and end when the node drains") {
  running_node node{{"admin.max_streams=2"}};
  auto port = node.port();
  auto url = "/admin/v1/samples?seconds=0";
  stream_client a;
  stream_client b;
  REQUIRE(a.open(port, url, stream_headers(token().viewer)) == 200);
  REQUIRE(b.open(port, url, stream_headers(token().admin)) == 200);
  auto third = http_call(port, "GET", url, {}, bearer(token().viewer));
  CHECK(third.status == 503);
  CHECK(third.headers.count("retry-after") == 1);
  b.close();
  // The node notices the closed stream at once (its read of the socket ends).
  std::unique_ptr<stream_client> c;
  CHECK(eventually([&] {
    c = std::make_unique<stream_client>();
    return c->open(port, url, stream_headers(token().viewer)) == 200;
  }));

  CHECK(command(node, "node.drain", R"({"duration":"1s"})").status == 200);
  REQUIRE(a.wait_for("event: end", 1, 5000));
  CHECK(a.body().find(R"({"reason":"draining"})") != std::string::npos);
  CHECK(a.wait_closed());
  CHECK(c->wait_closed());
  CHECK(http_call(port, "GET", url, {}, bearer(token().viewer)).status == 503);
  // node.samples keeps answering while the node drains.
  CHECK(command(node, "node.samples", R"({"seconds":5})", token().viewer).status == 200);
  CHECK(command(node, "node.undrain").status == 200);
  stream_client after;
  CHECK(after.open(port, url, stream_headers(token().viewer)) == 200);
}

TEST_CASE("the operator page is served where the admin API is") {
  running_node node;
  auto moved = http_call(node.port(), "GET", "/admin");
  CHECK(moved.status == 301);
  CHECK(moved.headers["location"] == "/admin/");
  CHECK(http_call(node.port(), "GET", "/admin/..%2Fnode.toml").status == 404);
  running_node separate{{"admin.listen=127.0.0.1:0"}};
  CHECK(http_call(separate.n->admin_port(), "GET", "/admin").status == 301);
  CHECK(http_call(separate.port(), "GET", "/admin").status == 404);
  CHECK(http_call(separate.port(), "GET", "/admin/v1/samples", {}, bearer(token().viewer)).status
        == 404);
}

TEST_CASE("storage partitions counts what the node stores by owner, with no partitions on a single node") {
  running_node node;
  auto alice = open_session(node, "alice");
  alice.ws->send_text(R"({"request_id":"1","send":{"to_user":"bob","client_msg_id":"m1","body":"hi"}})");
  REQUIRE(read_frame(*alice.ws).has_ack());
  auto census = answer_of(command(node, "storage.partitions", "{}", token().viewer));
  CHECK(census.fields().at("complete").bool_value());
  CHECK(number(census, "undecodable") == 0);
  auto& owners = census.fields().at("by_owner").struct_value().fields();
  REQUIRE(owners.count("conversation") == 1);
  // The message, its dedup record, the conversation and both memberships at least.
  CHECK(owners.at("conversation").struct_value().fields().at("records").number_value() >= 5);
  REQUIRE(owners.count("node") == 1);  // the node's identity
  auto total = census.fields().at("total").struct_value().fields().at("records").number_value();
  CHECK(total >= 6);
  // No partitions and no foreign records without a cluster; a user may not ask.
  CHECK(census.fields().at("partitions").has_null_value());
  CHECK(census.fields().at("foreign").has_null_value());
  CHECK(command(node, "storage.partitions", "{}", token().user).status == 403);
  CHECK(command(node, "storage.partitions", R"({"budget":"soon"})").status == 400);
}
