// parleyctl's output: an admin reply as tables for a terminal (each node's scalars as
// `name  value` lines, each list of records as a table), or the reply's JSON as the node sent it.
#pragma once

#include "proto/admin.pb.h"

#include <string>

namespace parley::tools {

std::string render_table(const pb::AdminReply& reply);

// The command registry as help text.
std::string render_commands(const pb::AdminCommandList& registry);

} // namespace parley::tools
