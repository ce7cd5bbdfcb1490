// The admin console's one command registry: every command's name, arguments, whether it reads or
// mutates and whether it runs on one node or across the cluster. It drives
// GET /admin/v1/commands, the admin actor's checks and parleyctl (which reads it from the node).
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "proto/admin.pb.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parley::admin {

enum class arg_type { string, integer, duration, boolean, time };

struct arg_spec {
  std::string name;
  arg_type type = arg_type::string;
  bool required = false;
  bool positional = false;  // parleyctl takes it without --name, in spec order
  std::string help;
};

enum class command_scope { node, cluster };

struct command_spec {
  std::string name;  // words joined by '.': "tasks.dead.requeue"
  std::string summary;
  std::vector<arg_spec> args;
  bool mutates = false;
  bool destructive = false;  // parleyctl asks before running it
  command_scope scope = command_scope::node;
};

// Every command, in the order GET /admin/v1/commands lists them.
const std::vector<command_spec>& commands();

// The command named `name`, or nullptr.
const command_spec* find_command(const std::string& name);

// The registry in its wire form.
pb::AdminCommandList to_proto(const std::vector<command_spec>& specs);

const char* to_string(command_scope scope);

// Checks `args` against the command: no unknown names, every required one present, each value
// of its type. A bad_request naming the argument otherwise.
fault check_args(const command_spec& spec, const std::map<std::string, std::string>& args);

// "1500ms", "30s", "5m", "2h" or a bare number of seconds, as milliseconds; at most a day.
result<int64_t> parse_duration_ms(const std::string& text);

// An RFC 3339 time ("2026-12-01T00:00:00Z") as unix milliseconds.
result<int64_t> parse_time_ms(const std::string& text);

// An integer argument (checked by check_args); `fallback` when absent.
int64_t integer_arg(const std::map<std::string, std::string>& args, const std::string& name,
                    int64_t fallback);
// A string argument; "" when absent.
const std::string& string_arg(const std::map<std::string, std::string>& args,
                              const std::string& name);

// Role names of the admin console (JWT `role`): viewers read, admins also mutate.
constexpr const char* viewer_role = "viewer";
constexpr const char* admin_role = "admin";

} // namespace parley::admin
