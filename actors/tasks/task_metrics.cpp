#include "actors/tasks/task_metrics.hpp"

#include <string>

namespace parley::tasks {

namespace {

std::vector<double> lateness_buckets() {
  return {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300};
}

} // namespace

metrics::gauge& task_metrics::in_status(task_status s) {
  return metrics::global().get_gauge("tasks", "Tasks by status",
                                     "status=\"" + std::string{to_string(s)} + "\"");
}

void task_metrics::moved(task_status from, task_status to) {
  if (from == to)
    return;
  if (from != pb::Task::STATUS_UNSPECIFIED)
    in_status(from).add(-1);
  if (to != pb::Task::STATUS_UNSPECIFIED)
    in_status(to).add(1);
}

task_metrics& instruments() {
  auto& reg = metrics::global();
  static task_metrics m{
    reg.get_counter("tasks_created_total", "Tasks created"),
    reg.get_counter("tasks_leased_total", "Task attempts handed to workers"),
    reg.get_counter("tasks_completed_total", "Task attempts that succeeded"),
    reg.get_counter("tasks_retries_total", "Failed attempts scheduled for a retry"),
    reg.get_counter("tasks_dead_total", "Tasks moved to the dead-letter list"),
    reg.get_counter("task_lease_expiries_total", "Leases that expired without a heartbeat"),
    reg.get_counter("task_broker_resyncs_total",
                    "Peers' ready tasks fetched again after a gap in what they told (cluster)"),
    reg.get_gauge("task_workers_waiting", "Lease requests long-polling for work"),
    reg.get_gauge("task_broker_ready", "Tasks the lease broker holds as ready to lease"),
    reg.get_histogram("task_scheduling_lateness_seconds",
                      "From a task's next_run_at to the lease that starts it", lateness_buckets()),
  };
  return m;
}

} // namespace parley::tasks
