#include "node/mailbox_probe.hpp"

#include "actors/chat/chat_context.hpp"
#include "actors/feed/feed_context.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>

#include <map>
#include <memory>

namespace parley::node {

namespace {

constexpr auto probe_timeout = std::chrono::seconds{2};

void probe_all(caf::event_based_actor* self, std::vector<probed_actor> targets,
               std::vector<caf::actor> handles, probe_done done) {
  auto results = std::make_shared<std::vector<probed_actor>>(std::move(targets));
  auto left = std::make_shared<size_t>(handles.size());
  if (handles.empty()) {
    done(std::move(*results));
    return self->quit();
  }
  for (size_t i = 0; i < handles.size(); ++i) {
    auto start = std::chrono::steady_clock::now();
    auto finished = [self, results, left, done, i, start](bool answered) {
      if (answered)
        (*results)[i].wait_ms = std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - start)
                                  .count();
      if (--*left == 0) {
        done(std::move(*results));
        self->quit();
      }
    };
    self
      ->request(handles[i], probe_timeout, caf::sys_atom::value, caf::get_atom::value,
                std::string{"info"})
      .then([finished](caf::ok_atom, std::string&, caf::strong_actor_ptr&,
                       std::string&) { finished(true); },
            [finished](caf::error&) { finished(false); });
  }
}

} // namespace

const std::vector<std::string>& entity_kinds() {
  static const std::vector<std::string> kinds = {chat::conversation_kind, feed::feed_kind,
                                                 feed::post_shard_kind, tasks::shard_kind};
  return kinds;
}

int64_t active_entities(const std::string& kind) {
  auto v = metrics::global()
             .get_gauge("actors_active", "Active virtual actors", "kind=\"" + kind + "\"")
             .value();
  return std::max<int64_t>(v, 0);
}

void probe_mailboxes(caf::actor_system& sys, caf::actor registry, named_actors singletons,
                     uint64_t per_kind, probe_done done) {
  sys.spawn([registry, singletons = std::move(singletons), per_kind,
             done = std::move(done)](caf::event_based_actor* self) {
    self->request(registry, probe_timeout, sample_atom_v, per_kind)
      .then(
        [self, singletons, done](std::vector<std::string>& kinds, std::vector<std::string>& ids,
                                 std::vector<caf::actor>& handles) {
          std::vector<probed_actor> targets;
          for (size_t i = 0; i < kinds.size(); ++i)
            targets.push_back({kinds[i], ids[i]});
          // A kind with several actors (fan-out workers, chat readers) numbers them.
          std::map<std::string, size_t> of_kind;
          for (auto& [kind, handle] : singletons)
            ++of_kind[kind];
          std::map<std::string, size_t> seen;
          for (auto& [kind, handle] : singletons) {
            auto id = of_kind[kind] == 1 ? kind : kind + "-" + std::to_string(seen[kind]++);
            targets.push_back({kind, std::move(id), -1, false});
            handles.push_back(handle);
          }
          probe_all(self, std::move(targets), std::move(handles), done);
        },
        [self, done](caf::error& err) {
          done(to_fault(err));
          self->quit();
        });
  });
}

} // namespace parley::node
