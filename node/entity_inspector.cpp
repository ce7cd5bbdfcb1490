#include "node/entity_inspector.hpp"

#include "actors/chat/chat_api.hpp"
#include "actors/chat/chat_context.hpp"
#include "actors/feed/feed_api.hpp"
#include "actors/feed/feed_context.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/tasks/tasks_api.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "net/json_codec.hpp"

#include <caf/all.hpp>

#include <memory>

namespace parley::node {

namespace {

// Asks `handle`, an entity of interface `Api`, for its summary.
template <class Api, class Summary>
void ask_summary(caf::event_based_actor* self, const caf::actor& handle,
                 std::chrono::milliseconds within, std::shared_ptr<entity_report> report,
                 inspect_done done) {
  self->request(caf::actor_cast<Api>(handle), within, inspect_atom_v)
    .then(
      [self, report, done](Summary& summary) {
        report->active = true;
        report->summary = net::to_json(summary);
        done(std::move(*report));
        self->quit();
      },
      [self, report, done](caf::error& err) {
        // Passivated between the registry's answer and ours: not active after all.
        if (err == caf::sec::request_receiver_down)
          done(std::move(*report));
        else
          done(to_fault(err));
        self->quit();
      });
}

} // namespace

void inspect_entity(caf::actor_system& sys, caf::actor registry, std::string kind, std::string id,
                    std::chrono::milliseconds within, inspect_done done) {
  sys.spawn([registry, kind, id, within, done](caf::event_based_actor* self) {
    self->request(registry, within, peek_atom_v, kind, id)
      .then(
        [self, kind, within, done](std::string& owner, caf::actor& handle) {
          auto report = std::make_shared<entity_report>();
          report->owner = std::move(owner);
          if (!handle) {
            done(std::move(*report));
            return self->quit();
          }
          if (kind == chat::conversation_kind)
            ask_summary<chat::conversation_api, pb::ConversationInspection>(self, handle, within,
                                                                            report, done);
          else if (kind == feed::feed_kind)
            ask_summary<feed::feed_api, pb::FeedInspection>(self, handle, within, report, done);
          else if (kind == feed::post_shard_kind)
            ask_summary<feed::post_shard_api, pb::PostShardInspection>(self, handle, within,
                                                                       report, done);
          else if (kind == tasks::shard_kind)
            ask_summary<tasks::task_shard_api, pb::TaskShardInspection>(self, handle, within,
                                                                        report, done);
          else {
            done(make_fault(errc::internal, "no inspection for entity kind " + kind));
            self->quit();
          }
        },
        [self, done](caf::error& err) {
          done(to_fault(err));
          self->quit();
        });
  });
}

} // namespace parley::node
