#include "actors/message_types.hpp"

#include "actors/admin/admin_api.hpp"
#include "actors/chat/chat_api.hpp"
#include "actors/feed/feed_api.hpp"
#include "actors/limits/limit_service.hpp"
#include "actors/links/links_api.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/tasks/tasks_api.hpp"

#include <caf/actor_system_config.hpp>

namespace parley {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::parley>();
  cfg.add_message_types<caf::id_block::parley_admin>();
  cfg.add_message_types<caf::id_block::parley_chat>();
  cfg.add_message_types<caf::id_block::parley_tasks>();
  cfg.add_message_types<caf::id_block::parley_feed>();
  cfg.add_message_types<caf::id_block::parley_links>();
  cfg.add_message_types<caf::id_block::parley_limits>();
  cfg.add_error_category(error_category, caf_error_renderer::render);
}

} // namespace parley
