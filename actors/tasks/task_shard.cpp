#include "actors/tasks/task_shard.hpp"

#include "actors/tasks/task_reads.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "actors/tasks/lease_clock.hpp"
#include "actors/tasks/task_ids.hpp"
#include "actors/tasks/task_caller.hpp"
#include "actors/tasks/task_metrics.hpp"
#include "actors/tasks/task_rules.hpp"
#include "actors/tasks/task_state.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/utf8.hpp"

#include <caf/all.hpp>
#include <google/protobuf/util/time_util.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <functional>
#include <map>
#include <unordered_map>

namespace parley::tasks {

namespace {

using google::protobuf::util::TimeUtil;
using T = pb::Task;

constexpr size_t load_page = 5000;
constexpr size_t max_error_bytes = 2000;
// A timer or expiry that could not be written because storage failed runs again after this, in ms.
constexpr int64_t storage_retry_ms = 1000;

// A task the shard holds in memory: while it is due within the window, SCHEDULED, RUNNING, or
// has a write in flight. The record is held without its payload, which is kept apart, encoded
// as stored (task_store::take_payload), so that the copies each transition makes of the record
// carry no payload. It counts against the node's max_memory_payload_bytes; past that budget it
// is not held at all ("cold") and is read from storage when a lease or a rewrite needs it
// (payloads never change after the create is durable, but for a push's preview at its end).
struct hot_task {
  hot_task(pb::StoredTask r, std::atomic<int64_t>& held) : rec(std::move(r)), held_(&held) {
    take_payload();
  }
  hot_task(hot_task&& o) noexcept
    : rec(std::move(o.rec)),
      payload(std::move(o.payload)),
      payload_bytes(o.payload_bytes),
      writes(o.writes),
      lease(o.lease),
      payload_cold(o.payload_cold),
      charged(o.charged),
      held_(o.held_) {
    o.charged = 0;
  }
  hot_task& operator=(hot_task&&) = delete;
  ~hot_task() { release(); }

  void release() {
    if (charged > 0)
      *held_ -= charged;
    charged = 0;
  }

  // Moves the payload of `rec` (as just read or created) into `payload`.
  void take_payload() {
    payload_bytes = rec.has_payload() ? static_cast<int64_t>(rec.payload().ByteSizeLong()) : 0;
    payload = storage::task_store::take_payload(rec);
  }

  pb::StoredTask rec;  // without its payload
  std::string payload;  // the payload field as stored; empty when cold (or the task has none)
  int64_t payload_bytes = 0;  // the payload's own size, as the memory budget counts it
  int writes = 0;    // writes of this task not yet durable
  lease_clock lease;  // held while RUNNING (or CANCELLED with its worker not yet told)
  bool payload_cold = false;  // payload not held: storage has it
  int64_t charged = 0;        // payload bytes counted in payload_bytes_held
  std::atomic<int64_t>* held_;
};

// A position in the due index: (time, task id). Everything at or before it is in memory.
using due_position = std::pair<int64_t, std::string>;

struct shard_state {
  tasks_context_ptr ctx;
  uint32_t shard = 0;
  std::unordered_map<std::string, hot_task> hot;
  std::multimap<int64_t, std::string> timers;  // PENDING and RETRYING tasks by next_run_at
  lease_checks leases;                         // the expiries of the leases held
  int64_t armed_at = LLONG_MAX;                // the earliest wake already on its way
  due_position loaded{LLONG_MIN, {}};
  // Creates waiting for an earlier create with the same idempotency key to become durable.
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<pb::CreatedTask>>>
    keys_in_flight;
  int writes_in_flight = 0;
  bool passivating = false;

  static inline const char* name = "parley.task_shard";
};

using shard_actor = task_shard_impl::stateful_base<shard_state>;

uint64_t random_u64() {
  uint64_t r = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
  return r;
}

bool waiting(const pb::StoredTask& t) {
  return t.status() == T::PENDING || t.status() == T::RETRYING;
}

bool in_window(const shard_state& st, const pb::StoredTask& t) {
  return due_position{t.next_run_at_ms(), t.id()} <= st.loaded;
}

// A waiting task whose time has come becomes SCHEDULED in the same write.
void settle(pb::StoredTask& t, int64_t now) {
  if (waiting(t) && t.next_run_at_ms() <= now)
    t.set_status(T::SCHEDULED);
}

void arm_wake(shard_actor* self) {
  auto& st = self->state;
  auto next = std::min<int64_t>(st.timers.empty() ? LLONG_MAX : st.timers.begin()->first,
                                st.leases.next_check());
  if (next == LLONG_MAX || next >= st.armed_at)
    return;
  st.armed_at = next;
  auto delay = std::max<int64_t>(next - self->state.ctx->clock(), 0);
  self->delayed_send(self, std::chrono::milliseconds{delay}, wake_atom_v, next);
}

void add_ready(pb::ReadyTasks& out, const pb::StoredTask& t) {
  auto& r = *out.add_tasks();
  r.set_id(t.id());
  r.set_task_type(t.task_type());
  r.set_owner(t.owner());
  r.set_priority(t.priority());
  r.set_due_ms(t.next_run_at_ms());
}

// Keeps the payload of a record just read from storage (or created) in memory if the node's
// budget allows, else drops it from memory.
void hold_payload(shard_state& st, hot_task& h) {
  h.release();
  h.payload_cold = false;
  auto& held = st.ctx->payload_bytes_held;
  auto n = h.payload_bytes;
  if (held.fetch_add(n) + n > st.ctx->opts.max_memory_payload_bytes) {
    held -= n;
    std::string{}.swap(h.payload);
    h.payload_cold = true;
    return;
  }
  h.charged = n;
}

// The payload field of a task held cold, from storage.
result<std::string> load_payload(const shard_state& st, const std::string& id) {
  auto rec = st.ctx->store->get(id);
  if (!rec)
    return std::move(rec).take_error();
  if (!*rec)
    return make_fault(errc::internal, "task " + id + " vanished from storage");
  return storage::task_store::take_payload(**rec);
}

// The payload of `h` (held, or read back from storage when cold).
fault read_payload(const shard_state& st, const hot_task& h, google::protobuf::Value& out) {
  auto loaded = h.payload_cold ? load_payload(st, h.rec.id()) : result<std::string>{std::string{}};
  if (!loaded)
    return loaded.error();
  auto& field = h.payload_cold ? *loaded : h.payload;
  if (!field.empty() && !storage::task_store::read_payload(field, out))
    return make_fault(errc::internal, "payload of task " + h.rec.id() + " does not parse");
  return {};
}

// The record with its payload, for answers that show the task; the storage fault when a payload
// held cold cannot be read back (never the task without it).
result<pb::StoredTask> full_record(const shard_state& st, const hot_task& h) {
  auto out = h.rec;
  if (auto err = read_payload(st, h, *out.mutable_payload()))
    return err;
  if (!h.payload_cold && h.payload.empty())
    out.clear_payload();
  return out;
}

bool final_status(task_status s) {
  return s == T::COMPLETED || s == T::DEAD || s == T::CANCELLED;
}

// A chat push carries a preview of the message for the provider; once the push is over
// (delivered, dead or cancelled) the stored record keeps no message text (docs/tasks.md).
// `field`: the push's payload as stored, rewritten without the preview.
void forget_message_text(const pb::StoredTask& r, std::string& field) {
  if (r.task_type() != "push" || !final_status(r.status()) || field.empty())
    return;
  google::protobuf::Value payload;
  if (!storage::task_store::read_payload(field, payload) || !payload.has_struct_value()
      || payload.mutable_struct_value()->mutable_fields()->erase("preview") == 0)
    return;
  pb::StoredTask carrier;
  *carrier.mutable_payload() = std::move(payload);
  field = storage::task_store::take_payload(carrier);
}

// Writes `h`'s record (index entries moved from `before`), with its payload read back from
// storage if it is held cold. When that read fails nothing is added to `ws` and the fault is the
// answer: the record written without its payload would lose it.
fault write_task(shard_state& st, storage::write_set& ws, const pb::StoredTask& before,
                 hot_task& h) {
  if (!h.payload_cold) {
    forget_message_text(h.rec, h.payload);
    st.ctx->store->put(ws, st.shard, &before, h.rec, h.payload);
    return {};
  }
  auto loaded = load_payload(st, h.rec.id());
  if (!loaded) {
    spdlog::error("task shard {}: payload of {} unreadable: {}", st.shard, h.rec.id(),
                  loaded.error().message);
    return loaded.error();
  }
  forget_message_text(h.rec, *loaded);
  st.ctx->store->put(ws, st.shard, &before, h.rec, *loaded);
  return {};
}

bool unfinished(task_status s) {
  return s == T::PENDING || s == T::SCHEDULED || s == T::RUNNING || s == T::RETRYING
         || s == T::PAUSED;
}

void offer(shard_actor* self, const pb::StoredTask& t) {
  pb::ReadyTasks ready;
  add_ready(ready, t);
  self->send(self->state.ctx->broker, ready_atom_v, std::move(ready));
}

void arm_lease(shard_actor* self, hot_task& h) {
  auto& r = h.rec;
  self->state.leases.start(h.lease, r.id(), r.lease_expires_at_ms(),
                           r.started_at_ms() + int64_t{r.timeout_sec()} * 1000);
  arm_wake(self);
}

void stop_lease(shard_actor* self, hot_task& h) {
  self->state.leases.stop(h.lease);
}

// Puts a task into the in-memory structure its state calls for (timer, broker, lease).
void place(shard_actor* self, hot_task& h) {
  auto& st = self->state;
  auto& r = h.rec;
  if (waiting(r) && in_window(st, r)) {
    st.timers.emplace(r.next_run_at_ms(), r.id());
    arm_wake(self);
  } else if (r.status() == T::SCHEDULED) {
    offer(self, r);
  } else if (r.status() == T::RUNNING && !h.lease.held && h.writes == 0) {
    if (r.lease_expires_at_ms() <= self->state.ctx->clock())
      self->send(self, expire_atom_v, r.id(), r.lease_id());  // expired while we were away
    else
      arm_lease(self, h);
  }
}

bool cold(const shard_state& st, const hot_task& h) {
  auto& r = h.rec;
  if (h.writes > 0 || h.lease.held)
    return false;
  if (waiting(r))
    return !in_window(st, r);
  return r.status() != T::SCHEDULED && r.status() != T::RUNNING;
}

void maybe_evict(shard_actor* self, const std::string& id) {
  auto& st = self->state;
  auto it = st.hot.find(id);
  if (it != st.hot.end() && cold(st, it->second))
    st.hot.erase(it);
}

void maybe_quit(shard_actor* self) {
  auto& st = self->state;
  if (!st.passivating || st.writes_in_flight > 0)
    return;
  self->quit();  // the leases' clocks go with it; start-up recovers them from storage
}

// The task in memory, loaded (and placed) from storage if needed; nullptr if there is none, the
// storage fault if it cannot be read.
result<hot_task*> find(shard_actor* self, const std::string& id) {
  auto& st = self->state;
  if (auto it = st.hot.find(id); it != st.hot.end())
    return &it->second;
  if (shard_of(id) != st.shard)
    return nullptr;
  auto rec = st.ctx->store->get(id);
  if (!rec)
    return std::move(rec).take_error();
  if (!*rec)
    return nullptr;
  auto& h = st.hot.emplace(id, hot_task{std::move(**rec), st.ctx->payload_bytes_held}).first->second;
  hold_payload(st, h);
  place(self, h);
  return &h;
}

fault no_task(const std::string& id) {
  return make_fault(errc::not_found, "no task " + id);
}

// One durable change: the records of `before` were already changed in memory; `done` runs once
// the write is durable (err empty) or failed (the in-memory records are rolled back). With
// `failed` (preparing the write failed) nothing is written: it fails at once.
using change_set = std::vector<pb::StoredTask>;  // the records as they were before

void persist(shard_actor* self, change_set before_set, storage::write_set ws,
             std::function<void(const fault&)> done_fn, fault failed = {}) {
  auto& st = self->state;
  std::vector<task_status> after;
  std::vector<std::string> owners;
  for (auto& b : before_set) {
    auto& h = st.hot.at(b.id());
    ++h.writes;
    after.push_back(h.rec.status());
    owners.push_back(h.rec.owner());
  }
  ++st.writes_in_flight;
  // Shared by both response handlers: records carry payloads, copies are not free.
  auto before = std::make_shared<const change_set>(std::move(before_set));
  auto done = std::make_shared<const std::function<void(const fault&)>>(std::move(done_fn));
  auto finish = [self, before, done, after = std::move(after),
                 owners = std::move(owners)](const fault& err) {
    auto& st = self->state;
    --st.writes_in_flight;
    for (size_t i = 0; i < before->size(); ++i) {
      auto& b = (*before)[i];
      auto it = st.hot.find(b.id());
      if (it == st.hot.end())
        continue;
      --it->second.writes;
      if (!err) {
        instruments().moved(b.status(), after[i]);
        // A create counted itself when it was admitted (create()); the node's tasks never count.
        auto delta = int{unfinished(after[i])} - int{unfinished(b.status())};
        if (b.status() != T::STATUS_UNSPECIFIED && !owners[i].empty() && delta != 0)
          st.ctx->unfinished.add(owners[i], delta);
      } else if (it->second.writes == 0) {
        // Storage failed: memory goes back to what is durable, read back from the store (with
        // overlapping writes, `b` may not be it).
        auto durable = st.ctx->store->get(b.id());
        if (!durable)
          spdlog::error("task shard {}: {} not read back after a failed write, kept as it was: {}",
                        st.shard, b.id(), durable.error().message);
        if (durable && *durable) {
          it->second.rec = std::move(**durable);
          it->second.take_payload();
          hold_payload(st, it->second);
        } else {
          it->second.rec = b;  // held the same way (cold or not) as the record it replaces
        }
      }
    }
    (*done)(err);
    if (err)
      for (auto& b : *before)
        if (auto it = st.hot.find(b.id()); it != st.hot.end() && it->second.writes == 0)
          place(self, it->second);  // timer, offer or lease clock again, as the state needs
    for (auto& b : *before)
      maybe_evict(self, b.id());
    maybe_quit(self);
  };
  if (failed)
    return finish(failed);
  self->request(st.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then([finish]() { finish({}); },
          [finish](caf::error& e) {
            auto err = to_fault(e);
            spdlog::error("task shard: write failed: {}", err.message);
            finish(err);
          });
}

change_set one(pb::StoredTask&& before) {
  change_set out;
  out.push_back(std::move(before));
  return out;
}

void record_run(shard_actor* self, storage::write_set& ws, pb::StoredTask& r,
                const std::string& outcome, int64_t now) {
  self->state.ctx->store->put_run(ws, r.id(), r.run_count(), run_of(r, outcome, now));
  r.set_run_count(r.run_count() + 1);
}

// A failed attempt of a RUNNING task (worker failure or lease expiry): retry or bury.
void fail_attempt(shard_actor* self, hot_task& h, std::string error, bool retryable,
                  const std::string& outcome, storage::write_set& ws, int64_t now) {
  auto& r = h.rec;
  error = valid_utf8(error, max_error_bytes);
  r.set_last_error(error);
  record_run(self, ws, r, outcome, now);
  stop_lease(self, h);
  if (retryable && r.attempt() <= r.retry_policy().max_retries()) {
    r.set_status(T::RETRYING);
    r.set_next_run_at_ms(now + retry_delay_ms(r.retry_policy(), r.attempt(), random_u64()));
    instruments().retries.inc();
  } else {
    r.set_status(T::DEAD);
    r.set_finished_at_ms(now);
    instruments().dead.inc();
  }
  r.set_updated_at_ms(now);
}

void after_write(shard_actor* self, const std::string& id) {
  auto& st = self->state;
  if (auto it = st.hot.find(id); it != st.hot.end())
    place(self, it->second);
}

// -- create -------------------------------------------------------------------------------------

pb::CreatedTask created_task(const pb::StoredTask& task, bool created) {
  pb::CreatedTask out;
  *out.mutable_task() = task;
  out.set_created(created);
  return out;
}

void answer_key_waiters(shard_actor* self, const std::string& key, const fault& err,
                        const pb::StoredTask& task) {
  auto& st = self->state;
  auto it = st.keys_in_flight.find(key);
  if (it == st.keys_in_flight.end())
    return;
  auto waiters = std::move(it->second);
  st.keys_in_flight.erase(it);
  for (auto& w : waiters) {
    if (err)
      w.deliver(make_error(err));
    else
      w.deliver(created_task(task, false));
  }
}

bool reserved_type(const std::string& type) {
  return type == "http" || type == "push";
}

caf::result<pb::CreatedTask> create(shard_actor* self, const pb::CreateTask& msg) {
  auto& st = self->state;
  auto now = self->state.ctx->clock();
  auto& caller = msg.caller();
  pb::StoredTask rec;
  if (auto err = prepare_task(msg.request(), now, st.ctx->opts.max_payload_bytes, rec))
    return make_error(err);
  if (reserved_type(rec.task_type()) && !caller.admin() && !caller.node())
    return make_error(errc::forbidden,
                      "task_type " + rec.task_type() + " is reserved: only admins create it");
  rec.set_owner(caller.node() ? std::string{} : caller.user());
  auto& owner = rec.owner();
  auto key = rec.idempotency_key().empty()
               ? std::string{}
               : storage::task_store::scoped_key(owner, rec.idempotency_key());
  if (!key.empty()) {
    if (auto it = st.keys_in_flight.find(key); it != st.keys_in_flight.end()) {
      auto rp = self->make_response_promise<pb::CreatedTask>();
      it->second.push_back(rp);
      return rp;
    }
    auto existing = st.ctx->store->id_for_key(owner, rec.idempotency_key());
    if (!existing)
      return make_error(existing.error());
    if (auto& id = *existing) {
      auto h = find(self, *id);
      if (!h)
        return make_error(h.error());
      if (!*h)
        return make_error(no_task(*id));
      auto copy = full_record(st, **h);
      maybe_evict(self, *id);
      if (!copy)
        return make_error(copy.error());
      // The original create may have been refused after it was stored (a closed write fence, a
      // backup that had not confirmed it): writing its key entry again is a barrier, replicated
      // in order after it, so the existing task is answered only once it is as durable as a
      // new one would be.
      storage::write_set ws;
      st.ctx->store->put_key(ws, owner, rec.idempotency_key(), *id);
      auto rp = self->make_response_promise<pb::CreatedTask>();
      self->request(st.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
        .then([rp, reply = created_task(*copy, false)]() mutable { rp.deliver(std::move(reply)); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    }
  }
  // Counted from here (released if the write fails); persist() follows it from then on.
  bool counted = !owner.empty();
  if (counted && !st.ctx->unfinished.try_add(owner, st.ctx->opts.max_waiting_per_owner))
    return make_error(errc::rate_limited,
                      "too many unfinished tasks: at most "
                        + std::to_string(st.ctx->opts.max_waiting_per_owner)
                        + " per user (tasks.max_waiting_per_owner)");
  if (!key.empty())
    st.keys_in_flight[key];
  rec.set_id(new_task_id(now, st.shard));
  settle(rec, now);
  auto id = rec.id();
  storage::write_set ws;
  st.ctx->store->put(ws, st.shard, nullptr, rec);
  auto reply_copy = rec;  // the answer shows the payload even if memory cannot hold it
  // Held whole until durable (a cold record reads its payload back from storage); the budget
  // decides once the write is done.
  st.hot.emplace(id, hot_task{std::move(rec), st.ctx->payload_bytes_held});
  pb::StoredTask none;
  none.set_id(id);  // "before" of a new task: no status
  auto rp = self->make_response_promise<pb::CreatedTask>();
  persist(self, one(std::move(none)), std::move(ws),
          [self, id, key, counted, reply_copy = std::move(reply_copy), rp](const fault& err) mutable {
            auto& st = self->state;
            auto it = st.hot.find(id);
            if (err) {
              st.hot.erase(id);
              if (counted)
                st.ctx->unfinished.add(reply_copy.owner(), -1);
              answer_key_waiters(self, key, err, {});
              rp.deliver(make_error(err));
              return;
            }
            instruments().created.inc();
            hold_payload(st, it->second);
            place(self, it->second);  // offered only now: reply_copy is still the record
            answer_key_waiters(self, key, {}, reply_copy);
            rp.deliver(created_task(reply_copy, true));
          });
  return rp;
}

// -- commands -----------------------------------------------------------------------------------

// The event a command asks for; false for a kind this shard does not know.
bool event_of(pb::TaskCommand::Kind kind, task_event& out) {
  switch (kind) {
    case pb::TaskCommand::CANCEL:
      out = task_event::cancel;
      return true;
    case pb::TaskCommand::PAUSE:
      out = task_event::pause;
      return true;
    case pb::TaskCommand::RESUME:
      out = task_event::resume;
      return true;
    case pb::TaskCommand::REQUEUE:
      out = task_event::requeue;
      return true;
    default:
      return false;
  }
}

void withdraw_offer(shard_actor* self, const std::string& id) {
  pb::WithdrawTask msg;
  msg.set_task_id(id);
  self->send(self->state.ctx->broker, withdraw_atom_v, std::move(msg));
}

caf::result<pb::StoredTask> command(shard_actor* self, const pb::TaskCommand& msg) {
  auto& st = self->state;
  task_event event;
  if (!event_of(msg.kind(), event))
    return make_error(errc::bad_request,
                      "unknown task command " + std::to_string(static_cast<int>(msg.kind())));
  auto& task_id = msg.task_id();
  auto found = find(self, task_id);
  if (!found)
    return make_error(found.error());
  auto* h = *found;
  if (h && !may_see(msg.caller(), h->rec)) {
    // Another user's task answers as if there were none: ids leak nothing.
    maybe_evict(self, task_id);
    h = nullptr;
  }
  if (!h)
    return make_error(no_task(task_id));
  auto& r = h->rec;
  task_status to;
  if (auto conflict = next_status(r.status(), event, r.paused_from(), to)) {
    maybe_evict(self, task_id);
    return make_error(conflict);
  }
  auto now = self->state.ctx->clock();
  auto before = r;
  storage::write_set ws;
  if (r.status() == T::SCHEDULED)
    withdraw_offer(self, r.id());
  switch (event) {
    case task_event::cancel:
      if (r.status() == T::RUNNING) {
        // The worker learns it from its next heartbeat; its lease clock runs on until then.
        r.set_last_error("cancelled while running");
        record_run(self, ws, r, "cancelled", now);
      }
      r.set_finished_at_ms(now);
      break;
    case task_event::pause:
      r.set_paused_from(r.status());
      break;
    case task_event::resume:
      r.set_paused_from(T::STATUS_UNSPECIFIED);
      break;
    case task_event::requeue:
      r.set_attempt(0);
      r.set_finished_at_ms(0);
      r.set_next_run_at_ms(now);
      break;
    default:
      break;
  }
  r.set_status(to);
  settle(r, now);
  r.set_updated_at_ms(now);
  auto failed = write_task(st, ws, before, *h);
  auto id = r.id();
  auto rp = self->make_response_promise<pb::StoredTask>();
  persist(self, one(std::move(before)), std::move(ws), [self, id, rp](const fault& err) mutable {
    if (err) {
      rp.deliver(make_error(err));
      return;
    }
    after_write(self, id);
    // The change is durable; a payload that cannot be read back still fails the answer.
    auto full = full_record(self->state, self->state.hot.at(id));
    if (!full)
      rp.deliver(make_error(full.error()));
    else
      rp.deliver(std::move(*full));
  }, std::move(failed));
  return rp;
}

// -- leases -------------------------------------------------------------------------------------

constexpr int64_t max_lease_ms = int64_t{task_bounds::max_lease_sec} * 1000;

caf::result<pb::LeaseResponse> grant(shard_actor* self, const pb::GrantLeases& g) {
  auto& st = self->state;
  if (g.lease_ms() < 1 || g.lease_ms() > max_lease_ms)
    return make_error(errc::bad_request, "lease_ms must be between 1 and "
                                           + std::to_string(max_lease_ms));
  auto now = self->state.ctx->clock();
  auto& caller = g.caller();
  storage::write_set ws;
  change_set before;
  std::vector<std::string> ids;
  fault read_err;  // the first task that could not be read, answered if none is leased
  for (auto& id : g.task_ids()) {
    auto found = find(self, id);
    if (!found) {
      spdlog::error("task shard {}: offered task {} unreadable: {}", st.shard, id,
                    found.error().message);
      if (!read_err)
        read_err = std::move(found).take_error();
      continue;
    }
    auto* h = *found;
    // A task offered while its SCHEDULED write is still in flight may be leased: the writer
    // applies the two writes in order, and the lease is answered only after the second.
    if (!h || h->rec.status() != T::SCHEDULED
        || (!leases_any(caller) && h->rec.owner() != caller.user())) {
      maybe_evict(self, id);
      continue;  // cancelled, paused or leased since it was offered (or not the worker's)
    }
    auto& r = h->rec;
    before.push_back(r);
    r.set_status(T::RUNNING);
    r.set_attempt(r.attempt() + 1);
    r.set_lease_id(new_lease_id(r.id()));
    r.set_lease_holder(caller.node() ? std::string{} : caller.user());
    r.set_lease_by_node(caller.node());
    r.set_worker_id(g.worker_id());
    r.set_started_at_ms(now);
    r.set_lease_ms(g.lease_ms());
    r.set_lease_expires_at_ms(std::min(now + g.lease_ms(), now + int64_t{r.timeout_sec()} * 1000));
    r.set_updated_at_ms(now);
    if (auto err = write_task(st, ws, before.back(), *h)) {
      // Logged by write_task. Not leased: it stays SCHEDULED in memory (not offered again, which
      // would only fail again) and is offered after the shard reloads it.
      r = std::move(before.back());
      before.pop_back();
      if (!read_err)
        read_err = std::move(err);
      continue;
    }
    ids.push_back(id);
  }
  if (ids.empty() && read_err)
    return make_error(read_err);
  if (ids.empty())
    return pb::LeaseResponse{};
  auto rp = self->make_response_promise<pb::LeaseResponse>();
  persist(self, std::move(before), std::move(ws), [self, ids, rp, now](const fault& err) mutable {
    if (err) {
      rp.deliver(make_error(err));  // persist() put the tasks back as the store has them
      return;
    }
    pb::LeaseResponse out;
    auto& m = instruments();
    for (auto& id : ids) {
      auto it = self->state.hot.find(id);
      if (it == self->state.hot.end())
        continue;
      auto& h = it->second;
      auto& r = h.rec;
      arm_lease(self, h);
      m.leased.inc();
      m.lateness.observe(std::max<int64_t>(now - r.next_run_at_ms(), 0) / 1000.0);
      auto& lease = *out.add_leases();
      lease.set_lease_id(r.lease_id());
      lease.set_task_id(r.id());
      lease.set_attempt(r.attempt());
      lease.set_task_type(r.task_type());
      if (h.payload.empty() && !h.payload_cold)
        lease.mutable_payload();  // as the record has it: no value
      else if (auto load_err = read_payload(self->state, h, *lease.mutable_payload()))
        spdlog::error("task shard: payload of {} unreadable: {}", id, load_err.message);
      *lease.mutable_lease_expires_at() = TimeUtil::MillisecondsToTimestamp(r.lease_expires_at_ms());
    }
    rp.deliver(std::move(out));
  });
  return rp;
}

// The running task a lease id names, or the reason it cannot act (404 unknown or not the
// caller's, 409 stale).
result<hot_task*> leased_task(shard_actor* self, const task_caller& caller,
                              const std::string& lease_id) {
  auto no_lease = [&lease_id] { return make_fault(errc::not_found, "no lease " + lease_id); };
  auto id = task_of_lease(lease_id);
  if (!id)
    return no_lease();
  auto found = find(self, *id);
  if (!found)
    return std::move(found).take_error();
  auto* h = *found;
  if (!h)
    return no_lease();
  auto& r = h->rec;
  // Only the token that took the lease acts under it; to anyone else it does not exist (an old
  // lease of the task: to anyone who could not have taken it).
  bool current = r.lease_id() == lease_id;
  if (current ? !holds(caller, r)
              : !(leases_any(caller) || (!caller.user().empty() && r.owner() == caller.user())))
    return no_lease();
  if (!current)
    return make_fault(errc::conflict, "lease " + lease_id + " is stale: task " + r.id() + " is "
                                        + std::string{to_string(r.status())}
                                        + (r.lease_id().empty() ? "" : " under a newer lease"));
  if (r.status() == T::RUNNING && !h->lease.held) {
    // Its lease clock already ran out, or this shard was restarted.
    if (r.lease_expires_at_ms() <= self->state.ctx->clock())
      return make_fault(errc::conflict, "lease " + lease_id + " has expired");
    arm_lease(self, *h);
  }
  return h;
}

// Drops what a refused call under an old lease loaded into memory.
void forget_refused(shard_actor* self, const std::string& lease_id) {
  if (auto id = task_of_lease(lease_id))
    maybe_evict(self, *id);
}

caf::result<pb::HeartbeatResponse> heartbeat(shard_actor* self, const pb::HeartbeatLease& msg) {
  auto& lease_id = msg.lease_id();
  if (msg.lease_ms() < 0 || msg.lease_ms() > max_lease_ms)
    return make_error(errc::bad_request, "lease_ms must be between 0 and "
                                           + std::to_string(max_lease_ms));
  auto found = leased_task(self, msg.caller(), lease_id);
  if (!found) {
    forget_refused(self, lease_id);
    return make_error(found.error());
  }
  auto& h = **found;
  auto& r = h.rec;
  bool cancelled = r.status() == T::CANCELLED;
  if ((r.status() != T::RUNNING && !cancelled) || !h.lease.held) {
    auto status = std::string{to_string(r.status())};
    forget_refused(self, lease_id);
    return make_error(errc::conflict, "lease " + lease_id + " is no longer held: task is " + status);
  }
  auto extend = cancelled ? 0 : (msg.lease_ms() > 0 ? msg.lease_ms() : r.lease_ms());
  auto expires = lease_checks::extend(h.lease, self->state.ctx->clock(), extend);
  if (!expires)  // ran out, and its check has not come round yet: the lease is lost
    return make_error(errc::conflict, "lease " + lease_id + " has expired");
  pb::HeartbeatResponse out;
  *out.mutable_lease_expires_at() = TimeUtil::MillisecondsToTimestamp(*expires);
  out.set_cancel_requested(cancelled);
  return out;
}

// What became of one completion or failure.
struct finish_result {
  fault refused;  // nothing recorded, and why
  task_status status = T::STATUS_UNSPECIFIED;
  int64_t next_run_at_ms = 0;  // when a task that waits again runs next
};

using finish_results = std::vector<finish_result>;

// The running task a completion or failure acts on, or why it is refused.
result<hot_task*> finishable(shard_actor* self, const pb::FinishLease& msg) {
  auto found = leased_task(self, msg.caller(), msg.lease_id());
  if (!found)
    return found;
  auto& r = (*found)->rec;
  if (r.status() == T::CANCELLED)
    return make_fault(errc::conflict,
                      "task " + r.id() + " was cancelled: its result is not recorded");
  if (r.status() != T::RUNNING || (*found)->writes > 0)
    return make_fault(errc::conflict, "task " + r.id() + " is "
                                        + std::string{to_string(r.status())}
                                        + ": this lease's work is already recorded");
  return found;
}

// Applies one completion or failure to `h` in memory and to `ws`. A fault: applied in memory
// but not to `ws` (the task's payload could not be read back), so the whole batch must fail and
// be rolled back.
fault apply_finish(shard_actor* self, hot_task& h, pb::FinishLease& msg, storage::write_set& ws,
                   change_set& before, int64_t now) {
  auto& r = h.rec;
  before.push_back(r);
  if (msg.success()) {
    *r.mutable_result() = std::move(*msg.mutable_result());
    r.set_last_error("");
    stop_lease(self, h);
    auto next = is_recurring(r) ? next_firing(r, std::max(now, r.next_run_at_ms())) : -1;
    if (next >= 0) {
      record_run(self, ws, r, "completed", now);
      r.set_status(T::PENDING);
      r.set_attempt(0);
      r.set_next_run_at_ms(next);
    } else {
      // The record keeps this run (it never changes again): one write fewer per completion.
      r.set_final_run_in_record(true);
      r.set_status(T::COMPLETED);
      r.set_finished_at_ms(now);
    }
    r.set_updated_at_ms(now);
    instruments().completed.inc();
  } else {
    fail_attempt(self, h, msg.error(), msg.retryable(), "failed", ws, now);
  }
  return write_task(self->state, ws, before.back(), h);
}

// Completions and failures of one batch share one durable write; `done` gets one result per
// finish, in order, once it is durable (refusals need no write: they are known at once).
void finish(shard_actor* self, google::protobuf::RepeatedPtrField<pb::FinishLease>& batch,
            std::function<void(finish_results)> done) {
  auto now = self->state.ctx->clock();
  storage::write_set ws;
  change_set before;
  finish_results results(static_cast<size_t>(batch.size()));
  std::vector<size_t> accepted;
  std::vector<std::string> refused;
  fault failed;  // the batch cannot be written: each accepted finish gets this
  for (int i = 0; i < batch.size(); ++i) {
    auto& msg = batch[i];
    auto target = finishable(self, msg);
    if (!target) {
      results[static_cast<size_t>(i)].refused = target.error();
      refused.push_back(msg.lease_id());
      continue;
    }
    if (auto err = apply_finish(self, **target, msg, ws, before, now); err && !failed)
      failed = std::move(err);
    accepted.push_back(static_cast<size_t>(i));
  }
  // Evicted only after persist() counted this batch's writes: a lease repeated in one batch
  // names a task that must stay in memory until its write is done.
  auto forget = [self, refused = std::move(refused)] {
    for (auto& lease_id : refused)
      forget_refused(self, lease_id);
  };
  if (accepted.empty()) {
    forget();
    return done(std::move(results));
  }
  std::vector<std::string> accepted_ids;
  for (auto i : accepted)
    accepted_ids.push_back(*task_of_lease(batch[static_cast<int>(i)].lease_id()));
  persist(self, std::move(before), std::move(ws),
          [self, accepted = std::move(accepted), accepted_ids = std::move(accepted_ids),
           results = std::move(results), done = std::move(done)](const fault& err) mutable {
            for (size_t k = 0; k < accepted.size(); ++k) {
              auto& out = results[accepted[k]];
              if (err) {
                out.refused = err;
                continue;
              }
              after_write(self, accepted_ids[k]);
              auto& r = self->state.hot.at(accepted_ids[k]).rec;
              out.status = r.status();
              out.next_run_at_ms = waiting(r) ? r.next_run_at_ms() : 0;
            }
            done(std::move(results));
          },
          std::move(failed));
  forget();
}

pb::LeaseOutcome lease_outcome(const finish_result& r) {
  pb::LeaseOutcome out;
  out.set_status(r.status);
  if (r.next_run_at_ms > 0)
    *out.mutable_next_run_at() = TimeUtil::MillisecondsToTimestamp(r.next_run_at_ms);
  return out;
}

caf::result<pb::LeaseOutcome> finish_one(shard_actor* self, pb::FinishLease& msg) {
  google::protobuf::RepeatedPtrField<pb::FinishLease> batch;
  batch.Add(std::move(msg));
  auto rp = self->make_response_promise<pb::LeaseOutcome>();
  finish(self, batch, [rp](finish_results results) mutable {
    auto& r = results.front();
    if (r.refused)
      rp.deliver(make_error(r.refused));
    else
      rp.deliver(lease_outcome(r));
  });
  return rp;
}

caf::result<pb::FinishOutcomes> finish_many(shard_actor* self, pb::FinishLeases& msg) {
  auto rp = self->make_response_promise<pb::FinishOutcomes>();
  std::vector<std::string> lease_ids;
  for (auto& f : msg.finishes())
    lease_ids.push_back(f.lease_id());
  finish(self, *msg.mutable_finishes(),
         [rp, lease_ids = std::move(lease_ids)](finish_results results) mutable {
           pb::FinishOutcomes out;
           for (size_t i = 0; i < results.size(); ++i) {
             auto& o = *out.add_outcomes();
             o.set_lease_id(lease_ids[i]);
             auto& r = results[i];
             if (r.refused) {
               o.mutable_refused()->set_code(std::string{to_string(r.refused.code)});
               o.mutable_refused()->set_message(r.refused.message);
             } else {
               *o.mutable_done() = lease_outcome(r);
             }
           }
           rp.deliver(std::move(out));
         });
  return rp;
}

// Leases whose worker went away before it heard of them: each task still RUNNING under its lease
// (and without a write in flight) goes back to SCHEDULED as if it had not been leased, in one
// durable write, and is offered again. Anything else (finished, expired, leased anew) stays.
caf::result<void> revoke(shard_actor* self, const pb::RevokeLeases& msg) {
  auto& st = self->state;
  auto now = st.ctx->clock();
  storage::write_set ws;
  change_set before;
  std::vector<std::string> ids;
  fault failed;  // the batch cannot be written
  for (auto& lease_id : msg.lease_ids()) {
    auto found = leased_task(self, msg.caller(), lease_id);
    task_status to;
    if (!found || (*found)->writes > 0
        || next_status((*found)->rec.status(), task_event::revoke, T::STATUS_UNSPECIFIED, to)) {
      forget_refused(self, lease_id);
      continue;  // finished, cancelled, expired or leased anew meanwhile: nothing to take back
    }
    auto& h = **found;
    auto& r = h.rec;
    before.push_back(r);
    r.set_status(to);
    r.set_attempt(r.attempt() - 1);
    r.clear_lease_id();
    r.clear_lease_holder();
    r.clear_lease_by_node();
    r.clear_worker_id();
    r.clear_started_at_ms();
    r.clear_lease_ms();
    r.clear_lease_expires_at_ms();
    r.set_updated_at_ms(now);
    if (auto err = write_task(st, ws, before.back(), h)) {
      // Logged by write_task; the lease stays granted and runs out as any other.
      r = std::move(before.back());
      before.pop_back();
      if (!failed)
        failed = std::move(err);
      continue;
    }
    stop_lease(self, h);
    ids.push_back(r.id());
  }
  if (ids.empty())
    return failed ? caf::result<void>{make_error(failed)} : caf::result<void>{};
  auto rp = self->make_response_promise<caf::unit_t>();
  persist(self, std::move(before), std::move(ws), [self, ids, rp](const fault& err) mutable {
    if (err) {
      rp.deliver(make_error(err));  // persist() put the tasks back as the store has them
      return;
    }
    for (auto& id : ids)
      after_write(self, id);  // offered again
    rp.deliver(caf::unit);
  });
  return rp;
}

void expire(shard_actor* self, const std::string& task_id, const std::string& lease_id) {
  auto& st = self->state;
  auto it = st.hot.find(task_id);
  if (it == st.hot.end() || it->second.rec.lease_id() != lease_id)
    return;
  auto& h = it->second;
  stop_lease(self, h);  // normally stopped already: its clock ran out
  if (h.rec.status() != T::RUNNING) {
    maybe_evict(self, task_id);
    return;
  }
  if (h.writes > 0) {
    // A completion is on its way to storage; if it fails, the lease is gone anyway.
    return;
  }
  auto now = self->state.ctx->clock();
  auto before = h.rec;
  storage::write_set ws;
  instruments().lease_expiries.inc();
  fail_attempt(self, h, "lease expired", true, "lease_expired", ws, now);
  if (auto err = write_task(st, ws, before, h)) {
    // Logged by write_task; the expiry is tried again later, unless the record is corrupt (it
    // would fail the same way every time: the task stays RUNNING until it is repaired).
    h.rec = std::move(before);
    if (err.code != errc::internal)
      self->delayed_send(self, std::chrono::milliseconds{storage_retry_ms}, expire_atom_v,
                         task_id, lease_id);
    return;
  }
  persist(self, one(std::move(before)), std::move(ws), [self, task_id](const fault& err) {
    if (!err)
      after_write(self, task_id);
  });
}

// -- time ---------------------------------------------------------------------------------------

// Leases whose time has run out fail their attempt (a heartbeat may have moved their expiry: then
// they are checked again later).
void process_expiries(shard_actor* self) {
  auto& st = self->state;
  auto expired = st.leases.take_expired(st.ctx->clock(), [&st](const std::string& id) {
    auto it = st.hot.find(id);
    return it == st.hot.end() ? nullptr : &it->second.lease;
  });
  for (auto& id : expired)
    if (auto it = st.hot.find(id); it != st.hot.end())
      expire(self, id, std::string{it->second.rec.lease_id()});
  arm_wake(self);
}

// Waiting tasks whose time has come become SCHEDULED (one write for all), then are offered.
void process_due(shard_actor* self) {
  auto& st = self->state;
  auto now = self->state.ctx->clock();
  storage::write_set ws;
  change_set before;
  std::vector<std::string> ids;
  while (!st.timers.empty() && st.timers.begin()->first <= now) {
    auto id = std::move(st.timers.begin()->second);
    st.timers.erase(st.timers.begin());
    auto it = st.hot.find(id);
    if (it == st.hot.end())
      continue;
    auto& r = it->second.rec;
    if (!waiting(r) || r.next_run_at_ms() > now || it->second.writes > 0)
      continue;  // moved on since the timer was set (its new state placed it again)
    before.push_back(r);
    r.set_status(T::SCHEDULED);
    r.set_updated_at_ms(now);
    if (auto err = write_task(st, ws, before.back(), it->second)) {
      // Logged by write_task; still waiting, its timer fires again a little later (not when the
      // record is corrupt: that would fail the same way every time, until it is repaired).
      r = std::move(before.back());
      before.pop_back();
      if (err.code != errc::internal)
        st.timers.emplace(now + storage_retry_ms, std::move(id));
      continue;
    }
    ids.push_back(std::move(id));
  }
  arm_wake(self);
  if (ids.empty())
    return;
  // Offered at once: a lease needs its own durable write anyway, which the writer orders after
  // this one, so waiting for this fsync would only add to the tasks' lateness.
  pb::ReadyTasks ready;
  for (auto& id : ids)
    add_ready(ready, st.hot.at(id).rec);
  self->send(st.ctx->broker, ready_atom_v, std::move(ready));
  // On failure persist() puts the records back as the store has them, with timers again.
  persist(self, std::move(before), std::move(ws), [](const fault&) {});
}

// Advances the in-memory window over the due index up to now + shard_window_ms.
void load_window(shard_actor* self) {
  auto& st = self->state;
  auto target = self->state.ctx->clock() + shard_window_ms;
  if (st.loaded.first >= target)
    return;
  auto due = st.ctx->store->due(st.shard, st.loaded.first, st.loaded.second, target, load_page);
  if (!due) {
    spdlog::error("task shard {}: due index unreadable: {}", st.shard, due.error().message);
    return;
  }
  auto& entries = *due;
  // Move the position first: place() decides by it whether a waiting task joins the timers.
  auto before_load = st.loaded;
  if (entries.size() == load_page)
    st.loaded = due_position{entries.back().at_ms, entries.back().id};
  else
    st.loaded = due_position{target - 1, std::string(1, '\x7f')};
  for (size_t i = 0; i < entries.size(); ++i) {
    auto& e = entries[i];
    if (auto it = st.hot.find(e.id); it != st.hot.end()) {
      // In memory already. A waiting one that was held outside the window (say by a late
      // call under an old lease) has no timer yet: it gets one now (duplicates are harmless).
      if (waiting(it->second.rec) && it->second.rec.next_run_at_ms() == e.at_ms)
        place(self, it->second);
      continue;
    }
    if (auto found = find(self, e.id); !found) {
      auto& find_err = found.error();
      spdlog::error("task shard {}: due task {} unreadable: {}", st.shard, e.id,
                    find_err.message);
      if (find_err.code != errc::internal) {
        // Storage may answer again: the window stops before this task, the next tick retries.
        st.loaded = i == 0 ? before_load : due_position{entries[i - 1].at_ms, entries[i - 1].id};
        process_due(self);
        return;
      }
      // A corrupt record (counted where it was found) stays unscheduled until it is repaired.
    }
    maybe_evict(self, e.id);
  }
  if (entries.size() == load_page)
    self->send(self, tick_atom_v);  // more to load: continue after pending messages
  process_due(self);
}

// Recovery of leases: this shard's RUNNING tasks get their lease clock again, or fail their
// attempt when the lease they were granted has run out meanwhile.
void recover_running(shard_actor* self) {
  auto& st = self->state;
  std::string after;
  for (;;) {
    auto ids = st.ctx->store->ids(pb::Task::RUNNING, after, load_page);
    if (!ids) {
      spdlog::error("task shard {}: status index unreadable: {}", st.shard, ids.error().message);
      return;
    }
    for (auto& id : *ids) {
      if (shard_of(id) != st.shard)
        continue;
      if (auto found = find(self, id); !found)  // places it: lease clock, or an expiry
        spdlog::error("task shard {}: running task {} unreadable, its lease is not recovered: {}",
                      st.shard, id, found.error().message);
    }
    if (ids->size() < load_page)
      return;
    after = ids->back();
  }
}

pb::TaskShardInspection inspect(shard_actor* self) {
  auto& st = self->state;
  pb::TaskShardInspection out;
  out.set_shard(st.shard);
  out.set_tasks_in_memory(static_cast<uint32_t>(st.hot.size()));
  auto& by_status = *out.mutable_by_status();
  uint32_t leases = 0;
  for (auto& [id, t] : st.hot) {
    ++by_status[pb::Task::Status_Name(t.rec.status())];
    if (t.lease.held)
      ++leases;
  }
  out.set_timers(static_cast<uint32_t>(st.timers.size()));
  out.set_next_wake_ms(st.armed_at == LLONG_MAX ? 0 : st.armed_at);
  out.set_leases(leases);
  out.set_keys_in_flight(static_cast<uint32_t>(st.keys_in_flight.size()));
  out.set_writes_in_flight(st.writes_in_flight);
  out.set_passivating(st.passivating);
  return out;
}

task_shard_impl::behavior_type shard_behavior(shard_actor* self, tasks_context_ptr ctx,
                                              uint32_t shard) {
  self->state.ctx = std::move(ctx);
  self->state.shard = shard;
  recover_running(self);
  self->send(self, tick_atom_v);  // load the window (and recover) before anything waits long
  return {
    [self](create_atom, const pb::CreateTask& msg) { return create(self, msg); },
    [self](command_atom, const pb::TaskCommand& msg) { return command(self, msg); },
    [self](lease_atom, const pb::GrantLeases& g) { return grant(self, g); },
    [self](heartbeat_atom, const pb::HeartbeatLease& msg) { return heartbeat(self, msg); },
    [self](finish_atom, pb::FinishLease& msg) { return finish_one(self, msg); },
    [self](finish_atom, pb::FinishLeases& msg) { return finish_many(self, msg); },
    [self](revoke_atom, const pb::RevokeLeases& msg) { return revoke(self, msg); },
    [self](tick_atom) { load_window(self); },
    [self](read_atom, const pb::TaskRead& q) -> caf::result<pb::Task> {
      pb::Task out;
      if (auto err = read_task(*self->state.ctx, q.caller(), q.task_id(), out))
        return make_error(err);
      return out;
    },
    [self](read_atom, const pb::TaskRunsRead& q) -> caf::result<pb::TaskRuns> {
      pb::TaskRuns out;
      if (auto err = read_runs(*self->state.ctx, q.caller(), q.task_id(), out))
        return make_error(err);
      return out;
    },
    [self](read_atom, const pb::TaskListRead& q) -> caf::result<pb::TaskList> {
      pb::TaskList out;
      if (auto err = list_tasks(*self->state.ctx, q.caller(), to_query(q), out))
        return make_error(err);
      return out;
    },
    [self](expire_atom, const std::string& task_id, const std::string& lease_id) {
      expire(self, task_id, lease_id);
    },
    [self](wake_atom, int64_t at) {
      // Only the wake armed last clears the mark; older ones just process what is due.
      if (at == self->state.armed_at)
        self->state.armed_at = LLONG_MAX;
      process_expiries(self);
      process_due(self);
    },
    [self](passivate_atom) {
      self->state.passivating = true;
      maybe_quit(self);
    },
    [self](inspect_atom) { return inspect(self); },
  };
}

} // namespace

task_shard_impl spawn_task_shard(caf::actor_system& sys, tasks_context_ptr ctx, uint32_t shard) {
  return sys.spawn(shard_behavior, std::move(ctx), shard);
}

} // namespace parley::tasks
