#include "actors/runtime/storage_writer.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace parley::runtime {

namespace {

struct writer_state {
  uint64_t next_ticket = 0;
  std::unordered_map<uint64_t, caf::response_promise> waiting;

  static inline const char* name = "parley.storage_writer";
};

using writer_actor = caf::stateful_actor<writer_state>;

} // namespace

caf::actor spawn_storage_writer(caf::actor_system& sys, storage::group_commit_writer& writer) {
  return sys.spawn([&writer](writer_actor* self) -> caf::behavior {
    return {
      [self, &writer](write_atom, storage::write_set& set) -> caf::result<void> {
        auto ticket = self->state.next_ticket++;
        auto rp = self->make_response_promise();
        self->state.waiting.emplace(ticket, rp);
        // The callback runs on the writer thread: it only sends a message back here, where the
        // promise is delivered on this actor's own thread.
        writer.submit(std::move(set),
                      [handle = caf::actor_cast<caf::actor>(self), ticket](const fault& err) {
                        caf::anon_send(handle, written_atom_v, ticket,
                                       err ? make_error(err) : caf::error{});
                      });
        return rp;
      },
      [self](written_atom, uint64_t ticket, caf::error& err) {
        auto it = self->state.waiting.find(ticket);
        if (it == self->state.waiting.end())
          return;
        if (err)
          it->second.deliver(std::move(err));
        else
          it->second.deliver(caf::unit);
        self->state.waiting.erase(it);
      },
    };
  });
}

} // namespace parley::runtime
