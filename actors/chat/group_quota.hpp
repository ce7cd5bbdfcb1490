// Per-user group limits that hold without any rate-limit rules (docs/chat.md, Limits): how many
// groups a user may create per hour and how many groups a user may belong to. Shared by every
// connection and conversation actor of the node, so the checks are exact under concurrency: a
// membership is reserved before its write and committed or cancelled after it.
//
// Memory: one small entry per user seen within the last hour (or with a change in flight);
// entries are swept as the table is used, so a burst does not leave state behind.
#pragma once

#include "actors/limits/algorithms.hpp"
#include "common/errc.hpp"
#include "common/sharded_map.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace parley::chat {

class group_quota {
public:
  // -- member types ----------------------------------------------------------------------------

  // Counts the groups `user` belongs to in storage; nullopt (and a fault) on a storage error.
  using loader = std::function<std::optional<size_t>(const std::string& user, fault& err)>;

  struct options {
    // Groups one user may create per sliding hour. Default: 50
    int64_t max_created_per_hour = 50;
    // Groups one user may belong to. Default: 1000
    size_t max_groups_per_user = 1000;
    // Idle entries are kept this long (a cache of the stored count), in ms. Default: 1 hour
    int64_t keep_idle_ms = 3'600'000;
  };

  // -- constructors ----------------------------------------------------------------------------

  group_quota(options opts, loader load);

  // -- modifiers -------------------------------------------------------------------------------

  // Counts one group creation by `user` at `now_ms`; 0 when allowed, else the milliseconds
  // until one more creation fits.
  int64_t admit_creation(const std::string& user, int64_t now_ms);

  // Reserves one more group for each of `users` (all or none): `too_large` naming the first
  // user already at the limit, or the storage error of loading a count.
  fault reserve(const std::vector<std::string>& users, int64_t now_ms);
  // The write of reserved memberships succeeded (commit) or failed (cancel).
  void commit(const std::vector<std::string>& users);
  void cancel(const std::vector<std::string>& users);

  // Removals pin their users' entries while the write is in flight, so a count reloaded from
  // storage meanwhile cannot miss them; `done` with stored = true counts them.
  void begin_removal(const std::vector<std::string>& users, int64_t now_ms);
  void end_removal(const std::vector<std::string>& users, bool stored);

  // Forgets idle entries (also done as the table is used).
  void sweep(int64_t now_ms);

  // -- observers -------------------------------------------------------------------------------

  size_t tracked_users() const;
  // The stored count plus reservations of `user`, nullopt when not tracked (for tests).
  std::optional<size_t> groups_of(const std::string& user) const;
  const options& opts() const { return opts_; }

private:
  struct entry {
    bool loaded = false;
    int64_t groups = 0;    // durable memberships, once loaded
    int64_t reserved = 0;  // additions in flight
    int64_t removing = 0;  // removals in flight
    // Loaded while removals were in flight (the scan may or may not include them): the count
    // may be one too high, never too low, and is loaded again once they are done.
    bool stale = false;
    int64_t last_used_ms = 0;
    limits::key_state created;
  };

  struct shard_extra {
    uint64_t generation = 0;  // bumped by sweeps: a count loaded across one may be stale
    size_t ops_since_sweep = 0;
  };
  using table = sharded_map<std::string, entry, shard_extra>;
  using shard = table::shard;

  // The loaded entry of `user` (loading its count outside the lock); the lock is held on return.
  entry* loaded_entry(table::locked& lock, const std::string& user, fault& err);
  // Reserved memberships were written (stored) or not.
  void end_reservation(const std::vector<std::string>& users, bool stored);
  void sweep_locked(shard& s, int64_t now_ms);
  void maybe_sweep(shard& s, int64_t now_ms);

  options opts_;
  limits::limit_params creation_;
  loader load_;
  table users_{16};
};

} // namespace parley::chat
