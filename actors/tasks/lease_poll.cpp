#include "actors/tasks/lease_poll.hpp"

#include "actors/tasks/lease_revocation.hpp"
#include "actors/tasks/task_caller.hpp"

#include <caf/all.hpp>

#include <string>

namespace parley::tasks {

namespace {

struct poll_state {
  tasks_context_ptr ctx;
  task_caller caller;
  std::string wait_id;
  lease_poll_replies replies;
  bool gone = false;      // the caller went away
  bool answered = false;  // one of the replies ran

  static inline const char* name = "parley.lease_poll";
};

using poll_actor = lease_poll::stateful_pointer<poll_state>;

void withdraw(poll_actor self) {
  pb::WithdrawWait msg;
  msg.set_wait_id(self->state.wait_id);
  self->send(self->state.ctx->broker, withdraw_atom_v, std::move(msg));
}

void fail(poll_actor self, const caf::error& err) {
  auto& st = self->state;
  if (st.answered)
    return;
  st.answered = true;
  st.replies.fail(err);
  self->quit();
}

void leased(poll_actor self, const pb::LeaseResponse& leases) {
  auto& st = self->state;
  st.answered = true;
  bool handed_over = false;
  if (st.gone)
    st.replies.deliver(pb::LeaseResponse{});  // to nobody; the reply path still gets its answer
  else
    handed_over = st.replies.deliver(leases);
  if (!handed_over && leases.leases_size() > 0)
    revoke_leases(self->system(), *st.ctx, st.caller, leases);
  self->quit();
}

lease_poll::behavior_type poll_behavior(poll_actor self, tasks_context_ptr ctx, pb::LeaseWait wait,
                                        caf::timespan within, lease_poll_replies replies) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.caller = wait.caller();
  st.wait_id = "poll:" + std::to_string(self->id());  // actor ids are unique on the node
  st.replies = std::move(replies);
  wait.set_wait_id(st.wait_id);
  // A broker that is gone (the node shuts down) never answers: fail at once, not at `within`.
  self->monitor(st.ctx->broker);
  self->set_down_handler([self](caf::down_msg&) {
    fail(self, caf::make_error(caf::sec::request_receiver_down));
  });
  self->request(st.ctx->broker, within, lease_atom_v, std::move(wait))
    .then([self](pb::LeaseResponse& leases) { leased(self, leases); },
          [self](caf::error& err) {
            // Leases the broker may still be granting for this wait are revoked, not lost.
            if (err == caf::sec::request_timeout)
              withdraw(self);
            fail(self, err);
          });
  return {
    [self](closed_atom) {
      if (self->state.gone)
        return;
      self->state.gone = true;
      withdraw(self);
    },
  };
}

} // namespace

lease_poll spawn_lease_poll(caf::actor_system& sys, tasks_context_ptr ctx, pb::LeaseWait wait,
                            caf::timespan within, lease_poll_replies replies) {
  return sys.spawn(poll_behavior, std::move(ctx), std::move(wait), within, std::move(replies));
}

} // namespace parley::tasks
