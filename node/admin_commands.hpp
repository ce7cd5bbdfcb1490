// The handlers of the admin console's commands on this node (actors/admin/command_registry.hpp
// names them; the admin actor checks callers and arguments before any runs).
#pragma once

#include "actors/admin/admin_actor.hpp"
#include "node/admin_host.hpp"

namespace parley::node {

admin::command_table make_admin_commands(admin_host_ptr host);

} // namespace parley::node
