// Reading everything back after the faults healed, for the verdicts: a conversation's whole
// history through a member's connection, and the tasks through the REST API. Runs on the test's
// thread and fails the test (Catch2) when a read itself fails: a run that cannot read back
// cannot be judged.
#pragma once

#include "cluster_checker/chat_verdict.hpp"
#include "cluster_checker/task_op.hpp"
#include "cluster_checker/task_verdict.hpp"

#include <map>
#include <string>
#include <vector>

namespace parley::test {

class chat_client;
struct test_cluster;

// Every message of `conversation`, page by page, through `reader` (a member).
std::vector<stored_message> read_history(chat_client& reader, const std::string& conversation);

// Every task an op names, read by id through node `node` with `token` (status "" when 404).
std::map<std::string, stored_task> read_tasks(const test_cluster& cluster, uint32_t node,
                                              const std::string& token,
                                              const std::vector<task_op>& ops);

// Every task of `task_type` the list returns, page by page.
std::vector<stored_task> list_tasks(const test_cluster& cluster, uint32_t node,
                                    const std::string& token, const std::string& task_type);

} // namespace parley::test
