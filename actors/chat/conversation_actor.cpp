#include "actors/chat/conversation_actor.hpp"

#include "actors/chat/chat_api.hpp"
#include "common/clock.hpp"

#include "actors/chat/conversation_id.hpp"
#include "actors/chat/group_membership.hpp"
#include "actors/chat/pacing.hpp"
#include "actors/connection/pushed_frame.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/time_util.h>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <unordered_map>
#include <unordered_set>

namespace parley::chat {

namespace {

using storage::chat_message;

// Messages kept in memory for live pushes and short catch-ups without a storage read.
constexpr size_t recent_capacity = 256;
// Most messages one sync of one conversation reads from storage: a device far behind gets the
// rest with its next sync, so one sync never turns into reading a whole history.
constexpr size_t catch_up_limit = 256;
// Dedup records older than this are ignored (PROTOCOL.md: idempotent within 24 h).
constexpr int64_t dedup_window_ms = 24LL * 3600 * 1000;
// How long a sync of a device connected to another node waits for that node's chat service.
constexpr auto remote_sync_timeout = std::chrono::seconds{10};
// How long a device of another node that synced here gets live pushes before the replicated
// routing table lists it (it lags by a batch, 50 ms; this is far beyond).
constexpr int64_t remote_pin_ms = 5000;

struct chat_metrics {
  metrics::counter& messages = metrics::global().get_counter(
    "chat_messages_total", "Chat messages stored");
  metrics::counter& duplicates = metrics::global().get_counter(
    "chat_duplicate_sends_total", "Sends answered from the dedup record");
  metrics::counter& pushed = metrics::global().get_counter(
    "chat_messages_pushed_total", "Message frames pushed to devices");
  metrics::histogram& batch = metrics::global().get_histogram(
    "chat_send_batch", "Sends made durable in one conversation write", {1, 2, 4, 8, 16, 32, 64, 128});
  metrics::counter& remote_deliveries = metrics::global().get_counter(
    "chat_remote_pushes_total", "Deliveries sent to other nodes' chat services (one per node "
                                "and batch, never one per recipient)");
};

chat_metrics& instruments() {
  static chat_metrics m;
  return m;
}

using ack_promise = caf::typed_response_promise<pb::ConversationAck>;

pb::ConversationAck make_ack(uint64_t seq, int64_t sent_at_ms) {
  pb::ConversationAck ack;
  ack.set_seq(seq);
  ack.set_sent_at_ms(sent_at_ms);
  return ack;
}

// A message as the actor keeps it: the stored fields, the connection it came from, which
// already knows it (it gets the ack) and is not sent it again, and the `message` frame every
// other device gets (encoded once per wire format for all of them).
struct live_message {
  chat_message msg;
  std::string origin_session;
  pushed_frame_ptr pushed;  // null for messages read back from storage
};

// A connection of another node known from its sync rather than from the routing table yet.
struct pinned_session {
  std::string node;
  node_session session;
  int64_t until_ms = 0;
};

struct queued_send {
  chat_message msg;  // seq assigned when its batch is written
  ack_promise promise;
  std::string origin_session;
  std::string dedup_key;  // sender '\0' client_msg_id: its entry in inflight_dups
};

struct conversation_state {
  chat_context_ptr ctx;
  std::string id;
  bool loaded = false;
  bool exists = false;
  bool creating = false;  // the record is part of the batch in flight
  storage::conversation_record rec;
  uint64_t last_seq = 0;  // durable
  std::deque<live_message> recent;
  // sender + '\0' + client_msg_id of sends queued or in flight, to fold duplicates into them
  std::unordered_map<std::string, std::vector<ack_promise>> inflight_dups;
  std::vector<queued_send> queued;
  bool writing = false;
  int pending_writes = 0;  // any durable write in flight (sends, cursors, membership)
  bool passivate_requested = false;
  bool changing_members = false;  // a membership write is in flight (or waits for a batch)
  std::function<void()> deferred_change;  // a membership change waiting for the batch in flight
  // Highest seq pushed to each connection, so each device gets seq order: by session id on this
  // node, by remote_key() on others.
  std::unordered_map<std::string, uint64_t> sent_up_to;
  // Connections of other nodes with a paced sync in flight (remote_key): live pushes leave
  // them alone until their node answers how far it got.
  std::unordered_set<std::string> syncing;
  // Connections of other nodes that synced before the routing table listed them (remote_key).
  std::unordered_map<std::string, pinned_session> pinned;
  std::unordered_map<std::string, uint64_t> delivered_cache;  // user\0device -> seq
  std::unordered_map<std::string, uint64_t> read_cache;       // user -> seq

  static inline const char* name = "parley.conversation";
};

using conversation_actor = conversation_api::stateful_pointer<conversation_state>;

google::protobuf::Timestamp to_timestamp(int64_t ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(ms);
}

void fill_message(pb::Message& out, const std::string& conv, const chat_message& m) {
  out.set_conversation_id(conv);
  out.set_seq(m.seq);
  out.set_sender_id(m.sender_id);
  out.set_client_msg_id(m.client_msg_id);
  out.set_body(m.body);
  *out.mutable_sent_at() = to_timestamp(m.sent_at_ms);
}

// A connection of another node, as sent_up_to knows it (session ids are unique per node only).
std::string remote_key(const std::string& node, const std::string& session) {
  return node + '\0' + session;
}

bool is_member(const conversation_state& st, const std::string& user) {
  return std::binary_search(st.rec.members.begin(), st.rec.members.end(), user);
}

caf::error load(conversation_actor self) {
  auto& st = self->state;
  if (st.loaded)
    return {};
  // A failed read leaves the actor unloaded: the request gets the error, the next one retries.
  auto rec = st.ctx->store->conversation(st.id);
  if (!rec)
    return make_error(rec.error());
  if (*rec) {
    auto last = st.ctx->store->last_seq(st.id);
    if (!last)
      return make_error(last.error());
    st.rec = std::move(**rec);
    ensure_admin(st.rec);
    st.exists = true;
    st.last_seq = *last;
  }
  st.loaded = true;
  return {};
}

// Loads the conversation if needed; `not_found` unless it exists, `forbidden` unless `user` is
// one of its members.
caf::error require_member(conversation_actor self, const std::string& user) {
  auto& st = self->state;
  if (auto err = load(self))
    return err;
  if (!st.exists || st.creating)
    return make_error(errc::not_found, "unknown conversation " + st.id);
  if (!is_member(st, user))
    return make_error(errc::forbidden, "not a member of " + st.id);
  return {};
}

void maybe_quit(conversation_actor self) {
  auto& st = self->state;
  if (st.passivate_requested && st.pending_writes == 0 && st.queued.empty())
    self->quit();
}

// Commits `ws`; `then` runs inside the actor once it is durable (or failed).
template <class F>
void write(conversation_actor self, storage::write_set ws, F then) {
  auto& st = self->state;
  ++st.pending_writes;
  self->request(st.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, then]() mutable {
        --self->state.pending_writes;
        then(caf::error{});
        maybe_quit(self);
      },
      [self, then](caf::error& err) mutable {
        --self->state.pending_writes;
        then(err);
        maybe_quit(self);
      });
}

// Messages of one read, in seq order: views of the recent ones in memory (a push to every
// member reads them once per connection, so they are not copied), or the ones storage returned.
// Valid until the conversation's state changes; move-only, so the views stay where they point.
struct message_range {
  message_range() = default;
  message_range(message_range&&) = default;
  message_range& operator=(message_range&&) = default;
  message_range(const message_range&) = delete;
  message_range& operator=(const message_range&) = delete;

  std::vector<live_message> stored;
  std::vector<const live_message*> items;
};

// The messages (after, up_to], from memory when recent enough, else from storage (a storage
// fault, a corrupt message included, is the answer then: nothing is skipped).
result<message_range> messages_between(conversation_actor self, uint64_t after, uint64_t up_to,
                                       size_t limit, bool& truncated) {
  truncated = false;
  auto& st = self->state;
  message_range out;
  if (!st.recent.empty() && st.recent.front().msg.seq <= after + 1) {
    // `recent` is in seq order: start at the first one after `after`.
    auto first = std::partition_point(st.recent.begin(), st.recent.end(),
                                      [after](const live_message& m) { return m.msg.seq <= after; });
    for (auto it = first; it != st.recent.end() && it->msg.seq <= up_to; ++it)
      out.items.push_back(&*it);
    return out;
  }
  auto stored = st.ctx->store->messages_between(st.id, after, up_to, limit);
  if (!stored)
    return std::move(stored).take_error();
  out.stored.reserve(stored->size());
  for (auto& m : *stored)
    out.stored.push_back(live_message{std::move(m), {}, nullptr});
  for (auto& m : out.stored)
    out.items.push_back(&m);
  truncated = limit != 0 && out.stored.size() == limit && out.stored.back().msg.seq < up_to;
  return out;
}

// The device's durable delivered cursor (cached once read; a failed read is not cached).
result<uint64_t> delivered_of(conversation_actor self, const std::string& user,
                              const std::string& device) {
  auto& st = self->state;
  auto key = user + '\0' + device;
  auto it = st.delivered_cache.find(key);
  if (it != st.delivered_cache.end())
    return it->second;
  auto seq = st.ctx->store->delivered(user, device, st.id);
  if (seq)
    st.delivered_cache.emplace(key, *seq);
  return seq;
}

struct catch_up_result {
  uint64_t sent = 0;
  bool complete = true;  // false: stopped early to respect the connection's outbound bound
  fault err;             // storage failed: nothing was sent
};

// Brings one connection up to `up_to` in seq order: messages it has not been sent yet, from
// its device's delivered cursor on. With `paced` (sync) it stops early, in order and skipping
// nothing, when the connection's outbound queue is half full: the client syncs again. Live
// pushes are not paced, so a client that does not read overflows its bound and is closed with
// 1013 (PROTOCOL.md), to recover with sync.
catch_up_result catch_up(conversation_actor self, const std::string& user, const route& r,
                         uint64_t up_to, bool paced) {
  auto& st = self->state;
  catch_up_result out;
  auto sink = r.sink.lock();
  if (!sink) {
    st.sent_up_to.erase(r.session_id);
    return out;
  }
  auto it = st.sent_up_to.find(r.session_id);
  uint64_t from = 0;
  if (it != st.sent_up_to.end()) {
    from = it->second;
  } else {
    auto delivered = delivered_of(self, user, r.device_id);
    if (!delivered) {
      out.err = delivered.error();
      out.complete = false;
      return out;
    }
    from = *delivered;
  }
  // A member added later never gets what was written before it joined.
  from = std::max(from, hidden_up_to(st.rec, user));
  if (from >= up_to)
    return out;
  uint64_t last = from;
  pb::ServerFrame frame;
  bool truncated = false;
  // Live pushes are not limited: they are how a device stays in order, and a device that falls
  // too far behind overflows its outbound bound (1013) and recovers with paced syncs.
  auto read = messages_between(self, from, up_to, paced ? catch_up_limit : 0, truncated);
  if (!read) {
    out.err = read.error();
    out.complete = false;
    return out;
  }
  for (const live_message* m : read->items) {
    if (m->origin_session != r.session_id) {
      if (paced && !paced_room_for(m->msg.body.size(), m->msg.client_msg_id.size(), out.sent,
                                   sink->outbound_room())) {
        out.complete = false;
        break;
      }
      if (m->pushed) {
        sink->send_shared(m->pushed, sink->preferred_format());
      } else {
        fill_message(*frame.mutable_message(), st.id, m->msg);
        sink->send(frame, sink->preferred_format());
      }
      ++out.sent;
    }
    last = m->msg.seq;
  }
  if (truncated && last < up_to)
    out.complete = false;
  st.sent_up_to[r.session_id] = last;
  instruments().pushed.inc(out.sent);
  return out;
}

// The message of a delivery to another node: the frame's message when it was built, else from
// the stored fields.
void add_delivered(pb::ChatDelivery& d, const std::string& conv, const live_message& m) {
  auto* out = d.add_messages();
  if (m.pushed)
    *out->mutable_message() = m.pushed->frame().message();
  else
    fill_message(*out->mutable_message(), conv, m.msg);
  out->set_origin_session(m.origin_session);
}

// Adds the pinned connections the routing table does not list yet to their nodes' groups, and
// forgets those it lists, those past their time and those no longer members.
void add_pinned(conversation_actor self,
                std::map<std::string, std::vector<node_session>>& groups) {
  auto& st = self->state;
  auto now = st.ctx->clock();
  for (auto it = st.pinned.begin(); it != st.pinned.end();) {
    auto& p = it->second;
    auto& group = groups[p.node];
    bool listed = std::any_of(group.begin(), group.end(), [&](const node_session& s) {
      return s.session_id == p.session.session_id;
    });
    if (listed || now >= p.until_ms || !is_member(st, p.session.user_id)) {
      it = st.pinned.erase(it);
      continue;
    }
    group.push_back(p.session);
    ++it;
  }
}

// Members' connections on other nodes, up to `up_to`: one delivery per node, with the messages
// the furthest behind of its connections lacks and where each connection starts, so that the
// node writes each its own range in seq order (catch_up's rules, applied there).
void push_to_other_nodes(conversation_actor self, uint64_t up_to,
                         std::unordered_map<std::string, uint64_t>& live) {
  auto& st = self->state;
  auto& view = *st.ctx->cluster;
  auto groups = view.by_node(st.rec.members);
  if (!st.pinned.empty())
    add_pinned(self, groups);
  for (auto& [node, sessions] : groups) {
    auto service = view.peer(node);
    if (!service)
      continue;  // not a live member (any more): its sessions go with it
    pb::ChatDelivery d;
    uint64_t lowest = up_to;
    std::vector<std::string> keys;
    for (auto& s : sessions) {
      auto key = remote_key(node, s.session_id);
      if (st.syncing.count(key) != 0)
        continue;
      uint64_t from = 0;
      if (auto it = st.sent_up_to.find(key); it != st.sent_up_to.end()) {
        from = it->second;
      } else {
        auto delivered = delivered_of(self, s.user_id, s.device_id);
        if (!delivered) {
          spdlog::error("conversation {}: pushing to {} on {} failed: {}", st.id, s.user_id,
                        node, delivered.error().message);
          continue;
        }
        from = *delivered;
      }
      from = std::max(from, hidden_up_to(st.rec, s.user_id));
      if (from >= up_to) {
        live[key] = from;
        continue;
      }
      auto* t = d.add_targets();
      t->set_user_id(s.user_id);
      t->set_session_id(s.session_id);
      t->set_after_seq(from);
      lowest = std::min(lowest, from);
      keys.push_back(std::move(key));
    }
    if (keys.empty())
      continue;
    bool truncated = false;
    auto read = messages_between(self, lowest, up_to, 0, truncated);
    if (!read) {
      // Their next push starts again from their cursors; a sync brings them the rest.
      spdlog::error("conversation {}: pushing to {} failed: {}", st.id, node,
                    read.error().message);
      continue;
    }
    d.set_conversation_id(st.id);
    for (const live_message* m : read->items)
      add_delivered(d, st.id, *m);
    for (auto& key : keys)
      live[key] = up_to;
    self->send(service, deliver_atom_v, std::move(d));
    instruments().remote_deliveries.inc();
  }
}

void push_to_members(conversation_actor self, uint64_t up_to) {
  auto& st = self->state;
  std::unordered_map<std::string, uint64_t> live;
  for (auto& member : st.rec.members)
    for (auto& r : st.ctx->routes.routes_of(member)) {
      // A device that could not be caught up (storage failed) gets the rest with its next sync;
      // the fault was counted where it was found and is logged here, once per connection.
      if (auto res = catch_up(self, member, r, up_to, false); res.err)
        spdlog::error("conversation {}: pushing to {} failed: {}", st.id, member,
                      res.err.message);
      auto it = st.sent_up_to.find(r.session_id);
      if (it != st.sent_up_to.end())
        live.insert(*it);
    }
  if (st.ctx->cluster)
    push_to_other_nodes(self, up_to, live);
  // Progress of connections that closed is dropped here, so the map tracks live ones only.
  st.sent_up_to = std::move(live);
}

// Sends `frame` to every online device of the given users: here directly, on every other node
// with one delivery to its chat service.
void broadcast(conversation_actor self, const std::vector<std::string>& users,
               const pb::ServerFrame& frame, const std::string& except_user = {}) {
  auto& st = self->state;
  for (auto& user : users) {
    if (user == except_user)
      continue;
    for (auto& r : st.ctx->routes.routes_of(user))
      if (auto sink = r.sink.lock())
        sink->send(frame, sink->preferred_format());
  }
  if (!st.ctx->cluster)
    return;
  auto& view = *st.ctx->cluster;
  for (auto& [node, sessions] : view.by_node(users, except_user)) {
    auto service = view.peer(node);
    if (!service)
      continue;
    pb::ChatDelivery d;
    d.set_conversation_id(st.id);
    *d.mutable_frame() = frame;
    for (auto& s : sessions) {
      auto* t = d.add_targets();
      t->set_user_id(s.user_id);
      t->set_session_id(s.session_id);
    }
    self->send(service, deliver_atom_v, std::move(d));
    instruments().remote_deliveries.inc();
  }
}

pb::Group group_of(const conversation_state& st) {
  pb::Group g;
  g.set_conversation_id(st.id);
  g.set_title(st.rec.title);
  for (auto& m : st.rec.members)
    g.add_member_ids(m);
  *g.mutable_created_at() = to_timestamp(st.rec.created_at_ms);
  for (auto& a : st.rec.admins)
    g.add_admin_ids(a);
  return g;
}

// The `group` frame members are pushed when the group changes.
pb::ServerFrame group_frame(const pb::Group& g) {
  pb::ServerFrame frame;
  *frame.mutable_group() = g;
  return frame;
}

void flush(conversation_actor self);

// A membership change that waited for the batch in flight runs once that batch is settled.
void run_deferred_change(conversation_actor self) {
  if (auto change = std::move(self->state.deferred_change)) {
    self->state.deferred_change = nullptr;
    change();
  }
}

// One push notification per offline member per batch (the newest message and how many).
void notify_offline(conversation_actor self, const std::vector<queued_send>& batch) {
  auto& st = self->state;
  if (!st.ctx->pushes || batch.empty())
    return;
  for (auto& member : st.rec.members) {
    if (st.ctx->online(member))
      continue;
    push_notification n;
    n.user_id = member;
    n.conversation_id = st.id;
    for (auto& q : batch) {
      if (q.msg.sender_id == member)
        continue;
      ++n.count;
      n.seq = q.msg.seq;
      n.sender_id = q.msg.sender_id;
      n.preview = q.msg.body;
      n.sent_at_ms = q.msg.sent_at_ms;
    }
    if (n.count > 0)
      st.ctx->pushes->push(n);
  }
}

// Sends that repeated a queued one while it was being written get the same answer.
template <class Answer>
void answer_duplicates(conversation_state& st, const std::string& dedup_key, const Answer& answer) {
  auto it = st.inflight_dups.find(dedup_key);
  if (it == st.inflight_dups.end())
    return;
  for (auto& dup : it->second)
    dup.deliver(answer);
  st.inflight_dups.erase(it);
}

// After a failed batch: the record, last_seq and read cursors as storage has them, and no
// recent messages in memory (those of the failed batch, if stored, are read from storage). When
// storage cannot be read, the sends queued meanwhile fail too, and the next request loads again.
void reload_after_failed_write(conversation_actor self) {
  auto& st = self->state;
  st.loaded = false;
  st.exists = false;
  st.creating = false;
  st.recent.clear();
  st.read_cache.clear();
  auto err = load(self);
  if (!err)
    return;
  for (auto& q : st.queued) {
    answer_duplicates(st, q.dedup_key, err);
    q.promise.deliver(err);
  }
  st.queued.clear();
}

void on_batch_written(conversation_actor self, std::vector<queued_send> batch,
                      const caf::error& err) {
  auto& st = self->state;
  st.writing = false;
  if (err) {
    // The batch may be stored after all: a closed write fence answers a write that became
    // durable with `unavailable` (runtime/storage_writer.hpp). Its seqs are not free then (the
    // messages and their dedup records are on disk), so what memory says is read again from
    // storage before the next batch; its senders get the error and may retry with the same
    // client_msg_id, which finds a stored message by its dedup record.
    reload_after_failed_write(self);
    for (auto& q : batch) {
      answer_duplicates(st, q.dedup_key, err);
      q.promise.deliver(err);
    }
    run_deferred_change(self);
    flush(self);
    return;
  }
  st.creating = false;
  for (auto& q : batch) {
    st.last_seq = q.msg.seq;
    auto ack = make_ack(q.msg.seq, q.msg.sent_at_ms);
    answer_duplicates(st, q.dedup_key, ack);
    q.promise.deliver(std::move(ack));
    // The sender has read their own message.
    auto& read = st.read_cache[q.msg.sender_id];
    read = std::max(read, q.msg.seq);
    pb::ServerFrame frame;
    fill_message(*frame.mutable_message(), st.id, q.msg);
    // Copied: notify_offline below reads the batch's messages too.
    st.recent.push_back(live_message{q.msg, std::move(q.origin_session),
                                     std::make_shared<const pushed_frame>(std::move(frame))});
    if (st.recent.size() > recent_capacity)
      st.recent.pop_front();
  }
  instruments().messages.inc(batch.size());
  instruments().batch.observe(static_cast<double>(batch.size()));
  push_to_members(self, st.last_seq);
  notify_offline(self, batch);
  run_deferred_change(self);
  flush(self);
}

// Writes every queued send as one batch; one batch in flight at a time keeps seq gapless
// even when a write fails.
void flush(conversation_actor self) {
  auto& st = self->state;
  // A membership change goes between batches, so its join point is an exact seq and the next
  // batch's pending entries already name the new members.
  if (st.writing || st.changing_members || st.queued.empty())
    return;
  auto batch = std::move(st.queued);
  st.queued.clear();
  storage::write_set ws;
  if (!st.exists || st.creating) {
    st.exists = true;
    st.creating = true;
    st.ctx->store->put_conversation(ws, st.id, st.rec, st.rec.members, {});
  }
  auto seq = st.last_seq;
  std::unordered_map<std::string, uint64_t> read_by_sender;
  for (auto& q : batch) {
    q.msg.seq = ++seq;
    st.ctx->store->put_message(ws, st.id, q.msg);
    read_by_sender[q.msg.sender_id] = q.msg.seq;
  }
  // Index entries once per batch: the newest seq covers every message of it.
  st.ctx->store->put_pending(ws, st.id, seq, st.rec.members);
  for (auto& [sender, read] : read_by_sender)
    st.ctx->store->put_read(ws, sender, st.id, read);
  st.writing = true;
  write(self, std::move(ws), [self, batch = std::move(batch)](const caf::error& err) mutable {
    on_batch_written(self, std::move(batch), err);
  });
}

caf::result<pb::ConversationAck> on_send(conversation_actor self, pb::ConversationSend& req) {
  auto& st = self->state;
  auto& sender = req.sender_id();
  auto& client_msg_id = req.client_msg_id();
  auto& to_user = req.to_user();
  if (auto err = load(self))
    return err;
  if (!st.exists) {
    if (to_user.empty() || direct_conversation_id(sender, to_user) != st.id)
      return make_error(errc::not_found, "unknown conversation " + st.id);
    // The first message opens the direct conversation; the record is written with it.
    st.rec.group = false;
    st.rec.members = {std::min(sender, to_user), std::max(sender, to_user)};
    st.rec.created_at_ms = st.ctx->clock();
  }
  if (!is_member(st, sender))
    return make_error(errc::forbidden, "not a member of " + st.id);
  auto key = sender + '\0' + client_msg_id;
  auto dup = st.inflight_dups.find(key);
  if (dup != st.inflight_dups.end()) {
    auto rp = self->make_response_promise<pb::ConversationAck>();
    dup->second.push_back(rp);
    return rp;
  }
  if (st.exists && !st.creating) {
    // A dedup record that cannot be read (or parsed) fails the send: taken for "no record",
    // a retried send would be stored twice.
    auto seen = st.ctx->store->dedup(sender, st.id, client_msg_id);
    if (!seen)
      return make_error(seen.error());
    if (*seen && st.ctx->clock() - (*seen)->sent_at_ms < dedup_window_ms) {
      instruments().duplicates.inc();
      // The original may have been refused after it was stored (a closed write fence, a backup
      // that had not confirmed it): on this node's disk but perhaps nowhere else. Writing its
      // dedup record again is a barrier: once that write is acknowledged, so is everything the
      // conversation wrote before it (replication ships a partition's records in order), and
      // the original ack can be given. A retry is rare; this costs one small write.
      storage::write_set ws;
      st.ctx->store->put_dedup(ws, sender, st.id, client_msg_id, **seen);
      auto rp = self->make_response_promise<pb::ConversationAck>();
      write(self, std::move(ws), [rp, ack = make_ack((*seen)->seq, (*seen)->sent_at_ms)](
                                   const caf::error& err) mutable {
        if (err)
          rp.deliver(err);
        else
          rp.deliver(std::move(ack));
      });
      return rp;
    }
  }
  auto rp = self->make_response_promise<pb::ConversationAck>();
  st.inflight_dups.emplace(key, std::vector<ack_promise>{});
  st.queued.push_back(queued_send{
    chat_message{0, std::move(*req.mutable_sender_id()), std::move(*req.mutable_client_msg_id()),
                 std::move(*req.mutable_body()), st.ctx->clock()},
    rp, std::move(*req.mutable_origin_session()), std::move(key)});
  flush(self);
  return rp;
}

caf::result<pb::Group> on_create(conversation_actor self, const pb::GroupCreate& req) {
  auto& st = self->state;
  auto& creator = req.creator_id();
  auto& title = req.title();
  std::vector<std::string> members(req.member_ids().begin(), req.member_ids().end());
  if (auto err = load(self))
    return err;
  if (st.exists)
    return make_error(errc::conflict, "conversation " + st.id + " already exists");
  auto now = st.ctx->clock();
  if (st.ctx->quota)
    if (auto f = st.ctx->quota->reserve(members, now))
      return make_error(f);
  st.rec = storage::conversation_record{};
  st.rec.group = true;
  st.rec.title = title;
  st.rec.members = members;
  st.rec.created_at_ms = now;
  st.rec.creator = creator;
  st.rec.admins = {creator};
  st.exists = true;
  st.creating = true;
  storage::write_set ws;
  st.ctx->store->put_conversation(ws, st.id, st.rec, st.rec.members, {});
  auto rp = self->make_response_promise<pb::Group>();
  write(self, std::move(ws), [self, rp, members](const caf::error& err) mutable {
    auto& st = self->state;
    if (err) {
      if (st.ctx->quota)
        st.ctx->quota->cancel(members);
      // The group may be on disk after all (a closed write fence, or a partition that moved
      // after the write, answers a durable write with an error): memory follows storage.
      reload_after_failed_write(self);
      rp.deliver(err);
      return;
    }
    if (st.ctx->quota)
      st.ctx->quota->commit(members);
    st.creating = false;
    auto group = group_of(st);
    broadcast(self, st.rec.members, group_frame(group));
    rp.deliver(std::move(group));
    flush(self);
  });
  return rp;
}

// Writes a membership change; `rp` gets the new group frame once it is durable.
void write_members(conversation_actor self, membership_change change,
                   caf::typed_response_promise<pb::Group> rp) {
  auto& st = self->state;
  auto now = st.ctx->clock();
  if (st.ctx->quota) {
    if (auto f = st.ctx->quota->reserve(change.added, now)) {
      st.changing_members = false;
      rp.deliver(make_error(f));
      flush(self);
      return;
    }
    st.ctx->quota->begin_removal(change.removed, now);
  }
  storage::write_set ws;
  st.ctx->store->put_conversation(ws, st.id, change.next, change.added, change.removed);
  write(self, std::move(ws), [self, rp, change](const caf::error& err) mutable {
    auto& st = self->state;
    st.changing_members = false;
    if (st.ctx->quota) {
      if (err)
        st.ctx->quota->cancel(change.added);
      else
        st.ctx->quota->commit(change.added);
      st.ctx->quota->end_removal(change.removed, !err);
    }
    if (err) {
      // As for a batch of sends: the change may be on disk though refused, so the record is
      // read again rather than kept as it was.
      reload_after_failed_write(self);
      rp.deliver(err);
      flush(self);
      return;
    }
    st.rec = std::move(change.next);
    // Connections of removed members get nothing more from here.
    for (auto& user : change.removed)
      for (auto& r : st.ctx->routes.routes_of(user))
        st.sent_up_to.erase(r.session_id);
    if (st.ctx->cluster)
      for (auto& user : change.removed)
        for (auto& r : st.ctx->cluster->sessions_of(user))
          st.sent_up_to.erase(remote_key(r.node_id, r.session_id));
    // Presence re-checks subscriptions between the removed and the rest before anyone hears of
    // the removal, so no presence change reaches them once they know they are out.
    if (!change.removed.empty()) {
      pb::PresenceRevoke revoke;
      for (auto& user : change.removed)
        revoke.add_removed(user);
      for (auto& user : st.rec.members)
        revoke.add_members(user);
      // Subscribers are on every node: each node's presence re-checks its own (the revoke goes
      // ahead of the group frame on the same path).
      if (st.ctx->cluster)
        for (auto& [node, service] : *st.ctx->cluster->peers())
          self->send(service, revoke_atom_v, revoke);
      if (st.ctx->presence)
        self->send(st.ctx->presence, revoke_atom_v, std::move(revoke));
    }
    auto group = group_of(st);
    // Everyone affected learns the new member list, the removed included.
    auto notify = st.rec.members;
    notify.insert(notify.end(), change.removed.begin(), change.removed.end());
    broadcast(self, notify, group_frame(group));
    rp.deliver(std::move(group));
    flush(self);
  });
}

caf::result<pb::Group> on_members(conversation_actor self, const pb::MembersUpdate& req) {
  auto& st = self->state;
  auto& actor = req.actor_id();
  auto add = req.add();
  std::vector<std::string> users(req.user_ids().begin(), req.user_ids().end());
  if (auto err = require_member(self, actor))
    return err;
  if (!st.rec.group)
    return make_error(errc::bad_request, "members of a direct conversation cannot change");
  if (st.changing_members)
    return make_error(errc::unavailable, "another membership change is in progress; retry");
  membership_change change;
  // Checked against the current seq; checked again below if a batch is in flight.
  if (auto f = change_members(st.rec, actor, add, users, st.last_seq,
                              st.ctx->opts.max_group_members, change))
    return make_error(f);
  if (change.added.empty() && change.removed.empty())
    return group_of(st);
  auto rp = self->make_response_promise<pb::Group>();
  st.changing_members = true;
  if (!st.writing) {
    write_members(self, std::move(change), rp);
    return rp;
  }
  // New members join after the batch in flight: wait for its seqs to be settled.
  st.deferred_change = [self, actor, add, users, rp]() mutable {
    auto& st = self->state;
    membership_change change;
    if (auto f = change_members(st.rec, actor, add, users, st.last_seq,
                                st.ctx->opts.max_group_members, change)) {
      st.changing_members = false;
      rp.deliver(make_error(f));
      return;
    }
    if (change.added.empty() && change.removed.empty()) {
      st.changing_members = false;
      rp.deliver(group_of(st));
      return;
    }
    write_members(self, std::move(change), rp);
  };
  return rp;
}

caf::result<void> on_receipt(conversation_actor self, const pb::ReceiptUpdate& req) {
  auto& st = self->state;
  auto& user = req.user_id();
  auto& device = req.device_id();
  auto seq = req.seq();
  auto read = req.read();
  if (auto err = require_member(self, user))
    return err;
  // Receipts beyond the newest message are clamped to it (docs/chat.md).
  seq = std::min(seq, st.last_seq);
  storage::write_set ws;
  auto& store = *st.ctx->store;
  if (read) {
    auto it = st.read_cache.find(user);
    uint64_t current = 0;
    if (it != st.read_cache.end()) {
      current = it->second;
    } else {
      auto stored = store.read(user, st.id);
      if (!stored)
        return make_error(stored.error());
      current = *stored;
    }
    if (seq <= current)
      return caf::unit;
    st.read_cache[user] = seq;
    store.put_read(ws, user, st.id, seq);
    pb::ServerFrame frame;
    auto* r = frame.mutable_receipt();
    r->set_conversation_id(st.id);
    r->set_user_id(user);
    r->set_seq(seq);
    r->set_status(pb::READ);
    broadcast(self, st.rec.members, frame, user);
  } else {
    auto current = delivered_of(self, user, device);
    if (!current)
      return make_error(current.error());
    if (seq <= *current)
      return caf::unit;
    st.delivered_cache[user + '\0' + device] = seq;
    store.put_delivered(ws, user, device, st.id, seq);
    store.put_device(ws, user, device);
    // The pending entry goes once every known device of the user has everything, and no batch
    // is being written (its pending put would be undone by this delete, written after it).
    if (seq == st.last_seq && !st.writing) {
      auto devices = store.devices_of(user);
      if (!devices)
        return make_error(devices.error());
      bool all = true;
      for (auto& d : *devices) {
        if (d == device)
          continue;
        auto other = delivered_of(self, user, d);
        if (!other)
          return make_error(other.error());
        if (*other < st.last_seq)
          all = false;
      }
      if (all)
        store.clear_pending(ws, user, st.id);
    }
  }
  // Receipts are answered at once: a lost cursor update only means a re-sent message, which
  // clients drop by (conversation_id, seq).
  write(self, std::move(ws), [self](const caf::error& err) {
    if (err) {
      // Forget cached cursors that were not stored, so a retried receipt is written.
      self->state.delivered_cache.clear();
      self->state.read_cache.clear();
    }
  });
  return caf::unit;
}

caf::result<pb::HistoryPage> on_history(conversation_actor self, const pb::HistoryQuery& req) {
  auto& st = self->state;
  auto& user = req.user_id();
  auto before = req.before_seq();
  auto limit = req.limit();
  if (auto err = require_member(self, user))
    return err;
  auto read = st.ctx->store->history(st.id, before, limit + 1, hidden_up_to(st.rec, user));
  if (!read)
    return make_error(read.error());
  auto& page = *read;
  pb::HistoryPage h;
  h.set_conversation_id(st.id);
  h.set_has_more(page.size() > limit);
  for (size_t i = 0; i < page.size() && i < limit; ++i)
    fill_message(*h.add_messages(), st.id, page[i]);
  return h;
}

caf::result<pb::ConversationSummary> on_summary(conversation_actor self, const std::string& user) {
  auto& st = self->state;
  if (auto err = require_member(self, user))
    return err;
  auto it = st.read_cache.find(user);
  uint64_t read = 0;
  if (it != st.read_cache.end()) {
    read = it->second;
  } else {
    auto stored = st.ctx->store->read(user, st.id);
    if (!stored)
      return make_error(stored.error());
    read = *stored;
  }
  st.read_cache[user] = read;
  pb::ConversationSummary summary;
  auto* s = &summary;
  s->set_conversation_id(st.id);
  s->set_kind(st.rec.group ? pb::GROUP : pb::DIRECT);
  s->set_title(st.rec.title);
  for (auto& m : st.rec.members)
    s->add_member_ids(m);
  for (auto& a : st.rec.admins)
    s->add_admin_ids(a);
  s->set_last_seq(st.last_seq);
  // A member added later has nothing unread from before its join.
  read = std::max(read, hidden_up_to(st.rec, user));
  s->set_read_seq(std::min(read, st.last_seq));
  s->set_unread(st.last_seq - std::min(read, st.last_seq));
  return summary;
}

// A sync of a device connected to another node: the messages above its durable cursor (at most
// catch_up_limit) go to that node's chat service, which writes them paced as catch_up does and
// answers how far it got. Live pushes leave the connection alone meanwhile, so it still gets
// every message once and in order.
caf::result<pb::SyncResult> sync_remote(conversation_actor self, const pb::ChatEndpoint& device) {
  auto& st = self->state;
  auto& user = device.user_id();
  auto key = remote_key(device.node(), device.session_id());
  st.sent_up_to.erase(key);
  auto service = st.ctx->cluster->peer(device.node());
  if (!service)
    return make_error(errc::unavailable, "node " + device.node() + " is not a live member now");
  auto delivered = delivered_of(self, user, device.device_id());
  if (!delivered)
    return make_error(delivered.error());
  auto from = std::max(*delivered, hidden_up_to(st.rec, user));
  pb::SyncResult out;
  out.set_complete(true);
  auto up_to = st.last_seq;
  // Live pushes reach it from here on, even before the routing table lists it.
  pinned_session pin{device.node(),
                     {user, device.session_id(), device.device_id()},
                     st.ctx->clock() + remote_pin_ms};
  if (from >= up_to) {
    st.sent_up_to[key] = from;
    st.pinned[key] = std::move(pin);
    return out;
  }
  bool truncated = false;
  auto read = messages_between(self, from, up_to, catch_up_limit, truncated);
  if (!read)
    return make_error(read.error());
  pb::ChatDelivery d;
  d.set_conversation_id(st.id);
  auto* t = d.add_targets();
  t->set_user_id(user);
  t->set_session_id(device.session_id());
  t->set_after_seq(from);
  for (const live_message* m : read->items)
    add_delivered(d, st.id, *m);
  st.syncing.insert(key);
  auto rp = self->make_response_promise<pb::SyncResult>();
  self->request(service, remote_sync_timeout, sync_atom_v, std::move(d))
    .then(
      [self, rp, key, up_to, truncated, pin](pb::SyncResult& res) mutable {
        auto& st = self->state;
        st.syncing.erase(key);
        if (res.last_seq() > 0) {  // 0: the connection is gone
          st.sent_up_to[key] = res.last_seq();
          st.pinned[key] = std::move(pin);
        }
        pb::SyncResult answer;
        answer.set_messages(res.messages());
        answer.set_complete(res.complete() && !truncated);
        rp.deliver(std::move(answer));
        // Messages written while it was in flight were held back from it: pushed now.
        if (st.last_seq > up_to)
          push_to_members(self, st.last_seq);
      },
      [self, rp, key](caf::error& err) mutable {
        self->state.syncing.erase(key);
        rp.deliver(std::move(err));
      });
  return rp;
}

caf::result<pb::SyncResult> on_sync(conversation_actor self, const pb::ChatEndpoint& device) {
  auto& st = self->state;
  if (auto err = load(self))
    return err;
  auto& user = device.user_id();
  pb::SyncResult out;
  out.set_complete(true);
  if (!st.exists || st.creating || !is_member(st, user))
    return out;
  if (st.ctx->cluster && !device.node().empty() && device.node() != st.ctx->cluster->local_node())
    return sync_remote(self, device);
  // A sync starts from the device's durable cursor, re-sending what it has not acknowledged.
  st.sent_up_to.erase(device.session_id());
  // The connection may have closed while the request was on its way: nothing to write to.
  auto r = st.ctx->routes.route_of(user, device.session_id());
  if (!r)
    return out;
  auto res = catch_up(self, user, *r, st.last_seq, true);
  if (res.err)
    return make_error(res.err);
  out.set_messages(res.sent);
  out.set_complete(res.complete);
  return out;
}

caf::result<void> on_typing(conversation_actor self, const pb::TypingUpdate& req) {
  auto& st = self->state;
  auto& user = req.user_id();
  auto active = req.active();
  if (auto err = require_member(self, user))
    return err;
  pb::ServerFrame frame;
  auto* t = frame.mutable_typing();
  t->set_conversation_id(st.id);
  t->set_user_id(user);
  t->set_active(active);
  broadcast(self, st.rec.members, frame, user);
  return caf::unit;
}

pb::ConversationInspection on_inspect(conversation_actor self) {
  auto& st = self->state;
  pb::ConversationInspection out;
  out.set_conversation_id(st.id);
  out.set_loaded(st.loaded);
  out.set_exists(st.exists);
  out.set_group(st.rec.group);
  out.set_title(st.rec.title);
  out.set_members(static_cast<uint32_t>(st.rec.members.size()));
  out.set_admins(static_cast<uint32_t>(st.rec.admins.size()));
  out.set_last_seq(st.last_seq);
  out.set_recent_cached(static_cast<uint32_t>(st.recent.size()));
  out.set_queued_sends(static_cast<uint32_t>(st.queued.size()));
  out.set_pending_writes(st.pending_writes);
  out.set_devices_tracked(static_cast<uint32_t>(st.sent_up_to.size()));
  out.set_passivating(st.passivate_requested);
  return out;
}

} // namespace

conversation_api spawn_conversation(caf::actor_system& sys, chat_context_ptr ctx, std::string id) {
  return sys.spawn([ctx = std::move(ctx), id = std::move(id)](
                     conversation_actor self) mutable -> conversation_api::behavior_type {
    self->state.ctx = std::move(ctx);
    self->state.id = std::move(id);
    return {
      [self](send_atom, pb::ConversationSend& req) { return on_send(self, req); },
      [self](create_atom, const pb::GroupCreate& req) { return on_create(self, req); },
      [self](members_atom, const pb::MembersUpdate& req) { return on_members(self, req); },
      [self](receipt_atom, const pb::ReceiptUpdate& req) { return on_receipt(self, req); },
      [self](history_atom, const pb::HistoryQuery& req) { return on_history(self, req); },
      [self](summary_atom, const std::string& user) { return on_summary(self, user); },
      [self](sync_atom, const pb::ChatEndpoint& device) { return on_sync(self, device); },
      [self](typing_atom, const pb::TypingUpdate& req) { return on_typing(self, req); },
      [self](passivate_atom) {
        self->state.passivate_requested = true;
        maybe_quit(self);
      },
      [self](inspect_atom) { return on_inspect(self); },
    };
  });
}

} // namespace parley::chat
