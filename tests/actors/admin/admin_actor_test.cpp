// The admin actor with made-up handlers and peers: who may run what, argument checks, the
// fan-out of cluster-scope commands with a deadline, the merge, and the audit lines.
#include "actors/admin/admin_actor.hpp"

#include "actors/admin/answer_merge.hpp"
#include "actors/admin/command_registry.hpp"
#include "support/test_system.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <set>
#include <sstream>

using namespace parley;
using namespace parley::admin;

namespace {

google::protobuf::Value text(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}

// Every command answers its own name, except those in `failing` (not_found) and `silent`.
command_table fake_handlers(std::set<std::string> failing = {}, std::set<std::string> silent = {}) {
  command_table table;
  for (auto& spec : commands()) {
    auto name = spec.name;
    table[name] = [name, failing, silent](const pb::AdminRequest&, command_done done) {
      if (silent.count(name))
        return;
      if (failing.count(name))
        return done(error_answer({}, make_fault(errc::not_found, "nothing here")));
      done(data_answer({}, text(name)));
    };
  }
  return table;
}

// A peer's admin actor that answers its part (or never does).
admin_api fake_peer(caf::actor_system& sys, std::string node, bool answers) {
  return sys.spawn([node, answers](admin_api::pointer self) -> admin_api::behavior_type {
    return {
      [](run_atom, pb::AdminRequest&) -> caf::result<pb::AdminReply> {
        return make_error(errc::internal, "peers are asked for parts only");
      },
      [self, node, answers](part_atom, pb::AdminRequest& req) -> caf::result<pb::AdminNodeAnswer> {
        if (!answers)
          return self->make_response_promise<pb::AdminNodeAnswer>();  // never delivered
        return data_answer(node, text(req.command() + "@" + node));
      },
    };
  });
}

struct fixture {
  test::test_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::ostringstream log;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();

  fixture() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("admin-test", sink));
  }
  ~fixture() { spdlog::set_default_logger(previous); }

  admin_api spawn(admin_options opts = {}, command_table handlers = fake_handlers(),
                  peer_directory peers = {}) {
    if (opts.local_node == "local")
      opts.local_node = "n1";
    return spawn_admin_actor(sys, opts, std::move(handlers), std::move(peers));
  }

  static pb::AdminRequest request(const std::string& command, const std::string& role,
                                  std::map<std::string, std::string> args = {}) {
    pb::AdminRequest r;
    r.set_command(command);
    r.mutable_caller()->set_user("op");
    r.mutable_caller()->set_role(role);
    for (auto& [k, v] : args)
      (*r.mutable_args())[k] = v;
    return r;
  }

  // The reply, or the fault it failed with.
  std::pair<pb::AdminReply, fault> run(const admin_api& admin, const pb::AdminRequest& req) {
    std::pair<pb::AdminReply, fault> out;
    self->request(admin, std::chrono::seconds{10}, run_atom_v, req)
      .receive([&](pb::AdminReply& r) { out.first = std::move(r); },
               [&](caf::error& e) { out.second = to_fault(e); });
    return out;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a viewer reads, an admin mutates, anyone else is refused") {
  auto admin = spawn();
  auto [status, ok] = run(admin, request("node.status", viewer_role));
  CHECK_FALSE(ok);
  REQUIRE(status.answers_size() == 1);
  CHECK(status.answers(0).node() == "n1");
  CHECK(status.answers(0).data().string_value() == "node.status");
  CHECK(run(admin, request("node.drain", viewer_role)).second.code == errc::forbidden);
  CHECK_FALSE(run(admin, request("node.drain", admin_role)).second);
  CHECK(run(admin, request("node.status", "")).second.code == errc::forbidden);
  CHECK(run(admin, request("node.status", "worker")).second.code == errc::forbidden);
}

TEST_CASE_METHOD(fixture, "unknown commands are not_found and bad arguments bad_request") {
  auto admin = spawn();
  auto unknown = run(admin, request("node.explode", admin_role)).second;
  CHECK(unknown.code == errc::not_found);
  auto missing = run(admin, request("users.where", viewer_role)).second;
  CHECK(missing.code == errc::bad_request);
  auto extra = run(admin, request("node.status", viewer_role, {{"verbose", "true"}})).second;
  CHECK(extra.code == errc::bad_request);
}

TEST_CASE_METHOD(fixture, "mutations are refused when the node does not allow them") {
  admin_options opts;
  opts.allow_mutations = false;
  auto admin = spawn(opts);
  auto refused = run(admin, request("sessions.kick", admin_role, {{"user", "bob"}})).second;
  CHECK(refused.code == errc::forbidden);
  CHECK(refused.message.find("admin.allow_mutations") != std::string::npos);
  CHECK_FALSE(run(admin, request("sessions.list", admin_role)).second);
}

TEST_CASE_METHOD(fixture, "every mutation leaves one audit line with who, what and the result") {
  admin_options opts;
  auto admin = spawn(opts, fake_handlers({"users.unban"}));
  CHECK_FALSE(run(admin, request("users.ban", admin_role, {{"user", "bob"}})).second);
  CHECK(run(admin, request("users.unban", admin_role, {{"user", "eve"}})).second.code
        == errc::not_found);
  CHECK(run(admin, request("node.drain", viewer_role)).second.code == errc::forbidden);
  CHECK_FALSE(run(admin, request("node.status", admin_role)).second);  // a read: no line
  spdlog::default_logger()->flush();
  auto lines = log.str();
  CHECK(lines.find("audit: user=op role=admin command=users.ban user=bob result=ok")
        != std::string::npos);
  CHECK(lines.find("command=users.unban user=eve result=not_found (nothing here)")
        != std::string::npos);
  CHECK(lines.find("role=viewer command=node.drain result=forbidden") != std::string::npos);
  CHECK(lines.find("node.status") == std::string::npos);
}

TEST_CASE_METHOD(fixture, "cluster-scope commands ask every peer and name the silent ones") {
  auto quick = fake_peer(sys, "n2", true);
  auto silent = fake_peer(sys, "n3", false);
  admin_options opts;
  opts.part_timeout = std::chrono::milliseconds{200};
  auto admin = spawn(opts, fake_handlers(), [&] {
    return std::map<std::string, admin_api>{{"n2", quick}, {"n3", silent}};
  });
  auto [reply, err] = run(admin, request("sessions.list", viewer_role));
  REQUIRE_FALSE(err);
  CHECK(reply.scope() == "cluster");
  REQUIRE(reply.answers_size() == 2);
  CHECK(reply.answers(0).node() == "n1");
  CHECK(reply.answers(1).data().string_value() == "sessions.list@n2");
  REQUIRE(reply.unanswered_size() == 1);
  CHECK(reply.unanswered(0) == "n3");
  // A node-scope command stays on this node.
  auto [status, status_err] = run(admin, request("node.status", viewer_role));
  REQUIRE_FALSE(status_err);
  CHECK(status.answers_size() == 1);
  CHECK(status.unanswered().empty());
}

TEST_CASE_METHOD(fixture, "a handler that never answers ends in unavailable at the deadline") {
  admin_options opts;
  opts.part_timeout = std::chrono::milliseconds{100};
  auto admin = spawn(opts, fake_handlers({}, {"node.top"}));
  CHECK(run(admin, request("node.top", viewer_role)).second.code == errc::unavailable);
}

TEST_CASE_METHOD(fixture, "a peer's part request runs the command here only") {
  auto peer_of_ours = fake_peer(sys, "n2", true);
  auto admin = spawn({}, fake_handlers(), [&] {
    return std::map<std::string, admin_api>{{"n2", peer_of_ours}};
  });
  pb::AdminNodeAnswer part;
  self->request(admin, std::chrono::seconds{10}, part_atom_v, request("sessions.list", "admin"))
    .receive([&](pb::AdminNodeAnswer& a) { part = std::move(a); },
             [&](caf::error& e) { FAIL(to_fault(e).message); });
  CHECK(part.node() == "n1");
  CHECK(part.data().string_value() == "sessions.list");
}
