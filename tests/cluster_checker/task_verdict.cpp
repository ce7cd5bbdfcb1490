#include "cluster_checker/task_verdict.hpp"

#include <set>

namespace parley::test {

namespace {

constexpr size_t max_findings = 20;

void note(task_verdict& v, std::string line) {
  if (v.findings.size() < max_findings)
    v.findings.push_back(std::move(line));
}

} // namespace

task_verdict judge_tasks(const std::vector<task_op>& ops,
                         const std::map<std::string, stored_task>& by_id,
                         const std::vector<stored_task>& listed) {
  task_verdict v;
  std::map<std::string, std::string> id_of_key;
  std::set<std::string> created;
  // task id -> when its first acknowledged completion was answered, and by which lease.
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::string>> done;
  for (auto& op : ops) {
    ++v.operations;
    if (op.result == task_op::outcome::error)
      ++v.errors;
    if (op.result == task_op::outcome::timeout)
      ++v.timeouts;
    if (op.result != task_op::outcome::ok)
      continue;
    ++v.ok;
    switch (op.what) {
      case task_op::kind::create: {
        created.insert(op.task_id);
        auto [it, first] = id_of_key.emplace(op.key, op.task_id);
        if (!first && it->second != op.task_id) {
          ++v.key_conflicts;
          note(v, "key " + op.key + " acknowledged as task " + it->second + " and as "
                    + op.task_id);
        }
        break;
      }
      case task_op::kind::lease:
        v.leased += op.task_id.empty() ? 0 : 1;
        break;
      case task_op::kind::complete: {
        ++v.completed;
        auto [it, first] = done.emplace(op.task_id, std::make_pair(op.answered, op.lease_id));
        if (!first && it->second.second != op.lease_id) {
          ++v.ran_again;
          note(v, "task " + op.task_id + " completed twice, by leases " + it->second.second
                    + " and " + op.lease_id);
        }
        if (!first && op.answered < it->second.first)
          it->second = {op.answered, op.lease_id};
        break;
      }
    }
  }
  v.created = created.size();

  // A lease asked for after a completion was acknowledged must never name that task.
  for (auto& op : ops)
    if (op.what == task_op::kind::lease && op.result == task_op::outcome::ok
        && !op.task_id.empty()) {
      auto it = done.find(op.task_id);
      if (it != done.end() && op.sent > it->second.first) {
        ++v.ran_again;
        note(v, "task " + op.task_id + " leased again (" + op.lease_id
                  + ") after its completion by " + it->second.second + " was acknowledged");
      }
    }

  for (auto& id : created) {
    auto it = by_id.find(id);
    if (it == by_id.end() || it->second.status.empty()) {
      ++v.lost;
      note(v, "task " + id + " acknowledged as created, not found");
    }
  }
  for (auto& [id, when] : done) {
    auto it = by_id.find(id);
    if (it == by_id.end() || it->second.status != "COMPLETED") {
      ++v.lost_completions;
      note(v, "task " + id + " acknowledged as completed, now "
                + (it == by_id.end() || it->second.status.empty() ? "missing"
                                                                  : it->second.status));
    }
  }

  std::map<std::string, std::set<std::string>> ids_of_key;
  for (auto& t : listed) {
    ++v.stored;
    ids_of_key[t.key].insert(t.id);
  }
  for (auto& [key, ids] : ids_of_key)
    if (ids.size() > 1) {
      v.duplicated += ids.size() - 1;
      std::string named;
      for (auto& id : ids)
        named += " " + id;
      note(v, "key " + key + " stored as " + std::to_string(ids.size()) + " tasks:" + named);
    }
  return v;
}

} // namespace parley::test
