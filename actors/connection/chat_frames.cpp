// Chat frames of a connection: validation of what the client sent, then one request to the
// conversation actor (conversation_api, sent directly to a handle the registry resolved and the
// connection keeps while it is valid) and the answer back to the client. The chat logic
// itself lives in actors/chat/.
#include "actors/chat/chat_api.hpp"
#include "common/clock.hpp"
#include "actors/chat/chat_reader.hpp"
#include "actors/chat/chat_context.hpp"
#include "actors/chat/conversation_id.hpp"
#include "actors/connection/connection_state.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/entity_request.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/identifiers.hpp"
#include "common/utf8.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/time_util.h>
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
#include <set>
#include <type_traits>

namespace parley {

namespace {

using namespace std::chrono_literals;

struct reply_to {
  std::string request_id;
  wire_format format;
};

void send_frame(connection_actor* self, const reply_to& to, pb::ServerFrame frame) {
  frame.set_request_id(to.request_id);
  self->state.sink->send(frame, to.format);
}

void send_fault(connection_actor* self, const reply_to& to, const fault& f) {
  send_error(self, to.request_id, to.format, std::string{to_string(f.code)}.c_str(), f.message);
}

void bad_request(connection_actor* self, const reply_to& to, std::string message) {
  send_fault(self, to, make_fault(errc::bad_request, std::move(message)));
}

// This connection as chat actors name it.
pb::ChatEndpoint endpoint_of(connection_actor* self) {
  auto& st = self->state;
  pb::ChatEndpoint e;
  e.set_user_id(st.info.user_id);
  e.set_session_id(st.session_id);
  e.set_device_id(st.device_id);
  e.set_node(st.info.services->node);
  return e;
}

// Sets the connection's one timer for its oldest chat request, unless it is set.
void arm_expiry(connection_actor* self, caf::actor_clock::time_point now) {
  auto& deadlines = self->state.conversations->deadlines;
  auto next = deadlines.next_deadline();
  if (deadlines.armed || !next)
    return;
  deadlines.armed = true;
  self->delayed_send(self, *next - now, expire_atom_v);
}

// Sends `args...` to conversation `conv`; `on_ok` gets its answer, `on_error` its error, or
// `unavailable` once info.services->request_timeout passed: exactly one of them.
template <class OnReply, class OnError, class... Args>
void request_conversation(connection_actor* self, const std::string& conv, OnReply on_ok,
                          OnError on_error, Args... args) {
  auto& st = self->state;
  if (!st.conversations)
    st.conversations =
      std::make_unique<connection_state::conversation_calls>(st.info.services->request_timeout);
  auto& calls = *st.conversations;
  auto now = self->clock().now();
  auto ticket = calls.deadlines.open(now, [on_error]() mutable {
    caf::error err = caf::sec::request_timeout;
    on_error(err);
  });
  arm_expiry(self, now);
  auto still_open = [self, ticket] { return self->state.conversations->deadlines.close(ticket); };
  runtime::request_entity_unbounded<chat::conversation_api>(
    self, calls.channels,
    runtime::entity_address{st.info.services->chat->registry, chat::conversation_kind, conv},
    st.info.services->request_timeout, runtime::gated(still_open, std::move(on_ok)),
    runtime::gated(still_open, std::move(on_error)), std::move(args)...);
}

// The same, answering the client with the error.
template <class OnReply, class... Args>
void ask_conversation(connection_actor* self, const reply_to& to, const std::string& conv,
                      OnReply on_ok, Args... args) {
  request_conversation(self, conv, std::move(on_ok),
                       [self, to](caf::error& err) { send_fault(self, to, to_fault(err)); },
                       std::move(args)...);
}

} // namespace

void expire_chat_requests(connection_actor* self) {
  if (!self->state.conversations)
    return;  // armed only once the first chat request made them
  auto& deadlines = self->state.conversations->deadlines;
  deadlines.armed = false;
  auto now = self->clock().now();
  deadlines.expire(now);
  arm_expiry(self, now);
}

namespace {

bool check_conversation_id(connection_actor* self, const reply_to& to, const std::string& id) {
  if (id.empty()) {
    bad_request(self, to, "conversation_id is required");
    return false;
  }
  if (!chat::valid_conversation_id(id)) {
    send_fault(self, to, make_fault(errc::not_found, "unknown conversation " + id.substr(0, 80)));
    return false;
  }
  return true;
}

void on_send(connection_actor* self, const reply_to& to, const pb::Send& send) {
  auto& st = self->state;
  auto& opts = st.info.services->chat->opts;
  auto& user = st.info.user_id;
  if (send.client_msg_id().empty() || send.client_msg_id().size() > 64)
    return bad_request(self, to, "send.client_msg_id must be 1..64 characters");
  if (send.body().empty())
    return bad_request(self, to, "send.body is required");
  if (send.body().size() > opts.max_body_bytes)
    return send_fault(self, to, make_fault(errc::too_large,
                                           "send.body exceeds " + std::to_string(opts.max_body_bytes)
                                             + " bytes"));
  if (!is_valid_utf8(send.body()))
    return bad_request(self, to, "send.body is not valid UTF-8");
  if (send.conversation_id().empty() == send.to_user().empty())
    return bad_request(self, to, "send needs exactly one of conversation_id and to_user");
  std::string conv = send.conversation_id();
  if (!send.to_user().empty()) {
    if (!valid_user_id(send.to_user()))
      return bad_request(self, to, "send.to_user must match [A-Za-z0-9_.-]{1,64}");
    // Self-DM policy: rejected; a note to self is a group with one member (docs/chat.md).
    if (send.to_user() == user)
      return bad_request(self, to, "cannot open a direct conversation with yourself");
    conv = chat::direct_conversation_id(user, send.to_user());
  } else if (!check_conversation_id(self, to, conv)) {
    return;
  }
  auto cmid = send.client_msg_id();
  pb::ConversationSend req;
  req.set_sender_id(user);
  req.set_client_msg_id(cmid);
  req.set_body(send.body());
  req.set_to_user(send.to_user());
  req.set_origin_session(st.session_id);
  ask_conversation(
    self, to, conv,
    [self, to, conv, cmid](const pb::ConversationAck& done) {
      pb::ServerFrame out;
      auto* ack = out.mutable_ack();
      ack->set_conversation_id(conv);
      ack->set_client_msg_id(cmid);
      ack->set_seq(done.seq());
      *ack->mutable_sent_at()
        = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(done.sent_at_ms());
      send_frame(self, to, std::move(out));
    },
    send_atom_v, std::move(req));
}

// Validates a list of user ids: each valid, none twice. Returns false after answering.
bool check_user_list(connection_actor* self, const reply_to& to,
                     const google::protobuf::RepeatedPtrField<std::string>& ids, const char* field) {
  std::set<std::string> seen;
  for (auto& id : ids) {
    if (!valid_user_id(id)) {
      bad_request(self, to, std::string{field} + " contains an invalid user id");
      return false;
    }
    if (!seen.insert(id).second) {
      bad_request(self, to, std::string{field} + " lists " + id + " twice");
      return false;
    }
  }
  return true;
}

// A group change answered with the group frame.
template <class Atom, class Request>
void answer_with_group(connection_actor* self, const reply_to& to, const std::string& conv,
                       Atom atom, Request req) {
  ask_conversation(
    self, to, conv,
    [self, to](const pb::Group& group) {
      pb::ServerFrame out;
      *out.mutable_group() = group;
      send_frame(self, to, std::move(out));
    },
    atom, std::move(req));
}

void on_create_group(connection_actor* self, const reply_to& to, const pb::CreateGroup& g) {
  auto& st = self->state;
  auto& opts = st.info.services->chat->opts;
  if (g.title().size() > opts.max_title_bytes)
    return bad_request(self, to, "create_group.title exceeds " + std::to_string(opts.max_title_bytes)
                                   + " bytes");
  if (!is_valid_utf8(g.title()))
    return bad_request(self, to, "create_group.title is not valid UTF-8");
  if (!check_user_list(self, to, g.member_ids(), "create_group.member_ids"))
    return;
  std::vector<std::string> members(g.member_ids().begin(), g.member_ids().end());
  // The creator is a member whether listed or not.
  if (std::find(members.begin(), members.end(), st.info.user_id) == members.end())
    members.push_back(st.info.user_id);
  if (members.size() > opts.max_group_members)
    return bad_request(self, to, "a group has at most " + std::to_string(opts.max_group_members)
                                   + " members");
  std::sort(members.begin(), members.end());
  // Built-in per-user limit (docs/chat.md, Limits): counted here, where the answer can carry
  // retry_after_ms; the groups-per-user cap is checked by the conversation with its write.
  if (auto& quota = st.info.services->chat->quota) {
    if (auto wait = quota->admit_creation(st.info.user_id, unix_ms())) {
      pb::ServerFrame out;
      auto* e = out.mutable_error();
      e->set_code("rate_limited");
      e->set_message("at most " + std::to_string(opts.max_groups_created_per_hour)
                     + " groups may be created per hour (chat.max_groups_created_per_hour)");
      e->set_retry_after_ms(wait);
      return send_frame(self, to, std::move(out));
    }
  }
  pb::GroupCreate req;
  req.set_creator_id(st.info.user_id);
  req.set_title(g.title());
  for (auto& m : members)
    req.add_member_ids(m);
  answer_with_group(self, to, chat::new_group_id(), create_atom_v, std::move(req));
}

void on_members(connection_actor* self, const reply_to& to, const pb::MembersChange& m, bool add) {
  if (!check_conversation_id(self, to, m.conversation_id()))
    return;
  const char* field = add ? "add_members.user_ids" : "remove_members.user_ids";
  if (m.user_ids().empty())
    return bad_request(self, to, std::string{field} + " is empty");
  if (!check_user_list(self, to, m.user_ids(), field))
    return;
  pb::MembersUpdate req;
  req.set_actor_id(self->state.info.user_id);
  req.set_add(add);
  *req.mutable_user_ids() = m.user_ids();
  answer_with_group(self, to, m.conversation_id(), members_atom_v, std::move(req));
}

void on_leave(connection_actor* self, const reply_to& to, const pb::Leave& l) {
  if (!check_conversation_id(self, to, l.conversation_id()))
    return;
  auto& user = self->state.info.user_id;
  pb::MembersUpdate req;
  req.set_actor_id(user);
  req.set_add(false);
  req.add_user_ids(user);
  answer_with_group(self, to, l.conversation_id(), members_atom_v, std::move(req));
}

void on_receipt(connection_actor* self, const reply_to& to, const pb::Receipt& r) {
  if (!check_conversation_id(self, to, r.conversation_id()))
    return;
  if (r.status() != pb::DELIVERED && r.status() != pb::READ)
    return bad_request(self, to, "receipt.status must be DELIVERED or READ");
  if (r.seq() == 0)
    return bad_request(self, to, "receipt.seq must be at least 1");
  auto& st = self->state;
  pb::ReceiptUpdate req;
  req.set_user_id(st.info.user_id);
  req.set_device_id(st.device_id);
  req.set_seq(r.seq());
  req.set_read(r.status() == pb::READ);
  // No answer on success (PROTOCOL.md); errors are reported.
  ask_conversation(self, to, r.conversation_id(), []() {}, receipt_atom_v, std::move(req));
}

void on_history(connection_actor* self, const reply_to& to, const pb::HistoryRequest& h) {
  if (!check_conversation_id(self, to, h.conversation_id()))
    return;
  // Out-of-range limits are clamped to 1..100; 0 means the default of 50.
  uint32_t limit = h.limit() == 0 ? 50 : std::min<uint32_t>(h.limit(), 100);
  pb::HistoryQuery req;
  req.set_user_id(self->state.info.user_id);
  req.set_before_seq(h.before_seq());
  req.set_limit(limit);
  ask_conversation(
    self, to, h.conversation_id(),
    [self, to](pb::HistoryPage& page) {
      pb::ServerFrame out;
      out.mutable_history_page()->Swap(&page);
      send_frame(self, to, std::move(out));
    },
    history_atom_v, std::move(req));
}

// Collects one answer per conversation, then answers the client once.
struct fan_in {
  size_t waiting = 0;
  uint64_t messages = 0;
  bool has_more = false;
  pb::ServerFrame list;
  fault failed;  // a conversation answered internal (say a corrupt record)
};

// How the answers of several nodes' indexes combine: every id any node has (the conversations,
// the pending ones), or only ids every node has (contacts: a user is hidden unless some node
// holds a conversation the two share).
enum class merge_ids { any, every };

// Gathers one index read from every node of a cluster.
struct index_gather {
  merge_ids how = merge_ids::any;
  size_t waiting = 0;
  bool partial = false;  // a peer could not answer: its ids are missing
  bool failed = false;   // this node could not answer: on_error had it
  bool started = false;  // ids holds the first answer
  std::vector<std::string> ids;  // sorted
  std::function<void(std::vector<std::string>, bool)> on_reply;

  void add(std::vector<std::string> more) {
    std::sort(more.begin(), more.end());
    if (!started) {
      ids = std::move(more);
      started = true;
    } else {
      std::vector<std::string> out;
      if (how == merge_ids::any)
        std::set_union(ids.begin(), ids.end(), more.begin(), more.end(), std::back_inserter(out));
      else
        std::set_intersection(ids.begin(), ids.end(), more.begin(), more.end(),
                              std::back_inserter(out));
      out.erase(std::unique(out.begin(), out.end()), out.end());
      ids = std::move(out);
    }
    settle();
  }

  void lost() {
    partial = true;
    settle();
  }

  void settle() {
    if (--waiting == 0 && !failed)
      on_reply(std::move(ids), partial);
  }
};

// Reads the user's index `atom` (with `users` for contacts): from the user's chat reader
// (actors/chat/chat_reader.hpp) and, in a cluster, from every live peer's chat service, since
// each node indexes the conversations it holds. `on_reply(ids, partial)` gets the merged ids,
// `partial` when a peer did not answer (for `every` its answer counts as "all hidden", so
// privacy errs on the side of hiding); `on_error` gets this node's failure.
template <class Atom, class OnError>
void read_user_index(connection_actor* self, Atom atom, merge_ids how,
                     std::vector<std::string> users,
                     std::function<void(std::vector<std::string>, bool)> on_reply,
                     OnError on_error) {
  auto& st = self->state;
  auto& ctx = *st.info.services->chat;
  auto& user = st.info.user_id;
  auto peers = ctx.cluster ? ctx.cluster->peers() : std::make_shared<const chat::peer_map>();
  auto g = std::make_shared<index_gather>();
  g->how = how;
  g->waiting = 1 + peers->size();
  g->on_reply = std::move(on_reply);
  auto local_done = [g](std::vector<std::string>& ids) { g->add(std::move(ids)); };
  auto local_failed = [g, on_error](caf::error& err) mutable {
    g->failed = true;
    on_error(err);
  };
  auto& reader = chat::reader_for(ctx.readers, user);
  auto within = st.info.services->request_timeout;
  if constexpr (std::is_same_v<Atom, contacts_atom>)
    self->request(reader, within, atom, user, users).then(local_done, local_failed);
  else
    self->request(reader, within, atom, user).then(local_done, local_failed);
  if (peers->empty())
    return;
  pb::ChatIndexQuery q;
  q.set_user_id(user);
  for (auto& u : users)
    q.add_user_ids(u);
  for (auto& [node, service] : *peers)
    self->request(service, within, atom, q)
      .then(
        [g](pb::ChatIndexAnswer& answer) { g->add({answer.ids().begin(), answer.ids().end()}); },
        [g](caf::error&) { g->lost(); });
}

// Reads the user's index and continues with the ids, or answers the client with the error.
template <class Atom, class OnReply>
void read_index(connection_actor* self, const reply_to& to, Atom atom, merge_ids how,
                OnReply on_reply, std::vector<std::string> users = {}) {
  read_user_index(self, atom, how, std::move(users),
                  [on_reply](std::vector<std::string> ids, bool) mutable { on_reply(ids); },
                  [self, to](caf::error& err) { send_fault(self, to, to_fault(err)); });
}

void list_conversations(connection_actor* self, const reply_to& to,
                        const std::vector<std::string>& convs) {
  auto& st = self->state;
  auto state = std::make_shared<fan_in>();
  state->list.mutable_conversation_list();
  state->waiting = convs.size();
  if (convs.empty())
    return send_frame(self, to, state->list);
  for (auto& conv : convs) {
    request_conversation(
      self, conv,
      [self, to, state](const pb::ConversationSummary& item) {
        *state->list.mutable_conversation_list()->add_items() = item;
        if (--state->waiting == 0)
          send_frame(self, to, state->list);
      },
      [self, to, state](caf::error& e) {
        // A conversation that cannot answer now is left out rather than failing the list; one
        // that answers internal (a corrupt record) fails it: it would be missing every time.
        if (auto f = to_fault(e); f.code == errc::internal && !state->failed)
          state->failed = std::move(f);
        if (--state->waiting == 0) {
          if (state->failed)
            return send_fault(self, to, state->failed);
          send_frame(self, to, state->list);
        }
      },
      summary_atom_v, st.info.user_id);
  }
}

void on_conversations(connection_actor* self, const reply_to& to) {
  // A node that cannot answer leaves its conversations out, as a conversation that cannot answer.
  read_index(self, to, conversations_atom_v, merge_ids::any,
             [self, to](const std::vector<std::string>& convs) { list_conversations(self, to, convs); });
}

void sync_conversations(connection_actor* self, const reply_to& to,
                        const std::vector<std::string>& pending, bool partial) {
  auto state = std::make_shared<fan_in>();
  state->waiting = pending.size();
  // A node that could not say which of its conversations are pending: sync again.
  state->has_more = partial;
  auto done = [self, to, state] {
    self->state.syncing = false;
    // Syncing again would meet the same record: the client gets the error, not has_more.
    if (state->failed)
      return send_fault(self, to, state->failed);
    pb::ServerFrame out;
    out.mutable_sync_done()->set_messages(state->messages);
    out.mutable_sync_done()->set_has_more(state->has_more);
    send_frame(self, to, std::move(out));
  };
  if (pending.empty())
    return done();
  auto device = endpoint_of(self);
  for (auto& conv : pending) {
    request_conversation(
      self, conv,
      [state, done](const pb::SyncResult& part) {
        state->messages += part.messages();
        state->has_more = state->has_more || !part.complete();
        if (--state->waiting == 0)
          done();
      },
      [state, done](caf::error& e) {
        // That conversation could not answer now: tell the client to sync again.
        state->has_more = true;
        if (auto f = to_fault(e); f.code == errc::internal && !state->failed)
          state->failed = std::move(f);
        if (--state->waiting == 0)
          done();
      },
      sync_atom_v, device);
  }
}

void on_sync(connection_actor* self, const reply_to& to) {
  auto& st = self->state;
  if (st.syncing)
    return send_fault(self, to, make_fault(errc::conflict, "a sync is already running"));
  st.syncing = true;
  read_user_index(
    self, pending_atom_v, merge_ids::any, {},
    [self, to](std::vector<std::string> pending, bool partial) {
      sync_conversations(self, to, pending, partial);
    },
    [self, to](caf::error& err) {
      self->state.syncing = false;
      send_fault(self, to, to_fault(err));
    });
}

void on_typing(connection_actor* self, const reply_to& to, const pb::Typing& t) {
  if (!check_conversation_id(self, to, t.conversation_id()))
    return;
  pb::TypingUpdate req;
  req.set_user_id(self->state.info.user_id);
  req.set_active(t.active());
  ask_conversation(self, to, t.conversation_id(), []() {}, typing_atom_v, std::move(req));
}

void on_presence(connection_actor* self, const reply_to& to, const pb::PresenceRequest& p) {
  if (p.user_ids().empty())
    return bad_request(self, to, "presence.user_ids is empty");
  if (p.user_ids().size() > 1000)
    return bad_request(self, to, "presence.user_ids lists more than 1000 users");
  if (!check_user_list(self, to, p.user_ids(), "presence.user_ids"))
    return;
  auto& st = self->state;
  auto& ctx = *st.info.services->chat;
  pb::PresenceQuery query;
  query.set_request_id(to.request_id);
  *query.mutable_subscriber() = endpoint_of(self);
  *query.mutable_user_ids() = p.user_ids();
  query.set_subscribe(p.subscribe());
  // Visibility is decided by the caller's side (the chat reader checks the membership index),
  // so one caller's contact checks never hold up the node's presence actor.
  if (ctx.presence_opts.visibility != chat::presence_visibility::contacts)
    return caf::anon_send(ctx.presence, presence_atom_v, std::move(query));
  std::vector<std::string> users(p.user_ids().begin(), p.user_ids().end());
  read_index(self, to, contacts_atom_v, merge_ids::every,
             [self, query = std::move(query)](const std::vector<std::string>& hidden) mutable {
               for (auto& user : hidden)
                 query.add_hidden(user);
               auto& presence = self->state.info.services->chat->presence;
               caf::anon_send(presence, presence_atom_v, std::move(query));
             },
             std::move(users));
}

} // namespace

void register_route(connection_actor* self) {
  auto& st = self->state;
  if (!st.info.services->chat)
    return;
  // The device is known from its first connection on, so that the pending index is kept for
  // it until it acknowledges, even if another device of the user acknowledges first.
  auto& ctx = *st.info.services->chat;
  storage::write_set ws;
  ctx.store->put_device(ws, st.info.user_id, st.device_id);
  caf::anon_send(ctx.storage_writer, write_atom_v, std::move(ws));
  // Online already on another node: presence has said so.
  bool elsewhere = ctx.cluster && ctx.cluster->online(st.info.user_id);
  if (ctx.routes.add(st.info.user_id, chat::route{st.session_id, st.device_id, st.sink})
      && !elsewhere)
    caf::anon_send(ctx.presence, online_atom_v, st.info.user_id);
  if (ctx.cluster) {
    // Conversations of other nodes keep their pending entries for this device too.
    auto device = endpoint_of(self);
    for (auto& [node, service] : *ctx.cluster->peers())
      caf::anon_send(service, device_atom_v, device);
  }
}

void unregister_route(connection_actor* self) {
  auto& st = self->state;
  if (!st.info.services->chat)
    return;
  auto& ctx = *st.info.services->chat;
  caf::anon_send(ctx.presence, closed_atom_v, st.session_id);
  if (ctx.routes.remove(st.info.user_id, st.session_id)) {
    caf::anon_send(ctx.presence, offline_atom_v, st.info.user_id, unix_ms());
  }
}

bool handle_chat_frame(connection_actor* self, const inbound_frame& in) {
  auto& frame = *in.frame;
  reply_to to{frame.request_id(), in.format};
  using k = pb::ClientFrame;
  switch (frame.kind_case()) {
    case k::kSend:
    case k::kCreateGroup:
    case k::kAddMembers:
    case k::kRemoveMembers:
    case k::kLeave:
    case k::kReceipt:
    case k::kSync:
    case k::kHistory:
    case k::kConversations:
    case k::kTyping:
    case k::kPresence:
      break;
    default:
      return false;
  }
  if (!self->state.info.services->chat) {
    send_fault(self, to, make_fault(errc::unavailable, "chat is not running on this node"));
    return true;
  }
  switch (frame.kind_case()) {
    case k::kSend: on_send(self, to, frame.send()); break;
    case k::kCreateGroup: on_create_group(self, to, frame.create_group()); break;
    case k::kAddMembers: on_members(self, to, frame.add_members(), true); break;
    case k::kRemoveMembers: on_members(self, to, frame.remove_members(), false); break;
    case k::kLeave: on_leave(self, to, frame.leave()); break;
    case k::kReceipt: on_receipt(self, to, frame.receipt()); break;
    case k::kSync: on_sync(self, to); break;
    case k::kHistory: on_history(self, to, frame.history()); break;
    case k::kConversations: on_conversations(self, to); break;
    case k::kTyping: on_typing(self, to, frame.typing()); break;
    case k::kPresence: on_presence(self, to, frame.presence()); break;
    default: break;
  }
  return true;
}

} // namespace parley
