// Which entity a stored record belongs to, read from its key alone. In a cluster every durable
// entity lives on its partition's primary (../shared/CLUSTER.md, Partitions), so a record's owner
// decides which partition it travels with: what a node may hold, what a partition's copy to a
// backup or a new owner contains. Only storage/ knows the key layouts, hence this lives here;
// turning an owner into a partition (shard hashing, partition_of) is the caller's business.
//
// Every family's layout is listed in families.hpp; a new family or key layout must be added
// here too (record_owner_test writes through every store and checks each record's owner).
#pragma once

#include "common/result.hpp"
#include "storage/families.hpp"

#include <string>
#include <string_view>

namespace parley::storage {

struct record_owner {
  enum class kind {
    node,          // this node's own record, never moved (identity, bans, devices, presence,
                   // pulled authors: each node keeps its own copy)
    conversation,  // id: the conversation
    user,          // id: the user whose follow graph and counts it is
    post,          // id: a post (its shard is the post id's)
    author,        // id: an author (the author's post shard: post count, readers' affinity)
    task,          // id: a task (its shard is the task id's)
    task_key,      // id: a task_keys key (the shard of a keyed create is the key's)
    task_shard,    // id: the shard number, in decimal
    link,          // id: the short key
  };
  kind what = kind::node;
  std::string id;

  friend bool operator==(const record_owner& a, const record_owner& b) {
    return a.what == b.what && a.id == b.id;
  }
};

// The owner of the record stored under `key` in `fam`; `internal` naming the family when the
// key does not decode (a corrupt or foreign record).
result<record_owner> owner_of_record(family fam, std::string_view key);

const char* to_string(record_owner::kind k);

} // namespace parley::storage
