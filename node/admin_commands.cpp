#include "node/admin_commands.hpp"

#include "actors/admin/answer_merge.hpp"
#include "actors/admin/command_registry.hpp"
#include "actors/feed/feed_context.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/tasks/tasks_context.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "net/admin_sessions.hpp"
#include "net/edge_context.hpp"
#include "net/jwt.hpp"
#include "net/json_codec.hpp"
#include "node/entity_inspector.hpp"
#include "node/node.hpp"
#include "node/mailbox_probe.hpp"
#include "node/process_stats.hpp"
#include "node/storage_census.hpp"

#include <caf/all.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace parley::node {

namespace {

using google::protobuf::Value;
using admin::command_done;

// -- building answers -------------------------------------------------------------------------

Value str(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

Value num(double d) {
  Value v;
  v.set_number_value(d);
  return v;
}

Value boolean(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}

Value null() {
  Value v;
  v.set_null_value(google::protobuf::NULL_VALUE);
  return v;
}

Value time_value(int64_t unix_ms_value) {
  using google::protobuf::util::TimeUtil;
  return str(TimeUtil::ToString(TimeUtil::MillisecondsToTimestamp(unix_ms_value)));
}

Value list(std::vector<Value> items) {
  Value v;
  auto* l = v.mutable_list_value();
  for (auto& item : items)
    *l->add_values() = std::move(item);
  return v;
}

Value object(std::initializer_list<std::pair<const char*, Value>> fields) {
  Value v;
  auto& out = *v.mutable_struct_value()->mutable_fields();
  for (auto& [name, value] : fields)
    out[name] = value;
  return v;
}

void set(Value& obj, const std::string& name, Value v) {
  (*obj.mutable_struct_value()->mutable_fields())[name] = std::move(v);
}

void answer(const command_done& done, Value data) {
  done(admin::data_answer({}, std::move(data)));
}

void refuse(const command_done& done, const fault& err) {
  done(admin::error_answer({}, err));
}

const std::string& arg(const pb::AdminRequest& req, const std::string& name) {
  static const std::string none;
  auto it = req.args().find(name);
  return it == req.args().end() ? none : it->second;
}

int64_t integer(const pb::AdminRequest& req, const std::string& name, int64_t fallback,
                int64_t lo, int64_t hi) {
  auto v = admin::integer_arg({req.args().begin(), req.args().end()}, name, fallback);
  return std::clamp(v, lo, hi);
}

net::edge_context& edge(const admin_host& h) {
  return h.server->context();
}

Value drain_value(const net::drain_progress& p) {
  auto state = !p.draining ? "serving" : p.closed < p.total ? "draining" : "drained";
  return object({{"state", str(state)},
                 {"started_at", p.started_at_ms ? time_value(p.started_at_ms) : null()},
                 {"duration_ms", num(double(p.duration_ms))},
                 {"sessions_at_start", num(double(p.total))},
                 {"closed", num(double(p.closed))},
                 {"open", num(double(p.open))}});
}

// Per kind: how many are active (the registry's gauge), how many were probed and the longest
// wait; and the `limit` slowest actors of each kind, slowest first.
Value top_value(const admin_host& h, std::vector<probed_actor> probed, size_t limit) {
  std::map<std::string, std::vector<probed_actor>> by_kind;
  for (auto& p : probed)
    by_kind[p.kind].push_back(std::move(p));
  // No answer at all is the worst wait.
  auto wait_of = [](const probed_actor& a) { return a.wait_ms < 0 ? 1e18 : a.wait_ms; };
  std::vector<Value> kinds;
  std::vector<probed_actor> slowest;
  for (auto& [kind, actors] : by_kind) {
    std::sort(actors.begin(), actors.end(),
              [&](auto& a, auto& b) { return wait_of(a) > wait_of(b); });
    // Singletons are all probed; entities are counted by the registry.
    auto active = actors.front().entity ? active_entities(kind)
                                        : static_cast<int64_t>(actors.size());
    kinds.push_back(object({{"kind", str(kind)},
                            {"active", num(double(active))},
                            {"probed", num(double(actors.size()))},
                            {"max_wait_ms", num(actors.front().wait_ms)}}));
    for (size_t i = 0; i < actors.size() && i < limit; ++i)
      slowest.push_back(actors[i]);
  }
  std::sort(slowest.begin(), slowest.end(),
            [&](auto& a, auto& b) { return wait_of(a) > wait_of(b); });
  std::sort(kinds.begin(), kinds.end(), [](const Value& a, const Value& b) {
    return a.struct_value().fields().at("max_wait_ms").number_value()
           > b.struct_value().fields().at("max_wait_ms").number_value();
  });
  std::vector<Value> rows;
  for (auto& a : slowest)
    rows.push_back(object({{"kind", str(a.kind)},
                           {"id", str(a.id)},
                           {"wait_ms", num(a.wait_ms)},
                           {"answered", boolean(a.wait_ms >= 0)}}));
  return object({{"node", str(h.node_id)},
                 {"kinds", list(std::move(kinds))},
                 {"actors", list(std::move(rows))}});
}

// -- calling the node's own REST handlers -------------------------------------------------------
//
// Dead tasks and rate-limit rules have REST handlers that validate, persist and answer; the
// commands go through them (with a one-minute admin token for the operator) instead of
// repeating their rules.

void call_rest(const admin_host& h, const pb::AdminRequest& req, const std::string& method,
               const std::string& path, std::map<std::string, std::string> query,
               std::string body, std::function<void(int, Value)> on_answer) {
  net::jwt_claims claims;
  claims.sub = req.caller().user();
  claims.role = admin::admin_role;
  claims.iat = unix_ms() / 1000;
  claims.exp = claims.iat + 60;
  net::http_request r;
  r.method = method;
  r.path = path;
  r.query = std::move(query);
  r.body = std::move(body);
  r.remote_ip = "admin";
  r.headers.emplace_back("authorization", "Bearer " + net::jwt_sign(claims, h.jwt_secret));
  r.answer_within = h.answer_timeout;
  edge(h).routes.dispatch(r, net::responder{[on_answer](net::http_response res) {
    Value v;
    if (!res.body.empty()
        && !google::protobuf::util::JsonStringToMessage(res.body, &v).ok())
      v = str(res.body);
    on_answer(res.status, std::move(v));
  }});
}

// A REST answer as the command's: the body on success, its error otherwise.
std::function<void(int, Value)> relay(command_done done) {
  return [done](int status, Value body) {
    if (status < 400)
      return answer(done, std::move(body));
    pb::AdminNodeAnswer out;
    auto& fields = body.struct_value().fields();
    auto e = fields.find("error");
    if (e != fields.end()) {
      auto& ef = e->second.struct_value().fields();
      out.mutable_error()->set_code(ef.count("code") ? ef.at("code").string_value() : "internal");
      out.mutable_error()->set_message(ef.count("message") ? ef.at("message").string_value() : "");
    } else {
      out.mutable_error()->set_code("internal");
      out.mutable_error()->set_message("status " + std::to_string(status));
    }
    done(std::move(out));
  };
}

// -- the commands -------------------------------------------------------------------------------

void cluster_members(const admin_host& h, const pb::AdminRequest&, command_done done) {
  auto draining = edge(h).lame_duck.load();
  auto address = h.server->host() + ":" + std::to_string(h.server->port());
  auto self_status = str(draining ? "draining" : "serving");
  if (!h.cluster) {
    answer(done, object({{"members", list({object({{"node", str(h.node_id)},
                                                   {"address", str(address)},
                                                   {"status", self_status},
                                                   {"self", boolean(true)}})})}}));
    return;
  }
  // In a cluster: every live member as etcd lists it; peers' own state (draining or not) is
  // theirs to tell, so they show as members.
  auto view = h.cluster();
  std::vector<Value> members;
  for (auto& m : view.members) {
    bool self = m.node_id == h.node_id;
    members.push_back(object({{"node", str(m.node_id)},
                              {"address", str(self ? address : m.advertise)},
                              {"peer_link", str(m.advertise)},
                              {"status", self ? self_status : str("member")},
                              {"self", boolean(self)}}));
  }
  answer(done, object({{"members", list(std::move(members))},
                       {"partitions", num(double(view.partitions))},
                       {"partitions_owned_here", num(double(view.primaries_here))},
                       {"partitions_unavailable", num(double(view.unavailable))},
                       {"peers_linked", num(double(view.peers_linked))},
                       {"lease_healthy", boolean(view.lease_healthy)}}));
}

void node_status(admin_host_ptr host, const pb::AdminRequest&, command_done done) {
  auto report = [host, done](result<std::vector<probed_actor>> probed) {
    auto& h = *host;
    auto now = unix_ms();
    auto stats = read_process_stats();
    Value actors;
    actors.mutable_struct_value();
    for (auto& kind : entity_kinds())
      set(actors, kind, num(double(active_entities(kind))));
    Value largest = list({});
    if (probed) {
      auto rows = std::move(*probed);
      std::sort(rows.begin(), rows.end(),
                [](auto& a, auto& b) { return a.wait_ms > b.wait_ms; });
      std::vector<Value> top;
      for (size_t i = 0; i < rows.size() && i < 5; ++i)
        top.push_back(object({{"kind", str(rows[i].kind)}, {"id", str(rows[i].id)},
                              {"wait_ms", num(rows[i].wait_ms)}}));
      largest = list(std::move(top));
    }
    auto queue = metrics::global()
                   .get_gauge("storage_commit_queue",
                              "Write sets waiting for the group-commit writer")
                   .value();
    answer(done,
           object({{"node", str(h.node_id)},
                   {"version", str(h.version)},
                   {"started_at", time_value(h.started_at_ms)},
                   {"uptime_sec", num(double(now - h.started_at_ms) / 1000.0)},
                   {"websockets", num(double(edge(h).sessions.size()))},
                   {"online_users", num(double(h.chat ? h.chat->routes.online_users() : 0))},
                   {"actors", actors},
                   {"largest_mailboxes", largest},
                   {"commit_queue", num(double(queue))},
                   {"resident_bytes", num(stats.resident_bytes)},
                   {"virtual_bytes", num(stats.virtual_bytes)},
                   {"open_fds", num(stats.open_fds)},
                   {"max_fds", num(stats.max_fds)},
                   {"log_level", str(h.log_level ? h.log_level() : "")},
                   {"drain", drain_value(h.server->lame_duck_progress())}}));
  };
  probe_mailboxes(*host->sys, host->registry, host->singletons, 20, report);
}

void node_top(admin_host_ptr host, const pb::AdminRequest& req, command_done done) {
  auto limit = static_cast<size_t>(integer(req, "limit", 10, 1, 100));
  auto report = [host, limit, done](result<std::vector<probed_actor>> probed) {
    if (!probed)
      return refuse(done, probed.error());
    answer(done, top_value(*host, std::move(*probed), limit));
  };
  probe_mailboxes(*host->sys, host->registry, host->singletons, 1000, report);
}

Value sample_value(const node_sample& s) {
  return object({{"at", time_value(s.at_ms)},
                 {"websockets", num(s.websockets)},
                 {"frames_per_sec", num(s.frames_per_sec)},
                 {"delivered_per_sec", num(s.delivered_per_sec)},
                 {"commit_p99_ms", num(s.commit_p99_ms)},
                 {"largest_mailbox_wait_ms", num(s.largest_mailbox_wait_ms)},
                 {"resident_bytes", num(s.resident_bytes)}});
}

void node_samples(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  auto n = static_cast<size_t>(integer(req, "seconds", 60, 1, 900));
  std::vector<Value> rows;
  for (auto& s : h.history->last(n))
    rows.push_back(sample_value(s));
  answer(done, object({{"node", str(h.node_id)}, {"samples", list(std::move(rows))}}));
}

Value session_value(const net::session_row& s, const std::string& node) {
  return object({{"session_id", str(s.session_id)},
                 {"user_id", str(s.user_id)},
                 {"device_id", str(s.device_id)},
                 {"ip", str(s.ip)},
                 {"node", str(node)},
                 {"connected_at", time_value(s.connected_at_ms)}});
}

void sessions_list(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  auto limit = static_cast<size_t>(integer(req, "limit", 1000, 1, 10000));
  std::vector<Value> rows;
  for (auto& s : net::list_sessions(edge(h), arg(req, "user"), limit))
    rows.push_back(session_value(s, h.node_id));
  auto count = rows.size();
  answer(done, object({{"sessions", list(std::move(rows))}, {"count", num(double(count))}}));
}

void sessions_kick(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  auto& id = arg(req, "id");
  auto& user = arg(req, "user");
  if (id.empty() == user.empty())
    return refuse(done, make_fault(errc::bad_request, "sessions.kick needs either id or user"));
  auto reason = arg(req, "reason").empty() ? std::string{"kicked by an operator"}
                                           : arg(req, "reason");
  auto kicked = net::close_sessions(edge(h), id, user, net::close_kicked, reason);
  if (kicked == 0)
    return refuse(done, make_fault(errc::not_found, id.empty()
                                                      ? "user " + user + " has no sessions here"
                                                      : "no session " + id + " here"));
  answer(done, object({{"kicked", num(double(kicked))},
                       {"close_code", num(net::close_kicked)}}));
}

void users_where(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  auto& user = arg(req, "user");
  std::vector<Value> rows;
  // This node's sessions only: in a cluster the command asks every node for its part.
  if (h.chat)
    for (auto& r : h.chat->routes.routes_of(user))
      rows.push_back(object({{"session_id", str(r.session_id)},
                             {"device_id", str(r.device_id)},
                             {"node", str(h.node_id)}}));
  auto online = !rows.empty();
  answer(done, object({{"user", str(user)},
                       {"online", boolean(online)},
                       {"banned", boolean(h.denied->denied(user, unix_ms()))},
                       {"sessions", list(std::move(rows))}}));
}

void users_ban(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  auto& user = arg(req, "user");
  if (!valid_user_id(user))
    return refuse(done, make_fault(errc::bad_request, "user must match [A-Za-z0-9_.-]{1,64}"));
  auto now = unix_ms();
  int64_t until = 0;
  if (!arg(req, "until").empty()) {
    auto t = admin::parse_time_ms(arg(req, "until"));
    if (!t || *t <= now)
      return refuse(done, make_fault(errc::bad_request, "until must be a time in the future"));
    until = *t;
  }
  pb::BanRecord ban;
  ban.set_user(user);
  ban.set_until_ms(until);
  ban.set_reason(arg(req, "reason"));
  ban.set_by(req.caller().user());
  ban.set_since_ms(now);
  if (auto err = h.bans->put(ban))
    return refuse(done, err);
  h.denied->add(user, until);
  auto kicked = net::close_sessions(edge(h), {}, user, net::close_banned, "banned");
  answer(done, object({{"user", str(user)},
                       {"until", until ? time_value(until) : null()},
                       {"kicked", num(double(kicked))}}));
}

void users_unban(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  auto& user = arg(req, "user");
  if (auto err = h.bans->remove(user))
    return refuse(done, err);
  if (!h.denied->remove(user))
    return refuse(done, make_fault(errc::not_found, "user " + user + " is not banned"));
  answer(done, object({{"user", str(user)}, {"banned", boolean(false)}}));
}

void users_banned(const admin_host& h, const pb::AdminRequest&, command_done done) {
  auto bans = h.bans->load_all();
  if (!bans)
    return refuse(done, bans.error());
  auto now = unix_ms();
  std::vector<Value> rows;
  for (auto& b : *bans)
    rows.push_back(object({{"user", str(b.user())},
                           {"until", b.until_ms() ? time_value(b.until_ms()) : null()},
                           {"expired", boolean(b.until_ms() != 0 && b.until_ms() <= now)},
                           {"reason", str(b.reason())},
                           {"by", str(b.by())},
                           {"since", time_value(b.since_ms())}}));
  answer(done, object({{"bans", list(std::move(rows))}}));
}

void entities_where(admin_host_ptr host, const pb::AdminRequest& req, command_done done) {
  auto kind = arg(req, "kind");
  auto id = arg(req, "id");
  host->sys->spawn([host, kind, id, done](caf::event_based_actor* self) {
    self->request(host->registry, host->answer_timeout, locate_atom_v, kind, id)
      .then(
        [self, host, kind, id, done](std::string& owner, bool active) {
          answer(done, object({{"kind", str(kind)},
                               {"id", str(id)},
                               {"owner", str(owner)},
                               {"here", boolean(owner == host->node_id)},
                               {"active", boolean(active)}}));
          self->quit();
        },
        [self, done](caf::error& err) {
          refuse(done, to_fault(err));
          self->quit();
        });
  });
}

void entities_inspect(admin_host_ptr host, const pb::AdminRequest& req, command_done done) {
  auto kind = arg(req, "kind");
  auto id = arg(req, "id");
  inspect_entity(*host->sys, host->registry, kind, id, host->answer_timeout,
                 [host, kind, id, done](result<entity_report> report) {
                   if (!report)
                     return refuse(done, report.error());
                   Value summary = null();
                   if (report->active)
                     if (auto err = net::from_json(report->summary, summary))
                       return refuse(done, make_fault(errc::internal, err.message));
                   answer(done, object({{"kind", str(kind)},
                                        {"id", str(id)},
                                        {"owner", str(report->owner)},
                                        {"here", boolean(report->owner == host->node_id)},
                                        {"active", boolean(report->active)},
                                        {"summary", summary}}));
                 });
}

Value census_count(const storage_census::count& c) {
  return object({{"records", num(double(c.records))}, {"bytes", num(double(c.bytes))}});
}

Value census_value(const storage_census& c, const runtime::placement_policy* placement) {
  Value by_owner;
  auto& owners = *by_owner.mutable_struct_value()->mutable_fields();
  for (auto& [kind, count] : c.by_owner)
    owners[kind] = census_count(count);
  std::vector<Value> partitions;
  for (auto& [partition, count] : c.by_partition)
    partitions.push_back(object({{"partition", num(double(partition))},
                                 {"records", num(double(count.records))},
                                 {"bytes", num(double(count.bytes))}}));
  return object({{"complete", boolean(c.complete)},
                 {"total", census_count(c.total)},
                 {"by_owner", by_owner},
                 {"undecodable", num(double(c.undecodable))},
                 {"partitions", placement ? list(std::move(partitions)) : null()},
                 {"foreign", placement ? census_count(c.foreign) : null()},
                 {"foreign_partitions", placement ? num(double(c.foreign_partitions)) : null()}});
}

// A full scan: on a detached actor (a thread of its own, joined before storage closes at
// shutdown), never on the admin actor's thread, bounded by the budget.
void storage_partitions(admin_host_ptr host, const pb::AdminRequest& req, command_done done) {
  census_options opts;
  opts.placement = host->placement.get();
  opts.partitions = host->partitions;
  if (!arg(req, "budget").empty())
    opts.budget = std::chrono::milliseconds{
      std::min<int64_t>(*admin::parse_duration_ms(arg(req, "budget")), 2500)};
  host->sys->spawn<caf::detached>([host, opts, done](caf::event_based_actor* self) {
    auto census = take_storage_census(*host->db, opts);
    if (!census)
      refuse(done, census.error());
    else
      answer(done, census_value(*census, opts.placement));
    self->quit();
  });
}

void node_drain(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  auto over = h.default_drain;
  if (!arg(req, "duration").empty())
    over = std::chrono::milliseconds{*admin::parse_duration_ms(arg(req, "duration"))};
  h.server->lame_duck(over);
  answer(done, drain_value(h.server->lame_duck_progress()));
}

void node_undrain(const admin_host& h, const pb::AdminRequest&, command_done done) {
  h.server->end_lame_duck();
  answer(done, drain_value(h.server->lame_duck_progress()));
}

void tasks_dead_list(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  std::map<std::string, std::string> query{{"status", "DEAD"}};
  query["limit"] = std::to_string(integer(req, "limit", 50, 1, 100));
  if (!arg(req, "cursor").empty())
    query["cursor"] = arg(req, "cursor");
  call_rest(h, req, "GET", "/api/v1/tasks", std::move(query), {}, relay(done));
}

void tasks_dead_requeue(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  call_rest(h, req, "POST", "/api/v1/tasks/" + arg(req, "id") + "/requeue", {}, {}, relay(done));
}

void tasks_dead_discard(admin_host_ptr host, const pb::AdminRequest& req, command_done done) {
  // Only a dead task: the task API's cancel would end a live one too.
  auto path = "/api/v1/tasks/" + arg(req, "id");
  call_rest(*host, req, "GET", path, {}, {}, [host, req, path, done](int status, Value task) {
    if (status >= 400)
      return relay(done)(status, std::move(task));
    auto& fields = task.struct_value().fields();
    auto s = fields.find("status");
    if (s == fields.end() || s->second.string_value() != "DEAD")
      return refuse(done, make_fault(errc::conflict, "task " + req.args().at("id")
                                                       + " is not dead: discard only takes "
                                                         "dead letters"));
    call_rest(*host, req, "DELETE", path, {}, {}, relay(done));
  });
}

void ratelimits_get(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  call_rest(h, req, "GET", "/api/v1/admin/ratelimits", {}, {}, relay(done));
}

void ratelimits_set(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  call_rest(h, req, "PUT", "/api/v1/admin/ratelimits", {}, arg(req, "rules"), relay(done));
}

void log_level(const admin_host& h, const pb::AdminRequest& req, command_done done) {
  static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
  auto& level = arg(req, "level");
  if (std::find(levels.begin(), levels.end(), level) == levels.end())
    return refuse(done, make_fault(errc::bad_request,
                                   "level must be trace, debug, info, warn, error or off"));
  auto previous = h.log_level ? h.log_level() : std::string{};
  apply_log_level(level);
  answer(done, object({{"level", str(level)}, {"previous", str(previous)}}));
}

void config_reload(const admin_host& h, const pb::AdminRequest&, command_done done) {
  auto reloaded = h.reload();
  if (!reloaded)
    return refuse(done, reloaded.error());
  std::vector<Value> parts;
  for (auto& name : *reloaded)
    parts.push_back(str(name));
  answer(done, object({{"reloaded", list(std::move(parts))}}));
}

} // namespace

admin::command_table make_admin_commands(admin_host_ptr host) {
  // Handlers that answer at once take the host by reference for the call; the asynchronous
  // ones keep it alive until they answer.
  auto now = [host](void (*fn)(const admin_host&, const pb::AdminRequest&, command_done)) {
    return [host, fn](const pb::AdminRequest& req, command_done done) { fn(*host, req, done); };
  };
  auto later = [host](void (*fn)(admin_host_ptr, const pb::AdminRequest&, command_done)) {
    return [host, fn](const pb::AdminRequest& req, command_done done) { fn(host, req, done); };
  };
  return {
    {"cluster.members", now(cluster_members)},
    {"node.status", later(node_status)},
    {"node.samples", now(node_samples)},
    {"node.top", later(node_top)},
    {"sessions.list", now(sessions_list)},
    {"sessions.kick", now(sessions_kick)},
    {"users.where", now(users_where)},
    {"users.ban", now(users_ban)},
    {"users.unban", now(users_unban)},
    {"users.banned", now(users_banned)},
    {"entities.where", later(entities_where)},
    {"entities.inspect", later(entities_inspect)},
    {"storage.partitions", later(storage_partitions)},
    {"node.drain", now(node_drain)},
    {"node.undrain", now(node_undrain)},
    {"tasks.dead.list", now(tasks_dead_list)},
    {"tasks.dead.requeue", now(tasks_dead_requeue)},
    {"tasks.dead.discard", later(tasks_dead_discard)},
    {"ratelimits.get", now(ratelimits_get)},
    {"ratelimits.set", now(ratelimits_set)},
    {"log.level", now(log_level)},
    {"config.reload", now(config_reload)},
  };
}

net::event_source sample_events(std::shared_ptr<sample_history> history) {
  return [history](int64_t after, size_t max) {
    std::vector<net::stream_event> out;
    for (auto& s : history->after(after, max))
      out.push_back({s.at_ms, "sample", net::to_json(sample_value(s))});
    return out;
  };
}

} // namespace parley::node
