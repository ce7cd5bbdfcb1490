#include "cluster/link/link_types.hpp"

#include <caf/actor_system_config.hpp>

namespace parley::cluster {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::parley_cluster>();
}

} // namespace parley::cluster
