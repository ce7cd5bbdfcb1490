// The process's own resource figures, from /proc and getrlimit: the standard Prometheus
// process_* metrics and the admin console's node.status read them.
#pragma once

namespace parley::node {

struct process_stats {
  double cpu_seconds = 0;      // user + system CPU time
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;          // the soft RLIMIT_NOFILE
  double start_time_seconds = 0;  // unix seconds the process started
};

process_stats read_process_stats();

} // namespace parley::node
