#include "cluster/replication/replica_service.hpp"

#include "actors/runtime/errors.hpp"
#include "common/metrics.hpp"
#include "storage/families.hpp"
#include "storage/partition_copy.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <unordered_map>

namespace parley::cluster {

namespace {

struct replica_metrics {
  metrics::counter& applied = metrics::global().get_counter(
    "replication_records_applied_total", "Replicated records a backup applied");
  metrics::counter& refused = metrics::global().get_counter(
    "replication_batches_refused_total",
    "Batches a backup refused: not from the primary the map names, or an older epoch");
  metrics::counter& gaps = metrics::global().get_counter(
    "replication_gaps_total", "Records a backup could not apply yet because an earlier one was missing");
};

replica_metrics& instruments() {
  static replica_metrics m;
  return m;
}

struct partition_progress {
  bool loaded = false;
  bool copying = false;      // reset in this epoch, the copy's last slice not applied yet
  uint64_t map_epoch = 0;    // the partition's epoch in the map when it was read from disk
  pb::ReplPosition queued;   // the last record handed to the writer
  pb::ReplPosition durable;  // the last record the writer reported durable
};

struct replica_state {
  replica_options opts;
  std::unique_ptr<storage::replication_log> log;
  std::unordered_map<uint32_t, partition_progress> parts;
  uint64_t next_ticket = 0;
  // Writes in flight: what becomes durable with each, and who hears of it (the error, or none
  // once durable).
  struct waiting {
    std::map<uint32_t, pb::ReplPosition> reaches;
    std::function<void(caf::error)> done;
  };
  std::unordered_map<uint64_t, waiting> pending;

  static inline const char* name = "parley.replica";
};

using replica_impl =
  replica_api::extend<caf::reacts_to<written_atom, uint64_t, caf::error>>;
using replica_actor = replica_impl::stateful_pointer<replica_state>;

// The partition's progress, read from disk the first time and again in every new epoch. A
// node that was this partition's primary in between wrote the log itself (its writer appends and
// records its position), so a position kept from an earlier epoch would name a record the
// primary shares while the log went on with records it never had; answered to a primary's
// position question, it skipped the reset, and records of the old epoch outlived the catch-up
// (found by the checker, issue 15: an idempotency key listed as two tasks).
caf::expected<partition_progress*> progress(replica_actor self, uint32_t partition) {
  auto& st = self->state;
  auto& p = st.parts[partition];
  auto epoch = st.opts.map->role(partition).epoch;
  if (!p.loaded || p.map_epoch != epoch) {
    auto at = st.log->applied(partition);
    if (!at)
      return make_error(at.error());
    p.queued = *at;
    p.durable = *at;
    p.loaded = true;
    p.map_epoch = epoch;
    // A copy belongs to the epoch of its reset: one cut short by a failover never completes,
    // and the new primary may send its log from lsn 1 without a reset of its own.
    p.copying = false;
  }
  return &p;
}

// Whether `origin` may write `partition` in `epoch` here now; the refusal otherwise.
caf::error admit(replica_actor self, const std::string& origin, uint32_t partition,
                 uint64_t epoch) {
  auto& map = *self->state.opts.map;
  if (partition >= map.partitions())
    return make_error(errc::bad_request, "no partition " + std::to_string(partition));
  auto role = map.role(partition);
  if (role.backup != map.local_node() || role.primary != origin) {
    instruments().refused.inc();
    return make_error(errc::unavailable,
                      "node " + map.local_node() + " is not the backup of partition "
                        + std::to_string(partition) + " for " + origin + " in epoch "
                        + std::to_string(role.epoch) + " as far as it knows; retry shortly");
  }
  if (epoch < role.epoch) {
    instruments().refused.inc();
    return make_error(errc::conflict, "partition " + std::to_string(partition) + " is in epoch "
                                        + std::to_string(role.epoch) + "; a write of epoch "
                                        + std::to_string(epoch) + " is refused");
  }
  return {};
}

pb::ReplAck ack_of(const std::map<uint32_t, pb::ReplPosition>& positions,
                   const std::map<uint32_t, caf::error>& refused = {}) {
  pb::ReplAck ack;
  for (auto& [partition, at] : positions)
    *ack.add_applied() = at;
  for (auto& [partition, why] : refused)
    ack.add_refused(partition);
  return ack;
}

// Hands `ws` to the writer; `done` hears once it is durable (or failed), after the positions
// it `reaches` count as durable.
void write(replica_actor self, storage::write_set ws, std::map<uint32_t, pb::ReplPosition> reaches,
           std::function<void(caf::error)> done) {
  auto& st = self->state;
  auto ticket = st.next_ticket++;
  st.pending.emplace(ticket, replica_state::waiting{std::move(reaches), std::move(done)});
  st.opts.writer->submit(std::move(ws), [handle = caf::actor_cast<replica_impl>(self),
                                         ticket](const fault& err) {
    caf::anon_send(handle, written_atom_v, ticket, err ? make_error(err) : caf::error{});
  });
}

caf::result<pb::ReplAck> replicate(replica_actor self, pb::ReplBatch& batch) {
  auto& st = self->state;
  storage::write_set ws;
  std::map<uint32_t, pb::ReplPosition> reaches;
  std::map<uint32_t, bool> stopped;  // partitions whose rest of the batch follows a gap
  std::map<uint32_t, caf::error> refused;
  for (auto& record : *batch.mutable_records()) {
    auto partition = record.partition();
    if (refused.count(partition) != 0)
      continue;
    auto epoch = batch.primary_epochs().find(partition);
    if (auto no = admit(self, batch.origin(), partition,
                        epoch == batch.primary_epochs().end() ? 0 : epoch->second)) {
      refused.emplace(partition, std::move(no));
      continue;
    }
    auto p = progress(self, partition);
    if (!p)
      return std::move(p.error());
    auto& at = **p;
    reaches.emplace(partition, at.durable);
    if (stopped[partition] || at.copying || record.lsn() <= at.queued.lsn())
      continue;  // after a gap, during a copy (the log follows it), or applied (a resend)
    if (record.lsn() != at.queued.lsn() + 1) {
      instruments().gaps.inc();
      stopped[partition] = true;
      continue;
    }
    if (auto bad = storage::replication_log::apply(ws, record))
      return make_error(bad);
    st.log->append(ws, record);
    at.queued.set_epoch(record.epoch());
    at.queued.set_lsn(record.lsn());
    reaches[partition] = at.queued;
    instruments().applied.inc();
  }
  // Nothing admitted: the refusal itself (one partition's reason stands for all).
  if (reaches.empty() && !refused.empty())
    return std::move(refused.begin()->second);
  if (ws.empty()) {
    // Nothing new: answer what is durable (a resend of a record still being written is
    // answered by that write's own reply).
    for (auto& [partition, at] : reaches)
      at = st.parts[partition].durable;
    return ack_of(reaches, refused);
  }
  auto rp = self->make_response_promise<pb::ReplAck>();
  auto ack = ack_of(reaches, refused);
  write(self, std::move(ws), std::move(reaches), [rp, ack](caf::error err) mutable {
    if (err)
      rp.deliver(std::move(err));
    else
      rp.deliver(ack);
  });
  return rp;
}

caf::result<pb::ReplPosition> reset(replica_actor self, uint32_t partition, uint64_t epoch,
                                    bool copy_follows) {
  auto& st = self->state;
  // Only while the map names this node the backup, and never for an older epoch: a former
  // primary must not erase what its successor's backup holds.
  if (auto refused = admit(self, st.opts.map->role(partition).primary, partition, epoch))
    return refused;
  auto p = progress(self, partition);
  if (!p)
    return std::move(p.error());
  storage::write_set ws;
  if (auto err = storage::erase_partition(*st.opts.db, partition, st.opts.partition_of, ws))
    return make_error(err);
  auto erased = ws.ops().size();
  pb::ReplPosition start;
  start.set_partition(partition);
  start.set_epoch(epoch);
  storage::replication_log::put_applied(ws, start);
  (*p)->queued = start;
  (*p)->copying = copy_follows;  // else the primary's log follows from lsn 1
  spdlog::info("replication: partition {} reset for {} from its primary ({} records erased)",
               partition, copy_follows ? "a copy" : "the whole log", erased);
  auto rp = self->make_response_promise<pb::ReplPosition>();
  write(self, std::move(ws), {{partition, start}}, [rp, start](caf::error err) mutable {
    if (err)
      rp.deliver(std::move(err));
    else
      rp.deliver(start);
  });
  return rp;
}

// A slice of the primary's copy of the partition: only after a reset in this epoch (a copy is
// never laid over records the reset did not erase), applied with the position the copy reaches
// when it is the last.
caf::result<pb::ReplPosition> copy(replica_actor self, pb::ReplCopy& slice) {
  auto partition = slice.partition();
  if (auto refused = admit(self, slice.origin(), partition, slice.primary_epoch()))
    return refused;
  auto p = progress(self, partition);
  if (!p)
    return std::move(p.error());
  auto& at = **p;
  if (!at.copying)
    return make_error(errc::conflict, "partition " + std::to_string(partition)
                                        + " was not reset for a copy in this epoch; ask where "
                                          "it stands");
  storage::write_set ws;
  for (auto& op : *slice.mutable_ops()) {
    auto fam = static_cast<storage::family>(op.family());
    if (op.family() >= storage::family_count || !storage::replicated_family(fam) || op.is_delete())
      return make_error(errc::bad_request, "a copy of partition " + std::to_string(partition)
                                             + " names family " + std::to_string(op.family())
                                             + " or a delete: a copy is puts of data only");
    ws.put(fam, std::move(*op.mutable_key()), std::move(*op.mutable_value()));
  }
  std::map<uint32_t, pb::ReplPosition> reaches;
  if (slice.last()) {
    if (slice.end().partition() != partition)
      return make_error(errc::bad_request, "a copy's end names another partition");
    storage::replication_log::put_applied(ws, slice.end());
    at.queued = slice.end();
    at.copying = false;
    reaches.emplace(partition, slice.end());
    spdlog::info("replication: partition {} copied from {}; its log goes on after lsn {}",
                 partition, slice.origin(), slice.end().lsn());
  }
  auto rp = self->make_response_promise<pb::ReplPosition>();
  write(self, std::move(ws), std::move(reaches),
        [self, rp, partition](caf::error err) mutable {
          if (err)
            rp.deliver(std::move(err));
          else
            rp.deliver(self->state.parts[partition].durable);
        });
  return rp;
}

} // namespace

replica_api spawn_replica_service(caf::actor_system& sys, replica_options opts) {
  auto impl = sys.spawn([opts = std::move(opts)](replica_actor self) -> replica_impl::behavior_type {
    self->state.opts = opts;
    self->state.log = std::make_unique<storage::replication_log>(*opts.db);
    return {
      [self](replicate_atom, pb::ReplBatch& batch) { return replicate(self, batch); },
      [self](replica_position_atom, uint32_t partition) -> caf::result<pb::ReplPosition> {
        auto p = progress(self, partition);
        if (!p)
          return std::move(p.error());
        auto at = (*p)->durable;
        at.set_only_replicated(self->state.opts.only_replicated);
        return at;
      },
      [self](replica_reset_atom, uint32_t partition, uint64_t epoch, bool copy_follows) {
        return reset(self, partition, epoch, copy_follows);
      },
      [self](replica_copy_atom, pb::ReplCopy& slice) { return copy(self, slice); },
      [self](written_atom, uint64_t ticket, caf::error& err) {
        auto& st = self->state;
        auto it = st.pending.find(ticket);
        if (it == st.pending.end())
          return;
        auto done = std::move(it->second.done);
        if (err) {
          // Nothing of it is durable: forget what was queued (read again from disk next time),
          // so that the resend is applied again.
          for (auto& [partition, at] : it->second.reaches)
            st.parts.erase(partition);
        } else {
          for (auto& [partition, at] : it->second.reaches) {
            auto& durable = st.parts[partition].durable;
            // A reset moves the position back to 0 on purpose; otherwise it only grows.
            if (at.lsn() >= durable.lsn() || at.lsn() == 0)
              durable = at;
          }
        }
        st.pending.erase(it);
        done(std::move(err));
      },
    };
  });
  return caf::actor_cast<replica_api>(impl);
}

} // namespace parley::cluster
