#include "actors/runtime/storage_writer.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace parley::runtime {

namespace {

struct writer_state {
  uint64_t next_ticket = 0;
  std::unordered_map<uint64_t, caf::typed_response_promise<void>> waiting;

  static inline const char* name = "parley.storage_writer";
};

// The writer's own acknowledgements come back to it as messages from the writer thread.
using writer_impl = storage_writer_api::extend<caf::reacts_to<written_atom, uint64_t, caf::error>>;
using writer_actor = writer_impl::stateful_pointer<writer_state>;

} // namespace

storage_writer_api spawn_storage_writer(caf::actor_system& sys,
                                        storage::group_commit_writer& writer, write_fence fence) {
  auto impl = sys.spawn([&writer, fence = std::move(fence)](
                          writer_actor self) -> writer_impl::behavior_type {
    return {
      [self, &writer](write_atom, storage::write_set& set) -> caf::result<void> {
        auto ticket = self->state.next_ticket++;
        auto rp = self->make_response_promise<void>();
        self->state.waiting.emplace(ticket, rp);
        // The callback runs on the writer thread: it only sends a message back here, where the
        // promise is delivered on this actor's own thread.
        writer.submit(std::move(set),
                      [handle = caf::actor_cast<writer_impl>(self), ticket](const fault& err) {
                        caf::anon_send(handle, written_atom_v, ticket,
                                       err ? make_error(err) : caf::error{});
                      });
        return rp;
      },
      [self, fence](written_atom, uint64_t ticket, caf::error& err) {
        auto it = self->state.waiting.find(ticket);
        if (it == self->state.waiting.end())
          return;
        if (!err && fence)
          if (auto closed = fence())
            err = make_error(closed);
        if (err)
          it->second.deliver(std::move(err));
        else
          static_cast<caf::response_promise&>(it->second).deliver(caf::unit);  // "done", no value
        self->state.waiting.erase(it);
      },
    };
  });
  return caf::actor_cast<storage_writer_api>(impl);
}

} // namespace parley::runtime
