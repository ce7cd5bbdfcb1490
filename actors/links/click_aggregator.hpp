// The click aggregator: every links.stats_flush it takes the queued clicks, folds them into per
// link counters (clicks, last access, referrer hosts, device classes) and writes them in one
// durable batch. It is the only writer of click statistics, so read-modify-write is safe; it
// starts a flush only after the previous one is stored. In a cluster the statistics of a link
// live with the link on its key's owner: a flush first sends the clicks of other nodes' links to
// their owners' link services, one batch per node, which queue them for their own aggregator.
//
// Messages: (flush_atom) a tick; the actor schedules these itself.
//           (delete_atom, std::string key) the link is gone: drop its cached statistics.
//           (drain_atom) -> unit once every queued click is stored (the node stops).
#pragma once

#include "actors/links/links_context.hpp"
#include "proto/parley.pb.h"

#include <caf/fwd.hpp>

namespace parley::links {

// At most this many referrer hosts are kept per link; the least-clicked ones give way.
constexpr size_t max_referrers_kept = 100;

// Adds `clicks` (all of one key) to `stats`.
void fold_clicks(pb::StoredLinkStats& stats, const std::vector<const click*>& clicks);

caf::actor spawn_click_aggregator(caf::actor_system& sys, links_context_ptr ctx);

} // namespace parley::links
