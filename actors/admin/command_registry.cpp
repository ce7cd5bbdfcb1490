#include "actors/admin/command_registry.hpp"

#include <google/protobuf/util/time_util.h>

#include <charconv>

namespace parley::admin {

namespace {

arg_spec positional(std::string name, std::string help, arg_type type = arg_type::string) {
  return {std::move(name), type, true, true, std::move(help)};
}

arg_spec option(std::string name, std::string help, arg_type type = arg_type::string) {
  return {std::move(name), type, false, false, std::move(help)};
}

command_spec reads(std::string name, std::string summary, std::vector<arg_spec> args = {},
                   command_scope scope = command_scope::node) {
  return {std::move(name), std::move(summary), std::move(args), false, false, scope};
}

command_spec mutates(std::string name, std::string summary, std::vector<arg_spec> args = {},
                     bool destructive = false, command_scope scope = command_scope::node) {
  return {std::move(name), std::move(summary), std::move(args), true, destructive, scope};
}

const char* type_name(arg_type t) {
  switch (t) {
    case arg_type::string: return "string";
    case arg_type::integer: return "integer";
    case arg_type::duration: return "duration";
    case arg_type::boolean: return "boolean";
    case arg_type::time: return "time";
  }
  return "string";
}

result<int64_t> parse_integer(const std::string& text) {
  int64_t v = 0;
  auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end)
    return make_fault(errc::bad_request, "expected an integer, got \"" + text + "\"");
  return v;
}

} // namespace

const std::vector<command_spec>& commands() {
  using c = command_scope;
  using t = arg_type;
  static const std::vector<command_spec> all = {
    reads("cluster.members", "The members of the cluster and their state (one on a single node)"),
    reads("node.status", "Version, uptime, connections, actors per kind, largest mailboxes, "
                         "commit queue, memory, file descriptors, drain progress"),
    reads("node.samples", "The node's vital signs, one sample a second, up to 15 minutes back",
          {option("seconds", "how far back (1..900, default 60)", t::integer)}),
    reads("node.top", "Actors by mailbox wait, per kind (sampled now)",
          {option("limit", "actors listed per kind (1..100, default 10)", t::integer)}),
    reads("sessions.list", "Live WebSocket sessions",
          {option("user", "only this user's sessions"),
           option("limit", "most sessions listed (1..10000, default 1000)", t::integer)},
          c::cluster),
    mutates("sessions.kick", "Close sessions (code 4000): one by id, or all of a user's",
            {{"id", arg_type::string, false, true, "the session id (as in sessions.list)"},
             option("user", "every session of this user"),
             option("reason", "close reason the client sees (default \"kicked by an operator\")")},
            true, c::cluster),
    reads("users.where", "A user's sessions and the nodes they are on (routing table)",
          {positional("user", "user id")}, c::cluster),
    reads("storage.partitions", "Records and bytes this node stores, per owner kind and per "
                                "partition; records of partitions owned elsewhere counted apart",
          {option("budget", "how long each node may scan (e.g. 2s, default 2s, at most 2.5s)",
                  t::duration)},
          c::cluster),
    mutates("users.ban", "Refuse a user's tokens and close their sessions (1008)",
            {positional("user", "user id"),
             option("until", "RFC 3339 time the ban ends (default: until unbanned)", t::time),
             option("reason", "why (kept with the ban, shown in users.banned)")},
            true, c::cluster),
    mutates("users.unban", "Lift a user's ban", {positional("user", "user id")}, false,
            c::cluster),
    reads("users.banned", "The users on the deny-list"),
    reads("entities.where", "Where an entity lives: owner node, active or not (never activates)",
          {positional("kind", "entity kind (conv, feed, task_shard, post_shard)"),
           positional("id", "entity id")}),
    reads("entities.inspect", "An active entity's summary of itself, from memory (never "
                              "activates it: an inactive one answers active false)",
          {positional("kind", "entity kind (conv, feed, task_shard, post_shard)"),
           positional("id", "entity id")}),
    mutates("node.drain", "Lame duck: readyz 503, no new WebSockets, open ones closed (1012) "
                          "paced over the duration",
            {option("duration", "time to close every session over (default 30s)", t::duration)},
            true),
    mutates("node.undrain", "End a drain: ready again, WebSockets accepted"),
    reads("tasks.dead.list", "Dead-lettered tasks",
          {option("limit", "tasks per page (1..100, default 50)", t::integer),
           option("cursor", "the next_cursor of the previous page")}),
    mutates("tasks.dead.requeue", "Put a dead task back (attempts reset)",
            {positional("id", "task id")}),
    mutates("tasks.dead.discard", "Cancel a dead task (retention deletes it)",
            {positional("id", "task id")}, true),
    reads("ratelimits.get", "The rate-limit rules in force"),
    mutates("ratelimits.set",
            "Replace the rate-limit rules (JSON, as PUT /api/v1/admin/ratelimits)",
            {positional("rules", "the rule set as JSON")}, true),
    mutates("log.level", "Set the log level (until the next reload)",
            {positional("level", "trace, debug, info, warn, error or off")}),
    mutates("config.reload", "Reload the config file, as SIGHUP does"),
  };
  return all;
}

const command_spec* find_command(const std::string& name) {
  for (auto& spec : commands())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

const char* to_string(command_scope scope) {
  return scope == command_scope::cluster ? "cluster" : "node";
}

pb::AdminCommandList to_proto(const std::vector<command_spec>& specs) {
  pb::AdminCommandList out;
  for (auto& spec : specs) {
    auto& c = *out.add_commands();
    c.set_name(spec.name);
    c.set_summary(spec.summary);
    c.set_mutates(spec.mutates);
    c.set_destructive(spec.destructive);
    c.set_scope(to_string(spec.scope));
    for (auto& arg : spec.args) {
      auto& a = *c.add_args();
      a.set_name(arg.name);
      a.set_type(type_name(arg.type));
      a.set_required(arg.required);
      a.set_positional(arg.positional);
      a.set_help(arg.help);
    }
  }
  return out;
}

fault check_args(const command_spec& spec, const std::map<std::string, std::string>& args) {
  for (auto& [name, value] : args) {
    auto it = std::find_if(spec.args.begin(), spec.args.end(),
                           [&](const arg_spec& a) { return a.name == name; });
    if (it == spec.args.end())
      return make_fault(errc::bad_request, spec.name + " has no argument \"" + name + "\"");
    auto bad = [&](const fault& err) {
      return make_fault(errc::bad_request, spec.name + ": " + name + ": " + err.message);
    };
    switch (it->type) {
      case arg_type::string:
        if (value.empty() || value.size() > 64 * 1024)
          return make_fault(errc::bad_request,
                            spec.name + ": " + name + " must be 1..65536 bytes");
        break;
      case arg_type::integer:
        if (auto v = parse_integer(value); !v)
          return bad(v.error());
        break;
      case arg_type::duration:
        if (auto v = parse_duration_ms(value); !v)
          return bad(v.error());
        break;
      case arg_type::time:
        if (auto v = parse_time_ms(value); !v)
          return bad(v.error());
        break;
      case arg_type::boolean:
        if (value != "true" && value != "false")
          return make_fault(errc::bad_request, spec.name + ": " + name + " must be true or false");
        break;
    }
  }
  for (auto& arg : spec.args)
    if (arg.required && args.count(arg.name) == 0)
      return make_fault(errc::bad_request, spec.name + " needs " + arg.name);
  return {};
}

result<int64_t> parse_duration_ms(const std::string& text) {
  constexpr int64_t day_ms = 86'400'000;
  auto digits_end = text.find_first_not_of("0123456789");
  auto number = text.substr(0, digits_end);
  auto unit = digits_end == std::string::npos ? std::string{} : text.substr(digits_end);
  int64_t scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1000;
  else if (unit == "ms")
    scale = 1;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  auto n = parse_integer(number);
  if (scale == 0 || !n || number.size() > 9)
    return make_fault(errc::bad_request,
                      "expected a duration such as 500ms, 30s, 5m or 2h, got \"" + text + "\"");
  auto ms = *n * scale;
  if (ms > day_ms)
    return make_fault(errc::bad_request, "a duration is at most 24h, got \"" + text + "\"");
  return ms;
}

result<int64_t> parse_time_ms(const std::string& text) {
  google::protobuf::Timestamp ts;
  if (!google::protobuf::util::TimeUtil::FromString(text, &ts))
    return make_fault(errc::bad_request,
                      "expected an RFC 3339 time such as 2026-12-01T00:00:00Z, got \"" + text
                        + "\"");
  return google::protobuf::util::TimeUtil::TimestampToMilliseconds(ts);
}

int64_t integer_arg(const std::map<std::string, std::string>& args, const std::string& name,
                    int64_t fallback) {
  auto it = args.find(name);
  if (it == args.end())
    return fallback;
  auto v = parse_integer(it->second);
  return v ? *v : fallback;
}

const std::string& string_arg(const std::map<std::string, std::string>& args,
                              const std::string& name) {
  static const std::string none;
  auto it = args.find(name);
  return it == args.end() ? none : it->second;
}

} // namespace parley::admin
