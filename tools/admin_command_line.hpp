// parleyctl's reading of a command line against the node's command registry
// (GET /admin/v1/commands): `tasks dead requeue t-1` names tasks.dead.requeue with id=t-1.
#pragma once

#include "common/result.hpp"
#include "proto/admin.pb.h"

#include <map>
#include <string>
#include <vector>

namespace parley::tools {

struct admin_command_line {
  const pb::AdminCommandSpec* spec = nullptr;
  std::map<std::string, std::string> args;
};

// The longest run of leading words that names a command, then its arguments: `--name value`
// or `--name=value`, and positional values in the spec's order. A value "@path" is the
// content of the file at path (a rule set for ratelimits set). bad_request naming the problem
// for an unknown command or argument, a missing value or a missing required argument.
result<admin_command_line> parse_admin_command_line(const pb::AdminCommandList& registry,
                                                    const std::vector<std::string>& words);

// `tasks dead requeue <id>`: the command as it is typed, for help and usage lines.
std::string usage_of(const pb::AdminCommandSpec& spec);

} // namespace parley::tools
