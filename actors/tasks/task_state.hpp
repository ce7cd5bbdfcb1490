// The task state machine (PROTOCOL.md, Tasks), in one place:
//
//   PENDING --due--> SCHEDULED --lease--> RUNNING --complete--> COMPLETED
//      ^                ^                  |  |  \--reschedule--> PENDING   (recurring task)
//      |                |                  |  \--bury--> DEAD --requeue--> PENDING
//      |                +------due------ RETRYING <--retry--/
//   PAUSED <--pause-- PENDING | SCHEDULED | RETRYING;  PAUSED --resume--> PENDING or RETRYING
//   CANCELLED <--cancel-- any state but COMPLETED and CANCELLED (cancelling DEAD discards it)
//
//   SCHEDULED <--revoke-- RUNNING   (a lease its worker never received: the attempt is unspent)
//
// PENDING waits for next_run_at; SCHEDULED is due and waits for a worker; RETRYING waits for
// its backoff. A lease that expires is a `retry` or `bury` like a failure. Every other pair is
// invalid and answered 409 with the current status.
#pragma once

#include "common/errc.hpp"
#include "proto/parley.pb.h"

#include <string_view>

namespace parley::tasks {

using task_status = pb::Task::Status;

enum class task_event {
  due,         // its time has come
  lease,       // a worker took it
  complete,    // a one-off task succeeded
  reschedule,  // a recurring task finished a firing (success, or retries exhausted: see docs)
  retry,       // an attempt failed and retries remain
  bury,        // an attempt failed for good: dead letter
  cancel,
  pause,
  resume,
  requeue,     // a dead letter goes back with its attempts reset
  revoke,      // a lease whose worker went away before it heard of it is taken back
};

std::string_view to_string(task_event ev);
std::string_view to_string(task_status s);

// The status after `ev` from `from`, or a conflict fault naming the task's current status.
// `paused_from` is where a PAUSED task came from (resume returns there, as PENDING or RETRYING).
fault next_status(task_status from, task_event ev, task_status paused_from, task_status& to);

// Finished tasks never change again (except DEAD, which may be requeued).
bool is_finished(task_status s);

} // namespace parley::tasks
