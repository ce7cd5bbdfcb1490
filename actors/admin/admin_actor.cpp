#include "actors/admin/admin_actor.hpp"

#include "actors/admin/answer_merge.hpp"
#include "actors/admin/command_registry.hpp"
#include "actors/runtime/errors.hpp"

#include <spdlog/spdlog.h>

#include <optional>

namespace parley::admin {

namespace {

using admin_impl = admin_api::extend<caf::reacts_to<answered_atom, uint64_t, pb::AdminNodeAnswer>,
                                     caf::reacts_to<deadline_atom, uint64_t>>;

// A command waiting for its parts: this node's handler and, for cluster scope, the peers.
struct pending_command {
  pb::AdminRequest req;
  const command_spec* spec = nullptr;
  std::vector<std::string> asked;
  std::vector<pb::AdminNodeAnswer> got;
  size_t outstanding = 0;  // parts neither answered nor failed
  std::optional<caf::typed_response_promise<pb::AdminReply>> operator_reply;
  std::optional<caf::typed_response_promise<pb::AdminNodeAnswer>> peer_reply;
};

struct admin_state {
  admin_options opts;
  command_table handlers;
  peer_directory peers;
  std::map<uint64_t, pending_command> pending;
  uint64_t next_id = 1;

  static inline const char* name = "parley.admin";
};

using self_ptr = admin_impl::stateful_pointer<admin_state>;

std::map<std::string, std::string> args_of(const pb::AdminRequest& req) {
  return {req.args().begin(), req.args().end()};
}

// One line per mutation, kept by whatever collects the node's log: who, what, the result.
// spdlog stamps when.
void audit(const pb::AdminRequest& req, const std::string& outcome) {
  std::string args;
  for (auto& [name, value] : args_of(req))
    args += " " + name + "=" + (value.size() > 200 ? value.substr(0, 200) + "..." : value);
  spdlog::info("audit: user={} role={} command={}{} result={}", req.caller().user(),
               req.caller().role().empty() ? "none" : req.caller().role(), req.command(), args,
               outcome);
}

std::string describe(const fault& err) {
  return std::string{to_string(err.code)} + " (" + err.message + ")";
}

// The checks every command passes before it runs; a fault says why it may not.
fault admit(const admin_state& st, const pb::AdminRequest& req, const command_spec*& spec) {
  spec = find_command(req.command());
  if (spec == nullptr)
    return make_fault(errc::not_found, "no admin command \"" + req.command()
                                         + "\" (GET /admin/v1/commands lists them)");
  auto& role = req.caller().role();
  if (role != viewer_role && role != admin_role)
    return make_fault(errc::forbidden, "the admin console needs a token with role viewer or admin");
  if (spec->mutates && role != admin_role)
    return make_fault(errc::forbidden, spec->name + " changes the node: it needs the admin role");
  if (spec->mutates && !st.opts.allow_mutations)
    return make_fault(errc::forbidden, "mutations are off on this node (admin.allow_mutations "
                                       "= false): " + spec->name + " refused");
  if (auto err = check_args(*spec, args_of(req)))
    return err;
  if (st.handlers.count(spec->name) == 0)
    return make_fault(errc::internal, "no handler for " + spec->name + " on this node");
  return {};
}

void finish(self_ptr self, uint64_t id) {
  auto it = self->state.pending.find(id);
  if (it == self->state.pending.end())
    return;
  auto p = std::move(it->second);
  self->state.pending.erase(it);
  if (p.peer_reply) {
    if (p.got.empty())
      p.peer_reply->deliver(
        make_error(errc::unavailable, p.req.command() + " did not finish in time"));
    else
      p.peer_reply->deliver(std::move(p.got.front()));
    return;
  }
  auto reply = merge_answers(p.spec->name, to_string(p.spec->scope), p.asked, std::move(p.got));
  auto failure = whole_failure(reply);
  if (p.spec->mutates) {
    std::string outcome = failure ? describe(*failure) : "ok";
    if (!reply.unanswered().empty())
      outcome += " (no answer from " + std::to_string(reply.unanswered_size()) + " node(s))";
    audit(p.req, outcome);
  }
  if (failure)
    p.operator_reply->deliver(make_error(*failure));
  else if (reply.answers().empty())
    p.operator_reply->deliver(make_error(errc::unavailable, p.spec->name + " did not finish within "
                                         + std::to_string(self->state.opts.part_timeout.count())
                                         + " ms"));
  else
    p.operator_reply->deliver(std::move(reply));
}

void add_part(self_ptr self, uint64_t id, pb::AdminNodeAnswer answer) {
  auto it = self->state.pending.find(id);
  if (it == self->state.pending.end())
    return;  // after the deadline
  auto& p = it->second;
  p.got.push_back(std::move(answer));
  if (--p.outstanding == 0)
    finish(self, id);
}

// Starts this node's handler for the pending command `id`.
void run_here(self_ptr self, uint64_t id, const pb::AdminRequest& req) {
  auto& st = self->state;
  auto me = caf::actor_cast<admin_impl>(self);
  auto node = st.opts.local_node;
  st.handlers.at(req.command())(req, [me, id, node](pb::AdminNodeAnswer answer) {
    answer.set_node(node);
    caf::anon_send(me, answered_atom_v, id, std::move(answer));
  });
  self->delayed_send(self, st.opts.part_timeout, deadline_atom_v, id);
}

caf::result<pb::AdminReply> run(self_ptr self, pb::AdminRequest& req) {
  auto& st = self->state;
  const command_spec* spec = nullptr;
  if (auto err = admit(st, req, spec)) {
    if (spec != nullptr && spec->mutates)
      audit(req, describe(err));
    return make_error(err);
  }
  auto id = st.next_id++;
  auto& p = st.pending[id];
  p.req = req;
  p.spec = spec;
  p.asked.push_back(st.opts.local_node);
  p.outstanding = 1;
  p.operator_reply = self->make_response_promise<pb::AdminReply>();
  auto rp = *p.operator_reply;
  if (spec->scope == command_scope::cluster && st.peers) {
    for (auto& [node, peer] : st.peers()) {
      p.asked.push_back(node);
      ++p.outstanding;
      self->request(peer, st.opts.part_timeout, part_atom_v, req)
        .then([self, id](pb::AdminNodeAnswer& answer) { add_part(self, id, std::move(answer)); },
              [self, id](caf::error&) {
                // Unreachable or too slow: named in `unanswered` by the merge.
                auto it = self->state.pending.find(id);
                if (it != self->state.pending.end() && --it->second.outstanding == 0)
                  finish(self, id);
              });
    }
  }
  run_here(self, id, req);
  return rp;
}

caf::result<pb::AdminNodeAnswer> run_part(self_ptr self, pb::AdminRequest& req) {
  auto& st = self->state;
  auto* spec = find_command(req.command());
  if (spec == nullptr || st.handlers.count(req.command()) == 0)
    return error_answer(st.opts.local_node,
                        make_fault(errc::not_found, "no admin command \"" + req.command() + "\""));
  if (auto err = check_args(*spec, args_of(req)))
    return error_answer(st.opts.local_node, err);
  auto id = st.next_id++;
  auto& p = st.pending[id];
  p.req = req;
  p.spec = spec;
  p.outstanding = 1;
  p.peer_reply = self->make_response_promise<pb::AdminNodeAnswer>();
  auto rp = *p.peer_reply;
  run_here(self, id, req);
  return rp;
}

admin_impl::behavior_type admin_behavior(self_ptr self, admin_options opts, command_table handlers,
                                         peer_directory peers) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.handlers = std::move(handlers);
  st.peers = std::move(peers);
  return {
    [self](run_atom, pb::AdminRequest& req) { return run(self, req); },
    [self](part_atom, pb::AdminRequest& req) { return run_part(self, req); },
    [self](answered_atom, uint64_t id, pb::AdminNodeAnswer& answer) {
      add_part(self, id, std::move(answer));
    },
    [self](deadline_atom, uint64_t id) { finish(self, id); },
  };
}

} // namespace

admin_api spawn_admin_actor(caf::actor_system& sys, admin_options opts, command_table handlers,
                            peer_directory peers) {
  // Detached: a handler may touch RocksDB (the ban list) or walk every session; that must not
  // hold a scheduler thread that other actors need.
  auto impl = sys.spawn<caf::detached>(admin_behavior, std::move(opts), std::move(handlers),
                                       std::move(peers));
  return caf::actor_cast<admin_api>(impl);
}

} // namespace parley::admin
