// The run's logs as text files, for a failure that needs more than the findings: every chat
// send, every task call and every fault, one per line, times in ms since the nemesis started.
// Written into PARLEY_TEST_LOGS (beside the nodes' logs) when it is set.
#pragma once

#include "cluster_checker/chat_op.hpp"
#include "cluster_checker/epoch_watch.hpp"
#include "cluster_checker/nemesis.hpp"
#include "cluster_checker/task_op.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace parley::test {

void write_run_log(const std::string& dir, std::chrono::steady_clock::time_point origin,
                   const std::vector<chat_op>& chat, const std::vector<task_op>& tasks,
                   const std::vector<fault_record>& faults, const epoch_watch& epochs);

} // namespace parley::test
