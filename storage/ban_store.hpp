// The deny-list of the admin console (`users ban`): banned users' records in the `meta` family
// under "ban/<user>". Read once at start-up into memory (net/deny_list.hpp); written by the
// admin actor, which runs on a thread of its own, so the synchronous write blocks no scheduler.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "proto/admin.pb.h"
#include "storage/engine.hpp"

#include <string>
#include <vector>

namespace parley::storage {

class ban_store {
public:
  explicit ban_store(engine& db) : db_(db) {}

  // Every ban on record (expired ones too: they are dropped on the next unban or ban of the user).
  result<std::vector<pb::BanRecord>> load_all() const;

  // Stores the ban durably (fsync) before returning.
  fault put(const pb::BanRecord& ban);

  // Deletes the user's ban durably; no fault when there was none.
  fault remove(const std::string& user);

private:
  engine& db_;
};

} // namespace parley::storage
