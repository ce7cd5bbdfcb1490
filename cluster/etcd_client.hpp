// A blocking client for etcd v3 through its JSON gateway (etcd 3.4): leases, keys, a
// compare-and-set, and a watch streamed to a callback. Every call has a deadline
// (etcd_options::call_timeout, a watch its own duration), tries the next endpoint when one
// fails, and returns its failure as a fault: a key that could not be read is an error, never
// "absent". Not thread-safe: one client per thread (membership runs two).
#pragma once

#include "cluster/etcd_options.hpp"
#include "common/result.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::cluster {

class etcd_gateway;

// -- results ------------------------------------------------------------------------------------

// One key as etcd holds it. Keys and values are bytes: any content, any length.
struct etcd_kv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;  // the revision of its last write: what update_if_revision compares
  int64_t version = 0;       // writes since it was created
  int64_t lease = 0;         // 0: none
};

struct etcd_range {
  std::vector<etcd_kv> kvs;  // in key order
  // The store's revision the range was read at: a watch from revision + 1 misses nothing.
  int64_t revision = 0;
};

struct etcd_lease {
  int64_t id = 0;
  // As granted: etcd may raise a short TTL to its minimum (2 s with default election settings).
  std::chrono::seconds ttl{0};
};

struct etcd_cas_outcome {
  bool succeeded = false;
  // The store's revision after the call; when it succeeded, the written key's mod_revision.
  int64_t revision = 0;
  // When it did not succeed: the key as it is now (nullopt: absent).
  std::optional<etcd_kv> current;
};

struct etcd_event {
  enum class kind : uint8_t { put, remove };
  kind type = kind::put;
  // For a removal, only key and mod_revision (the revision of the removal).
  etcd_kv kv;
};

// Given the events of one revision of a watch, in revision order, with that revision; returns
// false to end the watch.
using etcd_watch_handler =
  std::function<bool(const std::vector<etcd_event>& events, int64_t revision)>;

// Why a watch ended, when it ended without a fault.
struct etcd_watch_end {
  enum class reason : uint8_t {
    stopped,    // the handler returned false, or the abort flag was set
    expired,    // its duration passed (or the server closed it): watch again from next_revision
    compacted,  // its start revision was compacted away: read the range again, then watch
                // from the range's revision + 1
    canceled,   // the server canceled it (cancel_reason): read again and watch, as compacted
  };
  reason why = reason::stopped;
  // Where a new watch continues without missing or repeating an event.
  int64_t next_revision = 0;
  int64_t compact_revision = 0;
  std::string cancel_reason;
};

// -- the client ---------------------------------------------------------------------------------

class etcd_client {
public:
  // -- constructors --

  // Endpoints that are not http URLs make every call fail with bad_request naming them
  // (check_etcd_endpoints validates a config up front).
  explicit etcd_client(etcd_options opts);
  ~etcd_client();
  etcd_client(const etcd_client&) = delete;
  etcd_client& operator=(const etcd_client&) = delete;

  // -- leases --

  // A new lease of `ttl` (whole seconds: etcd counts no finer).
  result<etcd_lease> grant_lease(std::chrono::seconds ttl);

  // Renews `lease` once: the TTL it has now, or 0 when it is gone (expired or revoked).
  result<std::chrono::seconds> keep_alive_once(int64_t lease);

  // Ends `lease` and removes its keys at once. A lease already gone is no fault: either way
  // it no longer holds anything.
  fault revoke_lease(int64_t lease);

  // -- keys --

  // Writes `key` (under `lease` unless 0); the revision of the write. Fails with not_found
  // when the lease is gone.
  result<int64_t> put(std::string_view key, std::string_view value, int64_t lease = 0);

  // The key, or nullopt when it is absent.
  result<std::optional<etcd_kv>> get(std::string_view key);

  // Every key that starts with `prefix`, and the revision they were read at.
  result<etcd_range> range_prefix(std::string_view prefix);

  // Removes `key`; how many keys were removed (0 or 1).
  result<int64_t> remove(std::string_view key);

  // -- compare-and-set --

  // Writes `key` only if it does not exist.
  result<etcd_cas_outcome> create_if_absent(std::string_view key, std::string_view value,
                                            int64_t lease = 0);

  // Writes `key` only if its mod_revision is still `mod_revision`.
  result<etcd_cas_outcome> update_if_revision(std::string_view key, std::string_view value,
                                              int64_t mod_revision, int64_t lease = 0);

  // -- watch --

  // Streams every put and removal under `prefix` from `start_revision` (0: from now) to
  // `on_events` until it returns false, `duration` passes, the abort flag is set, or etcd
  // cancels the watch (compacted or canceled: the caller reads again and watches anew). A fault
  // when the watch could not start or broke; the caller watches again from the last revision
  // it saw + 1.
  result<etcd_watch_end> watch_prefix(std::string_view prefix, int64_t start_revision,
                                      const etcd_watch_handler& on_events,
                                      std::chrono::milliseconds duration);

  // -- modifiers --

  // While `flag` (may be null; must outlive its use) is true, a call in flight ends within about
  // 50 ms: a watch as stopped, any other call with an unavailable fault ("aborted"). How another
  // thread ends a watch.
  void set_abort_flag(const std::atomic<bool>* flag);

private:
  result<etcd_cas_outcome> compare_and_put(std::string_view key, std::string_view value,
                                           int64_t lease, int64_t mod_revision);

  std::unique_ptr<etcd_gateway> gateway_;
};

// The end of the range of keys that start with `prefix` (etcd's range_end): `prefix` with its
// last byte below 0xff raised by one.
std::string prefix_range_end(std::string_view prefix);

} // namespace parley::cluster
