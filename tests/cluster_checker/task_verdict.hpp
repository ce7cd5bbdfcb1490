// The checker's judgement of tasks: given every task call's logged outcome and the tasks as read
// back after the faults healed, acknowledged creates whose task is gone, idempotency keys that
// made two tasks or were acknowledged with two ids, acknowledged completions whose task is not
// COMPLETED, and completed tasks that ran again (a lease asked for after a completion of the
// task was acknowledged, or two acknowledged completions). Calls without an answer may or may
// not have taken effect. Pure: no I/O, no Catch2.
#pragma once

#include "cluster_checker/task_op.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parley::test {

struct stored_task {
  std::string id;
  std::string key;     // the payload's "key"
  std::string status;  // Task.Status name; "" when not found
};

struct task_verdict {
  // -- counts --
  uint64_t operations = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t created = 0;    // distinct tasks with an acknowledged create
  uint64_t leased = 0;     // leases granted
  uint64_t completed = 0;  // acknowledged completions
  uint64_t stored = 0;     // tasks read back
  // -- violations (each must be 0) --
  uint64_t lost = 0;             // acknowledged create, task not found
  uint64_t key_conflicts = 0;    // one key acknowledged with two ids
  uint64_t duplicated = 0;       // one key stored as two tasks
  uint64_t lost_completions = 0; // acknowledged complete, task not COMPLETED
  uint64_t ran_again = 0;        // leased after an acknowledged complete, or completed twice
  std::vector<std::string> findings;

  bool clean() const {
    return lost + key_conflicts + duplicated + lost_completions + ran_again == 0;
  }
};

// `by_id`: every task an acknowledged create or lease named, as a read by id found it;
// `listed`: every task of the workers' type as the list returned them.
task_verdict judge_tasks(const std::vector<task_op>& ops,
                         const std::map<std::string, stored_task>& by_id,
                         const std::vector<stored_task>& listed);

} // namespace parley::test
