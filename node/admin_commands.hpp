// The handlers of the admin console's commands on this node (actors/admin/command_registry.hpp
// names them; the admin actor checks callers and arguments before any runs).
#pragma once

#include "actors/admin/admin_actor.hpp"
#include "net/http_types.hpp"
#include "node/admin_host.hpp"

namespace parley::node {

admin::command_table make_admin_commands(admin_host_ptr host);

// The samples of `history` as the events of the admin API's sample stream (GET
// /admin/v1/samples): one `sample` event each, its id the unix ms it was taken, its data the
// object node.samples lists.
net::event_source sample_events(std::shared_ptr<sample_history> history);

} // namespace parley::node
