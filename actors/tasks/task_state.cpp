#include "actors/tasks/task_state.hpp"

#include <string>

namespace parley::tasks {

std::string_view to_string(task_event ev) {
  switch (ev) {
    case task_event::due: return "become due";
    case task_event::lease: return "lease";
    case task_event::complete: return "complete";
    case task_event::reschedule: return "reschedule";
    case task_event::retry: return "retry";
    case task_event::bury: return "fail";
    case task_event::cancel: return "cancel";
    case task_event::pause: return "pause";
    case task_event::resume: return "resume";
    case task_event::requeue: return "requeue";
    case task_event::revoke: return "revoke the lease of";
  }
  return "?";
}

std::string_view to_string(task_status s) {
  if (!pb::Task::Status_IsValid(s))
    return "UNKNOWN";
  return pb::Task::Status_Name(s);
}

bool is_finished(task_status s) {
  return s == pb::Task::COMPLETED || s == pb::Task::DEAD || s == pb::Task::CANCELLED;
}

fault next_status(task_status from, task_event ev, task_status paused_from, task_status& to) {
  using T = pb::Task;
  to = T::STATUS_UNSPECIFIED;
  switch (ev) {
    case task_event::due:
      if (from == T::PENDING || from == T::RETRYING)
        to = T::SCHEDULED;
      break;
    case task_event::lease:
      if (from == T::SCHEDULED)
        to = T::RUNNING;
      break;
    case task_event::complete:
      if (from == T::RUNNING)
        to = T::COMPLETED;
      break;
    case task_event::reschedule:
      if (from == T::RUNNING)
        to = T::PENDING;
      break;
    case task_event::retry:
      if (from == T::RUNNING)
        to = T::RETRYING;
      break;
    case task_event::bury:
      if (from == T::RUNNING)
        to = T::DEAD;
      break;
    case task_event::cancel:
      // A dead letter may be discarded too; retention then deletes it.
      if ((!is_finished(from) || from == T::DEAD) && from != T::STATUS_UNSPECIFIED)
        to = T::CANCELLED;
      break;
    case task_event::pause:
      if (from == T::PENDING || from == T::SCHEDULED || from == T::RETRYING)
        to = T::PAUSED;
      break;
    case task_event::resume:
      if (from == T::PAUSED)
        to = paused_from == T::RETRYING ? T::RETRYING : T::PENDING;
      break;
    case task_event::requeue:
      if (from == T::DEAD)
        to = T::PENDING;
      break;
    case task_event::revoke:
      if (from == T::RUNNING)
        to = T::SCHEDULED;
      break;
  }
  if (to != T::STATUS_UNSPECIFIED)
    return {};
  return make_fault(errc::conflict, "task is " + std::string{to_string(from)} + ": cannot "
                                      + std::string{to_string(ev)} + " it");
}

} // namespace parley::tasks
