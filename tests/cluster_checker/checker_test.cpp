// The Jepsen-style checker of replication (issue 15; docs/replication.md, "The checker"): three
// nodes with replication factor 2 in network namespaces, chat workers sending on every node
// while the nemesis kills, stops, cuts and blackholes nodes one at a time; afterwards every
// acknowledged message must be stored exactly once under its acked seq, every conversation's
// seqs gap-free and unique, and the partition map's epochs only growing, one primary per epoch.
// Task workers create tasks with idempotency keys, lease and complete them meanwhile; no
// acknowledged create or completion may be lost and no completed task may run again.
// 60 s of faults by default; PARLEY_CHECKER_SECONDS=<n> for a longer run (`make soak`).
#include "actors/chat/conversation_id.hpp"
#include "cluster_checker/chat_verdict.hpp"
#include "cluster_checker/chat_worker.hpp"
#include "cluster_checker/epoch_watch.hpp"
#include "cluster_checker/nemesis.hpp"
#include "cluster_checker/node_directory.hpp"
#include "cluster_checker/read_back.hpp"
#include "cluster_checker/run_log.hpp"
#include "cluster_checker/task_verdict.hpp"
#include "cluster_checker/task_worker.hpp"
#include "cluster_faults/lab_cluster.hpp"
#include "support/chat_client.hpp"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

using namespace parley;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t workers_count = 6;

std::chrono::seconds fault_phase() {
  auto* env = std::getenv("PARLEY_CHECKER_SECONDS");
  return std::chrono::seconds{env != nullptr ? std::atoi(env) : 60};
}

std::string user(uint32_t k) {
  return "u" + std::to_string(k % workers_count);
}

std::string summary(const test::chat_verdict& v, const test::task_verdict& t,
                    const test::nemesis& n, const test::epoch_watch& w) {
  std::ostringstream out;
  out << "checker: operations " << v.operations << ", ok " << v.ok << ", errors " << v.errors;
  for (auto& [code, count] : v.error_codes)
    out << " (" << code << " " << count << ")";
  out << ", timeouts " << v.timeouts << ", retries " << v.retries << "\n"
      << "checker: acknowledged " << v.acknowledged << ", stored " << v.stored
      << ", present unacknowledged " << v.present_unacknowledged << ", lost " << v.lost
      << ", duplicated " << v.duplicated << ", wrong seq " << v.wrong_seq << ", ack conflicts "
      << v.ack_conflicts << ", seq acked twice " << v.seq_acked_twice << ", seq gaps "
      << v.seq_gaps << ", seq duplicates "
      << v.seq_duplicates << ", unknown " << v.unknown << "\n"
      << "checker: task calls " << t.operations << ", ok " << t.ok << ", errors " << t.errors
      << ", timeouts " << t.timeouts << ", created " << t.created << ", leased " << t.leased
      << ", completed " << t.completed << ", stored " << t.stored << ", lost " << t.lost
      << ", key conflicts " << t.key_conflicts << ", duplicated " << t.duplicated
      << ", lost completions " << t.lost_completions << ", ran again " << t.ran_again << "\n"
      << "checker: faults " << n.faults().size();
  for (auto& [kind, count] : n.counts())
    out << " (" << kind << " " << count << ")";
  out << ", epoch changes " << w.epoch_changes() << ", map polls " << w.polls() << " ("
      << w.failed_polls() << " failed), epoch violations " << w.violations().size();
  return out.str();
}

} // namespace

TEST_CASE("under kills, stops, cuts and blackholes no acknowledged message is lost or doubled "
          "and epochs only grow") {
  auto phase = fault_phase();
  // A replication log of a few records per partition: a node back from a fault is usually
  // behind the trimmed log, so copies from snapshots run under the faults too.
  test::lab_cluster lc{3, {"--set", "cluster.replication_factor=2", "--set",
                           "cluster.replication_log_bytes=8192"}};
  auto& c = lc.cluster;
  c.require_ready();
  REQUIRE(test::eventually([&] { return c.partitions_backed_up() == c.opts.partitions; }, 20s));
  test::epoch_watch watch{c.etcd.endpoint(), "test", 100ms};
  std::vector<test::node_directory::endpoint> endpoints;
  for (uint32_t i = 0; i < c.size(); ++i)
    endpoints.push_back({c.host(i), c.port(i)});
  test::node_directory directory{endpoints};

  // Conversations: a ring of 1:1 conversations whose members sit on different nodes, and one
  // group of everybody. Opening them is logged like any send.
  std::vector<test::chat_op> setup_ops;
  std::vector<std::string> direct(workers_count);
  std::string group;
  {
    for (uint32_t k = 0; k < workers_count; ++k) {
      test::chat_client opener{c.host(k % 3), c.port(k % 3), user(k)};
      auto answer = opener.call(R"({"request_id":"o","send":{"to_user":")" + user(k + 1)
                                + R"(","client_msg_id":"open","body":"hello"}})");
      INFO(answer.ShortDebugString());
      REQUIRE(answer.has_ack());
      direct[k] = answer.ack().conversation_id();
      REQUIRE(direct[k] == chat::direct_conversation_id(user(k), user(k + 1)));
      test::chat_op op;
      op.user = user(k);
      op.conversation = direct[k];
      op.client_msg_id = "open";
      op.what = test::chat_op::outcome::ok;
      op.seq = answer.ack().seq();
      setup_ops.push_back(op);
      if (k == 0) {
        auto g = opener.call(R"({"request_id":"g","create_group":{"title":"checker",)"
                             R"("member_ids":["u1","u2","u3","u4","u5"]}})");
        INFO(g.ShortDebugString());
        REQUIRE(g.has_group());
        group = g.group().conversation_id();
      }
    }
  }

  std::vector<std::unique_ptr<test::chat_worker>> workers;
  test::nemesis_options nopts;
  nopts.stop_for = c.opts.lease_ttl + 1500ms;
  test::nemesis nemesis{c, lc.lab, directory, nopts};
  for (uint32_t k = 0; k < workers_count; ++k) {
    test::chat_worker_options w;
    w.user = user(k);
    w.token = c.token(0, user(k));
    w.node = k % 3;
    w.conversations = {direct[k], direct[(k + workers_count - 1) % workers_count], group};
    w.seed = k + 1;
    workers.push_back(std::make_unique<test::chat_worker>(directory, w));
  }
  // One task worker per node, all of one user: each leases any of the user's tasks, wherever
  // its shard lives.
  auto tasker = c.token(0, "tasker");
  std::vector<std::unique_ptr<test::task_worker>> taskers;
  for (uint32_t i = 0; i < c.size(); ++i) {
    test::task_worker_options t;
    t.name = "t" + std::to_string(i + 1);
    t.token = tasker;
    t.node = i;
    t.seed = 100 + i;
    taskers.push_back(std::make_unique<test::task_worker>(directory, t));
  }

  auto until = std::chrono::steady_clock::now() + phase;
  bool survived = nemesis.run_until(until);
  for (auto& w : workers)
    w->stop();
  for (auto& t : taskers)
    t->stop();
  INFO(nemesis.problem());
  CHECK(survived);
  // Settle: every fault is healed; the cluster must be whole again before reading back.
  REQUIRE(nemesis.recovered(45s));
  watch.stop();

  std::vector<test::chat_op> ops = setup_ops;
  for (auto& w : workers)
    ops.insert(ops.end(), w->ops().begin(), w->ops().end());
  std::map<std::string, std::vector<test::stored_message>> histories;
  for (uint32_t k = 0; k < workers_count; ++k) {
    test::chat_client reader{c.host(k % 3), c.port(k % 3), user(k)};
    histories[direct[k]] = test::read_history(reader, direct[k]);
    if (k == 0)
      histories[group] = test::read_history(reader, group);
  }
  auto verdict = test::judge_chat(ops, histories, nemesis.started());
  std::vector<test::task_op> task_ops;
  for (auto& t : taskers)
    task_ops.insert(task_ops.end(), t->ops().begin(), t->ops().end());
  auto tasks = test::judge_tasks(task_ops, test::read_tasks(c, 0, tasker, task_ops),
                                 test::list_tasks(c, 0, tasker, "checker"));
  auto counts = summary(verdict, tasks, nemesis, watch);
  if (auto* logs = std::getenv("PARLEY_TEST_LOGS"))
    test::write_run_log(logs, nemesis.started(), ops, task_ops, nemesis.faults(), watch);
  std::cout << counts << std::endl;
  for (auto& f : verdict.findings)
    std::cout << "checker finding: " << f << "\n";
  for (auto& f : tasks.findings)
    std::cout << "checker task finding: " << f << "\n";
  for (auto& v : watch.violations())
    std::cout << "checker epoch violation: " << v << "\n";

  INFO(counts);
  CHECK(verdict.ok > 0);  // the run did exercise the cluster
  CHECK(nemesis.faults().size() >= 4);
  CHECK(verdict.lost == 0);
  CHECK(verdict.duplicated == 0);
  CHECK(verdict.wrong_seq == 0);
  CHECK(verdict.ack_conflicts == 0);
  CHECK(verdict.seq_acked_twice == 0);
  CHECK(verdict.seq_gaps == 0);
  CHECK(verdict.seq_duplicates == 0);
  CHECK(verdict.unknown == 0);
  CHECK(tasks.completed > 0);
  CHECK(tasks.lost == 0);
  CHECK(tasks.key_conflicts == 0);
  CHECK(tasks.duplicated == 0);
  CHECK(tasks.lost_completions == 0);
  CHECK(tasks.ran_again == 0);
  CHECK(watch.violations().empty());
  CHECK(watch.failed_polls() < watch.polls());
}
