// The task state machine: every (status, event) pair, allowed or a conflict naming the status.
#include "actors/tasks/task_state.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <utility>

using namespace parley;
using namespace parley::tasks;
using T = pb::Task;

namespace {

const std::vector<task_status> all_statuses = {T::PENDING, T::SCHEDULED, T::RUNNING,
                                               T::RETRYING, T::COMPLETED, T::DEAD,
                                               T::CANCELLED, T::PAUSED};
const std::vector<task_event> all_events = {
  task_event::due,   task_event::lease,  task_event::complete, task_event::reschedule,
  task_event::retry, task_event::bury,   task_event::cancel,   task_event::pause,
  task_event::resume, task_event::requeue, task_event::revoke};

} // namespace

TEST_CASE("the allowed transitions are exactly the documented ones") {
  std::map<std::pair<task_status, task_event>, task_status> allowed = {
    {{T::PENDING, task_event::due}, T::SCHEDULED},
    {{T::RETRYING, task_event::due}, T::SCHEDULED},
    {{T::SCHEDULED, task_event::lease}, T::RUNNING},
    {{T::RUNNING, task_event::complete}, T::COMPLETED},
    {{T::RUNNING, task_event::reschedule}, T::PENDING},
    {{T::RUNNING, task_event::retry}, T::RETRYING},
    {{T::RUNNING, task_event::bury}, T::DEAD},
    {{T::PENDING, task_event::cancel}, T::CANCELLED},
    {{T::SCHEDULED, task_event::cancel}, T::CANCELLED},
    {{T::RUNNING, task_event::cancel}, T::CANCELLED},
    {{T::RETRYING, task_event::cancel}, T::CANCELLED},
    {{T::PAUSED, task_event::cancel}, T::CANCELLED},
    {{T::DEAD, task_event::cancel}, T::CANCELLED},
    {{T::PENDING, task_event::pause}, T::PAUSED},
    {{T::SCHEDULED, task_event::pause}, T::PAUSED},
    {{T::RETRYING, task_event::pause}, T::PAUSED},
    {{T::PAUSED, task_event::resume}, T::PENDING},
    {{T::DEAD, task_event::requeue}, T::PENDING},
    {{T::RUNNING, task_event::revoke}, T::SCHEDULED},
  };
  for (auto from : all_statuses)
    for (auto ev : all_events) {
      task_status to;
      auto err = next_status(from, ev, T::PENDING, to);
      auto it = allowed.find({from, ev});
      INFO(to_string(from) << " + " << to_string(ev));
      if (it == allowed.end()) {
        CHECK(err.code == errc::conflict);
        CHECK(err.message.find(std::string{to_string(from)}) != std::string::npos);
      } else {
        CHECK_FALSE(err);
        CHECK(to == it->second);
      }
    }
}

TEST_CASE("resume returns a task paused while retrying to RETRYING") {
  task_status to;
  REQUIRE_FALSE(next_status(T::PAUSED, task_event::resume, T::RETRYING, to));
  CHECK(to == T::RETRYING);
  REQUIRE_FALSE(next_status(T::PAUSED, task_event::resume, T::SCHEDULED, to));
  CHECK(to == T::PENDING);
}

TEST_CASE("a conflict message says what was tried and on what") {
  task_status to;
  auto err = next_status(T::COMPLETED, task_event::cancel, T::STATUS_UNSPECIFIED, to);
  CHECK(err.message == "task is COMPLETED: cannot cancel it");
  CHECK(is_finished(T::DEAD));
  CHECK_FALSE(is_finished(T::PAUSED));
}
