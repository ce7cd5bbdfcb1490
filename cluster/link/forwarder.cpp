#include "cluster/link/forwarder.hpp"

#include "actors/runtime/errors.hpp"
#include "cluster/link/link_types.hpp"
#include "cluster/link/message_bytes.hpp"

namespace parley::cluster::detail {

namespace {

void settle(forwarder_actor* self) {
  auto& st = self->state;
  --st.in_flight;
  if (st.leaving && st.in_flight == 0)
    self->quit();
}

} // namespace

caf::response_promise forward(forwarder_actor* self, caf::message msg) {
  auto one_way = !self->current_message_id().is_request();
  auto rp = self->make_response_promise();
  auto& t = self->state.target;
  auto bytes = message_to_bytes(self->system(), msg);
  if (one_way) {
    if (bytes)
      self->send(t.link, forward_atom_v, t.node, t.kind, t.id, std::move(*bytes));
    return rp;
  }
  if (!bytes) {
    rp.deliver(make_error(errc::internal, "a request to " + t.kind + " " + t.id
                                            + " could not be written for node " + t.node + ": "
                                            + self->system().render(bytes.error())));
    return rp;
  }
  ++self->state.in_flight;
  self
    ->request(t.link, t.deadline + link_grace, forward_atom_v, t.node, t.kind, t.id,
              static_cast<int64_t>(t.deadline.count()), std::move(*bytes))
    .then(
      [self, rp](std::string& reply) mutable {
        auto answer = message_from_bytes(self->system(), reply);
        if (answer)
          rp.deliver(std::move(*answer));
        else
          rp.deliver(make_error(errc::internal, "node " + self->state.target.node
                                                  + " sent a reply that did not read back: "
                                                  + self->system().render(answer.error())));
        settle(self);
      },
      [self, rp](caf::error& err) mutable {
        rp.deliver(std::move(err));
        settle(self);
      });
  return rp;
}

void leave(forwarder_actor* self) {
  auto& st = self->state;
  st.leaving = true;
  if (st.in_flight == 0)
    self->quit();
}

} // namespace parley::cluster::detail
