// The scheduler's instruments (PROTOCOL.md, Operations: tasks by status), shared by the shards,
// the broker and the ticker.
#pragma once

#include "actors/tasks/task_state.hpp"
#include "common/metrics.hpp"

namespace parley::tasks {

struct task_metrics {
  metrics::counter& created;
  metrics::counter& leased;
  metrics::counter& completed;
  metrics::counter& retries;
  metrics::counter& dead;
  metrics::counter& lease_expiries;
  // Cluster: times a broker found a gap in what a peer's broker told it and asked it again.
  metrics::counter& broker_resyncs;
  metrics::gauge& waiting_workers;
  // Tasks the broker holds as ready to lease (its shards' offers, and its peers' in a cluster).
  metrics::gauge& ready_offers;
  metrics::histogram& lateness;

  // Tasks currently in `s` (set at start-up from the status index, then kept in step).
  metrics::gauge& in_status(task_status s);
  // Moves one task from `from` (STATUS_UNSPECIFIED: a new task) to `to` (unspecified: erased).
  void moved(task_status from, task_status to);
};

task_metrics& instruments();

} // namespace parley::tasks
