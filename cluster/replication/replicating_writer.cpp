#include "cluster/replication/replicating_writer.hpp"

#include "actors/runtime/errors.hpp"
#include "cluster/link/link_types.hpp"
#include "cluster/link/message_bytes.hpp"
#include "cluster/replication/replica_service.hpp"
#include "common/metrics.hpp"
#include "storage/partition_copy.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace parley::cluster {

namespace {

struct writer_metrics {
  metrics::counter& shipped = metrics::global().get_counter(
    "replication_records_shipped_total", "Replicated records sent to backups (resends included)");
  metrics::counter& shipped_bytes = metrics::global().get_counter(
    "replication_bytes_shipped_total", "Bytes of replicated records sent to backups");
  metrics::counter& degraded = metrics::global().get_counter(
    "replication_degraded_acks_total",
    "Writes acknowledged without a backup that counts (the partition has none, or it is catching up)");
  metrics::counter& refused = metrics::global().get_counter(
    "replication_writes_refused_total",
    "Writes refused because a partition they touch is not primary here");
  metrics::counter& failures = metrics::global().get_counter(
    "replication_batch_failures_total", "Batches to a backup that failed or timed out");
  metrics::counter& resets = metrics::global().get_counter(
    "replication_backup_resets_total",
    "Backups erased for a copy of a partition (new, diverged, or behind a trimmed log)");
  metrics::counter& copied_bytes = metrics::global().get_counter(
    "replication_copy_bytes_total", "Bytes of partition copies sent to backups");
  metrics::counter& copies_done = metrics::global().get_counter(
    "replication_copies_total", "Partition copies a backup completed");
  metrics::gauge& copies_running = metrics::global().get_gauge(
    "replication_copies_running", "Partition copies under way from this node");
  metrics::counter& trimmed = metrics::global().get_counter(
    "replication_log_trimmed_records_total", "Records trimmed from the replication log");
  metrics::counter& paced = metrics::global().get_counter(
    "replication_catch_up_paced_total",
    "Times catch-up reads waited for cluster.replication_catch_up_bytes_per_sec");
  metrics::histogram& lag = metrics::global().get_histogram(
    "replication_ack_seconds", "From a write's local durability to its backups' confirmation",
    metrics::latency_buckets());
};

writer_metrics& instruments() {
  static writer_metrics m;
  return m;
}

using clock = std::chrono::steady_clock;

struct need {
  uint32_t partition = 0;
  uint64_t lsn = 0;
  std::string backup;
};

struct waiting_write {
  std::optional<caf::typed_response_promise<void>> reply;  // none: the writer's own (a log start)
  bool local_done = false;
  clock::time_point durable_at;
  std::vector<need> needs;
  std::vector<pb::ReplRecord> records;  // shipped once durable here
};

// One partition's records on their way to one backup.
struct stream {
  // unknown -> asking -> shipping, or -> resetting -> starting (a log start record being
  // written when the log is empty) -> copying -> shipping.
  enum class phase { unknown, asking, resetting, starting, copying, shipping };
  phase at = phase::unknown;
  uint64_t acked = 0;  // durable on the backup
  uint64_t sent = 0;   // the highest lsn sent (acked or in flight)
  std::deque<pb::ReplRecord> queue;  // durable here, not yet acked (lsn order)
  bool reported_ready = false;
  std::optional<storage::partition_copy> copy;  // while copying
  clock::time_point copy_started;
};

// Records a stream keeps in memory; older ones are read back from the log when shipped.
constexpr size_t max_queued_records = 8192;

struct backup_state {
  std::map<uint32_t, stream> streams;
  bool in_flight = false;
  bool retry_scheduled = false;
  bool copy_turn = false;  // the next request goes to a copy, if one is under way
};

struct writer_state {
  replicating_writer_options opts;
  std::unique_ptr<storage::replication_log> log;
  caf::actor link;
  std::unordered_map<uint32_t, uint64_t> last_lsn;  // the last lsn given out, per partition
  std::map<std::string, backup_state> backups;
  std::unordered_map<uint64_t, waiting_write> waiting;
  uint64_t next_ticket = 0;
  // Catch-up pacing: bytes that may be read now (negative: owed), refilled with time.
  double catch_up_budget = 0;
  clock::time_point refilled = clock::now();
  bool pacing_scheduled = false;

  static inline const char* name = "parley.replicating_writer";
};

using writer_impl = runtime::storage_writer_api::extend<
  caf::reacts_to<written_atom, uint64_t, caf::error>, caf::reacts_to<peer_link_atom, caf::actor>,
  caf::reacts_to<map_changed_atom>, caf::reacts_to<tick_atom, std::string>,
  caf::reacts_to<trim_log_atom>>;
using writer_actor = writer_impl::stateful_pointer<writer_state>;

void pump(writer_actor self, const std::string& backup);

const std::string& me(writer_actor self) {
  return self->state.opts.map->local_node();
}

caf::expected<uint64_t> last_lsn(writer_actor self, uint32_t partition) {
  auto& st = self->state;
  auto it = st.last_lsn.find(partition);
  if (it != st.last_lsn.end())
    return it->second;
  auto last = st.log->last(partition);
  if (!last)
    return make_error(last.error());
  st.last_lsn[partition] = last->lsn();
  return last->lsn();
}

// Whether `backup` counts for `partition`: the map names it and it caught up, as etcd says or
// as this writer already reported (from the report on, writes wait for it: otherwise a write
// acknowledged alone between the report and etcd's backup_ready could be missing on a backup
// that then takes over).
bool counts(writer_actor self, uint32_t partition, const partition_role& role,
            const std::string& backup) {
  if (role.backup != backup || backup.empty())
    return false;
  if (role.backup_ready)
    return true;
  auto b = self->state.backups.find(backup);
  if (b == self->state.backups.end())
    return false;
  auto s = b->second.streams.find(partition);
  return s != b->second.streams.end() && s->second.reported_ready;
}

// Whether the write's backups have it (or no longer count); a fault when a partition it touches
// moved away before it was confirmed (its new primary may not hold it).
std::optional<caf::error> outcome(writer_actor self, const waiting_write& w) {
  auto& st = self->state;
  if (!w.local_done)
    return std::nullopt;
  for (auto& n : w.needs) {
    auto role = st.opts.map->role(n.partition);
    if (role.primary != me(self))
      return make_error(errc::unavailable, "partition " + std::to_string(n.partition)
                                             + " moved to " + role.primary
                                             + " before its backup confirmed the write; retry");
    if (!counts(self, n.partition, role, n.backup))
      continue;  // that backup no longer counts: the map moved on without it
    auto b = st.backups.find(n.backup);
    if (b == st.backups.end())
      return std::nullopt;
    auto s = b->second.streams.find(n.partition);
    if (s == b->second.streams.end() || s->second.acked < n.lsn)
      return std::nullopt;
  }
  return caf::error{};
}

void deliver(writer_actor self, waiting_write& w, caf::error err) {
  auto& st = self->state;
  if (!w.reply)
    return;
  if (!err && st.opts.fence)
    if (auto closed = st.opts.fence())
      err = make_error(closed);
  if (!w.needs.empty() && !err)
    instruments().lag.observe(std::chrono::duration<double>(clock::now() - w.durable_at).count());
  if (err)
    w.reply->deliver(std::move(err));
  else
    static_cast<caf::response_promise&>(*w.reply).deliver(caf::unit);  // "done", no value
}

void settle(writer_actor self) {
  auto& st = self->state;
  // A node whose lease is in doubt acknowledges nothing (CLUSTER.md, Membership): writes that
  // wait for a backup it may never hear from again are answered now, with the fence's fault.
  auto closed = st.opts.fence ? st.opts.fence() : fault{};
  for (auto it = st.waiting.begin(); it != st.waiting.end();) {
    if (closed && it->second.local_done) {
      if (it->second.reply)
        it->second.reply->deliver(make_error(closed));
      it = st.waiting.erase(it);
      continue;
    }
    auto result = outcome(self, it->second);
    if (!result) {
      ++it;
      continue;
    }
    deliver(self, it->second, std::move(*result));
    it = st.waiting.erase(it);
  }
}

// -- the write path ------------------------------------------------------------------------------

// Why `partition` cannot be written here now, if it cannot (its last lsn loaded otherwise).
caf::error not_writable(writer_actor self, uint32_t partition) {
  auto role = self->state.opts.map->role(partition);
  if (auto last = last_lsn(self, partition); !last)
    return std::move(last.error());
  if (role.primary == me(self))
    return {};
  instruments().refused.inc();
  return make_error(errc::unavailable,
                    "partition " + std::to_string(partition) + " is not served by " + me(self)
                      + " now (its primary is "
                      + (role.primary.empty() ? std::string{"unknown"} : role.primary)
                      + "); retry shortly");
}

// Gives each share its partition's next lsn, logs it with the data in `set` and hands the batch
// to the group-commit writer; `w` hears once it is durable here and at the backups that count.
void submit(writer_actor self, storage::write_set& set,
            std::map<uint32_t, pb::ReplRecord>& shares, waiting_write w) {
  auto& st = self->state;
  bool degraded = false;
  for (auto& [partition, record] : shares) {
    auto role = st.opts.map->role(partition);
    auto lsn = st.last_lsn[partition] + 1;  // loaded above
    st.last_lsn[partition] = lsn;
    record.set_epoch(role.epoch);
    record.set_lsn(lsn);
    st.log->append(set, record);
    pb::ReplPosition at;
    at.set_partition(partition);
    at.set_epoch(role.epoch);
    at.set_lsn(lsn);
    storage::replication_log::put_applied(set, at);  // where this node stands, for a later catch-up
    if (counts(self, partition, role, role.backup))
      w.needs.push_back({partition, lsn, role.backup});
    else
      degraded = true;
    w.records.push_back(std::move(record));
  }
  if (degraded && w.reply)
    instruments().degraded.inc();
  auto ticket = st.next_ticket++;
  st.waiting.emplace(ticket, std::move(w));
  st.opts.writer->submit(std::move(set), [handle = caf::actor_cast<writer_impl>(self),
                                          ticket](const fault& err) {
    caf::anon_send(handle, written_atom_v, ticket, err ? make_error(err) : caf::error{});
  });
}

caf::result<void> write(writer_actor self, storage::write_set& set) {
  auto& st = self->state;
  auto shares = storage::split_by_partition(set, st.opts.partition_of);
  if (!shares)
    return make_error(shares.error());
  for (auto& [partition, record] : *shares)
    if (auto refused = not_writable(self, partition))
      return refused;
  waiting_write w;
  auto reply = self->make_response_promise<void>();
  w.reply = reply;
  submit(self, set, *shares, std::move(w));
  return reply;
}

// Starts an empty log with a record of no data (when this node leads the partition), so that a
// copy always ends at a record of the log a returning backup can be checked against.
void start_log(writer_actor self, uint32_t partition) {
  if (not_writable(self, partition))
    return;  // no longer primary, or its log unreadable: the copy is asked for again later
  std::map<uint32_t, pb::ReplRecord> shares;
  shares[partition].set_partition(partition);
  storage::write_set set;
  submit(self, set, shares, waiting_write{});
}

void written(writer_actor self, uint64_t ticket, caf::error& err) {
  auto& st = self->state;
  auto it = st.waiting.find(ticket);
  if (it == st.waiting.end())
    return;
  auto& w = it->second;
  if (err) {
    // Nothing of it is on disk, its lsns included: read the partitions' last lsns again.
    for (auto& r : w.records)
      st.last_lsn.erase(r.partition());
    if (w.reply)
      w.reply->deliver(std::move(err));
    st.waiting.erase(it);
    return;
  }
  w.local_done = true;
  w.durable_at = clock::now();
  std::set<std::string> touched;
  for (auto& record : w.records) {
    auto role = st.opts.map->role(record.partition());
    if (role.backup.empty())
      continue;
    auto& queue = st.backups[role.backup].streams[record.partition()].queue;
    queue.push_back(std::move(record));
    if (queue.size() > max_queued_records)
      queue.pop_front();  // in the log: read back from there when its turn comes
    touched.insert(role.backup);
  }
  w.records.clear();
  if (auto result = outcome(self, w)) {
    deliver(self, w, std::move(*result));
    st.waiting.erase(it);
  }
  for (auto& backup : touched)
    pump(self, backup);
}

// -- shipping ------------------------------------------------------------------------------------

template <class Reply, class OnReply>
void ask_backup(writer_actor self, const std::string& backup, caf::message msg, OnReply on_reply) {
  auto& st = self->state;
  auto bytes = message_to_bytes(self->system(), msg);
  if (!bytes) {
    spdlog::error("replication: a message for {} could not be written: {}", backup,
                  self->system().render(bytes.error()));
    return;
  }
  auto& b = st.backups[backup];
  b.in_flight = true;
  auto deadline = st.opts.batch_deadline;
  self
    ->request(st.link, deadline + link_grace, forward_atom_v, backup,
              std::string{replica_service_name}, std::string{},
              static_cast<int64_t>(deadline.count()), std::move(*bytes))
    .then(
      [self, backup, on_reply](std::string& reply) mutable {
        self->state.backups[backup].in_flight = false;
        auto msg = message_from_bytes(self->system(), reply);
        if (!msg || !msg->match_elements<Reply>()) {
          on_reply(caf::expected<Reply>{make_error(errc::internal, "unexpected reply")});
          return;
        }
        on_reply(caf::expected<Reply>{msg->get_as<Reply>(0)});
      },
      [self, backup, on_reply](caf::error& err) mutable {
        self->state.backups[backup].in_flight = false;
        on_reply(caf::expected<Reply>{std::move(err)});
      });
}

// A request to `backup` failed: what was in flight is asked or sent again after a pause.
// Copies under way go on (a failed slice restarts its own copy before this is called).
void retry_later(writer_actor self, const std::string& backup) {
  auto& b = self->state.backups[backup];
  for (auto& [partition, s] : b.streams)
    if (s.at == stream::phase::shipping)
      s.sent = s.acked;  // resend what was not confirmed
    else if (s.at == stream::phase::asking || s.at == stream::phase::resetting)
      s.at = stream::phase::unknown;
  if (b.retry_scheduled)
    return;
  b.retry_scheduled = true;
  self->delayed_send(self, self->state.opts.retry_delay, tick_atom_v, backup);
}

// Whether catch-up may read `bytes` more now (cluster.replication_catch_up_bytes_per_sec); if
// not, the pump of `backup` runs again once the budget allows.
bool may_catch_up(writer_actor self, const std::string& backup) {
  auto& st = self->state;
  auto rate = static_cast<double>(st.opts.catch_up_bytes_per_sec);
  if (rate <= 0)
    return true;
  auto now = clock::now();
  st.catch_up_budget = std::min(
    rate, st.catch_up_budget + rate * std::chrono::duration<double>(now - st.refilled).count());
  st.refilled = now;
  if (st.catch_up_budget > 0)
    return true;
  instruments().paced.inc();
  if (!st.pacing_scheduled) {
    st.pacing_scheduled = true;
    auto wait = std::chrono::milliseconds{
      std::max<int64_t>(10, static_cast<int64_t>(-st.catch_up_budget / rate * 1000) + 1)};
    self->delayed_send(self, wait, tick_atom_v, backup);
  }
  return false;
}

void spend_catch_up(writer_actor self, size_t bytes) {
  if (self->state.opts.catch_up_bytes_per_sec > 0)
    self->state.catch_up_budget -= static_cast<double>(bytes);
}

void acknowledged(writer_actor self, const std::string& backup, const pb::ReplAck& ack) {
  auto& st = self->state;
  auto& b = st.backups[backup];
  for (auto& at : ack.applied()) {
    auto it = b.streams.find(at.partition());
    if (it == b.streams.end())
      continue;
    auto& s = it->second;
    s.acked = std::max(s.acked, at.lsn());
    if (s.sent > at.lsn() && at.lsn() < s.acked + 1)
      s.sent = s.acked;  // the backup stopped at a gap: send again from where it stands
    while (!s.queue.empty() && s.queue.front().lsn() <= s.acked)
      s.queue.pop_front();
    auto role = st.opts.map->role(at.partition());
    auto last = st.last_lsn.find(at.partition());
    if (!s.reported_ready && role.backup == backup && !role.backup_ready
        && last != st.last_lsn.end() && s.acked >= last->second && st.opts.caught_up) {
      s.reported_ready = true;
      spdlog::info("replication: {} caught up with partition {} (lsn {})", backup,
                   at.partition(), s.acked);
      st.opts.caught_up(at.partition(), backup);
    }
  }
  settle(self);
}

// The stream of `partition` to `backup`, or nullptr when the map no longer has one.
stream* find_stream(writer_actor self, const std::string& backup, uint32_t partition) {
  auto b = self->state.backups.find(backup);
  if (b == self->state.backups.end())
    return nullptr;
  auto s = b->second.streams.find(partition);
  return s == b->second.streams.end() ? nullptr : &s->second;
}

// Takes the snapshot the copy of `partition` to `backup` is read from; an empty log gets its
// start record first (the stream waits in `starting` until it is durable).
void start_copy(writer_actor self, const std::string& backup, uint32_t partition) {
  auto& st = self->state;
  auto* found = find_stream(self, backup, partition);
  if (!found)
    return;
  auto& s = *found;
  s.at = stream::phase::starting;
  auto copy = storage::partition_copy::start(*st.opts.db, partition, st.opts.partition_of);
  if (!copy) {
    spdlog::error("replication: partition {} cannot be copied to {}: {}", partition, backup,
                  copy.error().message);
    s.at = stream::phase::unknown;
    return retry_later(self, backup);
  }
  if (copy->end().lsn() == 0) {
    auto last = last_lsn(self, partition);
    if (last && *last == 0)
      start_log(self, partition);
    return;  // its start record is on its way to disk; the next pump looks again
  }
  spdlog::info("replication: copying partition {} to {} from a snapshot at lsn {}", partition,
               backup, copy->end().lsn());
  s.copy = std::move(*copy);
  s.copy_started = clock::now();
  s.at = stream::phase::copying;
  instruments().copies_running.add(1);
}

// The copy of `partition` was applied by `backup` up to its snapshot's position: the log goes
// on from there.
void copy_done(writer_actor self, const std::string& backup, stream& s) {
  auto& copy = *s.copy;
  auto end = copy.end();
  spdlog::info("replication: {} has partition {}'s copy ({} records, {} bytes in {:.1f} s); the "
               "log goes on after lsn {}",
               backup, copy.partition(), copy.records(), copy.bytes(),
               std::chrono::duration<double>(clock::now() - s.copy_started).count(), end.lsn());
  instruments().copies_done.inc();
  instruments().copies_running.sub(1);
  s.copy.reset();
  s.at = stream::phase::shipping;
  s.acked = end.lsn();
  s.sent = end.lsn();
  pb::ReplAck ack;
  *ack.add_applied() = end;
  acknowledged(self, backup, ack);
}

void abandon_copy(stream& s) {
  if (s.copy)
    instruments().copies_running.sub(1);
  s.copy.reset();
  s.at = stream::phase::unknown;
}

// Sends the next slice of a copy to `backup`; false when there is none to send now.
bool send_copy_slice(writer_actor self, const std::string& backup) {
  auto& st = self->state;
  auto& b = st.backups[backup];
  for (auto& [partition, s] : b.streams) {
    if (s.at != stream::phase::copying)
      continue;
    if (!may_catch_up(self, backup))
      return false;
    // A slice visits a bounded number of keys; a partition with few records in a large store
    // may need several before one holds any.
    pb::ReplCopy slice;
    for (int visits = 0; visits < 8; ++visits) {
      auto next = s.copy->next(st.opts.max_batch_bytes, st.opts.copy_visits_per_slice);
      if (!next) {
        spdlog::error("replication: the copy of partition {} to {} failed: {}", partition, backup,
                      next.error().message);
        abandon_copy(s);
        retry_later(self, backup);
        return true;
      }
      for (auto& op : next->ops)
        *slice.add_ops() = std::move(op);
      if (next->done) {
        slice.set_last(true);
        *slice.mutable_end() = s.copy->end();
      }
      if (next->done || slice.ops_size() > 0)
        break;
    }
    if (slice.ops_size() == 0 && !slice.last()) {
      self->send(self, tick_atom_v, backup);  // a slice of other partitions' keys: go on soon
      return true;
    }
    auto bytes = slice.ByteSizeLong();
    spend_catch_up(self, bytes);
    instruments().copied_bytes.inc(bytes);
    slice.set_origin(me(self));
    slice.set_partition(partition);
    slice.set_primary_epoch(st.opts.map->role(partition).epoch);
    b.copy_turn = false;
    ask_backup<pb::ReplPosition>(
      self, backup, caf::make_message(replica_copy_atom_v, std::move(slice)),
      [self, backup, partition = partition](caf::expected<pb::ReplPosition> at) {
        auto* found = find_stream(self, backup, partition);
        if (!found || found->at != stream::phase::copying)
          return pump(self, backup);  // the map moved on meanwhile
        if (!at) {
          spdlog::info("replication: the copy of partition {} to {} starts over: {}", partition,
                       backup, self->system().render(at.error()));
          abandon_copy(*found);
          return retry_later(self, backup);
        }
        if (at->lsn() > 0)
          copy_done(self, backup, *found);
        pump(self, backup);
      });
    return true;
  }
  return false;
}

// Where the backup stands in `partition`, and from where the log goes on for it.
void ask_position(writer_actor self, const std::string& backup, uint32_t partition) {
  auto& s = self->state.backups[backup].streams[partition];
  s.at = stream::phase::asking;
  ask_backup<pb::ReplPosition>(
    self, backup, caf::make_message(replica_position_atom_v, partition),
    [self, backup, partition](caf::expected<pb::ReplPosition> at) {
      auto& st = self->state;
      auto* found = find_stream(self, backup, partition);
      if (!found)
        return pump(self, backup);  // the map moved on meanwhile
      auto& s = *found;
      if (!at) {
        spdlog::debug("replication: {} did not say where it stands in partition {}: {}", backup,
                      partition, self->system().render(at.error()));
        return retry_later(self, backup);
      }
      auto last = last_lsn(self, partition);
      auto first = st.log->first(partition);
      if (!last || !first)
        return retry_later(self, backup);
      // This node's log holds every record of the partition it has: all came through
      // replication, and the log was never trimmed.
      bool complete = st.opts.only_replicated && *first <= 1;
      // Its last record must be this node's record of that lsn (same epoch), and the log must
      // still hold the one after it; a backup that holds nothing takes the whole log if it is
      // complete. Anything else (a record of an epoch in which a primary that lost the partition
      // wrote, a position the trimmed log no longer reaches, data from before replication) is
      // erased, and then copied unless the whole log can follow.
      bool on_this_log = at->lsn() == 0 && at->only_replicated() && complete;
      if (at->lsn() > 0 && at->lsn() <= *last) {
        auto mine = st.log->read(partition, at->lsn(), 1);
        on_this_log = mine && !mine->empty() && mine->front().lsn() == at->lsn()
                      && mine->front().epoch() == at->epoch();
      }
      if (on_this_log && *first <= at->lsn() + 1) {
        s.at = stream::phase::shipping;
        s.acked = at->lsn();
        s.sent = at->lsn();
        pb::ReplAck ack;
        *ack.add_applied() = *at;
        acknowledged(self, backup, ack);
        return pump(self, backup);
      }
      s.at = stream::phase::resetting;
      instruments().resets.inc();
      ask_backup<pb::ReplPosition>(
        self, backup, caf::make_message(replica_reset_atom_v, partition,
                                        st.opts.map->role(partition).epoch, !complete),
        [self, backup, partition, complete](caf::expected<pb::ReplPosition> reset) {
          if (!reset)
            return retry_later(self, backup);
          auto* found = find_stream(self, backup, partition);
          if (!found || found->at != stream::phase::resetting)
            return pump(self, backup);
          if (complete) {
            spdlog::info("replication: {} takes partition {} from the start of the log", backup,
                         partition);
            found->at = stream::phase::shipping;
            found->acked = 0;
            found->sent = 0;
          } else {
            start_copy(self, backup, partition);
          }
          pump(self, backup);
        });
    });
}

// The next batch of records for `backup` from its shipping streams (the queue, older records
// from the log, paced), with the lsn each stream reaches; empty when there is nothing to send.
pb::ReplBatch next_batch(writer_actor self, const std::string& backup,
                         std::map<uint32_t, uint64_t>& sending) {
  auto& st = self->state;
  auto& b = st.backups[backup];
  pb::ReplBatch batch;
  size_t bytes = 0;
  for (auto& [partition, s] : b.streams) {
    if (s.at != stream::phase::shipping || bytes >= st.opts.max_batch_bytes)
      continue;
    auto next = s.sent + 1;
    // Older records than the queue holds (a catch-up, a resend after a copy) come from the log.
    auto queued_from = s.queue.empty() ? UINT64_MAX : s.queue.front().lsn();
    if (next < queued_from) {
      auto last = last_lsn(self, partition);
      if (last && next <= *last && may_catch_up(self, backup)) {
        auto old = st.log->read(partition, next, st.opts.max_batch_bytes - bytes);
        if (!old) {
          spdlog::error("replication: the log of partition {} cannot be read: {}", partition,
                        old.error().message);
          continue;
        }
        if (!old->empty() && old->front().lsn() != next) {
          // Trimmed past what this backup has: it gets a copy instead.
          s.at = stream::phase::unknown;
          continue;
        }
        size_t read = 0;
        for (auto& r : *old) {
          if (r.lsn() >= queued_from)
            break;
          read += r.ByteSizeLong();
          next = r.lsn() + 1;
          *batch.add_records() = std::move(r);
        }
        bytes += read;
        spend_catch_up(self, read);
      }
    }
    for (auto& r : s.queue) {
      if (bytes >= st.opts.max_batch_bytes)
        break;
      if (r.lsn() < next)
        continue;
      if (r.lsn() != next)
        break;  // not durable here yet, or still to be read from the log (paced)
      bytes += r.ByteSizeLong();
      ++next;
      *batch.add_records() = r;
    }
    if (next - 1 > s.sent)
      sending[partition] = next - 1;
  }
  instruments().shipped_bytes.inc(bytes);
  return batch;
}

void pump(writer_actor self, const std::string& backup) {
  auto& st = self->state;
  auto& b = st.backups[backup];
  if (!st.link || b.in_flight || b.retry_scheduled)
    return;
  for (auto& [partition, s] : b.streams) {
    if (s.at == stream::phase::unknown)
      return ask_position(self, backup, partition);
    if (s.at == stream::phase::starting)
      start_copy(self, backup, partition);
  }
  // Live records and copies take turns, so that neither starves the other.
  if (b.copy_turn && send_copy_slice(self, backup))
    return;
  std::map<uint32_t, uint64_t> sending;
  auto batch = next_batch(self, backup, sending);
  if (batch.records_size() == 0) {
    for (auto& [partition, s] : b.streams)
      if (s.at == stream::phase::unknown)  // its log was trimmed past it meanwhile
        return ask_position(self, backup, partition);
    send_copy_slice(self, backup);
    return;
  }
  b.copy_turn = true;
  batch.set_origin(me(self));
  for (auto& [partition, lsn] : sending) {
    b.streams[partition].sent = lsn;
    (*batch.mutable_primary_epochs())[partition] = st.opts.map->role(partition).epoch;
  }
  instruments().shipped.inc(static_cast<uint64_t>(batch.records_size()));
  ask_backup<pb::ReplAck>(self, backup, caf::make_message(replicate_atom_v, std::move(batch)),
                          [self, backup](caf::expected<pb::ReplAck> ack) {
                            if (!ack) {
                              instruments().failures.inc();
                              spdlog::debug("replication: a batch to {} failed: {}", backup,
                                            self->system().render(ack.error()));
                              return retry_later(self, backup);
                            }
                            acknowledged(self, backup, *ack);
                            if (ack->refused_size() > 0) {
                              // The backup's map disagrees (it lags, or this node's does): the
                              // other partitions went through; these are sent again shortly.
                              instruments().failures.inc();
                              return retry_later(self, backup);
                            }
                            pump(self, backup);
                          });
}

// -- trimming ------------------------------------------------------------------------------------

// Trims each partition's log to about opts.log_bytes, keeping what a backup still reading it
// needs (unless the log is four times over: then that backup gets a copy instead).
void trim_logs(writer_actor self) {
  auto& st = self->state;
  constexpr size_t max_trim_records = 20000;  // per partition and turn; the rest next turn
  auto budget = st.opts.log_bytes;
  for (uint32_t p = 0; p < st.opts.map->partitions(); ++p) {
    auto extent = st.log->measure(p);
    if (!extent) {
      spdlog::warn("replication: the log of partition {} cannot be measured: {}", p,
                   extent.error().message);
      continue;
    }
    if (extent->bytes <= budget || extent->last == 0)
      continue;
    auto count = extent->last - extent->first + 1;
    auto keep = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(count) * budget
                                                            / static_cast<double>(extent->bytes)));
    auto below = extent->last + 1 - std::min(keep, count);
    if (extent->bytes < 4 * budget)
      for (auto& [backup, b] : st.backups) {
        auto s = b.streams.find(p);
        if (s == b.streams.end())
          continue;
        if (s->second.at == stream::phase::shipping)
          below = std::min(below, s->second.acked + 1);
        else if (s->second.at == stream::phase::copying)
          below = std::min(below, s->second.copy->end().lsn() + 1);
      }
    if (below <= extent->first)
      continue;
    storage::write_set ws;
    auto n = st.log->trim(ws, p, below, max_trim_records);
    if (!n) {
      spdlog::warn("replication: the log of partition {} cannot be trimmed: {}", p,
                   n.error().message);
      continue;
    }
    instruments().trimmed.inc(*n);
    st.opts.writer->submit(std::move(ws), [p](const fault& err) {
      if (err)  // the records stay; the next turn trims them again
        spdlog::warn("replication: trimming the log of partition {} failed: {}", p, err.message);
    });
  }
}

// The map changed: streams to nodes that are no longer a partition's backup go, partitions with
// a new backup get a stream (even with no write coming, so that it catches up), and waiting
// writes are settled against the new roles.
void map_changed(writer_actor self) {
  auto& st = self->state;
  auto& map = *st.opts.map;
  // A partition this node no longer leads forgets its cached last lsn: while it is a backup the
  // replica service appends the new primary's records to the same log (or erases it for a
  // copy), so the cache would hand out lsns already in the log when the node leads again,
  // overwriting records a backup catching up then never gets (found by the checker, issue 15).
  for (auto it = st.last_lsn.begin(); it != st.last_lsn.end();) {
    if (map.role(it->first).primary != me(self))
      it = st.last_lsn.erase(it);
    else
      ++it;
  }
  std::set<std::string> touched;
  for (auto& [backup, b] : st.backups)
    for (auto it = b.streams.begin(); it != b.streams.end();) {
      auto role = map.role(it->first);
      if (role.primary != me(self) || role.backup != backup) {
        if (it->second.copy)
          instruments().copies_running.sub(1);
        it = b.streams.erase(it);
      } else {
        ++it;
      }
    }
  for (uint32_t p = 0; p < map.partitions(); ++p) {
    auto role = map.role(p);
    if (role.primary != me(self) || role.backup.empty() || !map.live(role.backup))
      continue;
    auto& b = st.backups[role.backup];
    if (b.streams.count(p) == 0) {
      b.streams[p];
      touched.insert(role.backup);
    }
  }
  settle(self);
  for (auto& backup : touched)
    pump(self, backup);
}

} // namespace

runtime::storage_writer_api spawn_replicating_writer(caf::actor_system& sys,
                                                     replicating_writer_options opts) {
  auto impl = sys.spawn([opts = std::move(opts)](writer_actor self) -> writer_impl::behavior_type {
    self->state.opts = opts;
    self->state.log = std::make_unique<storage::replication_log>(*opts.db);
    self->state.catch_up_budget = static_cast<double>(opts.catch_up_bytes_per_sec);
    if (opts.log_bytes > 0)
      self->delayed_send(self, opts.trim_interval, trim_log_atom_v);
    return {
      [self](write_atom, storage::write_set& set) -> caf::result<void> { return write(self, set); },
      [self](written_atom, uint64_t ticket, caf::error& err) { written(self, ticket, err); },
      [self](peer_link_atom, caf::actor& link) {
        self->state.link = std::move(link);
        map_changed(self);
      },
      [self](map_changed_atom) { map_changed(self); },
      [self](tick_atom, const std::string& backup) {
        self->state.backups[backup].retry_scheduled = false;
        self->state.pacing_scheduled = false;
        settle(self);
        pump(self, backup);
      },
      [self](trim_log_atom) {
        trim_logs(self);
        self->delayed_send(self, self->state.opts.trim_interval, trim_log_atom_v);
      },
    };
  });
  return caf::actor_cast<runtime::storage_writer_api>(impl);
}

} // namespace parley::cluster
