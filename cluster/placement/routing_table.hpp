// The replicated routing table (CLUSTER.md, "Routing table"): user -> the live sessions on every
// node, as one node sees it. Each node is the single writer of its own entries and publishes them
// as versioned deltas; it takes its peers' deltas and snapshots by the rules of apply() below.
// Plain data in and out (the peer link maps the structs to protobuf); no synchronization: one
// owner (the node's routing actor) calls it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace parley::cluster {

// One live session of a user, wherever it is connected.
struct session_ref {
  std::string node_id;
  std::string session_id;
  std::string device_id;
};

// One session of a user on a node that is implied by the context (the delta's or snapshot's
// origin, the key of a per-node group).
struct route_entry {
  std::string user_id;
  std::string session_id;
  std::string device_id;
};

struct route_change {
  enum class kind : uint32_t { add = 1, remove = 2 };  // numbered for the wire
  kind op = kind::add;
  route_entry entry;  // on remove, device_id is empty
};

// One batch of an origin's changes. Versions count an origin's deltas from 1 within one
// incarnation; an incarnation grows with every start of the origin's process (a restarted node
// begins again at version 1 with no sessions). Each session appears at most once: a delta
// carries the net effect of the batch (routing_table::drain).
struct routing_delta {
  std::string origin;
  uint64_t incarnation = 0;
  uint64_t version = 0;
  std::vector<route_change> changes;
};

// All sessions of one origin as of `version` (its deltas up to and including that one).
struct routing_snapshot {
  std::string origin;
  uint64_t incarnation = 0;
  uint64_t version = 0;
  std::vector<route_entry> entries;
};

// What a peer's delta or snapshot did. needs_snapshot: ask the origin for its snapshot (when it
// is a live member; a non-member's messages are the caller's to ignore).
enum class apply_result { applied, ignored, needs_snapshot };

// Gauges and counters for metrics.
struct routing_counters {
  uint64_t entries = 0;         // sessions known, this node's included
  uint64_t deltas_applied = 0;  // peers' deltas applied
  uint64_t gaps = 0;            // peers' deltas answered needs_snapshot
  uint64_t snapshots = 0;       // peers' snapshots applied
  uint64_t ignored = 0;         // stale or duplicate deltas and snapshots
};

class routing_table {
public:
  // -- member types ----------------------------------------------------------------------------

  // How far this table has followed one origin.
  struct position {
    uint64_t incarnation = 0;
    uint64_t version = 0;
  };

  // -- constructors ----------------------------------------------------------------------------

  // `local_node` is this node's id, `incarnation` this process start's (see routing_delta).
  routing_table(std::string local_node, uint64_t incarnation);

  // -- local sessions (this node writes them, peers learn them from drain()) -------------------

  // Adds a session of `user` on this node, or replaces the device of the same session id.
  void add_local(const std::string& user, const std::string& session, const std::string& device);

  // Removes a session of `user` on this node; nothing when it is not there.
  void remove_local(const std::string& user, const std::string& session);

  // Local changes wait for drain(): the caller arms its batching timer (<= 50 ms) on this.
  bool has_pending() const;

  // The local changes since the last drain as one delta with the next version, or nothing when
  // they cancel out. Net effect per session, not a log: an add then a remove of one session in
  // one batch sends nothing; a remove then an add (a reconnect with the same session id) sends
  // one add. Local lookups see every change at once; only peers wait for the batch.
  std::optional<routing_delta> drain();

  // This node's sessions as peers know them: as of the last drain, at its version (changes not
  // yet drained come in the next delta, so a snapshot followed by that delta is consistent).
  routing_snapshot local_snapshot() const;

  // -- peers -----------------------------------------------------------------------------------

  // A peer's delta, by these rules (for its origin):
  // - an incarnation older than the one followed, or one already dropped: ignored;
  // - a newer incarnation: the origin's entries of the older one are removed (its process is
  //   gone) and the delta is taken as the first of the new one;
  // - version = followed version + 1: applied; a lower version (already in a snapshot): ignored;
  //   a higher one (a gap, or the first delta seen of an incarnation is not version 1):
  //   needs_snapshot, and nothing of it is applied.
  apply_result apply(const routing_delta& delta);

  // A peer's snapshot replaces all of its origin's entries, unless it is older than what is
  // followed (an older incarnation, or the same one at a lower version) or its incarnation was
  // dropped: then ignored.
  apply_result apply(const routing_snapshot& snapshot);

  // Removes every entry of a member that is down, at once. Later deltas and snapshots of the
  // incarnation it had (or older) are ignored: a node cut off from etcd may still reach its
  // peers, and its sessions must not come back. It returns through a newer incarnation.
  void drop(const std::string& origin);

  // A member dropped earlier is live again with the incarnation it had (a node that lost its
  // lease and regained it keeps its incarnation): its deltas and snapshots count again. The
  // caller asks it for a snapshot.
  void readmit(const std::string& origin);

  // -- lookups ---------------------------------------------------------------------------------

  // The sessions of `user` on every node, this one included.
  std::vector<session_ref> sessions_of(const std::string& user) const;

  // True when `user` has a session on any node.
  bool online(const std::string& user) const;

  // The sessions of `users` grouped by node (this node under its own id), so that a push to
  // several users of one node is one message to it. Users without sessions are left out.
  std::map<std::string, std::vector<route_entry>>
  sessions_by_node(const std::vector<std::string>& users) const;

  // The users with at least one session of `origin` (unordered): whose lookups a delta,
  // snapshot or drop of that origin may change.
  std::vector<std::string> users_of(const std::string& origin) const;

  // Where this table stands for `origin` (this node included); nothing for an unknown origin.
  std::optional<position> position_of(const std::string& origin) const;

  routing_counters counters() const;

  const std::string& local_node() const {
    return local_node_;
  }

private:
  // -- member types ----------------------------------------------------------------------------

  struct origin_state {
    uint64_t incarnation = 0;
    uint64_t version = 0;
    std::unordered_set<std::string> users;  // users with at least one session of the origin
  };

  // -- implementation --------------------------------------------------------------------------

  const session_ref* find(const std::string& user, const std::string& origin,
                          const std::string& session) const;
  void put(const std::string& origin, const route_entry& entry);
  void erase(const std::string& origin, const std::string& user, const std::string& session);
  void clear(const std::string& origin);
  // Removes `user`'s sessions of `origin` (only `session` when given); true when none is left.
  bool remove_refs(const std::string& user, const std::string& origin,
                   const std::string* session);
  void remember_published(const std::string& user, const std::string& session);
  apply_result ignore();

  // -- member variables ------------------------------------------------------------------------

  std::string local_node_;
  std::unordered_map<std::string, std::vector<session_ref>> users_;
  std::unordered_map<std::string, origin_state> origins_;  // this node's too
  std::unordered_map<std::string, uint64_t> dropped_;      // origin -> incarnation dropped
  // Local sessions changed since the last drain -> their device at that drain (none: absent).
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> published_;
  routing_counters counters_;
};

} // namespace parley::cluster
