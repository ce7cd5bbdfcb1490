#include "cluster_checker/run_log.hpp"

#include <filesystem>
#include <fstream>

namespace parley::test {

namespace {

long long ms(std::chrono::steady_clock::time_point t, std::chrono::steady_clock::time_point o) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - o).count();
}

const char* name(chat_op::outcome o) {
  switch (o) {
    case chat_op::outcome::ok: return "ok";
    case chat_op::outcome::error: return "error";
    case chat_op::outcome::timeout: return "timeout";
  }
  return "?";
}

const char* name(task_op::outcome o) {
  switch (o) {
    case task_op::outcome::ok: return "ok";
    case task_op::outcome::error: return "error";
    case task_op::outcome::timeout: return "timeout";
  }
  return "?";
}

const char* name(task_op::kind k) {
  switch (k) {
    case task_op::kind::create: return "create";
    case task_op::kind::lease: return "lease";
    case task_op::kind::complete: return "complete";
  }
  return "?";
}

} // namespace

void write_run_log(const std::string& dir, std::chrono::steady_clock::time_point origin,
                   const std::vector<chat_op>& chat, const std::vector<task_op>& tasks,
                   const std::vector<fault_record>& faults, const epoch_watch& epochs) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream c{dir + "/chat_ops.txt"};
  c << "sent_ms user node conversation client_msg_id retry outcome seq code\n";
  for (auto& op : chat)
    c << ms(op.sent, origin) << ' ' << op.user << " n" << op.node + 1 << ' ' << op.conversation
      << ' ' << op.client_msg_id << ' ' << op.retry << ' ' << name(op.what) << ' ' << op.seq
      << ' ' << (op.code.empty() ? "-" : op.code) << '\n';
  std::ofstream t{dir + "/task_ops.txt"};
  t << "sent_ms answered_ms kind node key task_id lease_id outcome status\n";
  for (auto& op : tasks)
    t << ms(op.sent, origin) << ' ' << ms(op.answered, origin) << ' ' << name(op.what) << " n"
      << op.node + 1 << ' ' << (op.key.empty() ? "-" : op.key) << ' '
      << (op.task_id.empty() ? "-" : op.task_id) << ' '
      << (op.lease_id.empty() ? "-" : op.lease_id) << ' ' << name(op.result) << ' ' << op.status
      << '\n';
  std::ofstream f{dir + "/faults.txt"};
  f << "kind node peer at_ms healed_ms recovered_ms\n";
  for (auto& x : faults)
    f << to_string(x.kind) << " n" << x.node + 1 << " n" << x.peer + 1 << ' ' << x.at.count()
      << ' ' << x.healed.count() << ' ' << x.recovered.count() << '\n';
  std::ofstream e{dir + "/epochs.txt"};
  e << "partition seen_ms epoch primary backup backup_ready\n";
  for (auto& [p, steps] : epochs.history())
    for (auto& s : steps)
      e << p << ' ' << ms(s.seen, origin) << ' ' << s.epoch << ' ' << s.primary << ' '
        << (s.backup.empty() ? "-" : s.backup) << ' ' << s.backup_ready << '\n';
}

} // namespace parley::test
